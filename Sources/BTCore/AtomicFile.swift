import Foundation

/// Files written so that a reader (or a crash) never sees half of them:
/// write a temporary file next to the target, fsync it, then rename it over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BTError("cannot write \(path): \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp.path)
            throw BTError("cannot write \(path): \(why)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

/// An append-only log of whole lines. Each line goes out in one `write(2)`; if the disk fills part-way, the
/// fragment is cut off again, so the file always ends at a newline. Opening an existing file also cuts a torn
/// last line left by a crash, so the next record never glues onto it.
public final class LineLog: @unchecked Sendable {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw BTError("cannot write \(path): \(String(cString: strerror(errno)))") }
        cutTornLine()
    }

    deinit { close(fd) }

    public func append(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let start = lseek(fd, 0, SEEK_END)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                // A short first write sets no errno; the retry of the remainder reports the real cause.
                let why = n == 0 ? "no bytes written" : String(cString: strerror(errno)).lowercased()
                if start >= 0 { _ = ftruncate(fd, start) }
                throw BTError("cannot append to \(path): \(why); the file still ends at its last whole line")
            }
            written += n
        }
    }

    /// Truncates the file after its last newline (a crash or a full disk may have left half a line).
    private func cutTornLine() {
        var size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        var buf = [UInt8](repeating: 0, count: 4096)
        var end = size
        while end > 0 {
            let chunk = min(off_t(buf.count), end)
            let n = pread(fd, &buf, Int(chunk), end - chunk)
            guard n == Int(chunk) else { return }
            if let i = buf[0..<n].lastIndex(of: UInt8(ascii: "\n")) {
                size = end - chunk + off_t(i) + 1
                break
            }
            end -= chunk
            size = 0
        }
        if size < lseek(fd, 0, SEEK_END) { _ = ftruncate(fd, size) }
    }
}
