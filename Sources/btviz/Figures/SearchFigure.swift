import Foundation
import Records
import Sweeps

/// One or more random searches as a figure: the search's metric against one parameter (a log axis when its
/// distribution is log), each run drawn at every rung it reached (a faint line up through its rungs, the marker
/// saying which rung: the last rung filled), coloured by a group (`--by method`); below, the parallel coordinates of
/// every sampled parameter and the metric, one line per run.
struct SearchFigure {
    struct Run {
        var group: String
        var name: String
        /// Each option's value as text (sampled and constant).
        var values: [String: String]
        /// The figure after each rung it reached, in rung order, with the rung's epoch.
        var rungs: [(epoch: Int, figure: Double)]
        /// How many rungs the search has (1 without successive halving).
        var rungCount: Int
    }

    let runs: [Run]
    let x: String
    /// The parameters drawn on the parallel coordinates, in spec order.
    let keys: [String]
    let logKeys: Set<String>
    let metric: Metric
    let metricName: String
    let title: String

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    var groups: [String] { var seen = Set<String>(); return runs.map(\.group).filter { seen.insert($0).inserted } }
    func color(_ group: String) -> String { Self.palette[(groups.firstIndex(of: group) ?? 0) % Self.palette.count] }

    /// A parameter's axis: log10 of a log distribution's values, the value of another number, or a category's index.
    func axis(_ key: String, span: (Double, Double)) -> (position: (String) -> Double?, ticks: [(Double, String)]) {
        let texts = runs.compactMap { $0.values[key] }
        let numbers = texts.compactMap(Double.init)
        if numbers.count == texts.count, !numbers.isEmpty {
            let log = logKeys.contains(key) && numbers.allSatisfy { $0 > 0 }
            let f: (Double) -> Double = log ? { log10($0) } : { $0 }
            let scale = LinearScale(domain: (numbers.map(f).min()!, numbers.map(f).max()!), range: span).padded(0.04)
            var ticks: [(Double, String)] = []
            if log {
                for e in Int(floor(scale.lo))...Int(ceil(scale.hi)) where scale.contains(Double(e)) {
                    ticks.append((scale(Double(e)), FigureFormat.number(pow(10, Double(e)), trim: true)))
                }
            } else {
                let t = scale.ticks(5)
                ticks = t.values.map { (scale($0), FigureFormat.fixed($0, decimals: t.decimals)) }
            }
            return ({ Double($0).map { scale(f($0)) } }, ticks)
        }
        var seen = Set<String>()
        let categories = texts.filter { seen.insert($0).inserted }.sorted()
        let scale = LinearScale(domain: (-0.5, Double(categories.count) - 0.5), range: span)
        return ({ categories.firstIndex(of: $0).map { scale(Double($0)) } },
                categories.enumerated().map { (scale(Double($0.offset)), $0.element) })
    }

    func svg() -> String {
        let width = 960.0, height = 760.0
        var svg = SVG(width: width, height: height)
        svg.text(title, x: width / 2, y: 24, size: 14, anchor: .middle, bold: true)
        let left = 80.0, right = width - 190, top = 56.0, bottom = 380.0
        let figures = runs.flatMap { $0.rungs.map { metric.scaled($0.figure) } }
        let y = LinearScale(domain: (figures.min() ?? 0, figures.max() ?? 1), range: (bottom, top)).padded(0.05).nice()
        let xAxis = axis(x, span: (left, right))

        // The metric against x: frame, ticks, then each run's rungs.
        svg.group([("class", "metric-vs-x")]) { g in
            g.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "none", [("stroke", "#999")])
            let t = y.ticks(5)
            for v in t.values {
                g.line(left, y(v), right, y(v), stroke: "#eee")
                g.text(FigureFormat.fixed(v, decimals: t.decimals), x: left - 6, y: y(v) + 4, size: 10, anchor: .end)
            }
            for (px, label) in xAxis.ticks {
                g.line(px, bottom, px, bottom + 4, stroke: "#666")
                g.text(label, x: px, y: bottom + 16, size: 10, anchor: .middle)
            }
            g.text("\(x)\(logKeys.contains(x) ? " (log scale)" : "")", x: (left + right) / 2, y: bottom + 34, size: 12, anchor: .middle)
            g.text("test \(metric.titleWithUnit)", x: 20, y: (top + bottom) / 2, size: 12, anchor: .middle, rotate: -90)
            for r in runs {
                guard let v = r.values[x], let px = xAxis.position(v) else { continue }
                let c = color(r.group)
                if r.rungs.count > 1 {
                    g.polyline(r.rungs.map { (px, y(metric.scaled($0.figure))) }, stroke: c, width: 1, [("opacity", "0.35")])
                }
                for (k, rung) in r.rungs.enumerated() {
                    let last = k == r.rungCount - 1
                    g.circle(px, y(metric.scaled(rung.figure)), r: 2.5 + 1.5 * Double(k), fill: last ? c : "white", stroke: c,
                             [("class", "rung"), ("data-run", r.name), ("data-rung", String(k + 1)), ("data-epoch", String(rung.epoch)),
                              ("data-figure", String(rung.figure)), ("stroke-width", "1.5")])
                }
            }
        }
        // Legend: the groups' colours, then what the markers mean.
        svg.group([("class", "legend")]) { g in
            var ly = top + 6
            for group in groups {
                g.rect(x: right + 20, y: ly, width: 12, height: 12, fill: color(group))
                g.text(group, x: right + 38, y: ly + 10, size: 11)
                ly += 18
            }
            ly += 8
            let rungCount = runs.map(\.rungCount).max() ?? 1
            let epochs = runs.max { $0.rungs.count < $1.rungs.count }?.rungs.map(\.epoch) ?? []
            for k in 0..<rungCount {
                g.circle(right + 26, ly + 6, r: 2.5 + 1.5 * Double(k), fill: k == rungCount - 1 ? "#555" : "white", stroke: "#555")
                let epoch = k < epochs.count ? ", epoch \(epochs[k])" : ""
                g.text("rung \(k + 1)\(epoch)", x: right + 38, y: ly + 10, size: 11)
                ly += 20
            }
            g.text("one run: its rungs joined", x: right + 20, y: ly + 10, size: 10, fill: "#555")
        }
        // Parallel coordinates: an axis per sampled parameter, then the metric at each run's last rung.
        let pTop = 460.0, pBottom = height - 50
        let axes = keys + ["test \(metric.title)"]
        let step = axes.count > 1 ? (right - left) / Double(axes.count - 1) : 0
        let metricScale = LinearScale(domain: (y.lo, y.hi), range: (pBottom, pTop))
        svg.text("every sampled parameter, one line per run (its last rung)", x: left, y: pTop - 26, size: 12, bold: true)
        svg.group([("class", "parallel-coordinates")]) { g in
            var positions: [String: (String) -> Double?] = [:]
            for (i, key) in axes.enumerated() {
                let ax = left + Double(i) * step
                g.line(ax, pTop, ax, pBottom, stroke: "#666")
                g.text(key + (logKeys.contains(key) ? " (log)" : ""), x: ax, y: pTop - 8, size: 11, anchor: .middle)
                if i < keys.count {
                    let a = axis(key, span: (pBottom, pTop))
                    positions[key] = a.position
                    for (py, label) in a.ticks { g.text(label, x: ax - 4, y: py + 3, size: 9, anchor: .end, fill: "#555") }
                } else {
                    for v in metricScale.ticks(4).values {
                        g.text(FigureFormat.fixed(v, decimals: metricScale.ticks(4).decimals), x: ax + 4, y: metricScale(v) + 3, size: 9, fill: "#555")
                    }
                }
            }
            for r in runs {
                guard let last = r.rungs.last else { continue }
                var points: [(Double, Double)] = []
                for (i, key) in keys.enumerated() {
                    guard let v = r.values[key], let p = positions[key]?(v) else { continue }
                    points.append((left + Double(i) * step, p))
                }
                points.append((left + Double(keys.count) * step, metricScale(metric.scaled(last.figure))))
                let complete = r.rungs.count == r.rungCount
                g.polyline(points, stroke: color(r.group), width: complete ? 2 : 1,
                           dash: complete ? nil : "3 3", [("class", "run"), ("data-run", r.name), ("opacity", complete ? "0.9" : "0.5")])
            }
        }
        svg.text("solid: trained to the last rung; dashed: stopped earlier. \(runs.count) runs; test \(metric.title) on the test split, stored batch-norm statistics.",
                 x: left, y: height - 18, size: 10, fill: "#555")
        return svg.render(title: title)
    }

    /// One row per run and rung: group, run, each key's value, rung, epoch, figure.
    func csv() -> String {
        var rows = [CSV.row(["group", "run"] + keys + ["rung", "epoch", metricName])]
        for r in runs {
            for (k, rung) in r.rungs.enumerated() {
                rows.append(CSV.row([r.group, r.name] + keys.map { r.values[$0] ?? "" } + [String(k + 1), String(rung.epoch), String(rung.figure)]))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }
}
