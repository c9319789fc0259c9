import BTCore
import Foundation
import Records

/// A successive-halving search on Slurm: this process is the scheduler. Whenever fewer than `jobs` of the search's
/// tasks are in the queue, it asks the scheduler (`SearchProgress.next`) and submits the decision as a one-task job
/// array running `sweep task DIR RUN --until-epoch N` (a promotion is a new task for that run). A task requeued by
/// Slurm resumes to the same rung. Stopping this process (Ctrl-C) leaves the submitted tasks to finish; the same
/// `sweep run` continues the search from the runs' records and the queue.
public struct SlurmSearchLauncher {
    public let progress: SearchProgress
    public let launcher: SlurmLauncher
    public let sweepName: String
    /// Tasks of the search in the queue at once.
    public let jobs: Int
    /// Seconds between looks at the queue and the run folders.
    public let pollSeconds: Double

    public init(progress: SearchProgress, launcher: SlurmLauncher, sweepName: String, jobs: Int, pollSeconds: Double = 2) {
        self.progress = progress; self.launcher = launcher; self.sweepName = sweepName; self.jobs = jobs; self.pollSeconds = pollSeconds
    }

    public struct Summary: Equatable {
        public var submitted = 0, promoted = 0
        /// The stop signal that ended this scheduler early (the queued tasks go on).
        public var stoppedBy: Int32?
    }

    /// Schedules until the search is over (nothing to submit and none of its tasks queued or running) or a stop
    /// signal comes.
    public func run(report: (String) -> Void) throws -> Summary {
        StopSignals.install()
        var summary = Summary()
        // squeue may not list a job for a moment after sbatch accepted it: a run just submitted counts as busy
        // until the queue shows that task (live, or already ended: a short rung can end between two looks), or
        // for a minute.
        var justSubmitted: [String: (job: String, at: Date)] = [:]
        // A run whose tasks end short of their rung three times (a node that kills it, a bad binary) is left out
        // of this scheduler's decisions rather than submitted forever; the next sweep run tries it again.
        var tries: [String: Int] = [:], givenUp = Set<String>()
        let rungs = progress.rungs
        while StopSignals.count == 0 {
            let queue = SlurmQueue.tasks(progress.folder, includingEnded: true)
            let live = Set(queue.filter { $0.value.isLive }.keys)
            justSubmitted = justSubmitted.filter { name, s in queue[name]?.job != s.job && Date().timeIntervalSince(s.at) < 60 }
            var busy = live.union(justSubmitted.keys)
            while busy.count < jobs, let d = progress.next(busy: busy, unstartable: givenUp) {
                let attempt = "\(d.run.name)@\(d.toEpoch)"
                tries[attempt, default: 0] += 1
                if tries[attempt]! > 3 {
                    givenUp.insert(d.run.name)
                    report("gave up on \(d.run.name): 3 tasks ended before epoch \(d.toEpoch) (see \(progress.folder.runPath(d.run.name))/task.log)")
                    continue
                }
                let (id, _) = try launcher.submit(runs: [d.run.name], sweepName: sweepName, untilEpoch: d.toEpoch)
                summary.submitted += 1
                if d.why == .promote { summary.promoted += 1 }
                let k = (rungs.firstIndex(of: d.toEpoch) ?? 0) + 1
                report("\(d.why.rawValue) \(d.run.name) to epoch \(d.toEpoch), rung \(k) of \(rungs.count): Slurm job \(id)_0")
                busy.insert(d.run.name)
                justSubmitted[d.run.name] = ("\(id)_0", Date())
            }
            if busy.isEmpty { return summary }
            usleep(UInt32(pollSeconds * 1_000_000))
        }
        summary.stoppedBy = StopSignals.last
        return summary
    }
}
