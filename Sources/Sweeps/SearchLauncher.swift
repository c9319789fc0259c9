import BTCore
import Foundation
import Records

/// The local backend of a successive-halving search: up to `jobs` `btviz sweep task --until-epoch` children at
/// once, each training one run to its next rung. Whenever a worker is free the scheduler (`SearchProgress.next`)
/// says what to train: an interrupted run to its rung, a promotion, or a new run. Stop signals are handled as by
/// `LocalLauncher`: forwarded once, each run saves, and the same `sweep run` continues the search from its records.
public struct SearchLauncher {
    public let progress: SearchProgress
    public let executable: String
    public let jobs: Int
    public let threads: Int

    public init(progress: SearchProgress, executable: String, jobs: Int, threads: Int) {
        self.progress = progress; self.executable = executable; self.jobs = jobs; self.threads = threads
    }

    public struct Summary: Equatable {
        public var started = 0, promoted = 0, resumed = 0, paused = 0, complete = 0, failed = 0, interrupted = 0
        public var stoppedBy: Int32?
    }

    private struct Job { var run: SweepPlan.Run, toEpoch: Int, why: SuccessiveHalving.Why }

    public func run(report: (String) -> Void) -> Summary {
        var summary = Summary()
        var busy = Set<String>(), unstartable = Set<String>()
        let rungs = progress.rungs
        let folder = progress.folder
        func rungText(_ epoch: Int) -> String {
            let k = rungs.firstIndex(of: epoch).map { $0 + 1 } ?? 0
            return "epoch \(epoch), rung \(k) of \(rungs.count)"
        }
        var waitingAnnounced = false
        let stop = ChildPool(jobs: jobs).run(next: { () -> Job? in
            while true {
                if let d = progress.next(busy: busy, unstartable: unstartable) { return Job(run: d.run, toEpoch: d.toEpoch, why: d.why) }
                // Nothing to do now. With children of its own, the pool asks again when one ends; with none, runs
                // trained by another process (another sweep run, a task left from a killed one) may still make a
                // promotion: wait for them rather than call the search over.
                guard busy.isEmpty, StopSignals.count == 0 else { return nil }
                let elsewhere = progress.views(busy: busy, unstartable: unstartable).filter(\.busy)
                guard !elsewhere.isEmpty else { return nil }
                if !waitingAnnounced {
                    let names = elsewhere.map { SearchSpace.runName($0.index) }
                    report("waiting for \(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? " and \(names.count - 5) more" : ""), trained by another process")
                    waitingAnnounced = true
                }
                usleep(500_000)
            }
        }, spawn: { job in
            try ChildProcess.spawn(executable, ["sweep", "task", folder.path, job.run.name, "--threads", "\(threads)",
                                                "--until-epoch", "\(job.toEpoch)"], newGroup: true, output: nil)
        }, started: { job, _ in
            busy.insert(job.run.name)
            switch job.why {
            case .start: summary.started += 1
            case .promote: summary.promoted += 1
            case .resume: summary.resumed += 1
            }
            report("\(job.why.rawValue) \(job.run.name) to \(rungText(job.toEpoch))")
        }, unstartable: { job, error in
            unstartable.insert(job.run.name)
            summary.failed += 1
            report("failed \(job.run.name): \(error)")
        }, ended: { e in
            busy.remove(e.job.run.name)
            let ending = TaskEnding(runDir: folder.runPath(e.job.run.name), exit: e.exit, stoppedBy: e.stoppedBy)
            let p = ending.progress
            let figure = p.testMetric == nil ? "" : " (\(TaskEnding.describe(p)))"
            switch ending.state {
            case .done:
                summary.complete += 1
                report("done \(e.job.run.name) in \(e.seconds) s\(figure)")
            case .failed(let reason):
                // Not tried again by this process (no loop of failing attempts); the next `sweep run` may.
                unstartable.insert(e.job.run.name)
                summary.failed += 1
                report("failed \(e.job.run.name) after \(e.seconds) s: \(reason)")
            case .inUse(let holder):
                report("skipped \(e.job.run.name): in use by \(holder)")
            case .unfinished where p.epochs == e.job.toEpoch && e.exit.shellCode == 0:
                summary.paused += 1
                report("paused \(e.job.run.name) at \(rungText(p.epochs))\(figure)")
            case .unfinished:
                // Short of its rung: by a stop it resumes in the next `sweep run`; otherwise not tried again here.
                if e.stoppedBy == nil { unstartable.insert(e.job.run.name) }
                summary.interrupted += 1
                report("interrupted \(e.job.run.name) at step \(p.step) of \(p.totalSteps)")
            }
        })
        summary.stoppedBy = stop
        return summary
    }
}
