import Records
import BTCore
import Foundation

/// One run of a sweep, started or resumed as a child `btviz train`: what `btviz sweep task DIR RUN` does, and
/// the only way either launcher starts a run. It holds RUN/.task.lock while it works, so a second task for the
/// same run (another `sweep run`, a requeued Slurm task) leaves it alone.
public struct SweepTask {
    public let folder: SweepFolder
    public let run: SweepPlan.Run
    /// The btviz binary that trains (this one: /proc/self/exe).
    public let executable: String
    public let threads: Int?
    /// Successive halving's rung: pause once this many epochs are done (train's --stop-after-epoch); nil trains to
    /// the end.
    public let untilEpoch: Int?
    /// More than 1: the training is one MPI job of this many ranks, started by mpirun (inside a Slurm allocation
    /// it places the ranks on the allocation's nodes), one data-parallel run (docs/scaling.md).
    public let ranks: Int

    public init(folder: SweepFolder, run: SweepPlan.Run, executable: String, threads: Int?, untilEpoch: Int? = nil, ranks: Int = 1) {
        self.folder = folder; self.run = run; self.executable = executable; self.threads = threads; self.untilEpoch = untilEpoch
        self.ranks = ranks
    }

    /// The program and arguments that train: btviz itself, or mpirun starting `ranks` of it.
    public func command() -> (program: String, args: [String]) {
        guard ranks > 1 else { return (executable, trainArguments()) }
        return ("/usr/bin/env", ["mpirun", "-n", "\(ranks)", executable] + trainArguments())
    }

    public enum Result: Equatable {
        case alreadyDone
        case inUse(holder: String)
        case ended(ChildProcess.Exit)
    }

    /// The train arguments: a new run, a start over of one that never saved a checkpoint, or a resume. The
    /// spec's arguments go with --resume too, so a spec changed under a run is refused by train, not trained on.
    public func trainArguments() -> [String] {
        let dir = folder.runPath(run.name)
        let threadArgs = (threads.map { ["--threads", "\($0)"] } ?? []) + (untilEpoch.map { ["--stop-after-epoch", "\($0)"] } ?? [])
        if FileManager.default.fileExists(atPath: dir + "/" + RunFiles.checkpoint) {
            return ["train", "--headless", "--resume", dir] + threadArgs + run.args
        }
        let leftovers = [RunFiles.metrics, RunFiles.config].contains { FileManager.default.fileExists(atPath: dir + "/" + $0) }
        return ["train", "--headless", "--run-dir", dir] + (leftovers ? ["--replace"] : []) + threadArgs + run.args
    }

    /// Trains the run to its end (or until stopped), teeing the output to RUN/task.log and `echo` (a file
    /// descriptor, or nil), and writes RUN/outcome.json. Stop signals are forwarded to the training, which saves.
    public func perform(echo: Int32?) throws -> Result {
        let dir = try runFolder()
        let lockPath = dir + "/" + RunStatus.taskLockFile
        if let type = SweepFolder.entryType(lockPath), type != S_IFREG {
            throw BTError("\(lockPath) is \(SweepFolder.describe(type)), not a lock file; remove it and run the sweep again")
        }
        let lock: RunLock
        do { lock = try RunLock(dir: dir, purpose: "sweep task", file: RunStatus.taskLockFile) } catch {
            // Held by another task, or unusable (unreadable, on a full disk): only the first is "in use".
            guard let holder = RunLock.holder(of: dir, file: RunStatus.taskLockFile) else { throw error }
            return .inUse(holder: holder)
        }
        defer { lock.release() }
        switch RunStatus.state(of: dir, progress: RunProgress.read(runDir: dir), ownTaskLock: true) {
        case .done: return .alreadyDone
        case .running(let holder): return .inUse(holder: holder)
        default: break
        }
        unlink(dir + "/" + Outcome.fileName)  // from an earlier attempt: this one will say how it ended
        try prepareTensorBoardFolder()
        let log = try OutputFile.openAppending(dir + "/task.log")  // no link followed, no FIFO blocking
        defer { close(log) }
        let (program, args) = command()
        let header = "== \(Self.timestamp()) \(ranks > 1 ? "mpirun -n \(ranks) " : "")btviz \(trainArguments().joined(separator: " "))\n"
        write(log, header, header.utf8.count)

        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BTError("cannot start the training: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        StopSignals.install()
        let pid: pid_t
        do { pid = try ChildProcess.spawn(program, args, newGroup: false, output: fds[1]) } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var lastReason = "", partial = [UInt8](), forwarded = 0
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            if StopSignals.count > forwarded {
                forwarded = StopSignals.count
                kill(pid, StopSignals.last)
            }
            var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = read(fds[0], &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            write(log, buf, n)
            if let echo { write(echo, buf, n) }
            // The last "btviz: ..." line is the reason a failure gives; lines are kept to 2 KB.
            for b in buf[0..<n] {
                if b == UInt8(ascii: "\n") {
                    let line = String(decoding: partial, as: UTF8.self)
                    if line.hasPrefix("btviz: ") && !line.hasPrefix("btviz: warning") { lastReason = String(line.dropFirst(7)) }
                    partial.removeAll(keepingCapacity: true)
                } else if partial.count < 2048 {
                    partial.append(b)
                }
            }
        }
        close(fds[0])
        let exit = ChildProcess.wait(pid)
        let reason: String
        if let sig = exit.signal {
            reason = "killed by signal \(sig) (\(StopSignals.name(sig)))"
        } else if exit.code == 0 {
            reason = ""
        } else if exit.code > 128 && Outcome.stopSignals.contains(exit.code - 128) {
            reason = "stopped by \(StopSignals.name(exit.code - 128)) (checkpoint saved)"
        } else {
            reason = lastReason.isEmpty ? "exit code \(exit.code)" : lastReason
        }
        let env = ProcessInfo.processInfo.environment
        let job = env["SLURM_ARRAY_JOB_ID"].flatMap { a in env["SLURM_ARRAY_TASK_ID"].map { "\(a)_\($0)" } } ?? env["SLURM_JOB_ID"]
        try Outcome(exitCode: exit.code, signal: exit.signal, reason: reason, endedAt: Self.timestamp(),
                    host: ProcessInfo.processInfo.hostName, slurmJob: job).write(runDir: dir)
        let footer = "== \(Self.timestamp()) ended: \(reason.isEmpty ? "finished" : reason)\n"
        write(log, footer, footer.utf8.count)
        return .ended(exit)
    }

    /// RUN, created if missing: a folder of its own under DIR, never a link to somewhere else.
    private func runFolder() throws -> String {
        let dir = folder.runPath(run.name)
        if let why = PathComponent.problem(run.name) { throw BTError("the run name '\(run.name)' is not a folder name: \(why)") }
        if SweepFolder.entryType(dir) == nil, mkdir(dir, 0o755) != 0, errno != EEXIST {
            throw BTError("cannot create the run folder \(dir): \(String(cString: strerror(errno)))")
        }
        guard let type = SweepFolder.entryType(dir), type == S_IFDIR else {
            let what = SweepFolder.entryType(dir).map(SweepFolder.describe) ?? "missing"
            throw BTError("\(dir) is \(what), not a run folder of this sweep; remove it and run the sweep again")
        }
        return dir
    }

    /// The run's own TensorBoard folder (its --tensorboard: ROOT/<run name> or RUN/tensorboard), made here as a
    /// real folder. The spec named the root (made with its missing parents; a link there is the user's), not what is
    /// in it: a link, file or pipe under the run's name is refused, never written through.
    private func prepareTensorBoardFolder() throws {
        guard let i = run.args.firstIndex(of: "--" + SweepPlan.tensorBoardFlag), i + 1 < run.args.count else { return }
        let path = run.args[i + 1]
        try OutputFolder.create((path as NSString).deletingLastPathComponent, what: "the TensorBoard folder")
        if SweepFolder.entryType(path) == nil, mkdir(path, 0o755) != 0, errno != EEXIST {
            throw BTError("cannot create the TensorBoard folder \(path): \(String(cString: strerror(errno)))")
        }
        guard let type = SweepFolder.entryType(path), type == S_IFDIR else {
            let what = SweepFolder.entryType(path).map(SweepFolder.describe) ?? "missing"
            throw BTError("\(path) is \(what), not this run's TensorBoard folder; remove it and run the sweep again")
        }
    }

    /// Records why this task could not train the run, where the launchers and `sweep status` look: a line in
    /// RUN/task.log and RUN/outcome.json (the run then reads as failed with this reason). Nothing is written
    /// into anything but a real folder of the sweep.
    public func recordFailure(_ reason: String) {
        let dir = folder.runPath(run.name)
        guard PathComponent.problem(run.name) == nil, SweepFolder.entryType(dir) == S_IFDIR else { return }
        let line = "== \(Self.timestamp()) sweep task: \(reason)\n"
        if let fd = try? OutputFile.openAppending(dir + "/task.log") {  // no link followed, no FIFO blocking
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        let env = ProcessInfo.processInfo.environment
        let job = env["SLURM_ARRAY_JOB_ID"].flatMap { a in env["SLURM_ARRAY_TASK_ID"].map { "\(a)_\($0)" } } ?? env["SLURM_JOB_ID"]
        try? Outcome(exitCode: 1, signal: nil, reason: reason, endedAt: Self.timestamp(),
                     host: ProcessInfo.processInfo.hostName, slurmJob: job).write(runDir: dir)
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}
