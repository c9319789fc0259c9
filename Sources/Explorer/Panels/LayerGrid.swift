import Quantizers
import Records

/// What the grid draws: every layer at the step shown, each on its own fixed axis.
struct LayerGridView {
    var layers: [LayerRecord]
    /// Per layer, the widest |latent weight| it has shown (RunModel.weightRange).
    var ranges: [Float]
    var selected: Int
}

/// How the grid's cells tile its area: all layers at once when each cell can be at least 12 columns (and wide
/// enough for its name and flip share) by 3 rows; else a page of cells at least that wide by 4 rows, the page
/// that holds the selected layer.
struct LayerGridShape: Equatable {
    var cols: Int, rows: Int
    var cellW: Int, cellH: Int
    var perPage: Int { cols * rows }

    /// `nameWidth` and `flipWidth`: the longest name and flip share a cell shows.
    init?(count n: Int, area: Rect, nameWidth: Int, flipWidth: Int) {
        guard n > 0 else { return nil }
        let minW = max(12, 1 + nameWidth + 1 + flipWidth + 1)  // marker, name, space, share, the gap between cells
        // As many columns as fit at 24 cells wide, rows to hold the rest; each cell at least 5 rows.
        var cols = min(n, max(1, area.w / 24))
        while cols < n && (n + cols - 1) / cols * 5 > area.h { cols += 1 }
        var rows = (n + cols - 1) / cols
        if area.w / cols < minW || area.h / rows < 3 {
            cols = max(1, area.w / minW)
            rows = max(1, area.h / 4)
            if cols * rows > n { rows = (n + cols - 1) / cols }
        }
        self.cols = cols; self.rows = rows
        cellW = area.w / cols; cellH = area.h / rows
        guard cellW >= 12, cellH >= 3 else { return nil }
    }
}

/// Every layer's latent-weight histogram at once, each on its own fixed axis with its transitions and the share
/// the regularizer's noise flips: a wide terminal's room, used to see all layers react to one change. When they do
/// not all fit, a page of them (the selected layer's; `{` `}` turn it) and the title says which.
func drawLayerGrid(_ c: inout Canvas, _ r: Rect, _ v: LayerGridView, _ g: Glyphs) {
    let layers = v.layers
    guard !layers.isEmpty, r.w >= 20, r.h >= 6 else { return }
    let area = Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1)
    // Cells as narrow as the names' short forms allow; the names then as whole as the cells allow.
    let flipW = layers.map { Fmt.pct($0.flipFraction).count }.max() ?? 4
    let shortest = LayerNames.abbreviatedIfDistinct(layers.map(\.name)).map(\.count).max() ?? 0
    guard let shape = LayerGridShape(count: layers.count, area: area, nameWidth: shortest, flipWidth: flipW) else {
        drawTitle(&c, r, [("all layers", .title), ("flip~ per layer", .dim)], g)
        return
    }
    let names = LayerNames.fitting(layers.map(\.name), width: shape.cellW - 3 - flipW, ellipsis: g.ascii ? "~" : "…")
    let first = max(0, min(v.selected, layers.count - 1)) / shape.perPage * shape.perPage
    let last = min(layers.count, first + shape.perPage)
    let pages = (layers.count + shape.perPage - 1) / shape.perPage
    let title = pages == 1 ? "all layers" : "layers \(first + 1)-\(last) of \(layers.count), page \(first / shape.perPage + 1)/\(pages)"
    drawTitle(&c, r, [(title, .title), ("flip~ per layer", .dim)], g)
    for i in first..<last {
        let k = i - first
        let cell = Rect(x: area.x + (k % shape.cols) * shape.cellW, y: area.y + (k / shape.cols) * shape.cellH,
                        w: shape.cellW - 1, h: shape.cellH)
        drawGridCell(&c, cell, layers[i], name: names[i], range: i < v.ranges.count ? v.ranges[i] : nil,
                     selected: i == v.selected, g)
    }
}

/// One layer's cell: its name and flip share, its histogram with the transitions marked.
private func drawGridCell(_ c: inout Canvas, _ cell: Rect, _ l: LayerRecord, name: String, range: Float?, selected: Bool,
                          _ g: Glyphs) {
    c.text(in: cell, cell.x, cell.y, (selected ? (g.ascii ? ">" : "▸") : " ") + name, selected ? .accent : .bold)
    let flip = Fmt.pct(l.flipFraction)
    c.text(in: cell, cell.maxX - flip.count, cell.y, flip, .markerZero)
    let bars = Rect(x: cell.x, y: cell.y + 1, w: cell.w, h: cell.h - 1)
    let hi = range.map { max($0, l.histogram.edges.last ?? 0) } ?? (l.histogram.edges.last ?? 1)
    let filled = drawBars(&c, bars, rebin(l.histogram, columns: bars.w, lo: -hi, hi: hi), g)
    let steps = g.vblocks.count - 1
    for t in l.transitions {
        guard let x = histogramColumn(t, lo: -hi, hi: hi, width: bars.w) else { continue }
        let top = filled.indices.contains(x) ? (filled[x] + steps - 1) / steps : 0
        for row in top..<bars.h { c.put(bars.x + x, bars.maxY - 1 - row, g.marker, .markerInner) }
        for row in 0..<min(top, bars.h) { c.setStyle(bars.x + x, bars.maxY - 1 - row, .markerInner) }
    }
}
