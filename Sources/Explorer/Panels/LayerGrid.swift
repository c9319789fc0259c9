import Quantizers
import Records

/// Every layer's latent-weight histogram at once, each on its own fixed axis with its transitions and the share
/// the regularizer's noise flips: a wide terminal's room, used to see all layers react to one change.
func drawLayerGrid(_ c: inout Canvas, _ r: Rect, layers: [LayerRecord], ranges: [Float], selected: Int, _ g: Glyphs) {
    guard !layers.isEmpty, r.w >= 20, r.h >= 6 else { return }
    drawTitle(&c, r, [("all layers", .title), ("flip~ per layer", .dim)], g)
    let area = Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1)
    // As many columns as fit at 24 cells wide, rows to hold the rest; each cell at least 5 rows.
    var cols = min(layers.count, max(1, area.w / 24))
    while cols < layers.count && (layers.count + cols - 1) / cols * 5 > area.h { cols += 1 }
    let gridRows = (layers.count + cols - 1) / cols
    let cw = area.w / cols, ch = area.h / gridRows
    guard cw >= 12, ch >= 3 else { return }
    for (i, l) in layers.enumerated() {
        let cell = Rect(x: area.x + (i % cols) * cw, y: area.y + (i / cols) * ch, w: cw - 1, h: ch)
        let sel = i == selected
        c.text(in: cell, cell.x, cell.y, (sel ? (g.ascii ? ">" : "▸") : " ") + l.name, sel ? .accent : .bold)
        let flip = Fmt.pct(l.flipFraction)
        c.text(in: cell, cell.maxX - flip.count, cell.y, flip, .markerZero)
        let bars = Rect(x: cell.x, y: cell.y + 1, w: cell.w, h: cell.h - 1)
        let hi = i < ranges.count ? max(ranges[i], l.histogram.edges.last ?? 0) : (l.histogram.edges.last ?? 1)
        let filled = drawBars(&c, bars, rebin(l.histogram, columns: bars.w, lo: -hi, hi: hi), g)
        let steps = g.vblocks.count - 1
        for t in l.transitions {
            guard let x = histogramColumn(t, lo: -hi, hi: hi, width: bars.w) else { continue }
            let top = filled.indices.contains(x) ? (filled[x] + steps - 1) / steps : 0
            for row in top..<bars.h { c.put(bars.x + x, bars.maxY - 1 - row, g.marker, .markerInner) }
            for row in 0..<min(top, bars.h) { c.setStyle(bars.x + x, bars.maxY - 1 - row, .markerInner) }
        }
    }
}
