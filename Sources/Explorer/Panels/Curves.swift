#if canImport(Glibc)
import Glibc
#endif
import Quantizers
import Records

/// Vertical marks where the method or λ changed.
func changeMarks(_ model: RunModel, _ g: Glyphs, prefix: String = "") -> [PlotMark] {
    model.changeEvents.map { e in
        func show(_ v: String?) -> String {
            let v = v ?? ""
            return e.kind == .method ? QuantMethod.label(recorded: v) : g.lambda + (EventRecord.lambdaValue(v).map { Fmt.trim($0) } ?? v)
        }
        return PlotMark(x: Float(e.step), kind: e.kind, from: show(e.from), to: show(e.to), prefix: prefix)
    }
}

func stepRange(_ model: RunModel) -> (Float, Float) {
    let a = Float(model.points.first?.step ?? 0), b = Float(model.points.last?.step ?? 1)
    return (a, max(b, a + 1))
}

/// What a curves panel draws: its title items and its plot, built from one run or from two (replay A B). The
/// panel draws it and hit-testing maps a click through it, so a click lands on the step the drawing put there.
struct CurvesView {
    var title: [(long: String, short: String, style: Style)]
    var plot: PlotView?
}

func drawCurves(_ c: inout Canvas, _ r: Rect, _ v: CurvesView, _ g: Glyphs) {
    guard r.h >= 5 else { return }
    drawTitleFitting(&c, r, v.title, g)
    guard let p = v.plot else { return }
    drawPlot(&c, curvesPlot(r), p, g)
}

/// The loss and metric panels of one run, or of runs A and B side by side.
func curvesViews(model: RunModel, compare: RunModel?, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) -> (loss: CurvesView, metric: CurvesView) {
    if let b = compare {
        return (compareLossView(a: model, b: b, view: view, cursorStep: cursorStep, g),
                compareMetricView(a: model, b: b, cursorStep: cursorStep, g))
    }
    return (lossView(model, view: view, cursorStep: cursorStep, g), metricView(model, view: view, cursorStep: cursorStep, g))
}

/// Task loss (left axis; smoothed over its faint raw values) and λ·R (dashed, right axis: it is usually far smaller),
/// on a linear or log axis.
func lossView(_ model: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) -> CurvesView {
    let pts = model.points
    let at = cursorStep.flatMap { s in pts.last { $0.step <= s } } ?? pts.last
    let log = view.logLoss
    var v = CurvesView(title: [
        (log ? "loss (log)" : "loss", log ? "loss log" : "loss", .title),
        (g.solidSample + " task " + (at.map { Fmt.sig($0.taskLoss) } ?? "-"), g.solidSample + (at.map { Fmt.compact($0.taskLoss) } ?? "-"), .series1),
        (g.dashedSample + g.fold(" λ·R ") + (at.map { Fmt.sig($0.lambdaR) } ?? "-"),
         g.dashedSample + g.fold("λR") + (at.map { Fmt.compact($0.lambdaR, 2) } ?? "-"), .series2),
        ("ema " + Fmt.trim(view.smoothing), "", .dim),
    ], plot: nil)
    guard !pts.isEmpty else { return v }
    let xs = pts.map { Float($0.step) }
    var task = pts.map(\.taskLoss), reg = pts.map(\.lambdaR)
    if log { task = log10Values(task); reg = log10Values(reg) }
    let smoothTask = smoothed(task, weight: view.smoothing), smoothReg = smoothed(reg, weight: view.smoothing)
    let format: (Float) -> String = log ? { Fmt.fit(powf(10, $0), width: plotLabelWidth) } : { Fmt.fit($0, width: plotLabelWidth) }
    var series = [PlotSeries(xs: xs, ys: smoothTask, style: .series1, glyph: 0),
                  PlotSeries(xs: xs, ys: smoothReg, style: .series2, pattern: .dashed, rightAxis: true, glyph: 1)]
    if view.smoothing > 0 { series.insert(PlotSeries(xs: xs, ys: task, style: .series1, pattern: .faint), at: 0) }
    v.plot = PlotView(series: series, xRange: stepRange(model), left: autoRange(task), right: autoRange(reg, includeZero: !log),
                      format: format, rightFormat: format, marks: changeMarks(model, g), cursor: cursorStep.map(Float.init))
    return v
}

/// The objective's metric per epoch: train (over the epoch's batches) and test, with the smoothed per-batch value
/// faint behind them, labelled "batch".
func metricView(_ model: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) -> CurvesView {
    let pts = model.points
    let epochs = model.epochs.filter { cursorStep == nil || $0.step <= cursorStep! }
    let last = epochs.last
    let (metric, show) = metricNaming(model.metricName)
    var v = CurvesView(title: [
        (metric.title, metric.label, .title),
        (g.solidSample + " train " + (last.map { show($0.trainMetric) } ?? "-"), g.solidSample + "tr " + (last.map { show($0.trainMetric) } ?? "-"), .series1),
        (g.dashedSample + " test " + (last.map { show($0.testMetric) } ?? "-"), g.dashedSample + "te " + (last.map { show($0.testMetric) } ?? "-"), .series2),
        ("· batch", "", .dim),
    ], plot: nil)
    guard !pts.isEmpty else { return v }
    let xs = pts.map { Float($0.step) }
    let batch = smoothed(pts.map(\.batchMetric), weight: max(view.smoothing, 0.6))
    let ex = model.epochs.map { Float($0.step) }
    let train = model.epochs.map(\.trainMetric), test = model.epochs.map(\.testMetric)
    v.plot = PlotView(series: [PlotSeries(xs: xs, ys: batch, style: .series1, pattern: .faint),
                               PlotSeries(xs: ex, ys: train, style: .series1, glyph: 0),
                               PlotSeries(xs: ex, ys: test, style: .series2, pattern: .dashed, glyph: 1)],
                      xRange: stepRange(model), left: metricRange(train + test + batch, model.metricName), right: nil,
                      format: show, rightFormat: { _ in "" }, marks: changeMarks(model, g), cursor: cursorStep.map(Float.init))
    return v
}

/// Replay A B: both runs' task loss, A solid and B dashed, each smoothed; their change marks prefixed by run.
func compareLossView(a: RunModel, b: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) -> CurvesView {
    let at = { (m: RunModel) in cursorStep.flatMap { s in m.points.last { $0.step <= s } } ?? m.points.last }
    let log = view.logLoss
    var v = CurvesView(title: [
        (log ? "task loss (log)" : "task loss", "loss", .title),
        ("A " + g.solidSample + " " + (at(a).map { Fmt.sig($0.taskLoss) } ?? "-"), "A" + g.solidSample + (at(a).map { Fmt.sig($0.taskLoss, 2) } ?? "-"), .series1),
        ("B " + g.dashedSample + " " + (at(b).map { Fmt.sig($0.taskLoss) } ?? "-"), "B" + g.dashedSample + (at(b).map { Fmt.sig($0.taskLoss, 2) } ?? "-"), .series2),
    ], plot: nil)
    func ys(_ m: RunModel) -> [Float] { let v = m.points.map(\.taskLoss); return log ? log10Values(v) : v }
    let ya = ys(a), yb = ys(b)
    guard !ya.isEmpty || !yb.isEmpty else { return v }
    let format: (Float) -> String = log ? { Fmt.fit(powf(10, $0), width: plotLabelWidth) } : { Fmt.fit($0, width: plotLabelWidth) }
    v.plot = PlotView(series: [PlotSeries(xs: a.points.map { Float($0.step) }, ys: smoothed(ya, weight: view.smoothing), style: .series1, glyph: 0),
                               PlotSeries(xs: b.points.map { Float($0.step) }, ys: smoothed(yb, weight: view.smoothing), style: .series2,
                                          pattern: .dashed, glyph: 1)],
                      xRange: stepRange(a, b), left: autoRange(ya + yb), right: nil, format: format, rightFormat: format,
                      marks: changeMarks(a, g, prefix: "A") + changeMarks(b, g, prefix: "B"), cursor: cursorStep.map(Float.init))
    return v
}

/// Replay A B: both runs' test metric per epoch, A solid and B dashed.
func compareMetricView(a: RunModel, b: RunModel, cursorStep: Int?, _ g: Glyphs) -> CurvesView {
    let (metric, show) = metricNaming(a.metricName)
    let last = { (m: RunModel) in m.epochs.last { cursorStep == nil || $0.step <= cursorStep! } }
    var v = CurvesView(title: [
        ("test " + metric.title, "test", .title),
        ("A " + g.solidSample + " " + (last(a).map { show($0.testMetric) } ?? "-"), "A" + g.solidSample + (last(a).map { show($0.testMetric) } ?? "-"), .series1),
        ("B " + g.dashedSample + " " + (last(b).map { show($0.testMetric) } ?? "-"), "B" + g.dashedSample + (last(b).map { show($0.testMetric) } ?? "-"), .series2),
    ], plot: nil)
    let ta = a.epochs.map(\.testMetric), tb = b.epochs.map(\.testMetric)
    guard !ta.isEmpty || !tb.isEmpty else { return v }
    v.plot = PlotView(series: [PlotSeries(xs: a.epochs.map { Float($0.step) }, ys: ta, style: .series1, glyph: 0),
                               PlotSeries(xs: b.epochs.map { Float($0.step) }, ys: tb, style: .series2, pattern: .dashed, glyph: 1)],
                      xRange: stepRange(a, b), left: metricRange(ta + tb, a.metricName), right: nil, format: show,
                      rightFormat: { _ in "" }, marks: [], cursor: cursorStep.map(Float.init))
    return v
}

/// A metric and its compact value format: a percentage as one, anything else (PSNR) to 4 significant digits.
private func metricNaming(_ name: String) -> (metric: Metric, show: (Float) -> String) {
    let metric = Metric.printing(name)
    return (metric, metric.unit == .percent ? { Fmt.pct($0) } : { Fmt.sig($0, 4) })
}

/// A metric's y range: a percentage clipped to [0, 1], never empty.
private func metricRange(_ values: [Float], _ name: String) -> (Float, Float) {
    let isFraction = Metric.printing(name).unit == .percent
    var (lo, hi) = autoRange(values)
    if isFraction { lo = max(0, lo); hi = min(1, hi) }
    if hi <= lo { (lo, hi) = isFraction ? (0, 1) : (lo - 1, lo + 1) }
    return (lo, hi)
}

/// Both runs' steps on one axis.
private func stepRange(_ a: RunModel, _ b: RunModel) -> (Float, Float) {
    let x0 = Float(min(a.points.first?.step ?? 0, b.points.first?.step ?? 0))
    let x1 = Float(max(a.points.last?.step ?? 1, b.points.last?.step ?? 1))
    return (x0, max(x1, x0 + 1))
}
