/// What a run's records say of it: the method and λ in force, whether it is paused, and how it ended. The one place
/// a status is derived from records: the live board, the explorer, compare and sweeps all fold records through
/// `apply`, so they cannot disagree about a run; `phase` says where that puts the run (`RunPhase`).
public struct RunState: Sendable, Equatable {
    public enum End: Sendable, Equatable {
        /// The last step ran.
        case finished
        /// Stopped on request (q, Ctrl-C, a signal) after saving a checkpoint: it can be resumed.
        case stopped
        /// The loss became non-finite, or the trainer failed; the message says why.
        case failed(String)
    }

    /// The method id and λ in force (the latest step record or change event).
    public var method: String
    public var lambda: Float
    public var paused = false
    /// nil while the run goes on, and for a run cut off without an end event (a crash, `kill -9`): the records
    /// cannot tell those apart; a run folder's lock can (`RunLock.holder`).
    public var end: End?
    /// The last step any record named.
    public var step = 0

    public init(method: String = "", lambda: Float = 0) { self.method = method; self.lambda = lambda }

    /// The state after every record, in order.
    public init(records: [RunRecord]) {
        self.init()
        for r in records { apply(r) }
    }

    public var ended: Bool { end != nil }
    public var stopped: Bool { end == .stopped }
    public var failure: String? { if case .failed(let m) = end { m } else { nil } }

    public mutating func apply(_ record: RunRecord) {
        switch record {
        case .step(let s):
            method = s.method; lambda = s.lambda; step = s.step
        case .epoch(let e):
            step = max(step, e.step)
        case .event(let e):
            step = max(step, e.step)
            switch e.kind {
            case .pause: paused = true
            case .unpause: paused = false
            case .start, .resume: paused = false; end = nil
            case .done: end = .finished
            case .stop: end = .stopped
            case .nan: end = .failed(e.message.isEmpty ? "the loss became NaN at step \(e.step)" : e.message)
            case .method: if let to = e.to { method = to }
            case .lambda: if let l = EventRecord.lambdaValue(e.to) { lambda = l }
            default: break
            }
        }
    }

    /// Where the records alone put the run: done, interrupted (stopped, resumable) or failed once it ended; nil
    /// while it goes on, or when it was cut off without an end event (a crash, `kill -9`): only a run folder's
    /// locks tell those apart (`RunStatus.state` in Sweeps).
    public var phase: RunPhase? {
        switch end {
        case .finished: return .done
        case .stopped: return .interrupted
        case .failed(let why): return .failed(reason: why)
        case nil: return nil
        }
    }
}

/// Where a run stands: the one status type of `sweep status`, `sweep table`, `sweep watch`, `compare` and the
/// launchers. Each source adds what only it knows: the records (`RunState.phase`), the run folder's locks and
/// outcome.json (`RunStatus.state` in Sweeps), a scheduler's queue (`SlurmQueue.merge`).
public enum RunPhase: Sendable, Equatable {
    /// No folder, or one with neither a checkpoint nor records. `note`: what a scheduler says of a task that left
    /// its queue without starting the run ("Slurm job 12_3 cancelled"); empty otherwise.
    case notStarted(note: String)
    /// Waiting in a scheduler's queue to start: where and why ("Slurm job 12_3 waits: Priority").
    case queued(String)
    /// A process holds the run: `holder` names it (pid and host, or the Slurm job).
    case running(holder: String)
    /// Put back into a scheduler's queue after it ran (preempted, a time limit, `scontrol requeue`): it resumes
    /// when it starts again.
    case requeued(String)
    /// A checkpoint, no finish and nobody training it: the next `sweep run` resumes it. `note` as for
    /// `notStarted` ("Slurm job 12_3 timeout").
    case interrupted(note: String)
    case done
    /// The loss became NaN, or the training failed: why.
    case failed(reason: String)
    /// Its recorded options differ from the spec's (the spec changed after it ran): never counted or resumed as the
    /// spec's run.
    case stale(reason: String)

    /// The run folder's own view, before any scheduler has said more.
    public static let notStarted = RunPhase.notStarted(note: "")
    public static let interrupted = RunPhase.interrupted(note: "")

    /// The one word of tables, JSON and the board's status column.
    public var word: String {
        switch self {
        case .notStarted, .queued: return "pending"  // waiting in Slurm's queue is still pending
        case .running: return "running"
        case .requeued: return "requeued"
        case .interrupted: return "interrupted"
        case .done: return "done"
        case .failed: return "failed"
        case .stale: return "stale"
        }
    }

    /// What is said beside the word: who trains it, why it failed or is stale, where it waits; empty for none.
    public var note: String {
        switch self {
        case .notStarted(let s), .queued(let s), .running(let s), .requeued(let s), .interrupted(let s),
             .failed(let s), .stale(let s): return s
        case .done: return ""
        }
    }

    /// A process trains it now.
    public var isLive: Bool { if case .running = self { return true } else { return false } }

    /// Still to be trained: a `sweep run` would start or resume it.
    public var isToDo: Bool {
        switch self {
        case .notStarted, .queued, .requeued, .interrupted: return true
        case .running, .done, .failed, .stale: return false
        }
    }

    /// The words in the order a count of runs lists them.
    public static let countOrder = ["done", "running", "requeued", "interrupted", "failed", "pending"]
}
