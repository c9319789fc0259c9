import Records

/// A panel title drawn as a rule: `─ title ─ extra ─────`. Returns the x after the last part.
@discardableResult
func drawTitle(_ c: inout Canvas, _ r: Rect, _ parts: [(String, Style)], _ g: Glyphs) -> Int {
    guard r.h > 0 else { return r.x }
    c.hline(r.x, r.y, r.w, g.hline, .dim)
    var x = r.x + 1
    for (i, p) in parts.enumerated() {
        // Later parts are extras: drop any that would not fit whole.
        if i > 0 && x + 1 + p.0.unicodeScalars.count + 2 > r.maxX - 1 { break }
        if i > 0 { x += 1 }
        x = c.text(in: r, x, r.y, " " + p.0 + " ", p.1)
    }
    return x
}

/// A title whose parts each have a long and a short form, tried in this order until one fits whole: every part
/// long; long without the optional parts (those whose short form is empty); every part short. So at 80 columns a
/// legend shortens instead of losing entries.
@discardableResult
func drawTitleFitting(_ c: inout Canvas, _ r: Rect, _ parts: [(long: String, short: String, style: Style)], _ g: Glyphs) -> Int {
    func width(_ p: [(String, Style)]) -> Int { p.reduce(1) { $0 + $1.0.unicodeScalars.count + 3 } + 1 }
    let all = parts.map { ($0.long, $0.style) }
    let essential = parts.filter { !$0.short.isEmpty }
    let candidates = [all, essential.map { ($0.long, $0.style) }, essential.map { ($0.short, $0.style) }]
    return drawTitle(&c, r, candidates.first { width($0) <= r.w } ?? candidates[2], g)
}

/// Sums of a histogram's counts re-binned onto `columns` equal-width columns over [lo, hi],
/// splitting each source bin by its overlap (so the shape does not alias at any width).
func rebin(_ h: Histogram, columns: Int, lo: Float, hi: Float) -> [Double] {
    guard columns > 0, hi > lo, h.edges.count == h.counts.count + 1 else { return Array(repeating: 0, count: max(0, columns)) }
    var out = [Double](repeating: 0, count: columns)
    let dx = Double(hi - lo) / Double(columns)
    for (i, n) in h.counts.enumerated() where n > 0 {
        let a = Double(h.edges[i]), b = Double(h.edges[i + 1])
        guard b > a else {
            out[clampedInt((a - Double(lo)) / dx, 0, columns - 1)] += Double(n); continue
        }
        let c0 = clampedInt(((a - Double(lo)) / dx).rounded(.down), 0, columns)
        let c1 = clampedInt(((b - Double(lo)) / dx).rounded(.down), -1, columns - 1)
        if c0 > c1 { continue }
        for col in c0...c1 {
            let x0 = Double(lo) + Double(col) * dx, x1 = x0 + dx
            let overlap = min(b, x1) - max(a, x0)
            if overlap > 0 { out[col] += Double(n) * overlap / (b - a) }
        }
    }
    return out
}

/// Vertical bars bottom-aligned in `r`, eight sub-steps per cell (or the ASCII ramp's).
/// Returns the number of filled sub-steps per column so overlays know where the bar ends.
@discardableResult
func drawBars(_ c: inout Canvas, _ r: Rect, _ values: [Double], _ g: Glyphs, style: Style = .bar) -> [Int] {
    guard r.h > 0, r.w > 0 else { return [] }
    let maxV = values.max() ?? 0
    let steps = g.vblocks.count - 1
    var filled = [Int](repeating: 0, count: values.count)
    for (col, v) in values.enumerated() where col < r.w {
        var units = maxV > 0 ? clampedInt((v / maxV * Double(r.h * steps)).rounded(), 0, r.h * steps) : 0
        if v > 0 && units == 0 { units = 1 }  // a nonzero bin must never look empty
        filled[col] = units
        for row in 0..<r.h {
            let u = min(steps, max(0, units - row * steps))
            if u > 0 { c.put(r.x + col, r.maxY - 1 - row, g.vblocks[u], style) }
        }
    }
    return filled
}

/// Places short labels on one row at preferred columns, skipping any that would overlap.
func placeLabels(_ c: inout Canvas, _ r: Rect, y: Int, _ labels: [(col: Int, text: String, style: Style)]) {
    var taken = [Bool](repeating: false, count: max(0, r.w))
    for l in labels {
        let n = l.text.unicodeScalars.count
        var start = l.col - n / 2
        start = min(max(0, start), r.w - n)
        guard start >= 0 else { continue }
        let lo = max(0, start - 1), hi = min(r.w, start + n + 1)
        if taken[lo..<hi].contains(true) { continue }
        for i in start..<(start + n) { taken[i] = true }
        c.text(r.x + start, y, l.text, l.style)
    }
}

/// The column of value `v` on a histogram axis from `lo` to `hi` drawn `width` columns wide (nil off the axis).
func histogramColumn(_ v: Float, lo: Float, hi: Float, width: Int) -> Int? {
    guard hi > lo, v >= lo, v <= hi, width > 0 else { return nil }
    return clampedInt(Double(((v - lo) / (hi - lo) * Float(width)).rounded(.down)), 0, width - 1)
}
