import Quantizers
import Training

/// What the user has chosen on screen; the run's data lives in RunModel.
public struct ExplorerViewState: Sendable, Equatable {
    public var mode: ExplorerMode
    public var layer = 0
    /// Replay: index into `RunModel.steps`; nil follows the newest record.
    public var cursor: Int?
    public var showHelp = false
    /// A short transient message for the key bar ("save requested").
    public var notice: String?
    /// Live: q was pressed; the trainer is saving and stopping.
    public var quitting = false
    /// Live: requests sent but not yet reflected in the board's status.
    public var requestedMethod: QuantMethod?
    public var requestedLambda: Float?

    public init(mode: ExplorerMode) { self.mode = mode }

    /// Step index the panels show.
    public func stepIndex(in model: RunModel) -> Int? {
        guard !model.steps.isEmpty else { return nil }
        if let c = cursor { return min(max(0, c), model.steps.count - 1) }
        return model.steps.count - 1
    }
}

/// Renders one frame of the explorer into a Canvas. Pure: no terminal, so tests call it directly.
public enum ExplorerRenderer {
    public static func render(model: RunModel, view: ExplorerViewState, width: Int, height: Int,
                              options: ExplorerOptions) -> Canvas {
        var c = Canvas(width: width, height: height)
        let g = Glyphs(ascii: options.ascii)
        let si = view.stepIndex(in: model)
        let step = si.map { model.steps[$0] }
        let layers = step?.layers ?? []
        let layout = ExplorerLayout(width: width, height: height, layerCount: layers.count)
        if layout.tooSmall {
            drawTooSmall(&c)
            return c
        }
        let sel = layers.isEmpty ? 0 : min(max(0, view.layer), layers.count - 1)
        let layer = layers.isEmpty ? nil : layers[sel]
        let method = QuantMethod(loose: step?.method ?? model.status.method)
        let cursorStep = view.mode == .replay && view.cursor != nil ? step?.step : nil

        drawHeader(&c, layout.header, model: model, view: view, step: step, g)
        drawWeightHistogram(&c, layout.histogram, layer: layer, index: sel, count: layers.count, method: method,
                            markersOverBars: options.noColor, g)
        drawLayerTable(&c, layout.table, model: model, stepIndex: si, selected: sel, g)
        drawDistance(&c, layout.distance, layer: layer, g)
        drawLoss(&c, layout.loss, model: model, cursorStep: cursorStep, g)
        drawMetric(&c, layout.accuracy, model: model, cursorStep: cursorStep, g)
        drawKeyBar(&c, layout.keys, view: view, g)
        if view.showHelp { drawHelp(&c, mode: view.mode, g) }
        return c
    }
}
