import BTCore
import CLibz
import Foundation

/// A whole file that may or may not be gzip-compressed (gzip is detected by its magic bytes, not the name),
/// refused once it holds or inflates to more than `limit` bytes or than this process may allocate.
public func readMaybeGzip(path: String, limit: Int = 1 << 30, what: String = "a data file") throws -> [UInt8] {
    let s = try FileStream(path: path)
    guard s.isGzip else { return try s.file.readAll(limit: limit, what: what) }
    var out = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = try chunk.withUnsafeMutableBytes { try s.read(into: $0.baseAddress!, count: $0.count) }
        if n == 0 { return out }
        guard out.count + n <= limit else {
            throw BTError("cannot read \(path): it inflates to more than \(MemoryBudget.describe(limit)); \(what) may have at most that")
        }
        if out.count + n > out.capacity { try MemoryBudget.check(2 * (out.count + n), for: "inflating \(path)") }
        out.append(contentsOf: chunk[0..<n])
    }
}

/// A regular file read a chunk at a time, inflated on the way when it starts with gzip's magic (the IDX files
/// ship either way; CIFAR-10's .tar.gz is 162 MB in, 184 MB out). Concatenated gzip members are read through.
/// zlib checks each member's CRC and length at its end, so a caller that reads to the end (`read` returning 0)
/// has the whole file verified; truncated, corrupt or trailing input is an error naming the file.
final class FileStream {
    let path: String
    let file: RegularFile
    let isGzip: Bool
    private var stream = z_stream()
    private var input = [UInt8](repeating: 0, count: 1 << 20)
    private var inputCount = 0, inputOffset = 0
    private var eof = false, ended = false

    init(path: String) throws {
        self.path = path
        file = try RegularFile(path)
        var magic: [UInt8] = [0, 0]
        isGzip = pread(file.fd, &magic, 2, 0) == 2 && magic == [0x1f, 0x8b]  // pread leaves the offset at 0
        guard isGzip else { return }
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw BTError("cannot read \(path): zlib initialisation failed")
        }
    }

    deinit { if isGzip { inflateEnd(&stream) } }

    /// Fills `buffer` with up to `count` bytes; returns how many (0 only at the end of the file).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        guard isGzip else { return try file.read(into: buffer, count: count) }
        var produced = 0
        while produced < count && !ended {
            if inputOffset == inputCount && !eof { try refill() }
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
                if inputOffset == inputCount && !eof { try refill() }
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

    /// Reads until `count` bytes are in or the file ends; returns how many.
    func readFully(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var got = 0
        while got < count {
            let n = try read(into: buffer + got, count: count - got)
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Up to `count` bytes (fewer only at the end of the file); `count` must have been bounded by the caller.
    func bytes(_ count: Int) throws -> [UInt8] {
        var b = [UInt8](repeating: 0, count: count)
        let got = try b.withUnsafeMutableBytes { try readFully(into: $0.baseAddress!, count: count) }
        if got < count { b.removeLast(count - got) }
        return b
    }

    /// True when nothing follows (for gzip, once the stream's end and its CRC have been checked).
    func atEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try read(into: &byte, count: 1) == 0
    }

    private func refill() throws {
        let n = try input.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: $0.count) }
        if n == 0 { eof = true }
        inputCount = n; inputOffset = 0
    }
}
