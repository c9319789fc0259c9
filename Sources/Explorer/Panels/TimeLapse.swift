import Quantizers
import Records

/// What the time-lapse draws: one layer over the records up to the one shown.
struct TimeLapseView {
    /// The selected layer's name and its index in the step records.
    var name: String
    var layer: Int
    /// The step records from the run's first to the one shown.
    var steps: ArraySlice<StepRecord>
    /// The layer's fixed weight axis, ±range.
    var range: Float
}

/// A layer's latent-weight histograms over time as a heat strip (TensorBoard's "offset" histograms, flattened):
/// time runs down, one row per logged step (evenly spaced over the run up to the step shown), weights across on
/// the fixed axis, darker where more weights sit. Each row's transitions are traced over it, so weights moving
/// toward the transitions after λ goes up show as the strip gathering along the traces.
func drawTimeLapse(_ c: inout Canvas, _ r: Rect, _ v: TimeLapseView, _ g: Glyphs) {
    guard r.h >= 5, r.w >= 20, !v.steps.isEmpty else { return }
    drawTitle(&c, r, [("time-lapse " + v.name, .title), (g.ascii ? "time down, weights across" : "time ↓, weights →", .dim),
                      (g.marker.description + " transitions", .markerInner), ("t: back", .dim)], g)
    let labelW = 7
    let strip = Rect(x: r.x + labelW, y: r.y + 1, w: r.w - labelW, h: r.h - 2)
    let hi = v.range
    drawStrip(&c, strip, rows: timeRows(count: v.steps.count, height: strip.h), steps: v.steps, labelW: labelW, g) { s in
        guard s.layers.indices.contains(v.layer) else { return nil }
        let l = s.layers[v.layer]
        return (l.histogram, l.transitions)
    } range: { (-hi, hi) }
    placeLabels(&c, Rect(x: strip.x, y: r.maxY - 1, w: strip.w, h: 1), y: r.maxY - 1,
                [(0, Fmt.sig(-hi), .dim), (strip.w / 2, "0", .dim), (strip.w - 1, Fmt.sig(hi), .dim)])
}

/// The distance-to-transition histograms over time, the same way, on the distance panel's fixed axis.
func drawDistanceTimeLapse(_ c: inout Canvas, _ r: Rect, _ v: TimeLapseView, _ g: Glyphs) {
    guard r.h >= 5, r.w >= 16, !v.steps.isEmpty else { return }
    drawTitle(&c, r, [("dist/a over time", .title)], g)
    let labelW = 7
    let strip = Rect(x: r.x + labelW, y: r.y + 1, w: r.w - labelW, h: r.h - 2)
    drawStrip(&c, strip, rows: timeRows(count: v.steps.count, height: strip.h), steps: v.steps, labelW: labelW, g) { s in
        guard s.layers.indices.contains(v.layer) else { return nil }
        let l = s.layers[v.layer]
        return l.transitions.isEmpty ? nil : (l.distanceHistogram, [0.1])
    } range: { (0, distanceAxisEnd) }
    placeLabels(&c, Rect(x: strip.x, y: r.maxY - 1, w: strip.w, h: 1), y: r.maxY - 1,
                [(0, "0", .dim), (strip.w - 1, Fmt.sig(distanceAxisEnd), .dim)])
}

/// Step-record indices for `height` rows: all of them when they fit, else evenly spaced, always ending at the last.
public func timeRows(count: Int, height: Int) -> [Int] {
    guard count > 0, height > 0 else { return [] }
    if count <= height { return Array(0..<count) }
    return (0..<height).map { ($0 * (count - 1) + (height - 1) / 2) / max(1, height - 1) }.map { min($0, count - 1) }
}

/// One shaded row per record (`rows` count from the first of `steps`); `row` gives a record's histogram and the
/// points to trace over it.
private func drawStrip(_ c: inout Canvas, _ strip: Rect, rows: [Int], steps: ArraySlice<StepRecord>, labelW: Int,
                       _ g: Glyphs, row: (StepRecord) -> (Histogram, [Float])?, range: () -> (Float, Float)) {
    let shades: [Unicode.Scalar] = g.ascii ? [" ", ".", ":", "+", "#"] : [" ", "░", "▒", "▓", "█"]
    let (lo, hi) = range()
    var lastMethod: String?, lastLambda: Float?
    for (k, i) in rows.enumerated() {
        let y = strip.y + k
        let s = steps[steps.startIndex + i]
        // Steps on the left every few rows; where the method or λ changed, the change instead (the new value).
        let changed = (lastMethod != nil && lastMethod != s.method) || (lastLambda != nil && lastLambda != s.lambda)
        if changed {
            let what = lastMethod != s.method ? QuantMethod.label(recorded: s.method) : g.lambda + Fmt.trim(s.lambda)
            c.text(strip.x - labelW, y, what, .event, maxWidth: labelW - 1)
        } else if k % 4 == 0 || k == rows.count - 1 {
            c.text(strip.x - labelW, y, Fmt.count(Float(s.step)), .dim, maxWidth: labelW - 1)
        }
        lastMethod = s.method; lastLambda = s.lambda
        guard let (h, points) = row(s) else { continue }
        var cols = rebin(h, columns: strip.w, lo: lo, hi: hi)
        if hi > 0, lo >= 0 { let beyond = overflow(h, above: hi); if beyond > 0 { cols[cols.count - 1] += beyond } }
        let m = cols.max() ?? 0
        for (x, v) in cols.enumerated() where v > 0 && m > 0 {
            // sqrt: the tails stay visible next to a tall peak.
            let level = clampedInt((Double(shades.count - 1) * (v / m).squareRoot()).rounded(.up), 1, shades.count - 1)
            c.put(strip.x + x, y, shades[level], .bar)
        }
        for t in points {
            guard let x = histogramColumn(t, lo: lo, hi: hi, width: strip.w) else { continue }
            c.put(strip.x + x, y, g.marker, t == 0 ? .markerZero : .markerInner)
        }
    }
}
