import Foundation

/// An exclusive lock on a run folder, held by the one process that writes into it (a training, new, replaced or
/// resumed). It is a flock(2) on RUN/.lock, so the kernel drops it when the process ends however it ends (no
/// stale locks after a crash or kill -9); the file names the holder (pid, host, command, Slurm job) so a refusal
/// can say who has the run. Readers (eval, summary, replay) take no lock: every run file is replaced atomically,
/// so they see a whole old or a whole new version.
public final class RunLock {
    public static let fileName = ".lock"
    public let path: String
    private var fd: Int32

    /// Takes the lock on `dir` (which must exist), or throws naming the process that holds it. `file` names
    /// another lock in the same folder (a sweep task holds `.task.lock` around the training that holds `.lock`).
    public init(dir: String, purpose: String, file: String = RunLock.fileName) throws {
        path = dir + "/" + file
        while true {
            // O_NONBLOCK: a FIFO planted as the lock cannot block the open; the fstat below refuses it.
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
            guard fd >= 0 else { throw RegularFile.error(path, "cannot lock the run folder: cannot open") }
            var kind = stat()
            if fstat(fd, &kind) == 0, let problem = OutputFile.problem(kind.st_mode) {
                close(fd)
                throw BTError("cannot lock the run folder: \(path): \(problem)")
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let holder = busy ? RunLock.readHolder(fd) : ""
                let why = String(cString: strerror(errno))
                close(fd)
                guard busy else { throw BTError("cannot lock the run folder \(dir): \(why)") }
                throw BTError("\(dir) is in use by \(holder.isEmpty ? "another btviz process" : holder); wait for it to finish or stop it first")
            }
            // The holder before us may have removed the file after we opened it (a failed start cleans up): a
            // lock on a file no longer at `path` locks nothing, so open it again.
            var mine = stat(), there = stat()
            if fstat(fd, &mine) == 0, stat(path, &there) == 0, mine.st_ino == there.st_ino, mine.st_dev == there.st_dev {
                self.fd = fd
                break
            }
            close(fd)
        }
        let owner = RunLock.describeSelf(purpose: purpose)
        _ = ftruncate(fd, 0)
        _ = owner.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { release() }

    /// Lets the lock go now (the kernel would at exit).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// Removes the lock file, then lets the lock go: for a start that failed and takes its new folder away.
    public func removeAndRelease() {
        guard fd >= 0 else { return }
        unlink(path)
        release()
    }

    /// Who holds `dir`'s lock now, or nil if nobody does (a reader's note: "being trained by pid 12 on host").
    public static func holder(of dir: String, file: String = fileName) -> String? {
        let path = dir + "/" + file
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        // A shared lock is granted unless a writer holds the exclusive one.
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return nil }
        let h = readHolder(fd)
        return h.isEmpty ? "another btviz process" : h
    }

    /// "btviz train (pid 4242 on node7, Slurm job 123_4, since 2026-12-06 08:01:02 UTC)".
    static func describeSelf(purpose: String) -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let env = ProcessInfo.processInfo.environment
        var job = ""
        if let id = env["SLURM_JOB_ID"] {
            job = ", Slurm job " + (env["SLURM_ARRAY_JOB_ID"].flatMap { a in env["SLURM_ARRAY_TASK_ID"].map { "\(a)_\($0)" } } ?? id)
        }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        f.timeZone = TimeZone(identifier: "UTC")
        return "btviz \(purpose) (pid \(getpid()) on \(String(cString: host))\(job), since \(f.string(from: Date())))"
    }

    /// The holder's line, at most 300 bytes, shown as data (control characters escaped by BTError).
    private static func readHolder(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 300)
        let n = pread(fd, &buf, buf.count, 0)
        guard n > 0 else { return "" }
        return String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
