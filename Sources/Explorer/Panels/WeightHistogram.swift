import Quantizers
import Records

/// A transition point of the selected layer's quantizer, with the colour of its kind.
public struct TransitionMark: Equatable, Sendable {
    public var value: Float
    public var style: Style
    /// The kind's name: "0", "±Δ", "±(a1−d1)", "±(a1+d1)".
    public var name: String
}

/// Classifies transitions by magnitude: 0, then the nonzero magnitudes smallest first, named as the fit's
/// description names them (TWN ±Δ; BT ±(a1−d1), ±(a1+d1); unnamed ones ±t1, ±t2, ...), one colour per kind.
public func transitionMarks(_ l: LayerRecord, method: QuantMethod?, glyphs g: Glyphs) -> [TransitionMark] {
    let maxAbs = l.transitions.map { abs($0) }.max() ?? 0
    let eps = max(1e-12, maxAbs * 1e-4)
    var mags: [Float] = []
    for t in l.transitions.map({ abs($0) }).sorted() where t > eps {
        if let last = mags.last, abs(t - last) <= eps { continue }
        mags.append(t)
    }
    let pm = g.plusMinus
    let names = l.fitDescription(method: method?.rawValue).transitions.map(g.fold)
    return l.transitions.map { t in
        if abs(t) <= eps { return TransitionMark(value: 0, style: .markerZero, name: "0") }
        let k = mags.firstIndex { abs(abs(t) - $0) <= eps } ?? 0
        return TransitionMark(value: t, style: k == 0 ? .markerInner : .markerOuter,
                              name: k < names.count ? names[k] : pm + "t\(k + 1)")
    }
}

/// Where a fit names its levels (TTQ's −Wn and Wp), the jump at each transition: the named level of the two it
/// separates, with its height ("−Δ:Wn 0.3"). Empty for fits whose levels are not named.
public func namedJumps(_ l: LayerRecord, _ marks: [TransitionMark], names: [String]?) -> [(level: String, height: Float)?] {
    guard let names, names.count == l.levels.count, marks.count == l.levels.count - 1 else { return [] }
    return marks.indices.map { j in
        [j, j + 1].first { !names[$0].isEmpty }.map { (names[$0].replacingOccurrences(of: "−", with: ""), abs(l.levels[$0])) }
    }
}

/// What the weight histogram draws: the selected layer at the step shown, under the method applied there.
struct WeightHistogramView {
    var layer: LayerRecord?
    /// The layer's place among the step's layers.
    var index: Int, count: Int
    var method: QuantMethod?
    /// The layer's fixed axis, ±range (the widest it has been), when known; else the record's own.
    var range: Float?
    /// Another method's fit on the same weights, drawn faintly (`w`).
    var whatIf: WhatIfFit?
    /// The run's name in an A/B view ("A", "B").
    var tag: String?
}

/// Latent-weight histogram of the selected layer at the panel's full width, with the quantizer's
/// transitions overlaid as coloured columns and labelled, and the levels' occupancy below.
func drawWeightHistogram(_ c: inout Canvas, _ r: Rect, _ v: WeightHistogramView, markersOverBars: Bool, _ g: Glyphs) {
    guard r.h >= 4 else { return }
    guard let l = v.layer else {
        drawTitle(&c, r, [((v.tag.map { $0 + " " } ?? "") + "latent weights", .title)], g)
        c.text(in: r, r.x + 2, r.y + 2, "waiting for the first step record" + (g.ascii ? "..." : "…"), .dim)
        return
    }
    let marks = transitionMarks(l, method: v.method, glyphs: g)
    drawTitle(&c, r, histogramTitle(v, l, marks, g), g)

    // The what-if row (asked for with a key) takes precedence over the axis row when the panel is short.
    let whatIfRow = v.whatIf != nil && r.h >= 7
    let showAxis = r.h >= (whatIfRow ? 9 : 8)
    let barsH = r.h - 3 - (showAxis ? 1 : 0) - (whatIfRow ? 1 : 0)
    let bars = Rect(x: r.x, y: r.y + 1, w: r.w, h: barsH)
    // A fixed axis (the widest the layer has been) when the caller knows it, else this record's own.
    let hi = v.range.map { max($0, l.histogram.edges.last ?? 0) } ?? (l.histogram.edges.last ?? 1)
    let lo = v.range != nil ? -hi : (l.histogram.edges.first ?? -1)
    let filled = drawBars(&c, bars, rebin(l.histogram, columns: bars.w, lo: lo, hi: hi), g)
    func col(_ v: Float) -> Int? { histogramColumn(v, lo: lo, hi: hi, width: bars.w) }
    drawMarkerColumns(&c, bars, marks, filled: filled, markersOverBars: markersOverBars, col, g)

    // What-if: the other method's transitions, faint, in the empty cells above the bars.
    if let wi = v.whatIf {
        for t in wi.transitions {
            guard let x = col(t) else { continue }
            for y in bars.y..<bars.maxY where c[bars.x + x, y].ch == " " { c.put(bars.x + x, y, g.ascii ? ":" : "╎", .faint) }
        }
    }

    var y = bars.maxY
    if showAxis {
        drawHistogramAxis(&c, Rect(x: r.x, y: y, w: r.w, h: 1), l, marks, col, g)
        y += 1
    }
    // Values under the markers, then the range ends where there is room.
    var labels: [(col: Int, text: String, style: Style)] = []
    for m in marks { if let x = col(m.value) { labels.append((x, m.value == 0 ? "0" : Fmt.signed(m.value), m.style)) } }
    labels.append((0, Fmt.sig(lo), .dim))
    labels.append((r.w - 1, Fmt.sig(hi), .dim))
    placeLabels(&c, r, y: y, labels)
    y += 1
    drawLevels(&c, Rect(x: r.x, y: y, w: r.w, h: 1), l, method: v.method, g)
    if let wi = v.whatIf, whatIfRow { drawWhatIf(&c, Rect(x: r.x, y: y + 1, w: r.w, h: 1), wi, current: l, g) }
}

/// The title with a legend: one entry per transition kind, in its colour; named levels' jumps; the what-if's method.
private func histogramTitle(_ v: WeightHistogramView, _ l: LayerRecord, _ marks: [TransitionMark], _ g: Glyphs) -> [(String, Style)] {
    var parts: [(String, Style)] = [((v.tag.map { $0 + " " + (v.method?.label ?? "") + " " } ?? "") + "weights " + l.name + " "
                                     + Fmt.shape(l.shape) + " [\(v.index + 1)/\(v.count)]", .title)]
    var seen = Set<String>()
    for m in marks.sorted(by: { abs($0.value) < abs($1.value) }) where !seen.contains(m.name) {
        seen.insert(m.name)
        let text = m.name == "0" ? "\(g.marker) 0" : "\(g.marker) \(m.name)=\(Fmt.sig(abs(m.value)))"
        parts.append((text, m.style))
    }
    if marks.isEmpty { parts.append(("full precision: no transitions", .dim)) }
    // Jumps of named levels (TTQ's differ in height on the two sides: -Wn below -Δ, +Wp above +Δ).
    let jumps = namedJumps(l, marks, names: l.fitDescription(method: v.method?.rawValue).levels)
    if !jumps.isEmpty {
        parts.append(("jumps " + zip(marks, jumps).compactMap { m, j in
            j.map { m.name.replacingOccurrences(of: g.plusMinus, with: m.value < 0 ? g.minus : "+") + ":" + g.fold($0.level) + " " + Fmt.sig($0.height) }
        }.joined(separator: " "), .level))
    }
    if l.transitionBands != nil { parts.append(("channel means, " + String(bandGlyph(g)) + " 10-90% of channels", .dim)) }
    if let wi = v.whatIf { parts.append(((g.ascii ? ": " : "╎ ") + "what-if " + QuantMethod.label(recorded: wi.method), .faint)) }
    return parts
}

/// Marker columns: glyph above the bar, the bar itself recoloured, so both stay readable. Without colour
/// (NO_COLOR, a plain-text capture) the bar keeps its blocks and the glyph runs only above it: the pile of
/// weights a large λ gathers on a transition is what the column shows, and the marker must not hide it.
private func drawMarkerColumns(_ c: inout Canvas, _ bars: Rect, _ marks: [TransitionMark], filled: [Int], markersOverBars: Bool,
                               _ col: (Float) -> Int?, _ g: Glyphs) {
    let steps = g.vblocks.count - 1
    for m in marks {
        guard let x = col(m.value) else { continue }
        let top = filled.indices.contains(x) ? (filled[x] + steps - 1) / steps : 0
        for row in 0..<bars.h {
            let y = bars.maxY - 1 - row
            if row < top { if !markersOverBars { c.setStyle(bars.x + x, y, m.style) } } else { c.put(bars.x + x, y, g.marker, m.style) }
        }
        // A bar as tall as the panel leaves no room above it: its top cell carries the marker.
        if markersOverBars && top >= bars.h { c.put(bars.x + x, bars.y, g.marker, m.style) }
    }
}

/// The axis row under the bars: the levels, the transitions, and per-channel methods' spread of each transition
/// across channels.
private func drawHistogramAxis(_ c: inout Canvas, _ r: Rect, _ l: LayerRecord, _ marks: [TransitionMark],
                               _ col: (Float) -> Int?, _ g: Glyphs) {
    let y = r.y
    c.hline(r.x, y, r.w, g.hline, .dim)
    for (band, m) in zip(l.transitionBands ?? [], marks) where band.count == 2 {
        guard let a = col(band[0]), let b = col(band[1]) else { continue }
        for x in min(a, b)...max(a, b) { c.put(r.x + x, y, bandGlyph(g), m.style) }
    }
    for v in l.levels { if let x = col(v) { c.put(r.x + x, y, g.levelMark, .level) } }
    for m in marks { if let x = col(m.value) { c.put(r.x + x, y, g.ascii ? "+" : "┴", m.style) } }
}

/// `if TWN  ▲-0.05 30% ▲0 40% ▲+0.05 30%  err .44 (now .49)`: what a switch would do to this layer.
private func drawWhatIf(_ c: inout Canvas, _ r: Rect, _ wi: WhatIfFit, current: LayerRecord, _ g: Glyphs) {
    let label = QuantMethod.label(recorded: wi.method)
    let x = c.text(in: r, r.x + 1, r.y, "if " + label, .faint) + 1
    let total = max(1, wi.levelCounts.reduce(0, +))
    let cells = wi.levels.enumerated().map { i, v in
        (value: v == 0 ? "0" : Fmt.signed(v), share: Fmt.pct(Float(i < wi.levelCounts.count ? wi.levelCounts[i] : 0) / Float(total)))
    }
    let err = "err " + Fmt.sig(wi.quantError) + " (now " + Fmt.sig(current.quantError) + ")"
    let end = drawLevelCells(&c, Rect(x: x, y: r.y, w: r.maxX - x, h: 1), cells, .faint, g)
    if end + err.count + 3 < r.maxX { c.text(in: r, r.maxX - err.count - 1, r.y, err, .faint) }
}

/// Levels as `▲value share` cells, every one of them (the caller draws its trailing figure only if room is left):
/// when the row is narrow the spaces inside cells go first; if even that does not fit, the last cell says how many
/// levels are not shown ("+2"), so a row never reads as if its shares summed to less than 100%. Returns the x
/// after the last cell drawn.
func drawLevelCells(_ c: inout Canvas, _ r: Rect, _ cells: [(value: String, share: String)], _ style: Style, _ g: Glyphs) -> Int {
    let wide = cells.map { "\(g.levelMark)\($0.value) \($0.share)" }, narrow = cells.map { "\(g.levelMark)\($0.value):\($0.share)" }
    func width(_ parts: [String]) -> Int { parts.reduce(0) { $0 + $1.unicodeScalars.count + 1 } }
    let parts = width(wide) <= r.w ? wide : narrow
    // As many cells as fit beside a "+N" for the rest (no "+N" when all fit).
    var shown = parts.count
    while shown > 0 && width(Array(parts.prefix(shown))) + (shown < parts.count ? " +\(parts.count - shown)".count : 0) > r.w {
        shown -= 1
    }
    var x = r.x
    for s in parts.prefix(shown) { x = c.text(in: r, x + 1, r.y, s, style) }
    if shown < parts.count { x = c.text(in: r, x + 1, r.y, "+\(parts.count - shown)", style) }
    return x
}

/// `levels ▲-0.068 3.1%  ▲-0.034 20% ...`: the quantized values and the share of weights at each.
private func drawLevels(_ c: inout Canvas, _ r: Rect, _ l: LayerRecord, method: QuantMethod?, _ g: Glyphs) {
    guard !l.levels.isEmpty else {
        c.text(in: r, r.x + 1, r.y, "full precision: weights are used as they are; " + MethodKeys.quantizingRange + " pick a quantizer", .dim)
        return
    }
    let total = max(1, l.levelCounts.reduce(0, +))
    var x = c.text(in: r, r.x + 1, r.y, "levels", .dim) + 1
    let names = l.fitDescription(method: method?.rawValue).levels.flatMap { $0.count == l.levels.count ? $0 : nil }
    for (i, v) in l.levels.enumerated() {
        let n = i < l.levelCounts.count ? l.levelCounts[i] : 0
        let name = names.map { $0[i].isEmpty ? "" : "(" + g.fold($0[i]) + ")" } ?? ""
        let s = "\(g.levelMark)" + (v == 0 ? "0" : Fmt.signed(v)) + name + " " + Fmt.pct(Float(n) / Float(total))
        if x + s.unicodeScalars.count > r.maxX { break }
        x = c.text(in: r, x + 1, r.y, s, .level)
    }
    // The quantizer's error in context; cheap to show when there is room.
    let err = "err " + Fmt.sig(l.quantError) + "  R " + Fmt.sig(l.reg)
    if x + err.count + 3 < r.maxX { c.text(in: r, r.maxX - err.count - 1, r.y, err, .dim) }
}

private func bandGlyph(_ g: Glyphs) -> Unicode.Scalar { g.ascii ? "=" : "═" }
