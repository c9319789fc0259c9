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
        let layer = layers.isEmpty ? nil : layers[sel]
        let method = QuantMethod(recorded: step?.method ?? model.status.method)
        let cursorStep = view.mode == .replay && view.cursor != nil ? step?.step : nil

        drawHeader(&c, layout.header, model: model, view: view, step: step, g)
        let range = sel < model.weightRange.count ? model.weightRange[sel] : nil
        let whatIf = view.whatIf.flatMap { m in layer?.whatIf?.first { QuantMethod(recorded: $0.method) == m } }
        if let other = compare {
            // Two runs: A's and B's histograms of the selected layer at the same step, one above the other.
            let (top, bottom) = layout.histogram.takeTop(layout.histogram.h / 2)
            let bi = step.flatMap { other.model.stepIndex(atOrBefore: $0.step) }
            let bLayers = bi.map { other.model.steps[$0].layers } ?? []
            // One axis for both, so the same weight sits in the same column.
            let shared = max(range ?? 0, sel < other.model.weightRange.count ? other.model.weightRange[sel] : 0)
            let range: Float? = shared > 0 ? shared : nil
            drawWeightHistogram(&c, top, layer: layer, index: sel, count: layers.count, method: method,
                                markersOverBars: options.noColor, range: range, tag: "A", g)
            drawWeightHistogram(&c, bottom, layer: bLayers.indices.contains(sel) ? bLayers[sel] : nil, index: sel,
                                count: bLayers.count, method: bi.flatMap { QuantMethod(recorded: other.model.steps[$0].method) },
                                markersOverBars: options.noColor, range: range, tag: "B", g)
            // Both runs' distances, side by side and named: one panel of A's alone read as the pair's.
            let (left, right) = layout.distance.takeLeft(layout.distance.w / 2)
            drawDistance(&c, left, layer: layer, tag: "A", g)
            drawDistance(&c, Rect(x: right.x + 1, y: right.y, w: right.w - 1, h: right.h),
                         layer: bLayers.indices.contains(sel) ? bLayers[sel] : nil, tag: "B", g)
            drawCompareHeader(&c, layout.header, a: model, b: other, view: view, g)
        } else if view.timeLapse, let si {
            drawTimeLapse(&c, layout.histogram, model: model, layer: sel, end: si, g)
            drawDistanceTimeLapse(&c, layout.distance, model: model, layer: sel, end: si, g)
        } else {
            // The whole row, or on a wide screen the selected layer left and the grid of all layers right.
            var main = layout.histogram
            if view.grid {
                drawLayerGrid(&c, main, layers: layers, ranges: model.weightRange, selected: sel, g)
            } else {
                if width >= ExplorerLayout.wideWidth {
                    let (left, right) = main.takeLeft(main.w * 11 / 20)
                    main = left
                    drawLayerGrid(&c, Rect(x: right.x + 1, y: right.y, w: right.w - 1, h: right.h), layers: layers,
                                  ranges: model.weightRange, selected: sel, g)
                }
                drawWeightHistogram(&c, main, layer: layer, index: sel, count: layers.count, method: method,
                                    markersOverBars: options.noColor, range: range, whatIf: whatIf, g)
            }
            drawDistance(&c, layout.distance, layer: layer, g)
        }
        let bStep = compare.flatMap { o in step.flatMap { o.model.stepIndex(atOrBefore: $0.step) }.map { o.model.steps[$0] } }
        drawLayerTable(&c, layout.table, model: model, stepIndex: si, selected: sel,
                       compared: compare.map { _ in bStep?.layers ?? [] }, g)
        let curves = curvesViews(model: model, compare: compare?.model, view: view, cursorStep: cursorStep, g)
        drawCurves(&c, layout.loss, curves.loss, g)
        drawCurves(&c, layout.accuracy, curves.metric, g)
        drawKeyBar(&c, layout.keys, view: view, g)
        if view.showHelp { drawHelp(&c, mode: view.mode, scroll: view.helpScroll, g) }
        return c
    }
}
