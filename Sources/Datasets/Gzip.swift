import BTCore
import CLibz
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

/// A gzip file inflated a chunk at a time, for archives too large to hold compressed and inflated at once
/// (CIFAR-10's .tar.gz is 162 MB in, 184 MB out). Concatenated members are read through; truncated or corrupt
/// input is an error naming the file.
final class GzipFileReader {
    private let path: String
    private let file: FileHandle
    private var stream = z_stream()
    private var input = [UInt8](repeating: 0, count: 1 << 20)
    private var inputCount = 0, inputOffset = 0
    private var eof = false, ended = false

    init(path: String) throws {
        self.path = path
        guard let f = FileHandle(forReadingAtPath: path) else { throw fileError(path, "cannot read") }
        file = f
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BTError("cannot read \(path): zlib initialisation failed")
        }
    }

    deinit { inflateEnd(&stream); try? file.close() }

    /// Fills `buffer` with up to `count` inflated bytes; returns how many (0 only at the end of the stream).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var produced = 0
        while produced < count && !ended {
            if inputOffset == inputCount && !eof {
                let chunk = try file.read(upToCount: input.count) ?? Data()
                if chunk.isEmpty { eof = true } else {
                    chunk.copyBytes(to: &input, count: chunk.count)
                    inputCount = chunk.count; inputOffset = 0
                }
            }
            let rc = input.withUnsafeMutableBufferPointer { inp -> Int32 in
                stream.next_in = inp.baseAddress! + inputOffset
                stream.avail_in = UInt32(inputCount - inputOffset)
                stream.next_out = (buffer + produced).assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(min(count - produced, Int(UInt32.max)))
                let before = stream.avail_out
                let rc = inflate(&stream, Z_NO_FLUSH)
                produced += Int(before - stream.avail_out)
                inputOffset = inputCount - Int(stream.avail_in)
                return rc
            }
            switch rc {
            case Z_STREAM_END:
                // Another member may follow; anything else after the end is damage.
                if inputOffset == inputCount && !eof {
                    let chunk = try file.read(upToCount: input.count) ?? Data()
                    if chunk.isEmpty { eof = true } else {
                        chunk.copyBytes(to: &input, count: chunk.count); inputCount = chunk.count; inputOffset = 0
                    }
                }
                if inputOffset == inputCount && eof { ended = true; break }
                guard inputCount - inputOffset >= 2, input[inputOffset] == 0x1f, input[inputOffset + 1] == 0x8b else {
                    throw BTError("corrupt gzip file \(path): trailing garbage after the compressed data")
                }
                inflateReset(&stream)
            case Z_OK:
                continue
            case Z_BUF_ERROR where inputOffset == inputCount && eof:
                throw BTError("truncated gzip file \(path): the compressed stream ends early")
            case Z_BUF_ERROR:
                continue  // needs more input or more room: the loop supplies either
            default:
                let why = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw BTError("corrupt gzip file \(path): \(why)")
            }
        }
        return produced
    }
}
