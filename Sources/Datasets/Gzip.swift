import BTCore
import CZlib
import Foundation

/// Reads a file that may or may not be gzip-compressed (the IDX files ship either way).
/// Gzip is detected by its magic bytes, not the file name.
public func readMaybeGzip(path: String) throws -> [UInt8] {
    let bytes = try readFileBytes(path: path)
    guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else { return bytes }
    return try gunzip(bytes, path: path)
}

/// Inflates a whole gzip stream (concatenated members too). Every exit of the loop either makes
/// progress or throws, so truncated or corrupt input is an error, never a hang.
func gunzip(_ input: [UInt8], path: String) throws -> [UInt8] {
    guard input.count < Int(UInt32.max) else { throw BTError("cannot read \(path): gzip file too large") }
    var out = [UInt8]()
    // The trailer holds the uncompressed size mod 2^32; use it only as a capped capacity hint.
    if input.count >= 18 {
        let n = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        out.reserveCapacity(min(n, input.count * 1100))
    }
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw BTError("cannot read \(path): zlib initialisation failed")
    }
    defer { inflateEnd(&stream) }
    var chunk = [UInt8](repeating: 0, count: 1 << 18)
    try input.withUnsafeBufferPointer { inp in
        stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress!)
        stream.avail_in = UInt32(inp.count)
        while true {
            let rc = chunk.withUnsafeMutableBufferPointer { c -> Int32 in
                stream.next_out = c.baseAddress
                stream.avail_out = UInt32(c.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            out.append(contentsOf: chunk[0..<produced])
            switch rc {
            case Z_STREAM_END:
                let rest = Int(stream.avail_in)
                if rest == 0 { return }
                let at = inp.count - rest
                guard rest >= 2, inp[at] == 0x1f, inp[at + 1] == 0x8b else {
                    throw BTError("corrupt gzip file \(path): \(rest) bytes of trailing garbage")
                }
                inflateReset(&stream)  // another gzip member follows
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw BTError("truncated gzip file \(path): the compressed stream ends early")
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw BTError("corrupt gzip file \(path): \(why)")
            }
        }
    }
    return out
}
