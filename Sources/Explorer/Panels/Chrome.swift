import Foundation
import Quantizers
import Records

/// Header: run facts on the first row, progress (or the run's end state) on the second.
func drawHeader(_ c: inout Canvas, _ r: Rect, model: RunModel, view: ExplorerViewState, step: StepRecord?, _ g: Glyphs) {
    let h = model.header
    let st = model.status
    let applied = QuantMethod(recorded: step?.method ?? st.method)
    // While paused the trainer takes a method or λ at once (its status changes) but trains no step with it: what
    // is in effect is then the last step's, and the trainer's (or a request not yet taken) is shown as what comes
    // on resume. While training, the status is what the next step uses.
    let pausedLive = view.mode == .live && st.paused && !st.ended && step != nil
    let accepted = QuantMethod(recorded: st.method)
    let shownMethod = view.mode == .live && !pausedLive ? (accepted ?? applied) : applied
    let lambda = view.mode == .live && !pausedLive ? st.lambda : (step?.lambda ?? st.lambda)
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
    // Long and short forms; the short ones are used when the long line would not fit.
    var items: [(String, String, Style)] = [
        (view.mode == .replay ? "btviz replay" : "btviz", view.mode == .replay ? "replay" : "", .title),
        (h.dataset, h.dataset, .bold), (h.inputShape.map(String.init).joined(separator: "x"), "", .normal),  // image shape, dropped when narrow
        (h.modelTitle, h.modelTitle, .normal), (m, m, .accent), (lam, lam, .accent),
    ]
    if let s = step {
        let total = s.totalSteps > 0 ? s.totalSteps : h.totalSteps
        // Records count epochs from 0; people count from 1.
        items += [("epoch \(s.epoch + 1)/\(h.epochs)", "ep \(s.epoch + 1)/\(h.epochs)", .normal),
                  ("step \(s.step)/\(total)", "\(s.step)/\(total)", .normal),
                  (Fmt.count(s.samplesPerS) + " samples/s", Fmt.count(s.samplesPerS) + "/s", .normal),
                  ("lr " + Fmt.sig(s.lr, 2), "", .dim)]
    }
    if st.paused && view.mode == .live { items.append((" PAUSED ", " PAUSED ", .warn)) }
    let sep = " \(g.vline) "
    func width(_ items: [(String, String, Style)]) -> Int { items.map { $0.0.unicodeScalars.count }.reduce(0, +) + sep.count * (items.count - 1) }
    if width(items) > r.w { items.remove(at: 2) }  // the image shape goes first, before the short forms
    let longW = width(items)
    let short = longW > r.w
    var x = r.x
    for it in items {
        let s = short ? it.1 : it.0
        if s.isEmpty { continue }
        if x > r.x { x = c.text(in: r, x, r.y, sep, .dim) }
        x = c.text(in: r, x, r.y, s, it.2)
    }

    // Second row.
    let y = r.y + 1
    guard r.h > 1 else { return }
    let total = max(1, step.map { $0.totalSteps > 0 ? $0.totalSteps : h.totalSteps } ?? h.totalSteps)
    let live = view.mode == .live
    let done = live && st.ended && st.failure == nil ? 1 : Float(step?.step ?? 0) / Float(total)
    var tail: (String, Style)
    if let n = view.notice {
        tail = (g.fold(n), .warn)  // for a few seconds, in place of the status; the key bar stays whole
    } else if view.mode == .replay {
        let n = model.steps.count
        let i = (view.cursor ?? (n - 1)) + 1
        var s = "record \(max(0, i))/\(n)"
        if let f = st.failure {
            s += " \(g.dot) failed: " + g.fold(f)
        } else if let e = model.ended {
            s += " \(g.dot) run " + (e.kind == .done ? "finished" : "stopped") + " at step \(e.step)"
        } else if view.cursor == nil {
            s += " \(g.dot) following new records"
        }
        tail = (s, st.failure != nil ? .bad : .dim)
    } else if let f = st.failure {
        tail = ("failed: " + g.fold(f) + " " + g.dash + " press q to exit", .bad)
    } else if view.quitting {
        tail = ("stopping: the trainer saves a checkpoint, then btviz exits" + (g.ascii ? "..." : "…"), .warn)
    } else if st.ended {
        tail = ((st.stopped ? "stopped " : "finished ") + g.dash + " press q to exit", st.stopped ? .warn : .good)
    } else if let s = step {
        tail = (Fmt.pct(min(1, done)) + "  ETA " + Fmt.duration(s.etaS), .normal)
    } else {
        tail = ("starting" + (g.ascii ? "..." : "…"), .dim)
    }
    let tailW = min(r.w - 12, tail.0.unicodeScalars.count + 2)
    let barW = max(10, min(r.w - tailW - 2, r.w * 3 / 5))
    c.put(r.x, y, g.ascii ? "[" : "▕", .dim)
    let fillN = clampedInt(Double((min(1, max(0, done)) * Float(barW)).rounded(.down)), 0, barW)
    for i in 0..<barW {
        c.put(r.x + 1 + i, y, i < fillN ? g.progressFull : g.progressEmpty, i < fillN ? (st.ended ? .good : .series1) : .dim)
    }
    c.put(r.x + 1 + barW, y, g.ascii ? "]" : "▏", .dim)
    c.text(in: r, r.x + barW + 3, y, tail.0, tail.1)
}

/// Replay A B: the second header row names both runs with their line styles, method and λ at the shown step.
func drawCompareHeader(_ c: inout Canvas, _ r: Rect, a: RunModel, b: ComparedRun, view: ExplorerViewState, _ g: Glyphs) {
    guard r.h > 1 else { return }
    let y = r.y + 1
    c.fill(Rect(x: r.x, y: y, w: r.w, h: 1), " ")
    let ai = view.stepIndex(in: a)
    let step = ai.map { a.steps[$0].step }
    let bi = step.flatMap { b.model.stepIndex(atOrBefore: $0) }
    func describe(_ m: RunModel, _ i: Int?) -> String {
        guard let i else { return "no records" }
        let s = m.steps[i]
        return QuantMethod.label(recorded: s.method) + " " + g.lambda + Fmt.trim(s.lambda) + " step \(s.step)"
    }
    let names = b.names + ["A", "B"]
    var x = c.text(in: r, r.x, y, "A " + g.solidSample + " " + names[0] + ": " + describe(a, ai), .series1)
    x = c.text(in: r, x, y, "  " + g.vline.description + "  ", .dim)
    x = c.text(in: r, x, y, "B " + g.dashedSample + " " + names[1] + ": " + describe(b.model, bi), .series2)
    if let i = ai { c.text(in: r, x + 2, y, "record \(i + 1)/\(a.steps.count)", .dim) }
}

/// The key bar: always visible; keys that do nothing in this mode are dimmed. Notices go to the header's second
/// row (they used to cover these keys).
func drawKeyBar(_ c: inout Canvas, _ r: Rect, view: ExplorerViewState, _ g: Glyphs) {
    let live = view.mode == .live
    let items: [(String, String, Bool)] = live ? [
        (MethodKeys.range, "method", true), ("m", "next", true), ("+-", g.lambda, true), ("0", g.lambda + "=0", true),
        (g.left + g.right, "layer", true), ("spc", "pause", true), ("s", "save", true), (",.", "smooth", true),
        ("l", "log", true), ("t", "time-lapse", true), ("g", "grid", true), ("w", "what-if", true), ("d", "detach", true),
        ("?", "help", true),
    ] : [
        (g.left + g.right, "time", true), ("p", "play", true), ("Home/End", "ends", true), ("[ ]", "layer", true),
        (",.", "smooth", true), ("l", "log", true), ("t", "time-lapse", true), ("g", "grid", true), ("w", "what-if", true),
        ("?", "help", true), (MethodKeys.range + " m +- s", "live only", false),
    ]
    let quit = ("q", "quit")
    // Every key is shown: when the labels do not fit, they go from the end (those keys stay, bare), "? help"
    // keeps its label so the rest can be looked up. At 80 columns t, g, w, d and ? used to fall off.
    func width(_ list: [(String, String, Bool)]) -> Int {
        list.reduce(0) { $0 + $1.0.unicodeScalars.count + ($1.1.isEmpty ? 0 : $1.1.unicodeScalars.count + 1) + 1 }
    }
    let room = r.w - (quit.0.count + quit.1.count + 2)
    var shown = items.filter { $0.2 || width(items) <= room }  // the dimmed "live only" hint goes first
    var next = shown.count - 1
    while width(shown) > room && next >= 0 {
        if shown[next].0 != "?" { shown[next].1 = "" }
        next -= 1
    }
    var x = r.x
    x = c.text(in: r, x, r.y, quit.0, .keyCap)
    x = c.text(in: r, x + 1, r.y, quit.1, .normal) + 1
    for (k, label, on) in shown {
        if x + k.unicodeScalars.count > r.maxX { break }
        x = c.text(in: r, x, r.y, k, on ? .keyCap : .dim)
        x = (label.isEmpty ? x : c.text(in: r, x + 1, r.y, label, on ? .normal : .dim)) + 1
    }
}

/// The registry's transition names: the innermost kind of each method, then the next one out, with their methods.
private func transitionLegend(_ g: Glyphs) -> [(String, Style)] {
    var kinds: [(names: [String], methods: [String])] = [([], []), ([], [])]
    for d in QuantizerRegistry.quantizing {
        for (k, name) in d.describe([:]).transitions.prefix(2).enumerated() {
            let i = min(k, 1)
            if !kinds[i].names.contains(name) { kinds[i].names.append(name) }
            if !kinds[i].methods.contains(d.label) { kinds[i].methods.append(d.label) }
        }
    }
    return zip(kinds, [("inner", Style.markerInner), ("outer", Style.markerOuter)]).compactMap { kind, what in
        guard !kind.names.isEmpty else { return nil }
        let names = g.fold(kind.names.joined(separator: ", "))
        return ("\(g.marker) " + names + String(repeating: " ", count: max(1, 15 - names.unicodeScalars.count))
                + "\(what.0) transitions (" + kind.methods.joined(separator: ", ") + ")", what.1)
    }
}

/// Help overlay: any key closes it.
func drawHelp(_ c: inout Canvas, mode: ExplorerMode, scroll: Int = 0, _ g: Glyphs) {
    let pm = g.plusMinus
    var lines: [(String, Style)] = [("btviz explorer " + g.dash + " keys", .title), ("", .normal)]
    if mode == .live {
        let keys = MethodKeys.range
        lines += [
            (keys + String(repeating: " ", count: max(1, 12 - keys.count)) + "method: "
                + MethodKeys.methods.map { (MethodKeys.key($0) ?? "") + " " + ($0 == .full ? "full precision" : $0.label) }
                    .joined(separator: ", "), .normal),
            ("m           next method", .normal),
            ("+ / -       λ up / down in 1-3-10 steps (+ from 0 gives 1e-4; - from 1e-4 gives 0)", .normal),
            ("0           \(g.lambda) = 0 (no transition regularizer)", .normal),
            ("\(g.left) \(g.right) Tab    select layer", .normal),
            ("space       pause / resume training", .normal),
            ("s           save a checkpoint now", .normal),
            ("q, Ctrl-C   stop: the trainer saves, then btviz exits", .normal),
            ("d           detach: close the screen, training goes on (watch again with btviz replay --follow RUN)", .normal),
            (", .         less / more smoothing of the curves (0, 0.6, 0.8, 0.9, 0.95, 0.99)", .normal),
            ("l           loss on a log axis, or back", .normal),
            ("t           time-lapse: the layer's histograms over time (time down), transitions traced", .normal),
            ("g           all layers in a grid (beside the selected one from \(ExplorerLayout.wideWidth) columns)", .normal),
            ("w           what-if: another method's transitions and level shares on these weights (cycles)", .normal),
        ]
    } else {
        lines += [
            ("\(g.left) \(g.right)         one logged step back / forward", .normal),
            ("Up/Dn PgUp/PgDn  5% of the run back / forward", .normal),
            ("Home End G  first / last step (End follows a running run)", .normal),
            ("[ ] Tab     select layer", .normal),
            ("p, space    play the records forward, or stop", .normal),
            ("q           quit", .normal),
            (", .         less / more smoothing of the curves; l: loss on a log axis", .normal),
            ("t g w       time-lapse, all layers, what-if (as live)", .normal),
        ]
    }
    lines += [
        ("", .normal),
        ("\(g.marker) 0              transition at 0", .markerZero),
    ] + transitionLegend(g) + [
        ("\(g.marker) \(pm)t1 \(pm)t2 ...   unnamed; per-channel fits: channel means, the 10-90% band of channels on the axis", .markerInner),
        ("\(g.levelMark) levels         quantized values and the share of weights at each", .level),
        ("flip~  a layer's share of weights the regularizer's noise (--noise-ratio × a, 0.1 by default) would flip", .normal),
        ("flip share  the same over all quantized weights (layers weighted by weight count), as sweep watch and compare", .normal),
        ("moved  share whose level changed since the previous logged step", .normal),
        ("dist   mean distance to the nearest transition, in units of a (a1)", .normal),
        ("", .normal),
        ("press any key to close", .dim),
    ]
    let w = min(c.width - 2, (lines.map { g.fold($0.0).unicodeScalars.count }.max() ?? 40) + 4)
    let h = min(c.height - 2, lines.count + 2)
    let box = Rect(x: (c.width - w) / 2, y: (c.height - h) / 2, w: w, h: h)
    c.fill(box, " ")
    let (tl, tr, bl, br, hz, vt): (Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar) =
        g.ascii ? ("+", "+", "+", "+", "-", "|") : ("╭", "╮", "╰", "╯", "─", "│")
    c.hline(box.x, box.y, box.w, hz, .accent); c.hline(box.x, box.maxY - 1, box.w, hz, .accent)
    for y in box.y..<box.maxY { c.put(box.x, y, vt, .accent); c.put(box.maxX - 1, y, vt, .accent) }
    c.put(box.x, box.y, tl, .accent); c.put(box.maxX - 1, box.y, tr, .accent)
    c.put(box.x, box.maxY - 1, bl, .accent); c.put(box.maxX - 1, box.maxY - 1, br, .accent)
    let inner = box.inset(dx: 2, dy: 1)
    // Taller than the screen: the last row says how to scroll and which lines are shown.
    let overflow = lines.count > inner.h
    let rows = overflow ? inner.h - 1 : inner.h
    let first = overflow ? min(max(0, scroll), lines.count - rows) : 0
    for (i, l) in lines[first...].enumerated() where i < rows {
        c.text(in: inner, inner.x, inner.y + i, g.fold(l.0), l.1)
    }
    if overflow {
        let arrows = g.ascii ? "Up/Down" : "↑↓"
        c.text(in: inner, inner.x, inner.maxY - 1,
               "\(arrows) PgUp/PgDn scroll (lines \(first + 1)-\(first + rows) of \(lines.count)); any other key closes", .accent)
    }
}

/// Shown instead of the panels when the terminal is too small to draw them legibly.
func drawTooSmall(_ c: inout Canvas) {
    let need = "(need \(ExplorerLayout.minWidth)x\(ExplorerLayout.minHeight), have \(c.width)x\(c.height))"
    let one = "enlarge the terminal " + need
    let msgs = one.count <= c.width ? [one, "q quits"] : ["enlarge the terminal", need, "q quits"]
    let top = max(0, (c.height - msgs.count) / 2)
    for (i, m) in msgs.enumerated() {
        let n = m.unicodeScalars.count
        c.text(max(0, (c.width - n) / 2), top + i, m, i == 0 ? .warn : .dim, maxWidth: c.width)
    }
}
