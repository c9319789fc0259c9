import BTCore
import Foundation
import Records

/// `sweep eval`'s two backends. Both start `btviz sweep eval-task DIR RUN`, which evaluates one finished run
/// and writes RUN/eval.json (RunEvaluation); neither writes a cache itself. An evaluation is short and starts
/// over when stopped (nothing half-done is cached), so unlike training there is no resume and no requeue.
public struct LocalEvalLauncher {
    public let folder: SweepFolder
    public let executable: String
    public let jobs: Int, threads: Int, calibrationImages: Int

    public init(folder: SweepFolder, executable: String, jobs: Int, threads: Int, calibrationImages: Int) {
        self.folder = folder; self.executable = executable; self.jobs = jobs; self.threads = threads
        self.calibrationImages = calibrationImages
    }

    public struct Summary: Equatable {
        public var evaluated = 0, failed = 0, notStarted = 0
        public var stoppedBy: Int32?
    }

    /// The log a run's evaluation writes to (its output and, on failure, the reason).
    public static let logName = "eval.log"

    /// Evaluates `names` with up to `jobs` children at once, each in its own process group with its output in
    /// RUN/eval.log; `report` gets a line as each starts and ends. A stop signal is forwarded once to every child
    /// and nothing more starts.
    public func run(_ names: [String], report: (String) -> Void) -> Summary {
        var summary = Summary()
        let end = ChildPool(jobs: jobs).run(names, spawn: { name in
            let log = try OutputFile.openAppending(folder.runPath(name) + "/" + Self.logName)  // no link followed
            defer { close(log) }
            return try ChildProcess.spawn(executable, ["sweep", "eval-task", folder.path, name, "--threads", "\(threads)",
                                                       "--calibration-images", "\(calibrationImages)"], newGroup: true, output: log)
        }, started: { name, n in
            report("start \(name) (\(n) of \(names.count))")
        }, unstartable: { name, error in
            summary.failed += 1
            report("failed \(name): \((error as? BTError)?.description ?? "\(error)")")
        }, ended: { e in
            let dir = folder.runPath(e.job)
            if e.exit.shellCode == 0, case .found(let evaluation) = RunEvaluation.read(runDir: dir) {
                summary.evaluated += 1
                report("evaluated \(e.job) in \(e.seconds) s: \(Self.describe(evaluation))")
            } else {
                summary.failed += 1
                let why = Self.lastError(logPath: dir + "/" + Self.logName) ?? "exit code \(e.exit.shellCode)"
                report("failed \(e.job) after \(e.seconds) s: \(why) (see \(dir)/\(Self.logName))")
            }
        })
        summary.stoppedBy = end.stoppedBy
        summary.notStarted = end.notStarted
        return summary
    }

    /// "test accuracy 71.20% re-estimated, 68.34% stored".
    public static func describe(_ e: RunEvaluation) -> String {
        let m = Metric.printing(e.metric)
        return "test \(m.title) \(m.format(e.testMetric)) with re-estimated batch-norm statistics, \(m.format(e.storedTestMetric)) stored"
    }

    /// The last "btviz: ..." line in the last 8 KB of a log, or nil.
    static func lastError(logPath: String) -> String? {
        guard let f = try? RegularFile(logPath) else { return nil }
        let start = max(0, f.size - 8192)
        var bytes = [UInt8](repeating: 0, count: f.size - start)
        let n = bytes.withUnsafeMutableBytes { pread(f.fd, $0.baseAddress!, $0.count, off_t(start)) }
        guard n > 0 else { return nil }
        let lines = String(decoding: bytes[0..<n], as: UTF8.self).split(separator: "\n")
        return lines.last { $0.hasPrefix("btviz: ") && !$0.hasPrefix("btviz: note") }.map { String($0.dropFirst(7)) }
    }
}

/// `sweep eval --backend slurm`: one job array per submission, task i evaluating the run on line i+1 of
/// DIR/slurm/eval-N.txt. Its files are named eval-N, apart from training's array-N, so `sweep status` and
/// `sweep run` never take an evaluation for a training.
public struct SlurmEvalLauncher: Sendable {
    /// The training launcher, for its checked settings, folder and binary.
    public let base: SlurmLauncher
    public let calibrationImages: Int

    public init(base: SlurmLauncher, calibrationImages: Int) {
        self.base = base; self.calibrationImages = calibrationImages
    }

    /// DIR/slurm/eval-N.*: apart from training's array-N.
    public static let filePrefix = "eval-"

    public func paths(_ index: Int) -> (script: String, list: String, job: String) {
        let b = base.folder.slurmPath + "/" + Self.filePrefix + "\(index)"
        return (b + ".sbatch", b + ".txt", b + ".job")
    }

    /// The next free eval-N in DIR/slurm.
    public func nextIndex() -> Int {
        (SlurmQueue.submissionIndices(slurmDir: base.folder.slurmPath, prefix: Self.filePrefix).max() ?? 0) + 1
    }

    public func script(runs: [String], sweepName: String, index: Int) -> String {
        precondition(!runs.isEmpty)
        var s = base.settings
        (s.nodes, s.tasksPerNode) = (nil, nil)  // an evaluation is one process: no MPI job
        var head = [
            "#!/bin/bash",
            "# btviz sweep '\(sweepName.filter { !$0.isNewline })': \(runs.count) finished runs of \(base.folder.path) evaluated as one",
            "# Slurm job array, written by `btviz sweep eval --backend slurm`. Task i evaluates the run on line i+1 of",
            "# eval-\(index).txt through `btviz sweep eval-task`, which writes RUN/eval.json.",
        ] + SlurmLauncher.directives(s, jobName: "btviz-eval-", sweepName: sweepName, tasks: runs.count)
        head.append("#SBATCH --output=\(base.folder.slurmPath)/eval-%A_%a.out")
        head += s.extraLines.compactMap(SlurmLauncher.sbatchLine)
        let body = """
        set -u
        dir=\(SlurmLauncher.shellQuote(base.folder.path))
        run=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$dir/slurm/eval-\(index).txt")
        echo "btviz sweep: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname) evaluates $run"
        exec \(SlurmLauncher.shellQuote(base.executable)) sweep eval-task "$dir" "$run" --threads "${SLURM_CPUS_PER_TASK:-1}" --calibration-images \(calibrationImages)
        """
        return head.joined(separator: "\n") + "\n" + body + "\n"
    }

    /// Writes the script and run list into DIR/slurm and submits them; returns the array's job id and script
    /// path. A refused submission leaves nothing behind.
    public func submit(runs: [String], sweepName: String) throws -> (jobID: String, script: String) {
        guard !runs.isEmpty else { throw BTError("no runs to submit") }
        try OutputFolder.create(base.folder.slurmPath, what: "the Slurm folder")
        let index = nextIndex(), p = paths(index)
        let id = try SlurmLauncher.submitArray(runs: runs, script: script(runs: runs, sweepName: sweepName, index: index),
                                               listPath: p.list, scriptPath: p.script, jobPath: p.job)
        return (id, p.script)
    }
}
