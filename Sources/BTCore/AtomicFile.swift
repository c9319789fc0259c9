import Foundation

/// Files written so that a reader (or a crash) never sees half of them: write a temporary file next to the target,
/// fsync it, then rename it over the target. The temporary is created exclusively (O_EXCL|O_NOFOLLOW) under a name
/// with 64 random bits, so nothing planted beside the target is opened; the target itself must be a regular file
/// or absent (`OutputFile.checkReplaceable`): a link, device, FIFO or folder there is refused, never replaced.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        try OutputFile.checkReplaceable(path)
        let folder = parentPath(path), name = String(path.split(separator: "/").last ?? "")
        // Temporary and rename relative to one open folder: both land in the same folder whatever happens to
        // the path meanwhile.
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw RegularFile.error(path, "cannot write") }
        defer { close(dir) }
        let (fd, tmp) = try createTemporary(for: name, in: dir, path: path)
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n == 0 ? ENOSPC : errno; break }
                off += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 {
            // Checked again just before the rename: whatever took the target's name meanwhile is not replaced.
            var st = stat()
            if fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, let problem = OutputFile.problem(st.st_mode) {
                unlinkat(dir, tmp, 0)
                throw BTError("cannot write \(path): \(problem)")
            }
            if renameat(dir, tmp, dir, name) != 0 { failure = errno }
        }
        guard failure == 0 else {
            unlinkat(dir, tmp, 0)
            throw BTError("cannot write \(path): \(String(cString: strerror(failure)))")
        }
        _ = fsync(dir)  // the rename itself survives a crash
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// ".<name>.tmp-<pid>-<16 hex digits>": the only names `removeTemporaries` deletes. A long name is cut to
    /// 200 bytes so the temporary's name stays within the 255 bytes a file name may have.
    public static func temporaryName(for name: String, pid: pid_t = getpid()) -> String {
        let base = name.utf8.count > 200 ? String(decoding: name.utf8.prefix(200), as: UTF8.self) : name
        let random = UInt64.random(in: .min ... .max)
        let hex = String(random, radix: 16)
        return ".\(base).tmp-\(pid)-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The pid in a name `temporaryName` made, or nil for any other name.
    public static func temporaryOwner(_ name: String) -> pid_t? {
        let u = Array(name.utf8)
        guard u.count >= 1 + 1 + 5 + 1 + 1 + 16, u[0] == UInt8(ascii: "."), u[u.count - 17] == UInt8(ascii: "-"),
              u[(u.count - 16)...].allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        var i = u.count - 18
        let digitsEnd = i + 1
        while i >= 0 && (0x30...0x39).contains(u[i]) { i -= 1 }
        let digits = u[(i + 1)..<digitsEnd]
        guard (1...10).contains(digits.count), i >= 5, Array(u[(i - 4)...i]) == Array(".tmp-".utf8), i - 4 >= 2,
              let pid = Int32(String(decoding: digits, as: UTF8.self)), pid > 0 else { return nil }
        return pid
    }

    /// Removes the temporaries AtomicFile left in `folder`: of processes that are gone, and with `own` this
    /// process's too. Only regular files by that exact name are removed (lstat: never a folder, never a link).
    public static func removeTemporaries(in folder: String, own: Bool = false) {
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return }
        defer { close(dir) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        for name in names {
            guard let pid = temporaryOwner(name) else { continue }
            let gone = pid == getpid() ? own : (kill(pid, 0) != 0 && errno == ESRCH)
            var st = stat()
            guard gone, fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            unlinkat(dir, name, 0)
        }
    }

    /// A new temporary for `name` in the open folder `dir`, created exclusively: an entry of that name (a planted
    /// link included) makes the open fail, and another random name is tried.
    static func createTemporary(for name: String, in dir: Int32, path: String) throws -> (fd: Int32, name: String) {
        for _ in 0..<8 {
            let tmp = temporaryName(for: name)
            let fd = openNew(tmp, in: dir)
            if fd >= 0 { return (fd, tmp) }
            if errno != EEXIST { break }
        }
        throw RegularFile.error(path, "cannot write")
    }

    /// Creates `name` in the open folder `dir` for writing, or returns -1 (errno EEXIST) if anything is there by
    /// that name: a file, a folder, or a link, which is not followed.
    public static func openNew(_ name: String, in dir: Int32) -> Int32 {
        openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
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
        // No link followed, and a FIFO or device refused before it can block a write (OutputFile's rules).
        fd = try OutputFile.openAppending(path, readable: true)
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
