/// What a run's records say of it: the method and λ in force, whether it is paused, and how it ended. The one place
/// a status is derived from records: the live board, the explorer, compare and sweeps all fold records through
/// `apply`, so they cannot disagree about a run.
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
            case .nan: end = .failed(e.message.isEmpty ? "loss became NaN" : e.message)
            case .method: if let to = e.to { method = to }
            case .lambda: if let l = EventRecord.lambdaValue(e.to) { lambda = l }
            default: break
            }
        }
    }
}
