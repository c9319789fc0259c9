import Foundation

// The rules every writer follows (docs/run-folders.md, "What btviz writes"):
//
// 1. A file is replaced whole (AtomicFile): a temporary created beside it with O_CREAT|O_EXCL|O_NOFOLLOW under an
//    unpredictable name, fsynced, then renamed over the target. A link planted beside the target is never opened.
// 2. The target is a regular file or nothing. A symbolic link is refused, not written through and not replaced:
//    btviz never follows a link it did not make. A device, FIFO, socket or directory is refused too.
// 3. An appended file (metrics.jsonl, task.log, TensorBoard events, a download's .part) is opened with
//    O_NOFOLLOW|O_NONBLOCK (a FIFO cannot block the open) and refused unless fstat says it is a regular file.
// 4. Output folders are made by `OutputFolder.create`, whose errors are one line ("X is a file, not a folder").
// 5. Cleanup removes only btviz's own temporaries: the exact name AtomicFile gives them, regular files only.

/// Checks and opens for the files btviz writes.
public enum OutputFile {
    /// Throws a one-line error unless `path` names nothing yet or a regular file, in a folder that exists. lstat,
    /// so a symbolic link (even one to a regular file) is refused rather than followed.
    public static func checkReplaceable(_ path: String) throws {
        guard !path.isEmpty else { throw BTError("cannot write an empty path") }
        var st = stat()
        if lstat(path, &st) == 0 {
            if let problem = problem(st.st_mode) { throw BTError("cannot write \(path): \(problem)") }
            if path.hasSuffix("/") { throw BTError("cannot write \(path): a path ending in / names a folder") }
            return
        }
        let err = errno
        guard err == ENOENT || err == ENOTDIR else { throw BTError("cannot write \(path): \(String(cString: strerror(err)))") }
        if path.hasSuffix("/") { throw BTError("cannot write \(path): a path ending in / names a folder") }
        if let why = OutputFolder.problem(parentPath(path)) { throw BTError("cannot write \(path): \(why)") }
    }

    /// What is wrong with replacing or appending to an entry of this mode, or nil for a regular file.
    static func problem(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return "it is a symbolic link; btviz does not write through links (name the file it points to, or remove the link)"
        default: return "it is \(RegularFile.describe(mode & S_IFMT)), not a regular file"
        }
    }

    /// Writes all of `data` to `fd`, retrying short writes and EINTR; `what` names the output in the error
    /// ("cannot write \(what): No space left on device").
    public static func writeAll(_ data: Data, to fd: Int32, what: String) throws {
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw BTError("cannot write \(what): \(n == 0 ? "no bytes written" : String(cString: strerror(errno)))") }
                off += n
            }
        }
    }

    /// Opens `path` for appending, creating it if needed (with `exclusive`, only creating it), and refuses a link,
    /// a FIFO, a device or a folder with one line. `readable` opens it read-write (LineLog reads its tail back).
    public static func openAppending(_ path: String, readable: Bool = false, exclusive: Bool = false) throws -> Int32 {
        // Looked at before the open: opening a device can itself do something (a tape rewinds).
        try checkReplaceable(path)
        var flags = (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        if exclusive { flags |= O_EXCL }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let err = errno
            var st = stat()
            if lstat(path, &st) == 0, let problem = problem(st.st_mode) { throw BTError("cannot write \(path): \(problem)") }
            if err == EEXIST { throw BTError("cannot write \(path): it already exists") }
            throw BTError("cannot write \(path): \(String(cString: strerror(err)))")
        }
        // Whatever the name held when it was opened (it may have changed since the lstat) must be a regular file.
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = RegularFile.error(path, "cannot write"); close(fd); throw e }
        if let problem = problem(st.st_mode) { close(fd); throw BTError("cannot write \(path): \(problem)") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }
}

/// The folders btviz writes into (run folders, sweep folders, --out and --tensorboard folders).
public enum OutputFolder {
    /// Makes `path` and any missing parents, or throws one line: `what` names it ("the run directory", "--out").
    /// Returns the folders it made, deepest first, so a failed start can take them away again (rmdir).
    @discardableResult
    public static func create(_ path: String, what: String) throws -> [String] {
        guard !path.isEmpty else { throw BTError("\(what) is an empty path") }
        if let long = path.split(separator: "/").first(where: { $0.utf8.count > 255 }) {
            throw BTError("cannot create \(what): the name '\(long.prefix(40))…' is \(long.utf8.count) bytes, over the 255 a file name may have")
        }
        guard path.utf8.count < 4096 else { throw BTError("cannot create \(what): the path is \(path.utf8.count) bytes, over 4095") }
        // lstat, not fileExists: a symlink (even a dangling one) is something that was there before.
        var missing: [String] = [], p = path, st = stat()
        while !p.isEmpty && p != "/" && lstat(p, &st) != 0 && (errno == ENOENT || errno == ENOTDIR) {
            missing.append(p)
            p = parentPath(p)
        }
        let existing = p.isEmpty ? "." : p
        if let why = notAFolder(existing) {
            throw BTError(existing == path ? "cannot use \(path) as \(what): it \(why)" : "cannot create \(what) \(path): \(existing) \(why)")
        }
        var made: [String] = []
        for dir in missing.reversed() {
            if mkdir(dir, 0o777) != 0 {
                let err = errno
                // Made meanwhile by another process: fine if it is a folder.
                guard err == EEXIST, notAFolder(dir) == nil else {
                    throw BTError("cannot create \(what) \(path): \(err == EEXIST ? "\(dir) \(notAFolder(dir) ?? "")" : String(cString: strerror(err)))")
                }
                continue
            }
            made.append(dir)
        }
        return made.reversed()
    }

    /// Why `path`, which exists, cannot hold files ("is a file, not a folder"), or nil when it is a folder (or a
    /// link to one: the user named it).
    static func notAFolder(_ path: String) -> String? {
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFDIR: return nil
            case S_IFREG: return "is a file, not a folder"
            default: return "is \(RegularFile.describe(st.st_mode & S_IFMT)), not a folder"
            }
        }
        var l = stat()
        if lstat(path, &l) == 0 && (l.st_mode & S_IFMT) == S_IFLNK { return "is a symbolic link to nothing, not a folder" }
        return "cannot be reached (\(String(cString: strerror(errno))))"
    }

    /// Why a file cannot be written in `folder` ("the folder X does not exist", "X is a file, not a folder"), or nil.
    static func problem(_ folder: String) -> String? {
        var p = folder.isEmpty ? "." : folder, st = stat()
        while p != "/" && p != "." && lstat(p, &st) != 0 && (errno == ENOENT || errno == ENOTDIR) {
            let up = parentPath(p)
            p = up.isEmpty ? "." : up
        }
        if let why = notAFolder(p) { return "\(p) \(why)" }
        return p == (folder.isEmpty ? "." : folder) ? nil : "the folder \(folder) does not exist"
    }
}
