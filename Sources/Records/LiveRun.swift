import Synchronization

/// Requests from a front end (the explorer's keys, Ctrl-C) to the trainer.
/// The trainer polls these between steps; nothing here ever blocks it.
public final class TrainerControl: Sendable {
    private let paused = Atomic<Bool>(false)
    private let stop = Atomic<Bool>(false)
    private let save = Atomic<Bool>(false)
    private let method = Mutex<String?>(nil)        // a method id; taken once per step, uncontended
    private let lambdaBits = Atomic<UInt32>(noLambda) // Float bits, NaN pattern = none

    private static let noLambda: UInt32 = 0xFFFF_FFFF

    public init() {}

    public var isPaused: Bool { paused.load(ordering: .relaxed) }
    public func togglePause() { _ = paused.logicalXor(true, ordering: .relaxed) }
    /// From `btviz attach`, which knows the state the records show and asks for the other one.
    public func setPaused(_ p: Bool) { paused.store(p, ordering: .relaxed) }

    public var stopRequested: Bool { stop.load(ordering: .relaxed) }
    public func requestStop() { stop.store(true, ordering: .relaxed) }

    /// The signal that asked for the stop (SIGINT, SIGTERM, SIGHUP), or 0: the process exits with 128 + it.
    public var stopSignal: Int32 { signalNumber.load(ordering: .relaxed) }
    public func requestStop(signal: Int32) {
        signalNumber.store(signal, ordering: .relaxed)
        requestStop()
    }
    private let signalNumber = Atomic<Int32>(0)

    public func requestSave() { save.store(true, ordering: .relaxed) }
    public func takeSaveRequest() -> Bool { save.exchange(false, ordering: .relaxed) }

    /// A method by its registry id (this module sits below the registry; the trainer checks the id).
    public func requestMethod(_ id: String) { method.withLock { $0 = id } }
    public func takeMethodRequest() -> String? { method.withLock { m in defer { m = nil }; return m } }

    public func requestLambda(_ l: Float) { lambdaBits.store(max(0, l).bitPattern, ordering: .relaxed) }
    public func takeLambdaRequest() -> Float? {
        let b = lambdaBits.exchange(Self.noLambda, ordering: .relaxed)
        return b == Self.noLambda ? nil : Float(bitPattern: b)
    }
}

/// The mailbox between the trainer thread and a front end: the trainer posts records, the
/// front end drains them when it redraws. Posting takes a lock for a few microseconds only.
public final class RunBoard: Sendable {
    private struct State {
        var pending: [RunRecord] = []
        var status: RunState
    }

    private let state: Mutex<State>
    /// Oldest step records are dropped beyond this many undrained ones (the front end is behind).
    private let maxPending = 2000

    public init(method: String, lambda: Float) {
        state = Mutex(State(status: RunState(method: method, lambda: lambda)))
    }

    /// A record for the front end; the board's status follows it (`RunState.apply`).
    public func post(_ record: RunRecord) {
        state.withLock { s in
            s.status.apply(record)
            s.pending.append(record)
            if s.pending.count > maxPending, let i = s.pending.firstIndex(where: { if case .step = $0 { true } else { false } }) {
                s.pending.remove(at: i)
            }
        }
    }

    /// The trainer thread has returned: how it ended, where no record says so (an error that stopped it).
    public func trainerEnded(failure: String?, stopped: Bool) {
        state.withLock { s in
            if let failure { s.status.end = .failed(failure) } else if s.status.end == nil { s.status.end = stopped ? .stopped : .finished }
        }
    }

    /// Records posted since the last drain, and the current status.
    public func drain() -> ([RunRecord], RunState) {
        state.withLock { s in
            let out = s.pending
            s.pending.removeAll(keepingCapacity: true)
            return (out, s.status)
        }
    }
}
