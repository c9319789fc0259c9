import Foundation
import Quantizers
import Records

/// What the header draws: the run's facts on the first row, each in a long and a short form, and the progress row.
struct HeaderView {
    struct Fact {
        var long: String, short: String
        var style: Style
        /// Left out first when the long line does not fit (the image shape), before the short forms are used.
        var dropsFirst = false
    }
    var facts: [Fact]
    /// Share of the run done, 0...1, and whether it has ended (the bar turns to `good`).
    var done: Float
    var ended: Bool
    /// Beside the bar: a notice, the replay position, the run's end, or its ETA.
    var status: String
    var statusStyle: Style
}

/// Header: run facts on the first row, progress (or the run's end state) on the second.
func drawHeader(_ c: inout Canvas, _ r: Rect, _ v: HeaderView, _ g: Glyphs) {
    let sep = " \(g.vline) "
    func width(_ facts: [HeaderView.Fact]) -> Int { facts.map { $0.long.unicodeScalars.count }.reduce(0, +) + sep.count * (facts.count - 1) }
    var facts = v.facts
    if width(facts) > r.w, let i = facts.firstIndex(where: \.dropsFirst) { facts.remove(at: i) }
    let short = width(facts) > r.w
    var x = r.x
    for f in facts {
        let s = short ? f.short : f.long
        if s.isEmpty { continue }
        if x > r.x { x = c.text(in: r, x, r.y, sep, .dim) }
        x = c.text(in: r, x, r.y, s, f.style)
    }

    // Second row.
    let y = r.y + 1
    guard r.h > 1 else { return }
    let tailW = min(r.w - 12, v.status.unicodeScalars.count + 2)
    let barW = max(10, min(r.w - tailW - 2, r.w * 3 / 5))
    c.put(r.x, y, g.ascii ? "[" : "▕", .dim)
    let fillN = clampedInt(Double((min(1, max(0, v.done)) * Float(barW)).rounded(.down)), 0, barW)
    for i in 0..<barW {
        c.put(r.x + 1 + i, y, i < fillN ? g.progressFull : g.progressEmpty, i < fillN ? (v.ended ? .good : .series1) : .dim)
    }
    c.put(r.x + 1 + barW, y, g.ascii ? "]" : "▏", .dim)
    c.text(in: r, r.x + barW + 3, y, v.status, v.statusStyle)
}

/// Replay A B: each run's name, method, λ and step at the step shown, in its line style, and A's record position.
struct CompareHeaderView {
    var a: String, b: String
    var record: String?
}

/// Replay A B: the second header row names both runs with their line styles, method and λ at the shown step.
func drawCompareHeader(_ c: inout Canvas, _ r: Rect, _ v: CompareHeaderView, _ g: Glyphs) {
    guard r.h > 1 else { return }
    let y = r.y + 1
    c.fill(Rect(x: r.x, y: y, w: r.w, h: 1), " ")
    var x = c.text(in: r, r.x, y, "A " + g.solidSample + " " + v.a, .series1)
    x = c.text(in: r, x, y, "  " + g.vline.description + "  ", .dim)
    x = c.text(in: r, x, y, "B " + g.dashedSample + " " + v.b, .series2)
    if let rec = v.record { c.text(in: r, x + 2, y, rec, .dim) }
}

/// The key bar: always visible; keys that do nothing in this mode are dimmed. Notices go to the header's second
/// row (they used to cover these keys). `layerPages`: the layers need more than one page of the table, so `{ }`
/// are listed.
func drawKeyBar(_ c: inout Canvas, _ r: Rect, mode: ExplorerMode, layerPages: Bool, _ g: Glyphs) {
    let live = mode.steersTrainer
    let pages: [(String, String, Bool)] = layerPages ? [("{}", "page", true)] : []
    let items: [(String, String, Bool)] = live ? [
        (MethodKeys.range, "method", true), ("m", "next", true), ("+-", g.lambda, true), ("0", g.lambda + "=0", true),
        (g.left + g.right, "layer", true)] + pages + [("spc", "pause", true), ("s", "save", true), (",.", "smooth", true),
        ("l", "log", true), ("t", "time-lapse", true), ("g", "grid", true), ("w", "what-if", true)] + (mode == .live ? [("d", "detach", true)] : []) + [
        ("?", "help", true),
    ] : [
        (g.left + g.right, "time", true), ("p", "play", true), ("Home/End", "ends", true), ("[ ]", "layer", true)] + pages + [
        (",.", "smooth", true), ("l", "log", true), ("t", "time-lapse", true), ("g", "grid", true), ("w", "what-if", true),
        ("?", "help", true), (MethodKeys.range + " m +- s", "live only", false),
    ]
    let quit = ("q", mode == .attached ? "leave" : "quit")
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
    let lines = helpLines(mode, g)
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

/// The help's lines: the keys of this mode, then what the markers and figures mean.
private func helpLines(_ mode: ExplorerMode, _ g: Glyphs) -> [(String, Style)] {
    let pages = ("{ }         a page of layers back / forward (the table's page; the grid shows the selected layer's)", Style.normal)
    var lines: [(String, Style)] = [("btviz explorer " + g.dash + " keys", .title), ("", .normal)]
    if mode.steersTrainer {
        let keys = MethodKeys.range
        lines += [
            (keys + String(repeating: " ", count: max(1, 12 - keys.count)) + "method: "
                + MethodKeys.methods.map { (MethodKeys.key($0) ?? "") + " " + ($0 == .full ? "full precision" : $0.label) }
                    .joined(separator: ", "), .normal),
            ("m           next method", .normal),
            ("+ / -       λ up / down in 1-3-10 steps (+ from 0 gives 1e-4; - from 1e-4 gives 0)", .normal),
            ("0           \(g.lambda) = 0 (no transition regularizer)", .normal),
            ("\(g.left) \(g.right) Tab    select layer", .normal),
            pages,
            ("space       pause / resume training", .normal),
            ("s           save a checkpoint now", .normal),
        ] + (mode == .live ? [
            ("q, Ctrl-C   stop: the trainer saves, then btviz exits", .normal),
            ("d           detach: close the screen, training goes on (steer it again with btviz attach RUN)", .normal),
        ] : [
            ("q, d, Esc   leave: the run goes on (its trainer took these keys through RUN/requests)", .normal),
        ]) + [
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
            pages,
            ("p, space    play the records forward, or stop", .normal),
            ("q           quit", .normal),
            (", .         less / more smoothing of the curves; l: loss on a log axis", .normal),
            ("t g w       time-lapse, all layers, what-if (as live)", .normal),
        ]
    }
    return lines + [
        ("", .normal),
        ("\(g.marker) 0              transition at 0", .markerZero),
    ] + transitionLegend(g) + [
        ("\(g.marker) \(g.plusMinus)t1 \(g.plusMinus)t2 ...   unnamed; per-channel fits: channel means, the 10-90% band of channels on the axis", .markerInner),
        ("\(g.levelMark) levels         quantized values and the share of weights at each", .level),
        ("flip~  a layer's share of weights the regularizer's noise (--noise-ratio × a, 0.1 by default) would flip", .normal),
        ("flip share  the same over all quantized weights (layers weighted by weight count), as sweep watch and compare", .normal),
        ("moved  share whose level changed since the previous logged step", .normal),
        ("dist   mean distance to the nearest transition, in units of a (a1)", .normal),
        ("", .normal),
        ("press any key to close", .dim),
    ]
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
