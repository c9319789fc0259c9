#if canImport(Glibc)
import Glibc
#endif
import Quantizers
import Training

/// Vertical marks where the method or λ changed.
func changeMarks(_ model: RunModel, _ g: Glyphs, prefix: String = "") -> [PlotMark] {
    model.changeEvents.map { e in
        func show(_ v: String?) -> String {
            let v = v ?? ""
            return e.kind == "method" ? QuantMethod(loose: v)?.label ?? v : g.lambda + (Float(v).map { Fmt.trim($0) } ?? v)
        }
        return PlotMark(x: Float(e.step), kind: e.kind, from: show(e.from), to: show(e.to), prefix: prefix)
    }
}

func stepRange(_ model: RunModel) -> (Float, Float) {
    let a = Float(model.points.first?.step ?? 0), b = Float(model.points.last?.step ?? 1)
    return (a, max(b, a + 1))
}

/// Task loss (left axis; smoothed over its faint raw values) and λ·R (dashed, right axis: it is usually far smaller),
/// on a linear or log axis.
func drawLoss(_ c: inout Canvas, _ r: Rect, model: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 5 else { return }
    let pts = model.points
    let at = cursorStep.flatMap { s in pts.last { $0.step <= s } } ?? pts.last
    let log = view.logLoss
    drawTitleFitting(&c, r, [
        (log ? "loss (log)" : "loss", log ? "loss log" : "loss", .title),
        (g.solidSample + " task " + (at.map { Fmt.sig($0.taskLoss) } ?? "-"), g.solidSample + (at.map { Fmt.compact($0.taskLoss) } ?? "-"), .series1),
        (g.dashedSample + g.fold(" λ·R ") + (at.map { Fmt.sig($0.lambdaR) } ?? "-"),
         g.dashedSample + g.fold("λR") + (at.map { Fmt.compact($0.lambdaR, 2) } ?? "-"), .series2),
        ("ema " + Fmt.trim(view.smoothing), "", .dim),
    ], g)
    guard !pts.isEmpty else { return }
    let xs = pts.map { Float($0.step) }
    var task = pts.map(\.taskLoss), reg = pts.map(\.lambdaR)
    if log { task = log10Values(task); reg = log10Values(reg) }
    let smoothTask = smoothed(task, weight: view.smoothing), smoothReg = smoothed(reg, weight: view.smoothing)
    let format: (Float) -> String = log ? { Fmt.fit(powf(10, $0), width: plotLabelWidth) } : { Fmt.fit($0, width: plotLabelWidth) }
    var series = [PlotSeries(xs: xs, ys: smoothTask, style: .series1, glyph: 0),
                  PlotSeries(xs: xs, ys: smoothReg, style: .series2, pattern: .dashed, rightAxis: true, glyph: 1)]
    if view.smoothing > 0 { series.insert(PlotSeries(xs: xs, ys: task, style: .series1, pattern: .faint), at: 0) }
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1), series: series,
             xRange: stepRange(model), left: autoRange(task), right: autoRange(reg, includeZero: !log),
             format: format, rightFormat: format,
             marks: changeMarks(model, g), cursor: cursorStep.map(Float.init), g)
}

/// The objective's metric per epoch: train (over the epoch's batches) and test, with the smoothed per-batch value
/// faint behind them, labelled "batch".
func drawMetric(_ c: inout Canvas, _ r: Rect, model: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 5 else { return }
    let pts = model.points
    let epochs = model.epochs.filter { cursorStep == nil || $0.step <= cursorStep! }
    let last = epochs.last
    let isAccuracy = model.metricName == "accuracy"
    let show: (Float) -> String = isAccuracy ? { Fmt.pct($0) } : { Fmt.sig($0, 4) }
    let name = isAccuracy ? "accuracy" : model.metricName.uppercased()
    drawTitleFitting(&c, r, [
        (name, isAccuracy ? "acc" : name, .title),
        (g.solidSample + " train " + (last.map { show($0.trainMetric) } ?? "-"), g.solidSample + "tr " + (last.map { show($0.trainMetric) } ?? "-"), .series1),
        (g.dashedSample + " test " + (last.map { show($0.testMetric) } ?? "-"), g.dashedSample + "te " + (last.map { show($0.testMetric) } ?? "-"), .series2),
        ("· batch", "", .dim),
    ], g)
    guard !pts.isEmpty else { return }
    let xs = pts.map { Float($0.step) }
    let batch = smoothed(pts.map(\.batchMetric), weight: max(view.smoothing, 0.6))
    let ex = model.epochs.map { Float($0.step) }
    let train = model.epochs.map(\.trainMetric), test = model.epochs.map(\.testMetric)
    var (lo, hi) = autoRange(train + test + batch)
    if isAccuracy { lo = max(0, lo); hi = min(1, hi) }
    if hi <= lo { (lo, hi) = isAccuracy ? (0, 1) : (lo - 1, lo + 1) }
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1),
             series: [PlotSeries(xs: xs, ys: batch, style: .series1, pattern: .faint),
                      PlotSeries(xs: ex, ys: train, style: .series1, glyph: 0),
                      PlotSeries(xs: ex, ys: test, style: .series2, pattern: .dashed, glyph: 1)],
             xRange: stepRange(model), left: (lo, hi), right: nil,
             format: show, rightFormat: { _ in "" },
             marks: changeMarks(model, g), cursor: cursorStep.map(Float.init), g)
}

/// Replay A B: both runs' task loss, A solid and B dashed, each smoothed; their change marks prefixed by run.
func drawCompareLoss(_ c: inout Canvas, _ r: Rect, a: RunModel, b: RunModel, view: ExplorerViewState, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 5 else { return }
    let at = { (m: RunModel) in cursorStep.flatMap { s in m.points.last { $0.step <= s } } ?? m.points.last }
    let log = view.logLoss
    drawTitleFitting(&c, r, [
        (log ? "task loss (log)" : "task loss", "loss", .title),
        ("A " + g.solidSample + " " + (at(a).map { Fmt.sig($0.taskLoss) } ?? "-"), "A" + g.solidSample + (at(a).map { Fmt.sig($0.taskLoss, 2) } ?? "-"), .series1),
        ("B " + g.dashedSample + " " + (at(b).map { Fmt.sig($0.taskLoss) } ?? "-"), "B" + g.dashedSample + (at(b).map { Fmt.sig($0.taskLoss, 2) } ?? "-"), .series2),
    ], g)
    func ys(_ m: RunModel) -> [Float] { let v = m.points.map(\.taskLoss); return log ? log10Values(v) : v }
    let ya = ys(a), yb = ys(b)
    guard !ya.isEmpty || !yb.isEmpty else { return }
    let x0 = Float(min(a.points.first?.step ?? 0, b.points.first?.step ?? 0))
    let x1 = Float(max(a.points.last?.step ?? 1, b.points.last?.step ?? 1))
    let format: (Float) -> String = log ? { Fmt.fit(powf(10, $0), width: plotLabelWidth) } : { Fmt.fit($0, width: plotLabelWidth) }
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1),
             series: [PlotSeries(xs: a.points.map { Float($0.step) }, ys: smoothed(ya, weight: view.smoothing), style: .series1, glyph: 0),
                      PlotSeries(xs: b.points.map { Float($0.step) }, ys: smoothed(yb, weight: view.smoothing), style: .series2,
                                 pattern: .dashed, glyph: 1)],
             xRange: (x0, max(x1, x0 + 1)), left: autoRange(ya + yb), right: nil, format: format, rightFormat: format,
             marks: changeMarks(a, g, prefix: "A") + changeMarks(b, g, prefix: "B"),
             cursor: cursorStep.map(Float.init), g)
}

/// Replay A B: both runs' test metric per epoch, A solid and B dashed.
func drawCompareMetric(_ c: inout Canvas, _ r: Rect, a: RunModel, b: RunModel, cursorStep: Int?, _ g: Glyphs) {
    guard r.h >= 5 else { return }
    let isAccuracy = a.metricName == "accuracy"
    let show: (Float) -> String = isAccuracy ? { Fmt.pct($0) } : { Fmt.sig($0, 4) }
    let last = { (m: RunModel) in m.epochs.last { cursorStep == nil || $0.step <= cursorStep! } }
    drawTitleFitting(&c, r, [
        ("test " + (isAccuracy ? "accuracy" : a.metricName.uppercased()), "test", .title),
        ("A " + g.solidSample + " " + (last(a).map { show($0.testMetric) } ?? "-"), "A" + g.solidSample + (last(a).map { show($0.testMetric) } ?? "-"), .series1),
        ("B " + g.dashedSample + " " + (last(b).map { show($0.testMetric) } ?? "-"), "B" + g.dashedSample + (last(b).map { show($0.testMetric) } ?? "-"), .series2),
    ], g)
    let ta = a.epochs.map(\.testMetric), tb = b.epochs.map(\.testMetric)
    guard !ta.isEmpty || !tb.isEmpty else { return }
    var (lo, hi) = autoRange(ta + tb)
    if isAccuracy { lo = max(0, lo); hi = min(1, hi) }
    if hi <= lo { (lo, hi) = isAccuracy ? (0, 1) : (lo - 1, lo + 1) }
    let x0 = Float(min(a.points.first?.step ?? 0, b.points.first?.step ?? 0))
    let x1 = Float(max(a.points.last?.step ?? 1, b.points.last?.step ?? 1))
    drawPlot(&c, Rect(x: r.x, y: r.y + 1, w: r.w, h: r.h - 1),
             series: [PlotSeries(xs: a.epochs.map { Float($0.step) }, ys: ta, style: .series1, glyph: 0),
                      PlotSeries(xs: b.epochs.map { Float($0.step) }, ys: tb, style: .series2, pattern: .dashed, glyph: 1)],
             xRange: (x0, max(x1, x0 + 1)), left: (lo, hi), right: nil, format: show, rightFormat: { _ in "" },
             marks: [], cursor: cursorStep.map(Float.init), g)
}
