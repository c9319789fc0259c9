import Quantizers
import Records

public struct ScreenSize: Sendable, Equatable {
    public var width, height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
}

/// What the user has chosen on screen; the run's data lives in RunModel.
public struct ExplorerViewState: Sendable, Equatable {
    public var mode: ExplorerMode
    public var layer = 0
    /// Replay: index into `RunModel.steps`; nil follows the newest record.
    public var cursor: Int?
    public var showHelp = false
    /// The help overlay's first line shown, when it is taller than the screen.
    public var helpScroll = 0
    /// A short transient message for the key bar ("save requested").
    public var notice: String?
    /// Live: q was pressed; the trainer is saving and stopping.
    public var quitting = false
    /// Live: requests sent but not yet reflected in the board's status.
    public var requestedMethod: QuantMethod?
    public var requestedLambda: Float?
    /// The curves' exponential smoothing (TensorBoard's weight; 0 = raw), and a log axis for the loss.
    public var smoothing: Float = 0.6
    public var logLoss = false
    /// Live: `s` was pressed when the run had this many checkpoint events; the next one confirms the save.
    public var saveRequestedAt: Int?
    /// `t`: the selected layer's histograms over time instead of the latest one.
    public var timeLapse = false
    /// `g`: every layer's histogram in a grid (on a wide terminal a grid shows beside the selected layer anyway).
    public var grid = false
    /// `w`: another method's transitions and level shares over the selected layer, on the same weights.
    public var whatIf: QuantMethod?
    /// Replay: `p` or space plays the records forward.
    public var playing = false
    /// The screen's size at the last frame: where a mouse press lands depends on the layout.
    public var screen = ScreenSize(width: 0, height: 0)

    public init(mode: ExplorerMode) { self.mode = mode }

    /// Step index the panels show.
    public func stepIndex(in model: RunModel) -> Int? {
        guard !model.steps.isEmpty else { return nil }
        if let c = cursor { return min(max(0, c), model.steps.count - 1) }
        return model.steps.count - 1
    }
}

/// A second run shown beside the first (replay A B): its model and the two runs' names.
public struct ComparedRun: Sendable {
    public var model: RunModel
    public var names: [String]
    public init(model: RunModel, names: [String]) { self.model = model; self.names = names }
}

/// Renders one frame of the explorer into a Canvas. Pure: no terminal, so tests call it directly.
public enum ExplorerRenderer {
    public static func render(model: RunModel, view: ExplorerViewState, width: Int, height: Int,
                              options: ExplorerOptions, compare: ComparedRun? = nil) -> Canvas {
        var c = Canvas(width: width, height: height)
        let g = Glyphs(ascii: options.ascii)
        let si = view.stepIndex(in: model)
        let step = si.map { model.steps[$0] }
        let layers = step?.layers ?? []
        let layout = ExplorerLayout(width: width, height: height, layerCount: layers.count,
                                    extraRows: model.header.fullPrecisionLayers?.count ?? 0)
        if layout.tooSmall {
            drawTooSmall(&c)
            return c
        }
        let sel = layers.isEmpty ? 0 : min(max(0, view.layer), layers.count - 1)
        let cursorStep = view.mode == .replay && view.cursor != nil ? step?.step : nil

        drawHeader(&c, layout.header, HeaderView(model: model, view: view, step: step, g), g)
        let bStep = compare.flatMap { o in step.flatMap { o.model.stepIndex(atOrBefore: $0.step) }.map { o.model.steps[$0] } }
        if let other = compare {
            drawComparedLayer(&c, layout, model: model, other: other, step: step, bStep: bStep, selected: sel, options, g)
            drawCompareHeader(&c, layout.header, CompareHeaderView(a: model, b: other, view: view, g), g)
        } else if view.timeLapse, let si {
            let v = TimeLapseView(model: model, layer: sel, end: si)
            drawTimeLapse(&c, layout.histogram, v, g)
            drawDistanceTimeLapse(&c, layout.distance, v, g)
        } else {
            drawSelectedLayer(&c, layout, model: model, view: view, step: step, selected: sel, options, g)
        }
        drawLayerTable(&c, layout.table, LayerTableView(model: model, stepIndex: si, selected: sel,
                                                        compared: compare.map { _ in bStep?.layers ?? [] }), g)
        let curves = curvesViews(model: model, compare: compare?.model, view: view, cursorStep: cursorStep, g)
        drawCurves(&c, layout.loss, curves.loss, g)
        drawCurves(&c, layout.accuracy, curves.metric, g)
        drawKeyBar(&c, layout.keys, mode: view.mode, layerPages: layers.count > layout.tableRows, g)
        if view.showHelp { drawHelp(&c, mode: view.mode, scroll: view.helpScroll, g) }
        return c
    }

    /// The selected layer's histogram across the row, or on a wide screen beside the grid of all layers (`g`: the
    /// grid alone); its distances below.
    private static func drawSelectedLayer(_ c: inout Canvas, _ layout: ExplorerLayout, model: RunModel, view: ExplorerViewState,
                                          step: StepRecord?, selected sel: Int, _ options: ExplorerOptions, _ g: Glyphs) {
        let layers = step?.layers ?? []
        let layer = layers.isEmpty ? nil : layers[sel]
        let grid = LayerGridView(layers: layers, ranges: model.weightRange, selected: sel)
        var main = layout.histogram
        if view.grid {
            drawLayerGrid(&c, main, grid, g)
        } else {
            if layout.width >= ExplorerLayout.wideWidth {
                let (left, right) = main.takeLeft(main.w * 11 / 20)
                main = left
                drawLayerGrid(&c, Rect(x: right.x + 1, y: right.y, w: right.w - 1, h: right.h), grid, g)
            }
            let whatIf = view.whatIf.flatMap { m in layer?.whatIf?.first { QuantMethod(recorded: $0.method) == m } }
            let v = WeightHistogramView(layer: layer, index: sel, count: layers.count,
                                        method: QuantMethod(recorded: step?.method ?? model.status.method),
                                        range: sel < model.weightRange.count ? model.weightRange[sel] : nil, whatIf: whatIf)
            drawWeightHistogram(&c, main, v, markersOverBars: options.noColor, g)
        }
        drawDistance(&c, layout.distance, layer: layer, g)
    }

    /// Two runs: A's and B's histograms of the selected layer at the same step, one above the other, on one axis
    /// (the same weight in the same column); both runs' distances side by side and named (one panel of A's alone
    /// read as the pair's).
    private static func drawComparedLayer(_ c: inout Canvas, _ layout: ExplorerLayout, model: RunModel, other: ComparedRun,
                                          step: StepRecord?, bStep: StepRecord?, selected sel: Int, _ options: ExplorerOptions,
                                          _ g: Glyphs) {
        let layers = step?.layers ?? [], bLayers = bStep?.layers ?? []
        let layer = layers.isEmpty ? nil : layers[sel], bLayer = bLayers.indices.contains(sel) ? bLayers[sel] : nil
        let (top, bottom) = layout.histogram.takeTop(layout.histogram.h / 2)
        let shared = max(sel < model.weightRange.count ? model.weightRange[sel] : 0,
                         sel < other.model.weightRange.count ? other.model.weightRange[sel] : 0)
        let range: Float? = shared > 0 ? shared : nil
        drawWeightHistogram(&c, top, WeightHistogramView(layer: layer, index: sel, count: layers.count,
                                                         method: QuantMethod(recorded: step?.method ?? model.status.method),
                                                         range: range, tag: "A"), markersOverBars: options.noColor, g)
        drawWeightHistogram(&c, bottom, WeightHistogramView(layer: bLayer, index: sel, count: bLayers.count,
                                                            method: bStep.flatMap { QuantMethod(recorded: $0.method) },
                                                            range: range, tag: "B"), markersOverBars: options.noColor, g)
        let (left, right) = layout.distance.takeLeft(layout.distance.w / 2)
        drawDistance(&c, left, layer: layer, tag: "A", g)
        drawDistance(&c, Rect(x: right.x + 1, y: right.y, w: right.w - 1, h: right.h), layer: bLayer, tag: "B", g)
    }
}
