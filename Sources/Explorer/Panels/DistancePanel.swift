import Records

/// Histogram of each weight's distance to its nearest transition, in units of the first scale.
/// The regularizer's noise has std 0.1 of that scale, so mass near 0 is what flips.
/// `tag` names the run in an A/B view ("A", "B").
func drawDistance(_ c: inout Canvas, _ r: Rect, layer: LayerRecord?, tag: String? = nil, _ g: Glyphs) {
    guard r.h >= 4, r.w >= 10 else { return }
    let prefix = tag.map { $0 + " " } ?? ""
    guard let l = layer, l.distanceHistogram.counts.count > 0, !l.transitions.isEmpty else {
        drawTitle(&c, r, [(prefix + "distance to transition", .title)], g)
        c.text(in: r, r.x + 1, r.y + 2, layer == nil ? "no data yet" : "full precision: none", .dim)
        return
    }
    let near = l.nearTransitionShare(within: 0.1)
    drawTitle(&c, r, [(prefix + "dist/a", .title), ("mean " + Fmt.sig(l.meanTransitionDistance), .accent),
                      ("<0.1: " + Fmt.pct(near), .markerZero)], g)
    let bars = Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 2)
    // A fixed axis from 0 to 2 (in units of a): a few outliers used to stretch it to 4 or 5 and squeeze the mass
    // that matters (near 0, where the noise flips weights) into a few columns. Beyond 2 is the last column.
    let lo: Float = 0, hi = min(distanceAxisEnd, max(l.distanceHistogram.edges.last ?? 1, 0.5))
    var cols = rebin(l.distanceHistogram, columns: bars.w, lo: lo, hi: hi)
    let beyond = overflow(l.distanceHistogram, above: hi)
    if beyond > 0, !cols.isEmpty { cols[cols.count - 1] += beyond }
    let filled = drawBars(&c, bars, cols, g)
    func col(_ v: Float) -> Int? { histogramColumn(v, lo: lo, hi: hi, width: bars.w) }
    let steps = g.vblocks.count - 1
    // The noise's reach (0.1 of the scale) and the mean distance, as markers.
    for (v, style) in [(Float(0.1), Style.markerZero), (l.meanTransitionDistance, Style.accent)] {
        guard let x = col(v) else { continue }
        let top = filled.indices.contains(x) ? (filled[x] + steps - 1) / steps : 0
        for row in top..<bars.h { c.put(bars.x + x, bars.maxY - 1 - row, g.ascii ? ":" : "┊", style) }
    }
    var labels: [(col: Int, text: String, style: Style)] = []
    if let x = col(l.meanTransitionDistance) { labels.append((x, Fmt.sig(l.meanTransitionDistance), .accent)) }
    labels.append((0, Fmt.sig(lo), .dim))
    labels.append((bars.w - 1, (beyond > 0 ? (g.ascii ? ">=" : "≥") : "") + Fmt.sig(hi), .dim))
    placeLabels(&c, r, y: r.maxY - 1, labels)
}

/// Where the distance axis ends, in units of the first scale.
let distanceAxisEnd: Float = 2

/// Counts in bins that lie above `limit` (a bin straddling it counts in proportion).
func overflow(_ h: Histogram, above limit: Float) -> Double {
    var n = 0.0
    for (i, count) in h.counts.enumerated() where i + 1 < h.edges.count {
        let a = h.edges[i], b = h.edges[i + 1]
        if a >= limit { n += Double(count) } else if b > limit, b > a { n += Double(count) * Double((b - limit) / (b - a)) }
    }
    return n
}
