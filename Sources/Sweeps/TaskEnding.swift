import Records

/// What a `sweep task` child left when it ended, read from its run's folder and its exit: the one classification
/// both local launchers (the grid's and the search's) count and report.
struct TaskEnding {
    enum State: Equatable {
        /// The run trained to its last epoch.
        case done
        /// The run failed (its records or outcome say why), or the task exited with an error without being stopped.
        case failed(String)
        /// Another process holds the run's lock.
        case inUse(holder: String)
        /// Short of the end and not broken: stopped by a signal, paused at a rung, or an interruption recorded in
        /// the run's outcome.json.
        case unfinished
    }

    let state: State
    let progress: RunProgress

    init(runDir dir: String, exit: ChildProcess.Exit, stoppedBy: Int32?) {
        progress = RunProgress.read(runDir: dir)
        switch RunStatus.state(of: dir, progress: progress) {
        case .done: state = .done
        case .failed(let reason), .stale(let reason): state = .failed(reason)
        case .running(let holder): state = .inUse(holder: holder)
        case .interrupted, .notStarted, .queued, .requeued:  // no queue here: the task left it unfinished
            if exit.shellCode == 0 || Outcome.read(runDir: dir)?.isInterruption == true || stoppedBy != nil {
                state = .unfinished
            } else {
                state = .failed("sweep task exited with \(exit.shellCode) (see \(dir)/task.log)")
            }
        }
    }

    /// "test accuracy 85.20% (epoch 3)".
    static func describe(_ p: RunProgress) -> String {
        guard let m = p.testMetric else { return "no epoch record" }
        let metric = Metric.printing(p.metric ?? Metric.accuracy.name)
        return "test \(metric.title) \(metric.format(m)) (epoch \(p.epochs))"
    }
}
