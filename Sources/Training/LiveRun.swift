import Quantizers
import Synchronization

/// Requests from a front end (the explorer's keys, Ctrl-C) to the trainer.
/// The trainer polls these between steps; nothing here ever blocks it.
public final class TrainerControl: Sendable {
    private let paused = Atomic<Bool>(false)
    private let stop = Atomic<Bool>(false)
    private let save = Atomic<Bool>(false)
    private let method = Atomic<Int>(-1)            // index into QuantMethod.allCases, -1 = none
    private let lambdaBits = Atomic<UInt32>(noLambda) // Float bits, NaN pattern = none

    private static let noLambda: UInt32 = 0xFFFF_FFFF

    public init() {}

    public var isPaused: Bool { paused.load(ordering: .relaxed) }
    public func setPaused(_ p: Bool) { paused.store(p, ordering: .relaxed) }
    public func togglePause() { _ = paused.logicalXor(true, ordering: .relaxed) }

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

    public func requestMethod(_ m: QuantMethod) {
        method.store(QuantMethod.allCases.firstIndex(of: m)!, ordering: .relaxed)
    }
    public func takeMethodRequest() -> QuantMethod? {
        let i = method.exchange(-1, ordering: .relaxed)
        return i >= 0 ? QuantMethod.allCases[i] : nil
    }

    public func requestLambda(_ l: Float) { lambdaBits.store(max(0, l).bitPattern, ordering: .relaxed) }
    public func takeLambdaRequest() -> Float? {
        let b = lambdaBits.exchange(Self.noLambda, ordering: .relaxed)
        return b == Self.noLambda ? nil : Float(bitPattern: b)
    }
}

/// The mailbox between the trainer thread and a front end: the trainer posts records, the
/// front end drains them when it redraws. Posting takes a lock for a few microseconds only.
public final class RunBoard: Sendable {
    public struct Status: Sendable, Equatable {
        public var method: String
        public var lambda: Float
        public var paused: Bool
        public var finished: Bool
        /// Finished because a stop was requested (q or a signal), not because the last step ran.
        public var stopped: Bool = false
        public var failure: String?

        public init(method: String, lambda: Float, paused: Bool = false, finished: Bool = false,
                    failure: String? = nil) {
            self.method = method; self.lambda = lambda; self.paused = paused; self.finished = finished
            self.failure = failure
        }
    }

    private struct State {
        var pending: [RunRecord] = []
        var status: Status
    }

    private let state: Mutex<State>
    /// Oldest step records are dropped beyond this many undrained ones (the front end is behind).
    private let maxPending = 2000

    public init(method: String, lambda: Float) {
        state = Mutex(State(status: Status(method: method, lambda: lambda, paused: false, finished: false)))
    }

    public func post(_ record: RunRecord) {
        state.withLock { s in
            s.pending.append(record)
            if s.pending.count > maxPending, let i = s.pending.firstIndex(where: { if case .step = $0 { true } else { false } }) {
                s.pending.remove(at: i)
            }
        }
    }

    public func update(_ change: (inout Status) -> Void) { state.withLock { change(&$0.status) } }

    /// Records posted since the last drain, and the current status.
    public func drain() -> ([RunRecord], Status) {
        state.withLock { s in
            let out = s.pending
            s.pending.removeAll(keepingCapacity: true)
            return (out, s.status)
        }
    }
}
