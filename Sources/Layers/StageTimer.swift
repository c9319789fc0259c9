import Dispatch

/// An optional stopwatch for the stages of a training step (layers, loss, regularizer, optimizer).
/// The profiler installs one on the model; without it the step reads no clocks. Stages keep the
/// order they were first seen in, and every call is kept so the report can take medians.
public final class StageTimer {
    public enum Pass { case forward, backward }
    public struct Stage {
        public let name: String
        public fileprivate(set) var forward: [Double] = []
        public fileprivate(set) var backward: [Double] = []
    }

    public private(set) var stages: [Stage] = []
    private var index: [String: Int] = [:]

    public init() {}

    public func measure<T>(_ name: String, _ pass: Pass, _ body: () -> T) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let i = index[name] ?? {
            stages.append(Stage(name: name))
            index[name] = stages.count - 1
            return stages.count - 1
        }()
        switch pass {
        case .forward: stages[i].forward.append(seconds)
        case .backward: stages[i].backward.append(seconds)
        }
        return result
    }
}

/// Runs `body`, timed as `name` when a timer is installed.
@inline(__always)
public func timed<T>(_ timer: StageTimer?, _ name: @autoclosure () -> String, _ pass: StageTimer.Pass,
                     _ body: () -> T) -> T {
    guard let timer else { return body() }
    return timer.measure(name(), pass, body)
}
