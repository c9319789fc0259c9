import Foundation
import Records

extension SweepRenderer {
    /// The search plot (`p`): the sweep's test figure against one option, every run at each rung it reached (the
    /// marker is the rung's digit), coloured by method when it varies, the selected run highlighted and named below.
    public static func renderSearchPlot(_ board: SweepBoard, view: SweepViewState, width: Int, height: Int,
                                       options: ExplorerOptions) -> Canvas {
        var c = Canvas(width: width, height: height)
        let g = Glyphs(ascii: options.ascii)
        guard width >= ExplorerLayout.minWidth, height >= ExplorerLayout.minHeight else {
            drawTooSmall(&c)
            return c
        }
        let data = board.plot
        let metric = board.shownMetric
        let all = Rect(x: 0, y: 0, w: width, h: height)
        var (header, rest) = all.takeTop(2)
        let footer: Rect
        (footer, rest) = rest.takeBottom(2)
        let key = view.plotted(in: board)
        let title = "test " + metric.titleWithUnit + (key.map { " against " + $0 } ?? "")
        drawParts(&c, Rect(x: 0, y: 0, w: width, h: 1), [("btviz sweep watch", .title), (g.fold(board.name), .bold),
                                                          (g.fold(title), .accent)],
                  separator: " \(g.vline) ")
        drawKeys(&c, Rect(x: 0, y: footer.y + 1, w: width, h: 1),
                 [("q", "quit"), (g.ascii ? "Up/Dn" : "↑↓", "run"), ("x", "next parameter"), ("p", "the board"),
                  ("Enter", "open in the explorer")], g)
        guard let key else {
            c.text(in: rest, 2, rest.y + 1, "nothing varies in this sweep: no parameter to plot", .dim)
            return c
        }
        let plot = SearchPlotView(data, key: key, metric: metric, selected: view.selected)
        let legendEnd = drawPlotLegend(&c, Rect(x: header.x, y: header.y + 1, w: header.w, h: 1), plot, g)
        // How many runs are drawn (a run appears after its first epoch), right-aligned when it fits.
        let count = "\(data.runs.count) of \(board.rows.count) runs drawn"
        if legendEnd + 2 + count.count <= width { c.text(width - count.count, header.y + 1, count, .dim) }
        if plot.points.isEmpty {
            c.text(in: rest, 2, rest.y + 1, "no run has finished an epoch yet: a run is drawn after its first epoch", .dim)
        } else {
            drawSearchPlot(&c, rest, plot, g)
        }
        drawSelectedRun(&c, Rect(x: 0, y: footer.y, w: width, h: 1), board, data, selected: view.selected, metric: metric, g)
        if let n = view.notice ?? board.notice { c.text(in: footer, footer.x, footer.y, g.fold(n) + "   ", .warn) }
        return c
    }

    /// The plot itself in `r`: y labels and axis on the left, the runs' markers, the x axis with its ticks (decades
    /// on a log axis) and its title below. Draws only `v`.
    public static func drawSearchPlot(_ c: inout Canvas, _ r: Rect, _ v: SearchPlotView, _ g: Glyphs) {
        let figures = v.points.flatMap { $0.rungs.map { v.metric.scaled($0.figure) } }
        guard let y = SearchPlotScale(values: figures) else { return }
        let yTicks = y.ticks.map { ($0, y.label($0)) }
        let labelW = yTicks.map(\.1.count).max() ?? 1
        // Labels, a space, the axis; then the data, with room on the right for half the last x label.
        let area = Rect(x: r.x + labelW + 2, y: r.y, w: r.w - labelW - 4, h: r.h - 3)
        guard area.w >= 10, area.h >= 3 else { return }
        let x = SearchPlotXAxis(v, width: area.w)
        func row(_ value: Double) -> Int { area.y + Int(((y.hi - value) / (y.hi - y.lo) * Double(area.h - 1)).rounded()) }

        // The axes: ┤ at each y tick, ┬ at each x tick.
        let axisX = area.x - 1
        for yy in area.y..<area.maxY { c.put(axisX, yy, g.ascii ? "|" : "│", .dim) }
        c.put(axisX, area.maxY, g.ascii ? "+" : "└", .dim)
        c.hline(area.x, area.maxY, area.w, g.hline, .dim)
        var lastRow = Int.min
        for (value, label) in yTicks {
            let yy = row(value)
            guard yy != lastRow else { continue }
            lastRow = yy
            c.put(axisX, yy, g.ascii ? "+" : "┤", .dim)
            c.text(r.x + labelW - label.count, yy, label, .dim)
        }
        var free = r.x
        for (t, label) in x.ticks {
            let col = area.x + t
            c.put(col, area.maxY, g.ascii ? "+" : "┬", .dim)
            let n = label.unicodeScalars.count
            let start = max(r.x, min(col - n / 2, r.maxX - n))
            guard start >= free else { continue }  // a label that would touch the one before gives way
            c.text(start, area.maxY + 1, g.fold(label), .dim)
            free = start + n + 1
        }
        let axisTitle = g.fold(v.key) + (v.axis == .log ? " (log scale)" : "")
        c.text(in: r, area.x + max(0, (area.w - axisTitle.count) / 2), area.maxY + 2, axisTitle, .bold)

        // The markers, rung by rung so a later rung takes a cell it shares; the selected run last, highlighted.
        let styles = Self.groupStyles
        let deepest = v.points.map(\.rungs.count).max() ?? 0
        func mark(_ p: SearchPlotView.Point, _ k: Int, _ style: Style) {
            guard let col = x.column(p.x), v.metric.scaled(p.rungs[k].figure).isFinite else { return }
            c.put(area.x + col, row(v.metric.scaled(p.rungs[k].figure)), rungGlyph(k, of: v, g), style, clip: area)
        }
        for k in 0..<deepest {
            for p in v.points where !p.selected && p.rungs.count > k { mark(p, k, styles[p.group % styles.count]) }
        }
        for p in v.points where p.selected { for k in p.rungs.indices { mark(p, k, .cursor) } }
    }

    /// The groups' colours, in the order the groups first appear.
    static let groupStyles: [Style] = [.series1, .series2, .markerZero, .level, .markerOuter, .bar]

    /// A run's marker at rung k: the rung's digit; a run without rungs is drawn once, at its last epoch.
    static func rungGlyph(_ k: Int, of v: SearchPlotView, _ g: Glyphs) -> Unicode.Scalar {
        guard !v.rungEpochs.isEmpty else { return g.ascii ? "o" : "●" }
        return k < 9 ? Unicode.Scalar(UInt8(ascii: "1") + UInt8(k)) : "+"
    }
}

/// `1 rung 1 (1 ep) · 2 rung 2 (3 ep) · 3 rung 3 (9 ep)   method: ■ bwn ■ twn`: what the markers and colours mean.
@discardableResult
private func drawPlotLegend(_ c: inout Canvas, _ r: Rect, _ v: SearchPlotView, _ g: Glyphs) -> Int {
    var x = r.x
    if v.rungEpochs.isEmpty {
        x = c.text(in: r, x, r.y, String(SweepRenderer.rungGlyph(0, of: v, g)), .bold)
        x = c.text(in: r, x, r.y, " a run at its last epoch", .dim)
    } else {
        for (k, e) in v.rungEpochs.enumerated() {
            if k > 0 { x = c.text(in: r, x, r.y, " \(g.dot) ", .dim) }
            x = c.text(in: r, x, r.y, String(SweepRenderer.rungGlyph(k, of: v, g)), .bold)
            x = c.text(in: r, x, r.y, " rung \(k + 1) (\(e) ep)", .dim)
        }
    }
    guard let key = v.groupKey else { return x }
    let swatch = g.ascii ? "#" : "■"
    let width = 3 + key.count + 1 + v.groups.reduce(0) { $0 + 3 + $1.count }
    guard x + width <= r.maxX else { return x }  // the colours' key whole, or not at all
    x = c.text(in: r, x, r.y, "   " + g.fold(key) + ":", .dim)
    for (i, group) in v.groups.enumerated() {
        x = c.text(in: r, x + 1, r.y, swatch, SweepRenderer.groupStyles[i % SweepRenderer.groupStyles.count])
        x = c.text(in: r, x + 1, r.y, g.fold(group), .normal)
    }
    return x
}

/// The selected run: its name, its values, its figure at each rung it reached and where it stands; parts that do
/// not fit whole are left off from the end.
private func drawSelectedRun(_ c: inout Canvas, _ r: Rect, _ board: SweepBoard, _ data: SearchPlotData, selected: Int,
                             metric: Metric, _ g: Glyphs) {
    guard board.rows.indices.contains(selected) else { return }
    let row = board.rows[selected]
    let decimals = metric.unit == .percent ? 1 : nil
    var parts: [(String, Style)] = [((g.ascii ? ">" : "▸") + " " + g.fold(row.name), .bold)]
    if let run = data.runs.first(where: { $0.row == selected }) {
        // A grid's run is named by its values already.
        for (k, value) in zip(data.keys, run.values) where !row.name.contains("\(k)=\(value)") {
            parts.append((g.fold("\(k)=\(value)"), .normal))
        }
        for (k, rung) in run.rungs.enumerated() {
            let at = data.rungEpochs.isEmpty ? "epoch \(rung.epoch)" : "rung \(k + 1)"
            parts.append(("\(at): " + metric.format(rung.figure, decimals: decimals), .accent))
        }
    } else {
        for (k, value) in zip(board.varying, row.values) where !row.name.contains("\(k)=\(value)") {
            parts.append((g.fold("\(k)=\(value)"), .normal))
        }
        parts.append(("no epoch finished yet", .dim))
    }
    parts.append((g.fold(row.rung ?? row.state.word), row.state.style))
    drawParts(&c, r, parts, separator: "  ")
}

/// Parts in a row with a separator, each drawn whole or not at all (so nothing is cut mid-word).
private func drawParts(_ c: inout Canvas, _ r: Rect, _ parts: [(String, Style)], separator: String) {
    var x = r.x
    for (i, (text, style)) in parts.enumerated() {
        let sep = i == 0 ? "" : separator
        guard x + sep.unicodeScalars.count + text.unicodeScalars.count <= r.maxX else { continue }
        x = c.text(in: r, x, r.y, sep, .dim)
        x = c.text(in: r, x, r.y, text, style)
    }
}

/// The y axis: the figures' range widened to whole steps of a round size (1, 2 or 5 times a power of ten), about
/// four of them, so the tick labels are round numbers.
struct SearchPlotScale {
    let lo: Double, hi: Double, step: Double

    init?(values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard let mn = finite.min(), let mx = finite.max(), let range = roundRange(mn, mx) else { return nil }
        lo = range.lo; hi = range.hi; step = range.step
    }

    var ticks: [Double] {
        let n = Int(((hi - lo) / step).rounded())
        return (0...n).map { lo + Double($0) * step }
    }

    func label(_ v: Double) -> String { fixed(v, step: step) }
}

/// The x axis of one option: each value's column (0 ..< width) and the ticks with their labels.
struct SearchPlotXAxis {
    let ticks: [(column: Int, label: String)]
    private let position: (String) -> Double?
    private let width: Int

    init(_ v: SearchPlotView, width: Int) {
        self.width = width
        let numbers = v.points.compactMap { SearchPlotView.number($0.x) }
        func col(_ t: Double) -> Int { Int((t * Double(width - 1)).rounded()) }
        switch v.axis {
        case .log:
            // Whole decades at both ends: ticks 1e-5 … 1e-1, every other one when the labels would not fit.
            let logs = numbers.map(log10)
            let l = (logs.min() ?? 0).rounded(.down)
            let h = max(l + 1, (logs.max() ?? 0).rounded(.up))
            let decades = Int(h - l)
            var every = 1
            while (decades / every + 1) * 6 > width && every < decades { every += 1 }
            ticks = stride(from: 0, through: decades, by: every).map { d in
                (col(Double(d) / (h - l)), decadeLabel(Int(l) + d))
            }
            position = { text in SearchPlotView.number(text).flatMap { $0 > 0 ? (log10($0) - l) / (h - l) : nil } }
        case .linear:
            // A range too wide for a Double (values from ±1e308) has no axis: nothing is placed.
            guard let range = roundRange(numbers.min() ?? 0, numbers.max() ?? 1) else {
                ticks = []; position = { _ in nil }
                return
            }
            let (l, h, s) = range
            let n = Int(((h - l) / s).rounded())
            ticks = (0...n).map { i in (col(Double(i) * s / (h - l)), fixed(l + Double(i) * s, step: s)) }
            position = { text in SearchPlotView.number(text).map { ($0 - l) / (h - l) } }
        case .categories(let values):
            // Each value in the middle of its share of the width.
            let n = max(1, values.count)
            func centre(_ i: Int) -> Int { min(width - 1, (2 * i + 1) * width / (2 * n)) }
            ticks = values.enumerated().map { (centre($0.offset), $0.element) }
            position = { text in values.firstIndex(of: text).map { Double(centre($0)) / Double(max(1, width - 1)) } }
        }
    }

    /// The column of a value, or nil for one the axis has no place for (a category not seen, 0 on a log axis).
    func column(_ value: String) -> Int? {
        guard let t = position(value), t.isFinite, t >= 0, t <= 1 else { return nil }
        return Int((t * Double(width - 1)).rounded())
    }
}

/// [mn, mx] widened to whole steps of a round size, about four of them (one either side of a single value); nil
/// when the range does not fit a Double.
private func roundRange(_ mn: Double, _ mx: Double) -> (lo: Double, hi: Double, step: Double)? {
    let s = niceStep(mx > mn ? (mx - mn) / 4 : max(abs(mx) / 10, 1e-3))
    var lo = (mn / s).rounded(.down) * s, hi = (mx / s).rounded(.up) * s
    if hi <= lo { lo -= s; hi += s }
    guard s.isFinite, s > 0, lo.isFinite, hi.isFinite, hi - lo <= 1000 * s else { return nil }
    return (lo, hi, s)
}

/// 1, 2 or 5 times a power of ten, at least `x`.
private func niceStep(_ x: Double) -> Double {
    let e = (log10(x)).rounded(.down), p = pow(10, e), f = x / p
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
}

/// A tick value with as many decimals as its step needs: 20, 0.5, 0.05.
private func fixed(_ v: Double, step: Double) -> String {
    let decimals = max(0, Int(-(log10(step)).rounded(.down)))
    return String(format: "%.\(decimals)f", abs(v) < step / 1e6 ? 0 : v)  // 0, never "-0" from rounding
}

/// 10^e as a tick says it: 1, 10, 100, 1000, else 1e-5, 1e4.
private func decadeLabel(_ e: Int) -> String { (0...3).contains(e) ? String(Int(pow(10, Double(e)))) : "1e\(e)" }
