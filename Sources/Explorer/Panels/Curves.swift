import Quantizers
import Training

/// Vertical marks where the method or λ changed.
func changeMarks(_ model: RunModel, _ g: Glyphs) -> [PlotMark] {
    model.changeEvents.map { e in
        let to = e.to ?? ""
        if e.kind == "method" {
            return PlotMark(x: Float(e.step), label: QuantMethod(loose: to)?.label ?? to)
        }
        return PlotMark(x: Float(e.step), label: g.lambda + (Float(to).map { Fmt.trim($0) } ?? to))
    }
}

func stepRange(_ model: RunModel) -> (Float, Float) {
    let a = Float(model.points.first?.step ?? 0), b = Float(model.points.last?.step ?? 1)
    return (a, max(b, a + 1))
}

/// Task loss (left axis) and λ·R (right axis, its own scale: it is usually far smaller).
func drawLoss(_ c: inout Canvas, _ r: Rect, model: RunModel, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 4 else { return }
    let pts = model.points
    let at = cursorStep.flatMap { s in pts.last { $0.step <= s } } ?? pts.last
    drawTitle(&c, r, [("loss", .title),
                      ("task " + (at.map { Fmt.sig($0.taskLoss) } ?? "-"), .series1),
                      (g.fold("λ·R ") + (at.map { Fmt.sig($0.lambdaR) } ?? "-"), .series2)], g)
    guard !pts.isEmpty else { return }
    let xs = pts.map { Float($0.step) }
    let task = pts.map(\.taskLoss), reg = pts.map(\.lambdaR)
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1),
             series: [PlotSeries(xs: xs, ys: task, style: .series1),
                      PlotSeries(xs: xs, ys: reg, style: .series2, rightAxis: true)],
             xRange: stepRange(model), left: autoRange(task), right: autoRange(reg, includeZero: true),
             format: { Fmt.sig($0, 2) }, rightFormat: { Fmt.sig($0, 2) },
             marks: changeMarks(model, g), cursor: cursorStep.map(Float.init), g)
}

/// The objective's metric: training batches from step records, the test split from epoch records.
func drawMetric(_ c: inout Canvas, _ r: Rect, model: RunModel, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 4 else { return }
    let pts = model.points
    let at = cursorStep.flatMap { s in pts.last { $0.step <= s } } ?? pts.last
    let test = model.epochs.filter { cursorStep == nil || $0.step <= cursorStep! }.last
    let isAccuracy = model.metricName == "accuracy"
    let show: (Float) -> String = isAccuracy ? { Fmt.pct($0) } : { Fmt.sig($0, 4) }
    drawTitle(&c, r, [(model.metricName == "accuracy" ? "accuracy" : model.metricName.uppercased(), .title),
                      ("train " + (at.map { show($0.batchMetric) } ?? "-"), .series1),
                      ("test " + (test.map { show($0.testMetric) } ?? "-"), .series2)], g)
    guard !pts.isEmpty else { return }
    let xs = pts.map { Float($0.step) }, acc = pts.map(\.batchMetric)
    let tx = model.epochs.map { Float($0.step) }, ty = model.epochs.map(\.testMetric)
    var (lo, hi) = autoRange(acc + ty)
    if isAccuracy { lo = max(0, lo); hi = min(1, hi) }
    if hi <= lo { (lo, hi) = isAccuracy ? (0, 1) : (lo - 1, lo + 1) }
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1),
             series: [PlotSeries(xs: xs, ys: acc, style: .series1),
                      PlotSeries(xs: tx, ys: ty, style: .series2)],
             xRange: stepRange(model), left: (lo, hi), right: nil,
             format: show, rightFormat: { _ in "" },
             marks: changeMarks(model, g), cursor: cursorStep.map(Float.init), g)
}
