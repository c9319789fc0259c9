#if canImport(Glibc)
import Glibc
import Records
#endif

/// A line plot drawn with braille dots (2x4 per cell) or, in ASCII mode, one glyph per series and cell.

/// How a series is drawn, so two series stay apart without colour.
enum SeriesPattern {
    /// Every dot (braille) or the series' own glyph (ASCII).
    case solid
    /// Three dot columns on, two off (braille); the series' own glyph (ASCII).
    case dashed
    /// The raw values behind a smoothed line: dim, drawn first, overwritten by everything else.
    case faint
}

struct PlotSeries {
    var xs: [Float]
    var ys: [Float]
    var style: Style
    var pattern: SeriesPattern = .solid
    /// Uses the right-hand axis with its own range (e.g. λ·R next to the task loss).
    var rightAxis = false
    /// ASCII glyph index (Glyphs.seriesGlyphs).
    var glyph = 0
}

/// A change of method or λ at step `x`: `from` and `to` as the plot shows them ("BT", "λ3e-4"), `prefix` naming the
/// run in an A/B view.
struct PlotMark {
    var x: Float
    var kind: EventKind
    var from: String
    var to: String
    var prefix = ""

    /// One label for marks too close to label apart (a burst of + presses): each kind from its first value to its
    /// last, then how many changes over which steps, so the label says where the burst ended, not where it began.
    static func label(_ cluster: [PlotMark], _ g: Glyphs) -> String {
        guard cluster.count > 1 else { return cluster[0].prefix + cluster[0].to }
        var parts: [String] = []
        for kind in [EventKind.method, .lambda] {
            let ofKind = cluster.filter { $0.kind == kind }
            guard let first = ofKind.first, let last = ofKind.last else { continue }
            parts.append(first.from + g.right + last.to)
        }
        let steps = cluster.map { Int($0.x) }
        return cluster[0].prefix + parts.joined(separator: ",") + " (\(cluster.count)\(g.ascii ? "x" : "×") \(steps.min()!)\(g.dash == "-" ? "-" : "–")\(steps.max()!))"
    }
}

struct DotGrid {
    let w: Int, h: Int, sx: Int, sy: Int
    var bits: [UInt8]
    var styles: [Style?]
    /// ASCII: the glyph of the series that last touched a cell.
    var glyphs: [Int]
    init(w: Int, h: Int, ascii: Bool) {
        self.w = w; self.h = h; sx = ascii ? 1 : 2; sy = ascii ? 3 : 4
        bits = Array(repeating: 0, count: w * h); styles = Array(repeating: nil, count: w * h)
        glyphs = Array(repeating: 0, count: w * h)
    }
    var dotsX: Int { w * sx }
    var dotsY: Int { h * sy }

    mutating func set(_ px: Int, _ py: Int, _ style: Style, glyph: Int = 0) {
        guard px >= 0, py >= 0, px < dotsX, py < dotsY else { return }
        let cx = px / sx, cy = py / sy, dx = px % sx, dy = py % sy
        let i = cy * w + cx
        // A faint (raw) dot never takes a cell from a real series.
        if style == .faint, let s = styles[i], s != .faint { return }
        if style != .faint, styles[i] == .faint { bits[i] = 0 }
        let bit: UInt8
        if sx == 1 { bit = 1 << UInt8(dy) } else if dy < 3 { bit = dx == 0 ? 1 << UInt8(dy) : 1 << UInt8(dy + 3) } else { bit = dx == 0 ? 0x40 : 0x80 }
        bits[i] |= bit
        styles[i] = style  // the last series to touch a cell colours it
        glyphs[i] = glyph
    }

    mutating func vspan(_ px: Int, _ a: Int, _ b: Int, _ style: Style, glyph: Int) {
        for py in min(a, b)...max(a, b) { set(px, py, style, glyph: glyph) }
    }

    func glyph(_ i: Int, _ g: Glyphs) -> Unicode.Scalar {
        let b = bits[i]
        if sx == 2 { return Unicode.Scalar(0x2800 + UInt32(b))! }
        if styles[i] == .faint { return "." }
        return g.seriesGlyphs.isEmpty ? "*" : g.seriesGlyphs[min(glyphs[i], g.seriesGlyphs.count - 1)]
    }
}

func autoRange(_ ys: [Float], includeZero: Bool = false) -> (Float, Float) {
    let f = ys.filter { $0.isFinite }
    var lo = f.min() ?? 0, hi = f.max() ?? 1
    if includeZero { lo = min(lo, 0) }
    if hi - lo < 1e-12 {
        // A flat series: a range around it, one that stays at or above zero for values that cannot be negative.
        let d = max(abs(hi) * 0.1, 1e-6)
        if includeZero && lo == 0 { hi += 2 * d } else { lo -= d; hi += d }
    }
    return (lo, hi)
}

/// TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled to 0.
func smoothed(_ ys: [Float], weight: Float) -> [Float] {
    guard weight > 0 else { return ys }
    var out: [Float] = []
    out.reserveCapacity(ys.count)
    var acc: Float = 0, n = 0
    for y in ys {
        guard y.isFinite else { out.append(y); continue }
        acc = weight * acc + (1 - weight) * y
        n += 1
        out.append(acc / (1 - powf(weight, Float(n))))
    }
    return out
}

/// log10 of positive values for a log axis; values at or below 0 sit at the smallest positive one.
func log10Values(_ ys: [Float]) -> [Float] {
    let floorV = ys.filter { $0 > 0 && $0.isFinite }.min() ?? 1
    return ys.map { log10f(max($0, floorV)) }
}

/// Characters of a y-axis label; formats that can run longer should use `Fmt.fit`.
let plotLabelWidth = 5

/// Where a plot in `r` draws its data: within its y labels (left, and right with a right axis), below its label row,
/// above its step numbers. Hit-testing maps clicks through the same rectangle.
func plotArea(_ r: Rect, rightAxis: Bool) -> Rect {
    let lw = plotLabelWidth + 1, rw = rightAxis ? plotLabelWidth + 1 : 0
    return Rect(x: r.x + lw, y: r.y + 1, w: r.w - lw - rw, h: r.h - 2)
}

/// A curves panel's plot: everything below its title row.
func curvesPlot(_ panel: Rect) -> Rect { Rect(x: panel.x, y: panel.y + 1, w: panel.w, h: panel.h - 1) }

/// One plot's data and axes: what `drawPlot` draws, and what hit-testing maps a click through.
struct PlotView {
    var series: [PlotSeries]
    var xRange: (Float, Float)
    var left: (Float, Float)
    var right: (Float, Float)?
    var format: (Float) -> String
    var rightFormat: (Float) -> String
    var marks: [PlotMark]
    var cursor: Float?

    /// The step under column `x` of a plot drawn in `r`, or nil outside its data area.
    func step(atColumn x: Int, row y: Int, in r: Rect) -> Int? {
        let area = plotArea(r, rightAxis: right != nil)
        guard x >= area.x, x < area.maxX, y >= area.y - 1, y < area.maxY, area.w > 1 else { return nil }
        return Int((xRange.0 + Float(x - area.x) / Float(area.w - 1) * (xRange.1 - xRange.0)).rounded())
    }
}

/// The x axis of a plot's data area: steps to dot columns and to cell columns.
struct PlotXAxis {
    let x0: Float, x1: Float
    /// Dot columns across the area, and dots per cell.
    let dots: Int, perCell: Int, cells: Int

    init(_ range: (Float, Float), cells: Int, perCell: Int) {
        (x0, x1) = range.1 > range.0 ? range : (range.0, range.0 + 1)
        self.cells = cells; self.perCell = perCell; dots = cells * perCell
    }

    func dot(_ x: Float) -> Int { clampedInt(Double(((x - x0) / (x1 - x0) * Float(dots - 1)).rounded()), -1, dots) }

    /// The cell column of step `x`, or nil off the axis.
    func column(_ x: Float) -> Int? {
        guard x >= x0, x <= x1 else { return nil }
        return min(cells - 1, max(0, dot(x) / perCell))
    }
}

/// Draws the plot in `r`: the top row holds the change marks' labels (so they never cover a curve), y labels on
/// the left (and right when a series uses the right axis), step numbers on the bottom row. Change marks run down
/// empty cells only; the replay cursor is drawn last, in its own style, with a ▼ in the label row.
func drawPlot(_ c: inout Canvas, _ r: Rect, _ p: PlotView, _ g: Glyphs) {
    guard r.h >= 4, r.w >= 16 else { return }
    let area = plotArea(r, rightAxis: p.right != nil)
    guard area.w > 2, area.h > 0 else { return }
    var grid = DotGrid(w: area.w, h: area.h, ascii: g.ascii)
    let axis = PlotXAxis(p.xRange, cells: area.w, perCell: grid.sx)
    plotSeries(&grid, p, axis, g)
    for cy in 0..<grid.h {
        for cx in 0..<grid.w where grid.bits[cy * grid.w + cx] != 0 {
            let i = cy * grid.w + cx
            c.put(area.x + cx, area.y + cy, grid.glyph(i, g), grid.styles[i] ?? .normal)
        }
    }
    drawChangeMarks(&c, area, labelRow: Rect(x: area.x, y: r.y, w: area.w, h: 1), p.marks, axis, g)
    if let cur = p.cursor, let cx = axis.column(cur) {
        for y in area.y..<area.maxY where c[area.x + cx, y].ch == " " || c[area.x + cx, y].style == .event {
            c.put(area.x + cx, y, g.cursor, .cursor)
        }
        c.put(area.x + cx, r.y, g.ascii ? "v" : "▼", .cursor)
    }
    drawPlotAxes(&c, r, area, p, axis)
}

/// Each series' dots, faint series first so real ones take the cells they share.
private func plotSeries(_ grid: inout DotGrid, _ p: PlotView, _ axis: PlotXAxis, _ g: Glyphs) {
    for s in p.series.sorted(by: { ($0.pattern == .faint ? 0 : 1) < ($1.pattern == .faint ? 0 : 1) }) {
        let (lo, hi) = s.rightAxis ? (p.right ?? p.left) : p.left
        let style: Style = s.pattern == .faint ? .faint : s.style
        let dotsY = grid.dotsY
        func py(_ y: Float) -> Int {
            let t = hi > lo ? (hi - y) / (hi - lo) : 0.5
            return clampedInt(Double((t * Float(dotsY - 1)).rounded()), 0, dotsY - 1)
        }
        // Dashed: three dot columns on, two off.
        func on(_ xx: Int) -> Bool { s.pattern != .dashed || g.ascii || xx % 5 < 3 }
        var prev: (Int, Int)? = nil
        for (x, y) in zip(s.xs, s.ys) {
            guard x.isFinite, y.isFinite, x >= axis.x0, x <= axis.x1 else { prev = nil; continue }
            let p = (axis.dot(x), py(y))
            if let q = prev, p.0 > q.0 {
                // Fill each dot column between the two points so steep lines stay connected.
                var lastY = q.1
                for xx in (q.0 + 1)...p.0 {
                    let t = Float(xx - q.0) / Float(p.0 - q.0)
                    let yy = clampedInt(Double((Float(q.1) + t * Float(p.1 - q.1)).rounded()), -1, dotsY)
                    if on(xx) { grid.vspan(xx, lastY, yy, style, glyph: s.glyph) }
                    lastY = yy
                }
            } else if let q = prev, p.0 == q.0 {
                if on(p.0) { grid.vspan(p.0, q.1, p.1, style, glyph: s.glyph) }
            } else {
                grid.set(p.0, p.1, style, glyph: s.glyph)
            }
            prev = p
        }
    }
}

/// Change marks down the empty cells of the data area, and their labels along the label row: marks whose labels
/// would overlap share one, which names the burst's first and last value (labelling only the first would show a
/// value the run held for a moment).
private func drawChangeMarks(_ c: inout Canvas, _ area: Rect, labelRow: Rect, _ marks: [PlotMark], _ axis: PlotXAxis,
                             _ g: Glyphs) {
    for m in marks {
        guard let cx = axis.column(m.x) else { continue }
        for y in area.y..<area.maxY where c[area.x + cx, y].ch == " " { c.put(area.x + cx, y, g.eventMark, .event) }
    }
    var clusters: [(col: Int, marks: [PlotMark])] = []
    func span(_ cl: (col: Int, marks: [PlotMark])) -> (start: Int, end: Int) {
        let n = PlotMark.label(cl.marks, g).unicodeScalars.count
        let start = max(labelRow.x, min(labelRow.x + cl.col, labelRow.maxX - n))
        return (start, start + n)
    }
    for m in marks.sorted(by: { $0.x < $1.x }) {
        guard let cx = axis.column(m.x) else { continue }
        clusters.append((cx, [m]))
        // A new label that would overlap the one before (its own or pushed left by the right edge) joins it.
        while clusters.count > 1, span(clusters[clusters.count - 1]).start <= span(clusters[clusters.count - 2]).end,
              clusters[clusters.count - 1].marks[0].prefix == clusters[clusters.count - 2].marks[0].prefix {
            let last = clusters.removeLast()
            clusters[clusters.count - 1].marks += last.marks
        }
    }
    var nextFree = labelRow.x
    for cluster in clusters {
        let label = PlotMark.label(cluster.marks, g), at = span(cluster).start
        if at < nextFree { continue }  // only A's and B's labels can still meet: the later one gives way
        c.text(in: labelRow, at, labelRow.y, label, .event)
        nextFree = at + label.unicodeScalars.count + 1
    }
}

/// The y labels at top, middle (room permitting) and bottom, and the step numbers on the bottom row.
private func drawPlotAxes(_ c: inout Canvas, _ r: Rect, _ area: Rect, _ p: PlotView, _ axis: PlotXAxis) {
    let lw = plotLabelWidth + 1, rw = p.right == nil ? 0 : plotLabelWidth + 1  // the y labels' columns
    let rows = area.h >= 5 ? [0, area.h / 2, area.h - 1] : [0, area.h - 1]
    for row in rows {
        let t = area.h > 1 ? Float(row) / Float(area.h - 1) : 0
        let v = p.left.1 - t * (p.left.1 - p.left.0)
        c.text(r.x, area.y + row, pad(p.format(v), lw - 1), .dim, maxWidth: lw - 1)
        if let rr = p.right {
            let v2 = rr.1 - t * (rr.1 - rr.0)
            c.text(area.maxX + 1, area.y + row, p.rightFormat(v2), .series2, maxWidth: rw - 1)
        }
    }
    let by = r.maxY - 1
    c.text(area.x, by, Fmt.count(axis.x0), .dim)
    let endLabel = Fmt.count(axis.x1)
    c.text(area.maxX - endLabel.count, by, endLabel, .dim)
    let mid = "step"
    c.text(area.x + (area.w - mid.count) / 2, by, mid, .dim)
}

private func pad(_ s: String, _ w: Int) -> String {
    s.count >= w ? s : String(repeating: " ", count: w - s.count) + s
}
