import Quantizers
import Training

/// What an action asks of the trainer; the live loop forwards these to TrainerControl.
public enum ControlEffect: Equatable, Sendable {
    case requestMethod(QuantMethod)
    case requestLambda(Float)
    case togglePause
    case save
}

/// Applies key actions to the view state. Pure, so the λ stepping and layer/time navigation are
/// testable without a terminal or a trainer. `.quit` and `.resize` are left to the loops.
public enum ExplorerController {
    public static func handle(_ action: ExplorerAction, view: inout ExplorerViewState, model: RunModel) -> [ControlEffect] {
        let layerCount = max(1, model.steps.last?.layers.count ?? 1)
        let live = view.mode == .live
        switch action {
        case .help:
            view.showHelp = true
        case .nextLayer:
            view.layer = (view.layer + 1) % layerCount
        case .prevLayer:
            view.layer = (view.layer - 1 + layerCount) % layerCount
        case .method(let m) where live:
            view.requestedMethod = m
            view.notice = "method " + m.label + " requested"
            return [.requestMethod(m)]
        case .cycleMethod where live:
            let base = view.requestedMethod ?? QuantMethod(loose: model.status.method) ?? .full
            view.requestedMethod = base.next
            view.notice = "method " + base.next.label + " requested"
            return [.requestMethod(base.next)]
        case .lambdaUp where live, .lambdaDown where live, .lambdaZero where live:
            // Step from the last request not yet applied, so quick presses accumulate.
            let base = view.requestedLambda ?? model.status.lambda
            let l: Float = action == .lambdaUp ? LambdaStep.up(base) : action == .lambdaDown ? LambdaStep.down(base) : 0
            view.requestedLambda = l
            view.notice = "λ " + Fmt.trim(l) + " requested"
            return [.requestLambda(l)]
        case .togglePause where live:
            view.notice = model.status.paused ? "resuming" : "pausing"
            return [.togglePause]
        case .save where live:
            view.notice = "checkpoint requested"
            return [.save]
        case .scrub(let k):
            let n = model.steps.count
            guard n > 0 else { break }
            view.cursor = min(max(0, (view.cursor ?? n - 1) + k), n - 1)
        case .scrubFraction(let f):
            let n = model.steps.count
            guard n > 0 else { break }
            let k = clampedInt(Double((Float(n) * f).rounded(f < 0 ? .down : .up)), -n, n)
            view.cursor = min(max(0, (view.cursor ?? n - 1) + k), n - 1)
        case .jumpStart:
            view.cursor = model.steps.isEmpty ? nil : 0
        case .jumpEnd:
            view.cursor = nil
        case .unavailable(let what):
            view.notice = what + ": only while training (this is a replay)"
        case .quit, .resize:
            break
        default:
            view.notice = "not available here"
        }
        return []
    }

    /// Clears pending requests once the trainer's status shows them applied.
    public static func reconcile(_ view: inout ExplorerViewState, status: RunBoard.Status) {
        if let m = view.requestedMethod, QuantMethod(loose: status.method) == m { view.requestedMethod = nil }
        if let l = view.requestedLambda, abs(status.lambda - l) <= max(1e-7, abs(l) * 1e-5) { view.requestedLambda = nil }
    }
}
