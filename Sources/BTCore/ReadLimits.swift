import Foundation

// The one rule every reader of a file from outside follows (CIFAR, SVHN, ImageNet 64x64, IDX, image folders,
// PNG/JPEG/BMP, .npy/.npz, run folders):
//
// 1. Regular files only. Anything else (a FIFO, a device such as /dev/zero, a socket, a directory) is refused by
//    `RegularFile.open` before a byte is read, so a read can neither block forever nor run without end.
// 2. Bound what a header declares before allocating for it. Stored data is checked against the file's size (a
//    header cannot declare more bytes than the file holds); compressed data, whose size is only known once
//    inflated, is checked against `MemoryBudget` (what this process may still allocate), and its inflation stops
//    at the declared size. Counts are multiplied with `checkedProduct`, never with `*`, which traps on overflow.
// 3. Stream what can be streamed: a reader keeps a chunk, not the whole input, wherever the format allows it.
//
// Every refusal is a BTError: one line naming the file and what was wrong.

/// An open regular file, read with POSIX calls so an error names the file and the OS reason.
public final class RegularFile {
    public let path: String
    public let size: Int
    public let fd: Int32

    /// Opens `path` for reading, refusing anything but a regular file. O_NONBLOCK makes opening a FIFO return at
    /// once (a blocking open waits for a writer forever); the fstat after it then refuses it.
    public init(_ path: String) throws {
        self.path = path
        let fd = Foundation.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw RegularFile.error(path, "cannot read") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = RegularFile.error(path, "cannot read"); close(fd); throw e }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            throw BTError("cannot read \(path): it is \(RegularFile.describe(kind)), not a regular file")
        }
        // Back to blocking reads (a regular file never blocks, but some filesystems return EAGAIN otherwise).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.fd = fd
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Refuses a path that is there but is not a regular file, without opening it (for listings of a folder).
    public static func isRegular(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Reads up to `count` bytes into `buffer`; returns how many (0 at the end of the file).
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        while true {
            let n = Foundation.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw RegularFile.error(path, "cannot read")
        }
    }

    /// The whole file, refused before any allocation when it is larger than `limit` bytes (`what` names the
    /// limit in the message: "a PNG image may have at most 256 MB") or than this process may allocate.
    public func readAll(limit: Int, what: String) throws -> [UInt8] {
        guard size <= limit else {
            throw BTError("cannot read \(path): it is \(MemoryBudget.describe(size)); \(what) may have at most \(MemoryBudget.describe(limit))")
        }
        try MemoryBudget.check(size, for: "reading \(path)")
        var bytes = [UInt8](repeating: 0, count: size)
        var off = 0
        try bytes.withUnsafeMutableBytes { buf in
            while off < buf.count {
                let n = try read(into: buf.baseAddress! + off, count: buf.count - off)
                if n == 0 { break }  // the file shrank while it was read
                off += n
            }
        }
        if off < bytes.count { bytes.removeLast(bytes.count - off) }
        return bytes
    }

    static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        default: return "not a file"
        }
    }

    /// "<what> <path>: <strerror(errno)>".
    public static func error(_ path: String, _ what: String) -> BTError {
        BTError("\(what) \(path): \(String(cString: strerror(errno)))")
    }
}

/// The product of `factors`, or nil if it overflows or any factor is negative: for sizes a header declares.
public func checkedProduct(_ factors: [Int]) -> Int? {
    var p = 1
    for f in factors {
        guard f >= 0 else { return nil }
        let (m, o) = p.multipliedReportingOverflow(by: f)
        if o { return nil }
        p = m
    }
    return p
}

/// The memory this process may still allocate: the least of what the machine has available (MemAvailable),
/// what the address-space limit leaves (`ulimit -v`, minus what the process already maps), and what its cgroup
/// leaves (a container's or Slurm's `--mem`: memory.max minus memory.current). Checked before a large allocation,
/// so an input too big for the memory at hand is a one-line refusal and not an abort or the OOM killer.
public enum MemoryBudget {
    public struct Limit: Sendable {
        public let bytes: Int
        public let source: String   // "available memory", "the address-space limit (ulimit -v)", "the cgroup limit"
    }

    /// The tightest limit in force now, or nil where none can be read.
    public static func current() -> Limit? {
        var limits: [Limit] = []
        if let a = meminfo("MemAvailable:") { limits.append(Limit(bytes: a, source: "this machine's available memory")) }
        var rl = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &rl) == 0, rl.rlim_cur != rlim_t.max {
            let mapped = statusKB("VmSize:") ?? 0
            limits.append(Limit(bytes: max(0, Int(clamping: rl.rlim_cur) - mapped),
                                source: "this process's address-space limit (ulimit -v)"))
        }
        if let c = cgroupRoom() { limits.append(Limit(bytes: c, source: "this process's cgroup memory limit")) }
        return limits.min { $0.bytes < $1.bytes }
    }

    /// Throws when `bytes` (for `what`: "decoding photo.jpg") cannot be allocated within the current limit.
    public static func check(_ bytes: Int, for what: SettingText, hint: SettingText = "") throws {
        guard let limit = current(), bytes > limit.bytes else { return }
        let tail: SettingText = hint.isEmpty ? "" : "; \(hint)"
        throw BTError(settings: "\(what) needs \(describe(bytes)) of memory, more than the \(describe(limit.bytes)) left by \(limit.source)\(tail)")
    }

    /// 1.5 GB, 200 MB, 12 KB.
    public static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return "\((Double(bytes) / Double(1 << 30) * 10).rounded() / 10) GB" }
        if bytes >= 1 << 20 { return "\(bytes >> 20) MB" }
        if bytes >= 1 << 10 { return "\(bytes >> 10) KB" }
        return "\(bytes) bytes"
    }

    static func meminfo(_ key: String) -> Int? { kbLine("/proc/meminfo", key) }
    static func statusKB(_ key: String) -> Int? { kbLine("/proc/self/status", key) }

    private static func kbLine(_ file: String, _ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            if let kb = Int(line.dropFirst(key.count).split(separator: " ").first ?? "") { return kb * 1024 }
        }
        return nil
    }

    /// cgroup v2: the room left under memory.max of this process's cgroup and its parents; v1: memory.limit_in_bytes.
    static func cgroupRoom() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        var best: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" {  // v2: this process's cgroup and its ancestors
                for base in CgroupV2.directories() {
                    if let max = number(base + "/memory.max"), let used = number(base + "/memory.current") {
                        best = min(best ?? Int.max, max - used)
                    }
                }
            } else if parts[1].split(separator: ",").contains("memory") {
                let base = "/sys/fs/cgroup/memory" + (parts[2] == "/" ? "" : String(parts[2]))
                if let max = number(base + "/memory.limit_in_bytes"), max < 1 << 60,
                   let used = number(base + "/memory.usage_in_bytes") {
                    best = min(best ?? Int.max, max - used)
                }
            }
        }
        return best.map { Swift.max(0, $0) }
    }

    private static func number(_ file: String) -> Int? {
        guard let s = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))  // "max" is no limit: nil
    }
}

/// cgroup v2, where limits nest: a limit on any ancestor of this process's cgroup binds it too.
public enum CgroupV2 {
    /// The directories of this process's cgroup and each ancestor up to the root, innermost first; empty without
    /// cgroup v2 (no "0::" line). Memory (MemoryBudget) and CPU quotas (Workers) both walk these.
    public static func directories(cgroupFile: String = "/proc/self/cgroup", root: String = "/sys/fs/cgroup") -> [String] {
        guard let text = try? String(contentsOfFile: cgroupFile, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return [] }
        var path = String(line.dropFirst(3)), dirs: [String] = []
        while true {
            dirs.append(root + (path == "/" ? "" : path))
            if path == "/" || path.isEmpty { return dirs }
            path = parentPath(path)
        }
    }
}

/// The folder part of a path, by its bytes: "a/b" -> "a", "a" -> "", "/a" -> "/", "a/b/" -> "a". (NSString's
/// deletingLastPathComponent traps on some one-character relative paths in swift-corelibs-foundation.)
public func parentPath(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    guard let slash = p.lastIndex(of: "/") else { return "" }
    var parent = p[..<slash]
    while parent.count > 1 && parent.hasSuffix("/") { parent = parent.dropLast() }
    return parent.isEmpty ? "/" : String(parent)
}
