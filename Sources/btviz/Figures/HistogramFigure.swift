import Records
import Explorer
import Foundation
import Quantizers

/// One layer's latent weights at one logged step, with what its quantizer does to them: the histogram's bars,
/// the transitions (named per method, as the explorer names them) and the levels with their share of weights.
struct HistogramFigure {
    struct Transition {
        var value: Double
        /// Signed name: "0", "−Δ", "+(a1+d1)", "−t1".
        var name: String
        /// 0 for the transition at zero, then 1, 2, ... by magnitude: one line style each.
        var kind: Int
        /// LQ-Nets: the 10th and 90th percentile of this transition over channels.
        var band: (lo: Double, hi: Double)?
        /// TTQ: the height of the jump at this transition.
        var jump: String?
    }

    struct Level { var value: Double; var count: Int; var share: Double; var name: String? }

    let layer: LayerRecord
    let record: StepRecord
    let header: RunHeader
    let transitions: [Transition]
    let levels: [Level]

    init(layer: LayerRecord, record: StepRecord, header: RunHeader) {
        self.layer = layer; self.record = record; self.header = header
        let method = QuantMethod(recorded: record.method)
        let marks = transitionMarks(layer, method: method, glyphs: Glyphs(ascii: false))
        let bands = layer.transitionBands ?? []
        let described = layer.fitDescription(method: record.method)
        // Named levels name the jumps into them (TTQ: from −Wn up to 0 at −Δ, from 0 up to +Wp at +Δ).
        let jumps = namedJumps(layer, marks, names: described.levels)
        transitions = marks.enumerated().map { i, m in
            let v = Double(m.value)
            let kind = m.style == .markerZero ? 0 : m.style == .markerInner ? 1 : 2
            let name = m.name == "0" ? "0" : m.name.replacingOccurrences(of: "±", with: v < 0 ? "−" : "+")
            let jump = i < jumps.count ? jumps[i].map { "jump " + $0.level + " = " + FigureFormat.number(Double($0.height)) } : nil
            let band = i < bands.count && bands[i].count == 2 ? (Double(bands[i][0]), Double(bands[i][1])) : nil
            return Transition(value: v, name: name, kind: kind, band: band, jump: jump)
        }
        let total = max(1, layer.levelCounts.reduce(0, +))
        let names = described.levels.flatMap { $0.count == layer.levels.count ? $0 : nil }
        levels = zip(layer.levels, layer.levelCounts).enumerated().map { i, lc in
            Level(value: Double(lc.0), count: lc.1, share: Double(lc.1) / Double(total),
                  name: names.flatMap { $0[i].isEmpty ? nil : $0[i] })
        }
    }

    var title: String {
        "\(FigureFormat.method(record.method)), λ = \(FigureFormat.lambda(record.lambda)) · \(layer.name) "
            + "(\(layer.shape.map(String.init).joined(separator: "×"))) · step \(record.step) of \(record.totalSteps)"
    }

    // MARK: CSV

    /// One table: a row per bin, then the transitions and the levels, told apart by `kind`.
    func csv() -> String {
        var rows = [CSV.row(["kind", "bin_lo", "bin_hi", "count", "value", "name", "share", "band_lo", "band_hi"])]
        let h = layer.histogram
        for (i, n) in h.counts.enumerated() {
            rows.append(CSV.row(["bin", CSV.num(h.edges[i]), CSV.num(h.edges[i + 1]), String(n), "", "", "", "", ""]))
        }
        for t in transitions {
            rows.append(CSV.row(["transition", "", "", "", CSV.num(Float(t.value)), t.name, "",
                                 CSV.num(t.band.map { Float($0.lo) }), CSV.num(t.band.map { Float($0.hi) })]))
        }
        for l in levels {
            rows.append(CSV.row(["level", "", "", String(l.count), CSV.num(Float(l.value)), l.name ?? "",
                                 String(format: "%.6g", l.share), "", ""]))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    // MARK: SVG

    static let width = 760.0, plotHeight = 290.0
    static let left = 84.0, right = width - 34
    static let labelSize = 11.0, levelRowHeight = 30.0
    static let barFill = "#c9d6e3", barStroke = "#7f98b2"
    /// One colour and one dash pattern per transition kind, so they stay apart in greyscale print.
    static let kindStyles: [(color: String, dash: String?)] = [("#d55e00", nil), ("#009e73", "7 3"), ("#7b3294", "2 2.5")]

    /// Where everything goes: label rows above (transitions) and below (levels) the plot decide its height.
    struct Layout {
        var x: LinearScale, y: LinearScale
        var plotTop: Double, baseline: Double, height: Double
        var transitions: [(row: Int, start: Double, mid: Double)]
        var levelText: [(value: String, share: String)]
        var levelX: [Double]
        var levels: [(row: Int, start: Double, mid: Double)]
    }

    func layout() -> Layout {
        let h = layer.histogram
        let lo = Double(h.edges.first ?? -1), hi = Double(h.edges.last ?? 1)
        // The axis spans the bars and every transition (and band), with a little room on both sides.
        let xs = [lo, hi] + transitions.flatMap { [$0.value] + ($0.band.map { [$0.lo, $0.hi] } ?? []) }
        let span = max((xs.max() ?? 1) - (xs.min() ?? 0), 1e-12)
        let x = LinearScale(domain: ((xs.min() ?? 0) - 0.02 * span, (xs.max() ?? 1) + 0.02 * span), range: (Self.left, Self.right))

        // Outermost transitions first, their labels running outward: inner labels then sit above them.
        let order = transitions.indices.sorted { abs(transitions[$0].value) > abs(transitions[$1].value) }
        let byOrder = placeLabels(order.map { i in
            let t = transitions[i]
            return RowLabel(x: x(t.value), text: transitionLabel(t), side: t.kind == 0 ? .centre : t.value < 0 ? .left : .right)
        }, size: Self.labelSize, maxRows: 4, left: 4, right: Self.width - 4, lines: true)
        var tPlaced = byOrder
        for (k, i) in order.enumerated() { tPlaced[i] = byOrder[k] }
        let plotTop = 48 + Double(subtitle.count) * 14 + Double((tPlaced.map(\.row).max() ?? -1) + 1) * 14
        let baseline = plotTop + Self.plotHeight
        let y = LinearScale(domain: (0, Double(max(h.counts.max() ?? 1, 1)) * 1.04), range: (baseline, plotTop)).nice(5)

        // A level outside the axis (TTQ's ±Wp, ±Wn lie far beyond the latent weights) is pinned to the nearer end,
        // its label marked ← or →.
        let levelX = levels.map { min(max(x($0.value), Self.left), Self.right) }
        let levelText = levels.map { l -> (value: String, share: String) in
            var v = (l.name.map { $0 + " = " } ?? "") + (l.value == 0 ? "0" : FigureFormat.signed(l.value))
            if l.value < x.lo { v = "← " + v } else if l.value > x.hi { v += " →" }
            return (v, FigureFormat.percent(l.share))
        }
        // Two-line labels (value over share) are placed by the wider line.
        let widest = levelText.map { $0.value.count >= $0.share.count ? $0.value : $0.share }
        let lPlaced = placeLabels(zip(levelX, widest).map { RowLabel(x: $0, text: $1) }, size: Self.labelSize, maxRows: 3,
                                  left: Self.left + 4, right: Self.width - 4, lines: false)
        let levelRows = (lPlaced.map(\.row).max() ?? -1) + 1
        let height = baseline + 28 + Double(levelRows) * Self.levelRowHeight + 28
        return Layout(x: x, y: y, plotTop: plotTop, baseline: baseline, height: height, transitions: tPlaced,
                      levelText: levelText, levelX: levelX, levels: lPlaced)
    }

    func svg() -> String {
        let h = layer.histogram, L = layout()
        let x = L.x, y = L.y
        var svg = SVG(width: Self.width, height: L.height)
        svg.text(title, x: Self.left, y: 24, size: 15, bold: true, [("class", "title")])
        for (i, line) in subtitle.enumerated() {
            svg.text(line, x: Self.left, y: 42 + Double(i) * 14, size: 11, fill: "#555", [("class", "subtitle")])
        }
        drawAxes(&svg, L)

        svg.group([("class", "bars")]) { g in
            for (i, n) in h.counts.enumerated() {
                let x0 = x(Double(h.edges[i])), x1 = x(Double(h.edges[i + 1]))
                g.rect(x: x0, y: y(Double(n)), width: x1 - x0, height: L.baseline - y(Double(n)), fill: Self.barFill,
                       [("stroke", Self.barStroke), ("stroke-width", "0.4"), ("class", "bar")])
            }
        }
        svg.group([("class", "transitions")]) { g in
            for (t, p) in zip(transitions, L.transitions) {
                let style = Self.kindStyles[min(t.kind, Self.kindStyles.count - 1)]
                if let b = t.band {
                    g.rect(x: x(min(b.lo, b.hi)), y: L.plotTop, width: abs(x(b.hi) - x(b.lo)), height: L.baseline - L.plotTop,
                           fill: style.color, [("fill-opacity", "0.14"), ("class", "band")])
                }
                let labelY = L.plotTop - 8 - Double(p.row) * 14
                g.line(x(t.value), L.baseline, x(t.value), labelY + 3, stroke: style.color, width: 1.6, dash: style.dash,
                       [("class", "transition"), ("data-value", String(t.value))])
                // A white halo keeps a label readable where another transition's line crosses it.
                g.text(transitionLabel(t), x: p.start, y: labelY, size: Self.labelSize, fill: style.color,
                       [("class", "transition-label"), ("stroke", "white"), ("stroke-width", "3"), ("paint-order", "stroke")])
            }
        }
        drawLevels(&svg, L)
        return svg.render(title: title)
    }

    /// What the marks mean, one line each where a line would not fit the width.
    private var subtitle: [String] {
        let weights = layer.histogram.counts.reduce(0, +)
        let first = "\(header.modelTitle) on \(header.dataset) · \(weights) latent weights"
        if transitions.isEmpty { return [first + " · full precision: no transitions, no levels"] }
        var lines = [first + " · lines: transitions · ▲ levels, with the share of weights at each"]
        if transitions.contains(where: { $0.band != nil }) {
            lines.append("Per-channel quantizer: lines at the channel means, shaded from the 10th to the 90th percentile of the channels")
        }
        return lines
    }

    private func transitionLabel(_ t: Transition) -> String {
        let value = t.name == "0" ? "0" : t.name + " = " + FigureFormat.signed(t.value)
        return t.jump.map { value + ", " + $0 } ?? value
    }

    private func drawAxes(_ svg: inout SVG, _ L: Layout) {
        let x = L.x, y = L.y, base = L.baseline
        svg.group([("class", "axes"), ("font-size", "11")]) { g in
            // Counts are whole: a tiny histogram's 0.2-steps would label fractions of a weight.
            for v in y.ticks(5).values where v == v.rounded() {
                if v > 0 { g.line(Self.left, y(v), Self.right, y(v), stroke: "#e4e4e4", width: 0.8) }
                g.line(Self.left - 4, y(v), Self.left, y(v), stroke: "#333")
                g.text(FigureFormat.fixed(v, decimals: 0), x: Self.left - 7, y: y(v) + 4, anchor: .end, fill: "#333", [("class", "y-tick")])
            }
            let (xt, xd) = x.ticks(8)
            for v in xt {
                g.line(x(v), base, x(v), base + 4, stroke: "#333")
                g.text(FigureFormat.fixed(v, decimals: xd), x: x(v), y: base + 20, anchor: .middle, fill: "#333", [("class", "x-tick")])
            }
            g.line(Self.left, base, Self.right, base, stroke: "#333")
            g.line(Self.left, base, Self.left, y(y.hi), stroke: "#333")
            g.text("weights per bin", x: 36, y: (base + y(y.hi)) / 2, size: 12, anchor: .middle, rotate: -90)
            g.text("latent weight w", x: (Self.left + Self.right) / 2, y: L.height - 12, size: 12, anchor: .middle)
        }
    }

    /// ▲ on the axis at each level; under the tick labels each level's value over its share of the weights.
    private func drawLevels(_ svg: inout SVG, _ L: Layout) {
        guard !levels.isEmpty else { return }
        let base = L.baseline, top = base + 40
        svg.group([("class", "levels")]) { g in
            g.text("levels", x: Self.left - 7, y: top, size: Self.labelSize, anchor: .end, fill: "#555", [("font-style", "italic")])
            g.text("share", x: Self.left - 7, y: top + 13, size: Self.labelSize, anchor: .end, fill: "#555", [("font-style", "italic")])
            for (i, l) in levels.enumerated() {
                let px = L.levelX[i]
                if L.x.contains(l.value) {
                    g.polygon([(px, base + 1), (px - 5, base + 9), (px + 5, base + 9)], fill: "#222", [("class", "level-mark")])
                } else {
                    let d = l.value < L.x.lo ? -1.0 : 1.0  // pointing off the axis, where the level lies
                    g.polygon([(px + 8 * d, base + 5), (px, base + 1), (px, base + 9)], fill: "#222", [("class", "level-mark")])
                }
                let ly = top + Double(L.levels[i].row) * Self.levelRowHeight
                let centre = L.levels[i].mid
                g.text(L.levelText[i].value, x: centre, y: ly, size: Self.labelSize, anchor: .middle, fill: "#222",
                       [("class", "level"), ("data-value", String(l.value))])
                g.text(L.levelText[i].share, x: centre, y: ly + 13, size: Self.labelSize, anchor: .middle, fill: "#555",
                       [("class", "level-share")])
            }
        }
    }
}
