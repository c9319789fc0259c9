import Quantizers
import Records

// The one place the panels' views are built from the run's records (RunModel) and what the user chose
// (ExplorerViewState): each panel draws its view and nothing else.

extension HeaderView {
    init(model: RunModel, view: ExplorerViewState, step: StepRecord?, _ g: Glyphs) {
        let h = model.header
        let (method, lambda) = Self.methodAndLambda(model: model, view: view, step: step, g)
        facts = [
            Fact(long: view.mode == .replay ? "btviz replay" : view.mode == .attached ? "btviz attach" : "btviz",
                 short: view.mode == .replay ? "replay" : view.mode == .attached ? "attach" : "", style: .title),
            Fact(long: h.dataset, short: h.dataset, style: .bold),
            Fact(long: h.inputShape.map(String.init).joined(separator: "x"), short: "", style: .normal, dropsFirst: true),
            Fact(long: h.modelTitle, short: h.modelTitle, style: .normal),
            Fact(long: method, short: method, style: .accent), Fact(long: lambda, short: lambda, style: .accent),
        ]
        if let s = step {
            let total = s.totalSteps > 0 ? s.totalSteps : h.totalSteps
            // Records count epochs from 0; people count from 1.
            facts += [Fact(long: "epoch \(s.epoch + 1)/\(h.epochs)", short: "ep \(s.epoch + 1)/\(h.epochs)", style: .normal),
                      Fact(long: "step \(s.step)/\(total)", short: "\(s.step)/\(total)", style: .normal),
                      Fact(long: Fmt.count(s.samplesPerS) + " samples/s", short: Fmt.count(s.samplesPerS) + "/s", style: .normal),
                      Fact(long: "lr " + Fmt.sig(s.lr, 2), short: "", style: .dim)]
        }
        let st = model.status
        if st.paused && view.mode.steersTrainer { facts.append(Fact(long: " PAUSED ", short: " PAUSED ", style: .warn)) }
        let total = max(1, step.map { $0.totalSteps > 0 ? $0.totalSteps : h.totalSteps } ?? h.totalSteps)
        done = view.mode.steersTrainer && st.ended && st.failure == nil ? 1 : Float(step?.step ?? 0) / Float(total)
        ended = st.ended
        (status, statusStyle) = Self.statusText(model: model, view: view, step: step, done: done, g)
    }

    /// The method and λ in effect, with what was asked for and not yet applied. While paused the trainer takes a
    /// method or λ at once (its status changes) but trains no step with it: what is in effect is then the last
    /// step's, and the trainer's (or a request not yet taken) is shown as what comes on resume. While training, the
    /// status is what the next step uses.
    private static func methodAndLambda(model: RunModel, view: ExplorerViewState, step: StepRecord?, _ g: Glyphs) -> (String, String) {
        let st = model.status
        let applied = QuantMethod(recorded: step?.method ?? st.method)
        let pausedLive = view.mode.steersTrainer && st.paused && !st.ended && step != nil
        let accepted = QuantMethod(recorded: st.method)
        let shownMethod = view.mode.steersTrainer && !pausedLive ? (accepted ?? applied) : applied
        let lambda = view.mode.steersTrainer && !pausedLive ? st.lambda : (step?.lambda ?? st.lambda)
        var m = shownMethod?.label ?? (st.method.isEmpty ? "?" : st.method)
        var lam = g.lambda + " " + Fmt.trim(lambda)
        if pausedLive {
            if let want = view.requestedMethod ?? accepted, want != shownMethod { m += " (" + want.label + " on resume)" }
            let wantLambda = view.requestedLambda ?? st.lambda
            if abs(wantLambda - lambda) > 1e-9 { lam += " (" + Fmt.trim(wantLambda) + " on resume)" }
        } else {
            if let want = view.requestedMethod, want != shownMethod { m += g.right + want.label + (g.ascii ? "..." : "…") }
            if let want = view.requestedLambda, abs(want - lambda) > 1e-9 { lam += g.right + Fmt.trim(want) + (g.ascii ? "..." : "…") }
        }
        return (m, lam)
    }

    /// Beside the progress bar: a notice for a few seconds (in place of the status; the key bar stays whole), the
    /// replay's position, the run's end, or its progress and ETA.
    private static func statusText(model: RunModel, view: ExplorerViewState, step: StepRecord?, done: Float, _ g: Glyphs) -> (String, Style) {
        let st = model.status
        if let n = view.notice { return (g.fold(n), .warn) }
        if view.mode == .replay {
            let n = model.steps.count
            var s = "record \(max(0, (view.cursor ?? (n - 1)) + 1))/\(n)"
            if let f = st.failure {
                s += " \(g.dot) failed: " + g.fold(f)
            } else if let e = model.ended {
                s += " \(g.dot) run " + (e.kind == .done ? "finished" : "stopped") + " at step \(e.step)"
            } else if view.cursor == nil {
                s += " \(g.dot) following new records"
            }
            return (s, st.failure != nil ? .bad : .dim)
        }
        if let f = st.failure { return ("failed: " + g.fold(f) + " " + g.dash + " press q to exit", .bad) }
        if view.quitting { return ("stopping: the trainer saves a checkpoint, then btviz exits" + (g.ascii ? "..." : "…"), .warn) }
        if st.ended { return ((st.stopped ? "stopped " : "finished ") + g.dash + " press q to exit", st.stopped ? .warn : .good) }
        if let s = step { return (Fmt.pct(min(1, done)) + "  ETA " + Fmt.duration(s.etaS), .normal) }
        return ("starting" + (g.ascii ? "..." : "…"), .dim)
    }
}

extension CompareHeaderView {
    /// Runs A and B at A's step shown (B at its last record at or before it).
    init(a: RunModel, b: ComparedRun, view: ExplorerViewState, _ g: Glyphs) {
        let ai = view.stepIndex(in: a)
        let bi = ai.flatMap { b.model.stepIndex(atOrBefore: a.steps[$0].step) }
        func describe(_ m: RunModel, _ i: Int?) -> String {
            guard let i else { return "no records" }
            let s = m.steps[i]
            return QuantMethod.label(recorded: s.method) + " " + g.lambda + Fmt.trim(s.lambda) + " step \(s.step)"
        }
        let names = b.names + ["A", "B"]
        self.a = names[0] + ": " + describe(a, ai)
        self.b = names[1] + ": " + describe(b.model, bi)
        record = ai.map { "record \($0 + 1)/\(a.steps.count)" }
    }
}

extension LayerTableView {
    /// The table at step record `stepIndex`; `compared`: B's layers at the same step (replay A B).
    init(model: RunModel, stepIndex si: Int?, selected: Int, compared: [LayerRecord]?) {
        title = compared == nil ? "layers" : "layers of A"
        fullPrecision = model.header.fullPrecisionLayers ?? []
        self.selected = selected
        comparedFlips = compared.map { $0.map(\.flipFraction) }
        guard let si, si < model.steps.count else {
            layers = nil; described = .unnamed; flipShare = nil; atSwitch = false; recent = []
            return
        }
        let step = model.steps[si]
        layers = step.layers
        described = step.layers.first?.fitDescription(method: step.method) ?? .unnamed
        flipShare = FlipShare.of(step)
        atSwitch = model.isSwitchStep(si)
        recent = model.steps[max(0, si - Self.sparkMax)...si]
    }
}

extension TimeLapseView {
    /// Layer `layer` over the records up to `end`.
    init(model: RunModel, layer: Int, end: Int) {
        let layers = model.steps[end].layers
        name = layers.indices.contains(layer) ? layers[layer].name : "?"
        self.layer = layer
        steps = model.steps[...end]
        range = layer < model.weightRange.count ? model.weightRange[layer] : 1
    }
}
