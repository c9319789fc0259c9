import Records
import Foundation
import Quantizers

/// A run over time: task loss and λ·R from the step records (λ·R on its own right axis: it is orders of magnitude
/// smaller), the epochs' train and test metric below, and every method and λ change as a labelled vertical mark.
struct CurvesFigure {
    let header: RunHeader
    let steps: [StepRecord]
    let epochs: [EpochRecord]
    /// Method and λ changes only: the events that change what the curves mean.
    let changes: [EventRecord]

    init(records: [RunRecord], header: RunHeader) {
        self.header = header
        steps = records.compactMap { if case .step(let s) = $0 { s } else { nil } }
        epochs = records.compactMap { if case .epoch(let e) = $0 { e } else { nil } }
        changes = records.compactMap { if case .event(let e) = $0, e.kind == .method || e.kind == .lambda { e } else { nil } }
    }

    /// The epochs' metric (a fraction is drawn in %).
    var metric: Metric { Metric.printing(epochs.last?.metric ?? steps.last?.metric ?? Metric.accuracy.name) }

    var title: String {
        guard let first = steps.first else { return "\(header.modelTitle) on \(header.dataset): training curves" }
        return "\(FigureFormat.method(first.method)), λ = \(FigureFormat.lambda(first.lambda))\(changes.isEmpty ? "" : " at the start") · "
            + "\(header.modelTitle) on \(header.dataset) · training curves"
    }

    static func eventLabel(_ e: EventRecord) -> String {
        func method(_ s: String?) -> String { s.map(FigureFormat.method) ?? "?" }
        func lambda(_ s: String?) -> String { EventRecord.lambdaValue(s).map(FigureFormat.lambda) ?? s ?? "?" }
        return e.kind == .method ? method(e.from) + " → " + method(e.to) : "λ " + lambda(e.from) + " → " + lambda(e.to)
    }

    // MARK: CSV

    /// Step rows (task loss, λ·R), then epoch rows (train and test metric), then the change events.
    func csv() -> String {
        var rows = [CSV.row(["kind", "step", "epoch", "task_loss", "lambda_r", "metric", "train_metric", "test_metric",
                             "event", "from", "to"])]
        for s in steps {
            rows.append(CSV.row(["step", String(s.step), String(s.epoch), CSV.num(s.taskLoss), CSV.num(s.lambda * s.regLoss),
                                 "", "", "", "", "", ""]))
        }
        for e in epochs {
            rows.append(CSV.row(["epoch", String(e.step), String(e.epoch), "", "", e.metric, CSV.num(e.trainMetric),
                                 CSV.num(e.testMetric), "", "", ""]))
        }
        for e in changes {
            rows.append(CSV.row(["event", String(e.step), String(e.epoch), "", "", "", "", "", e.kind.rawValue, e.from ?? "", e.to ?? ""]))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    // MARK: SVG

    /// A curve and how it is told apart without colour: its dash pattern and its marker.
    struct Series {
        enum Marker { case circle, square, triangle }
        var name: String, color: String, dash: String?, marker: Marker
        var points: [(x: Double, y: Double)]
        var className: String
    }

    /// One label for changes close together: each kind from its first value to its last, and how many and where.
    static func clusterLabel(_ events: [EventRecord]) -> String {
        let steps = Set(events.map(\.step)).sorted()
        guard steps.count > 1 else { return events.map(eventLabel).joined(separator: ", ") }
        var parts: [String] = []
        for kind in [EventKind.method, .lambda] {
            let ofKind = events.filter { $0.kind == kind }
            guard let first = ofKind.first, let last = ofKind.last else { continue }
            var merged = first
            merged.to = last.to
            parts.append(eventLabel(merged))
        }
        return parts.joined(separator: ", ") + " (\(events.count) changes, steps \(steps.first!)–\(steps.last!))"
    }

    static let width = 760.0, height = 640.0
    static let left = 84.0, right = width - 84
    /// At most this many markers per series (every n-th point of a long run), so they stay apart.
    static let maxMarkers = 25

    func svg() -> String {
        var svg = SVG(width: Self.width, height: Self.height)
        let lastStep = (steps.map(\.step) + epochs.map(\.step) + changes.map(\.step)).max() ?? 1
        let x = LinearScale(domain: (0, Double(max(lastStep, 1))), range: (Self.left, Self.right))

        // Changes at one step share a label ("TTQ → BT, λ 3e−4 → 0.001"): their marks coincide. Steps closer than a
        // label's width share one too ("λ 0 → 0.1 (7 changes, steps 130–162)"), or a burst of + presses would pile up.
        let changeSteps = changes.map(\.step).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        var clusters: [[Int]] = []
        for step in changeSteps {
            if let last = clusters.last?.last, x(Double(step)) - x(Double(last)) < 90 { clusters[clusters.count - 1].append(step) }
            else { clusters.append([step]) }
        }
        let eventLabels = clusters.map { steps in
            RowLabel(x: x(Double(steps[0])), text: Self.clusterLabel(changes.filter { steps.contains($0.step) }))
        }
        let placed = placeLabels(eventLabels, size: 11, maxRows: 4, left: 4, right: Self.width - 4, lines: true)
        let rows = (placed.map(\.row).max() ?? -1) + 1
        let top1 = 86 + Double(rows) * 14, bottom1 = top1 + 200
        let top2 = bottom1 + 62, bottom2 = Self.height - 52

        svg.text(title, x: Self.left, y: 24, size: 15, bold: true, [("class", "title")])
        svg.text(subtitle, x: Self.left, y: 42, size: 11, fill: "#555", [("class", "subtitle")])

        let task = Series(name: "task loss", color: "#0072b2", dash: nil, marker: .circle,
                          points: steps.map { (Double($0.step), Double($0.taskLoss)) }, className: "task-loss")
        let reg = Series(name: "λ·R (right axis)", color: "#d55e00", dash: "7 4", marker: .triangle,
                         points: steps.map { (Double($0.step), Double($0.lambda * $0.regLoss)) }, className: "lambda-r")
        lossPanel(&svg, x: x, top: top1, bottom: bottom1, task: task, reg: reg)
        metricPanel(&svg, x: x, top: top2, bottom: bottom2)

        svg.group([("class", "events")]) { g in
            for (i, cluster) in clusters.enumerated() {
                let labelY = top1 - 8 - Double(placed[i].row) * 14
                for step in cluster {
                    let ex = x(Double(step))
                    for e in changes where e.step == step {
                        for (a, b) in [(labelY + 3, bottom1), (top2, bottom2)] {
                            g.line(ex, a, ex, b, stroke: "#444", width: 1.2, dash: "5 2 1 2",
                                   [("class", "event"), ("data-kind", e.kind.rawValue), ("data-step", String(e.step))])
                        }
                    }
                }
                g.text(eventLabels[i].text, x: placed[i].start, y: labelY, size: 11, fill: "#222",
                       [("class", "event-label"), ("stroke", "white"), ("stroke-width", "3"), ("paint-order", "stroke")])
            }
        }
        svg.text("step", x: (Self.left + Self.right) / 2, y: Self.height - 12, size: 12, anchor: .middle)
        return svg.render(title: title)
    }

    private var subtitle: String {
        var s = "\(steps.count) step records, \(epochs.count) epoch\(epochs.count == 1 ? "" : "s")"
        if !changes.isEmpty { s += " · dash-dot lines: method and λ changes" }
        if steps.allSatisfy({ $0.lambda == 0 || $0.regLoss == 0 }) { s += " · λ·R is 0 throughout" }
        return s
    }

    private func lossPanel(_ svg: inout SVG, x: LinearScale, top: Double, bottom: Double, task: Series, reg: Series) {
        let finite = task.points.map(\.y).filter(\.isFinite)
        let y = LinearScale(domain: (finite.min() ?? 0, finite.max() ?? 1), range: (bottom, top)).padded(0.05).nice(5)
        let regValues = reg.points.map(\.y).filter(\.isFinite)
        let regMax = regValues.max() ?? 0
        let yr = LinearScale(domain: (0, regMax > 0 ? regMax * 1.05 : 1), range: (bottom, top)).nice(5)
        panelFrame(&svg, x: x, y: y, top: top, bottom: bottom, yTitle: "task loss")
        rightAxis(&svg, y: yr, top: top, bottom: bottom, color: reg.color, title: "λ·R = λ × reg_loss")
        svg.group([("class", "loss")]) { g in
            draw(&g, task, x: x, y: y)
            draw(&g, reg, x: x, y: yr)
        }
        legend(&svg, [task, reg], y: 74, title: "loss")  // above the change labels, which sit right over the panel
    }

    private func metricPanel(_ svg: inout SVG, x: LinearScale, top: Double, bottom: Double) {
        let pct = metric.unit == .percent
        func v(_ m: Float) -> Double { metric.scaled(Double(m)) }
        let train = Series(name: "train", color: "#009e73", dash: nil, marker: .circle,
                           points: epochs.map { (Double($0.step), v($0.trainMetric)) }, className: "train-metric")
        let test = Series(name: "test", color: "#7b3294", dash: "7 4", marker: .square,
                          points: epochs.map { (Double($0.step), v($0.testMetric)) }, className: "test-metric")
        let all = (train.points + test.points).map(\.y).filter(\.isFinite)
        var y = LinearScale(domain: (all.min() ?? 0, all.max() ?? (pct ? 100 : 1)), range: (bottom, top)).padded(0.05).nice(5)
        if pct { y = LinearScale(domain: (max(0, y.lo), min(100, y.hi)), range: (bottom, top)) }
        let name = metric.titleWithUnit
        panelFrame(&svg, x: x, y: y, top: top, bottom: bottom, yTitle: name)
        if epochs.isEmpty {
            svg.text("no epoch finished yet", x: (Self.left + Self.right) / 2, y: (top + bottom) / 2, size: 12,
                     anchor: .middle, fill: "#777", [("class", "empty-note")])
        }
        svg.group([("class", "metric")]) { g in
            draw(&g, train, x: x, y: y)
            draw(&g, test, x: x, y: y)
        }
        legend(&svg, [train, test], y: top - 12, title: name + ", per epoch")
    }

    /// Grid, left axis with its ticks and title, and the step ticks below.
    private func panelFrame(_ svg: inout SVG, x: LinearScale, y: LinearScale, top: Double, bottom: Double, yTitle: String) {
        svg.group([("class", "axes"), ("font-size", "11")]) { g in
            let (yt, yd) = y.ticks(5)
            for v in yt {
                g.line(Self.left, y(v), Self.right, y(v), stroke: "#e4e4e4", width: 0.8)
                g.text(FigureFormat.fixed(v, decimals: yd), x: Self.left - 7, y: y(v) + 4, anchor: .end, fill: "#333", [("class", "y-tick")])
            }
            let (xt, _) = x.ticks(8)
            for v in xt where v == v.rounded() {
                g.line(x(v), bottom, x(v), bottom + 4, stroke: "#333")
                g.text(FigureFormat.fixed(v, decimals: 0), x: x(v), y: bottom + 17, anchor: .middle, fill: "#333", [("class", "x-tick")])
            }
            g.element("rect", [("x", SVG.num(Self.left)), ("y", SVG.num(top)), ("width", SVG.num(Self.right - Self.left)),
                               ("height", SVG.num(bottom - top)), ("fill", "none"), ("stroke", "#333")])
            g.text(yTitle, x: 36, y: (top + bottom) / 2, size: 12, anchor: .middle, rotate: -90)
        }
    }

    private func rightAxis(_ svg: inout SVG, y: LinearScale, top: Double, bottom: Double, color: String, title: String) {
        svg.group([("class", "right-axis"), ("font-size", "11")]) { g in
            let (yt, yd) = y.ticks(5)
            // Small values read better as powers of ten than as a row of zeros.
            let tiny = (yt.map(abs).max() ?? 0) < 1e-3
            for v in yt {
                g.line(Self.right, y(v), Self.right + 4, y(v), stroke: color)
                g.text(tiny ? FigureFormat.number(v, digits: 2) : FigureFormat.fixed(v, decimals: yd), x: Self.right + 7, y: y(v) + 4,
                       fill: color, [("class", "y2-tick")])
            }
            g.text(title, x: Self.width - 14, y: (top + bottom) / 2, size: 12, anchor: .middle, fill: color, rotate: 90)
        }
    }

    private func draw(_ g: inout SVG, _ s: Series, x: LinearScale, y: LinearScale) {
        let ps = s.points.filter { $0.y.isFinite }.map { (x($0.x), y($0.y)) }
        g.polyline(ps, stroke: s.color, width: 1.8, dash: s.dash, [("class", s.className)])
        let every = (ps.count + Self.maxMarkers - 1) / Self.maxMarkers
        for p in stride(from: 0, to: ps.count, by: max(every, 1)).map({ ps[$0] }) {
            marker(&g, s.marker, at: p, color: s.color, className: s.className + "-point")
        }
    }

    private func marker(_ g: inout SVG, _ m: Series.Marker, at p: (Double, Double), color: String, className: String) {
        let attrs: [SVG.Attr] = [("class", className)]
        switch m {
        case .circle: g.circle(p.0, p.1, r: 3.2, fill: color, attrs)
        case .square: g.rect(x: p.0 - 3.2, y: p.1 - 3.2, width: 6.4, height: 6.4, fill: "white", [("stroke", color), ("stroke-width", "1.6")] + attrs)
        case .triangle: g.polygon([(p.0, p.1 - 4), (p.0 - 3.8, p.1 + 3), (p.0 + 3.8, p.1 + 3)], fill: color, attrs)
        }
    }

    /// The panel's name at the left and a sample of each series (its dash and marker) at the right, above the panel.
    private func legend(_ svg: inout SVG, _ series: [Series], y: Double, title: String) {
        svg.group([("class", "legend")]) { g in
            g.text(title, x: Self.left, y: y, size: 12, bold: true)
            let widths = series.map { 34 + textWidth($0.name, size: 11) + 14 }
            var lx = Self.right - widths.reduce(0, +)
            for (s, w) in zip(series, widths) {
                g.line(lx, y - 4, lx + 26, y - 4, stroke: s.color, width: 1.8, dash: s.dash)
                marker(&g, s.marker, at: (lx + 13, y - 4), color: s.color, className: "legend-mark")
                g.text(s.name, x: lx + 32, y: y, size: 11, fill: "#222", [("class", "legend-label")])
                lx += w
            }
        }
    }
}
