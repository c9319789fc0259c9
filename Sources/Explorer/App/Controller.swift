import Quantizers
import Records

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
    /// A key while the help overlay is open: arrows and page keys scroll it (a small terminal cannot show it all),
    /// any other key closes it. Returns false for a resize, which the screen handles.
    public static func handleHelp(_ key: KeyInput, view: inout ExplorerViewState) -> Bool {
        switch key {
        case .resize: return false
        case .up: view.helpScroll = max(0, view.helpScroll - 1)
        case .down: view.helpScroll += 1
        case .pageUp: view.helpScroll = max(0, view.helpScroll - 10)
        case .pageDown: view.helpScroll += 10
        default: view.showHelp = false
        }
        return true
    }

    /// `compare`: run B of a replay A B (a click on the curves maps through both runs' axes).
    public static func handle(_ action: ExplorerAction, view: inout ExplorerViewState, model: RunModel,
                              compare: RunModel? = nil) -> [ControlEffect] {
        let live = view.mode.steersTrainer
        // After the run's end the trainer takes no requests: say so instead of showing changes that never come.
        if live && model.status.ended {
            switch action {
            case .method, .cycleMethod, .lambdaUp, .lambdaDown, .lambdaZero, .togglePause, .save:
                view.notice = "run " + (model.status.stopped ? "stopped" : "finished") + ": q to exit"
                return []
            default: break
            }
        }
        if live, let effects = handleTrainer(action, view: &view, model: model) { return effects }
        if handleTime(action, view: &view, model: model) { return [] }
        if handleLayer(action, view: &view, model: model, compare: compare) { return [] }
        switch action {
        case .help:
            view.showHelp = true
            view.helpScroll = 0
        case .smoothLess, .smoothMore:
            let i = SmoothingStep.levels.lastIndex { $0 <= view.smoothing + 1e-6 } ?? 0
            view.smoothing = SmoothingStep.levels[min(max(0, i + (action == .smoothMore ? 1 : -1)), SmoothingStep.levels.count - 1)]
            view.notice = "smoothing " + Fmt.trim(view.smoothing)
        case .toggleTimeLapse:
            view.timeLapse.toggle()
            view.notice = view.timeLapse ? "time-lapse: time down, weights across" : "latest histogram"
        case .toggleGrid:
            view.grid.toggle()
            view.notice = view.grid ? "all layers" : "selected layer"
        case .cycleWhatIf:
            // Off, then each quantized method other than the one shown, then off again. The one shown is the
            // method at the cursor's step (in a replay of a run that switched, not the run's last method).
            let shown = view.stepIndex(in: model).map { model.steps[$0].method } ?? model.status.method
            let current = QuantMethod(recorded: shown)
            let order = QuantMethod.allCases.filter { $0.definition.hasTransitions && $0 != current }
            let i = view.whatIf.flatMap { order.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            view.whatIf = i < order.count ? order[i] : nil
            view.notice = view.whatIf.map { "what-if " + $0.label + " on the same weights" } ?? "what-if off"
        case .toggleLogLoss:
            view.logLoss.toggle()
            view.notice = view.logLoss ? "loss on a log axis" : "loss on a linear axis"
        case .unavailable(let what):
            view.notice = what + ": only while training (this is a replay)"
        case .quit, .resize:
            break
        default:
            view.notice = "not available here"
        }
        return []
    }

    /// Live: the requests for the trainer (method, λ, pause, save); nil for any other action.
    private static func handleTrainer(_ action: ExplorerAction, view: inout ExplorerViewState, model: RunModel) -> [ControlEffect]? {
        switch action {
        case .method(let m):
            view.requestedMethod = m
            view.notice = methodNotice(m, view: view, model: model)
            return [.requestMethod(m)]
        case .cycleMethod:
            let base = view.requestedMethod ?? QuantMethod(recorded: model.status.method) ?? .full
            view.requestedMethod = base.next
            view.notice = methodNotice(base.next, view: view, model: model)
            return [.requestMethod(base.next)]
        case .lambdaUp, .lambdaDown, .lambdaZero:
            // Step from the last request not yet applied, so quick presses accumulate.
            let base = view.requestedLambda ?? model.status.lambda
            let l: Float = action == .lambdaUp ? LambdaStep.up(base) : action == .lambdaDown ? LambdaStep.down(base) : 0
            view.requestedLambda = l
            view.notice = "λ " + Fmt.trim(l) + " requested"
            return [.requestLambda(l)]
        case .togglePause:
            view.notice = model.status.paused ? "resuming" : "pausing"
            return [.togglePause]
        case .save:
            view.notice = "checkpoint requested"
            view.saveRequestedAt = model.checkpointCount
            return [.save]
        default:
            return nil
        }
    }

    /// The replay's time cursor (play, scrub, wheel, jumps). Returns false for any other action.
    private static func handleTime(_ action: ExplorerAction, view: inout ExplorerViewState, model: RunModel) -> Bool {
        let n = model.steps.count, replay = view.mode == .replay
        switch action {
        case .togglePlay where replay:
            view.playing.toggle()
            if view.playing, view.cursor == nil || view.cursor! >= n - 1 { view.cursor = 0 }
            view.notice = view.playing ? "playing" : "stopped"
        case .wheel(let k) where replay, .scrub(let k):
            guard n > 0 else { break }
            view.cursor = min(max(0, (view.cursor ?? n - 1) + k), n - 1)
        case .scrubFraction(let f):
            guard n > 0 else { break }
            let k = clampedInt(Double((Float(n) * f).rounded(f < 0 ? .down : .up)), -n, n)
            view.cursor = min(max(0, (view.cursor ?? n - 1) + k), n - 1)
        case .jumpStart:
            view.cursor = model.steps.isEmpty ? nil : 0
        case .jumpEnd:
            view.cursor = nil
        default:
            return false
        }
        return true
    }

    /// The layer keys (one layer, a page of the table) and the mouse (a layer row selects it; in a replay a
    /// curve moves the cursor to its step). Returns false for any other action.
    private static func handleLayer(_ action: ExplorerAction, view: inout ExplorerViewState, model: RunModel,
                                    compare: RunModel?) -> Bool {
        let layerCount = max(1, model.steps.last?.layers.count ?? 1)
        let layout = ExplorerLayout(width: view.screen.width, height: view.screen.height, layerCount: layerCount,
                                    extraRows: model.header.fullPrecisionLayers?.count ?? 0)
        switch action {
        case .nextLayer:
            view.layer = (view.layer + 1) % layerCount
        case .prevLayer:
            view.layer = (view.layer - 1 + layerCount) % layerCount
        case .nextLayerPage, .prevLayerPage:
            // To the first layer of the next or previous page of the table (as the table pages them).
            let rows = max(1, layout.tableRows)
            let page = min(max(0, view.layer), layerCount - 1) / rows + (action == .nextLayerPage ? 1 : -1)
            view.layer = min(max(0, page * rows), layerCount - 1)
        case .point(let x, let y):
            if let row = layerRow(at: y, x: x, layout: layout, view: view, layerCount: layerCount) {
                view.layer = row
            } else if view.mode == .replay, let i = recordIndex(at: x, y: y, layout: layout, model: model, compare: compare, view: view) {
                view.cursor = i
                view.playing = false
            }
        default:
            return false
        }
        return true
    }

    /// A method switch keeps the λ in effect (or requested), not the new method's default: the notice says which
    /// λ it keeps, and the new method's default when that differs.
    static func methodNotice(_ m: QuantMethod, view: ExplorerViewState, model: RunModel) -> String {
        let kept = view.requestedLambda ?? model.status.lambda
        let standard = m.definition.defaultLambda
        return "method " + m.label + " requested; λ stays " + Fmt.trim(kept)
            + (abs(standard - kept) > max(1e-9, abs(standard) * 1e-5) ? " (" + m.label + "'s default is " + Fmt.trim(standard) + ": + - 0 change it)" : "")
    }

    /// The layer whose table row is at (x, y), as drawLayerTable placed the rows.
    static func layerRow(at y: Int, x: Int, layout: ExplorerLayout, view: ExplorerViewState, layerCount: Int) -> Int? {
        let t = layout.table
        guard !layout.tooSmall, x >= t.x, x < t.maxX, y >= t.y + 2, y < t.maxY else { return nil }
        let first = LayerTablePage.first(selected: min(view.layer, layerCount - 1), rows: layout.tableRows)
        let i = first + y - t.y - 2
        return i < layerCount ? i : nil
    }

    /// The step record under (x, y) on either curve, mapped through the same views the panels draw.
    static func recordIndex(at x: Int, y: Int, layout: ExplorerLayout, model: RunModel, compare: RunModel?,
                            view: ExplorerViewState) -> Int? {
        guard !layout.tooSmall else { return nil }
        let curves = curvesViews(model: model, compare: compare, view: view, cursorStep: nil, Glyphs(ascii: true))
        for (panel, plot) in [(layout.loss, curves.loss.plot), (layout.accuracy, curves.metric.plot)] {
            if let step = plot?.step(atColumn: x, row: y, in: curvesPlot(panel)) { return model.stepIndex(atOrBefore: step) }
        }
        return nil
    }

    /// Clears pending requests once the trainer's status shows them applied, and confirms a save once its
    /// checkpoint event has arrived. Returns true when it set a notice.
    @discardableResult
    public static func reconcile(_ view: inout ExplorerViewState, model: RunModel) -> Bool {
        reconcile(&view, status: model.status)
        guard let before = view.saveRequestedAt, model.checkpointCount > before, let e = model.lastCheckpoint else { return false }
        view.saveRequestedAt = nil
        view.notice = "saved at step \(e.step)"
        return true
    }

    public static func reconcile(_ view: inout ExplorerViewState, status: RunState) {
        if let m = view.requestedMethod, QuantMethod(recorded: status.method) == m { view.requestedMethod = nil }
        if let l = view.requestedLambda, abs(status.lambda - l) <= max(1e-7, abs(l) * 1e-5) { view.requestedLambda = nil }
    }
}

/// The smoothing weights `,` and `.` step through (TensorBoard's slider, in a few stops).
public enum SmoothingStep {
    public static let levels: [Float] = [0, 0.6, 0.8, 0.9, 0.95, 0.99]
}
