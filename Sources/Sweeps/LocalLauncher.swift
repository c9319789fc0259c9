import BTCore
import Foundation
import Records

/// The local backend: up to `jobs` `btviz sweep task` children at once, each in its own process group with
/// `threads` worker threads. A stop signal (Ctrl-C, SIGTERM, SIGHUP) is forwarded once to every child, which
/// saves its run; the launcher then waits for them all. A run that fails is reported and the others go on.
public struct LocalLauncher {
    public let folder: SweepFolder
    public let executable: String
    public let jobs: Int
    public let threads: Int

    public init(folder: SweepFolder, executable: String, jobs: Int, threads: Int) {
        self.folder = folder; self.executable = executable; self.jobs = jobs; self.threads = threads
    }

    public struct Summary: Equatable {
        public var done = 0, failed = 0, interrupted = 0, skipped = 0
        /// Runs left in the queue by a stop.
        public var notStarted = 0
        /// The stop signal that ended the sweep early, if one did.
        public var stoppedBy: Int32?
    }

    /// Runs `names` (runs of the folder's plan), printing a line through `report` as each starts and ends.
    public func run(_ names: [String], report: (String) -> Void) -> Summary {
        var summary = Summary()
        let end = ChildPool(jobs: jobs).run(names, spawn: { name in
            try ChildProcess.spawn(executable, ["sweep", "task", folder.path, name, "--threads", "\(threads)"], newGroup: true, output: nil)
        }, started: { name, n in
            report("start \(name) (\(n) of \(names.count))")
        }, unstartable: { name, error in
            summary.failed += 1
            report("failed \(name): \(error)")
        }, ended: { e in
            let ending = TaskEnding(runDir: folder.runPath(e.job), exit: e.exit, stoppedBy: e.stoppedBy)
            switch ending.state {
            case .done:
                summary.done += 1
                report("done \(e.job) in \(e.seconds) s: \(TaskEnding.describe(ending.progress))")
            case .failed(let reason):
                summary.failed += 1
                report("failed \(e.job) after \(e.seconds) s: \(reason)")
            case .inUse(let holder):
                summary.skipped += 1
                report("skipped \(e.job): in use by \(holder)")
            case .unfinished:
                summary.interrupted += 1
                report("interrupted \(e.job) at step \(ending.progress.step) of \(ending.progress.totalSteps)")
            }
        })
        summary.stoppedBy = end.stoppedBy
        summary.notStarted = end.notStarted
        return summary
    }
}
