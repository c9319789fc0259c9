import BTCore
import Kernels
import Layers
import Models
import Quantizers

/// One training step of a model with a weight quantizer per quantized layer and the transition regularizer:
/// fit and quantize -> forward -> loss -> backward -> quantizer backward (dL/dQ to dL/dW, and its own gradients)
/// -> regularizer gradient -> quantizer update -> Adam. The trainer and the benchmark both drive this, so what
/// is timed is what trains.
public final class StepEngine {
    public let model: any Model
    public let quantizers: QuantizerBank
    public let optimizer: Adam
    public let regularizer: TransitionRegularizer
    public let seed: UInt64
    private let noise: [FloatBuffer]
    /// The quantized layers in the order the quantizers' fits and the regularizer's measures hand them to workers:
    /// largest first, so the small ones fill in at the end (each layer's result is its own, so the split does not
    /// change it).
    private let largestFirst: [Int]

    public init(model: any Model, spec: QuantSpec, seed: UInt64, noiseRatio: Float = 0.1,
                regReduction: RegReduction = .sum) {
        self.model = model
        self.seed = seed
        quantizers = QuantizerBank(spec: spec, layers: model.quantizedLayers)
        optimizer = Adam()
        regularizer = TransitionRegularizer(noiseRatio: noiseRatio, reduction: regReduction)
        let layers = model.quantizedLayers
        noise = layers.map { FloatBuffer(count: $0.weight.count) }
        largestFirst = layers.indices.sorted { layers[$0].weight.count > layers[$1].weight.count }
    }

    public struct Result {
        public var taskLoss: Float
        /// Sum of the objective's per-sample metric over the batch (correct answers for accuracy).
        public var metricSum: Double
        public var fits: [QuantFit]
        /// R and flip fraction per quantized layer (zeros when not measured).
        public var measures: [TransitionRegularizer.Measure]
        public var regLoss: Float { measures.reduce(0) { $0 + $1.reg } }
    }

    /// The latent weights of every quantized layer.
    public var latentWeights: [UnsafeBufferPointer<Float>] {
        model.quantizedLayers.map { UnsafeBufferPointer($0.weight.value.buffer) }
    }

    /// `method`'s quantizers, made and calibrated on the current weights when first used.
    public func quantizers(for method: QuantMethod, toConvergence: Bool = false) -> [any LayerQuantizer] {
        quantizers.quantizers(method, weights: latentWeights, toConvergence: toConvergence)
    }

    /// Fits `method` to every quantized layer and loads Q(W) as the weights the passes use.
    @discardableResult
    /// Layers are independent (each has its own quantizer and state), so they go out one at a time as workers come
    /// free, largest first; each layer's fit is computed as it would be alone, so the bits are the same.
    public func quantize(_ method: QuantMethod) -> [QuantFit] {
        let layers = model.quantizedLayers, qs = quantizers(for: method)
        var fits = [QuantFit?](repeating: nil, count: layers.count)
        fits.withUnsafeMutableBufferPointer { out in
            eachLayerLargestFirst { i in
                let w = UnsafeBufferPointer(layers[i].weight.value.buffer)
                let fit = qs[i].fit(w)
                fit.quantize(w, into: layers[i].effective.buffer)
                out[i] = fit
            }
        }
        return fits.map { $0! }
    }

    /// `body(layer)` for every quantized layer, a layer at a time as workers come free, largest first.
    private func eachLayerLargestFirst(_ body: (Int) -> Void) {
        let order = largestFirst
        parallelBlocks(min(Workers.count, order.count), total: order.count, block: 1) { _, r in
            for i in r.map({ order[$0] }) { body(i) }
        }
    }

    /// What every other quantized method would make of the current latent weights, per layer: a used method's own
    /// quantizers (its state as it is), else scratch ones fitted to convergence. Nothing the run trains changes.
    public func whatIf(except method: QuantMethod) -> [(method: QuantMethod, fits: [QuantFit])] {
        let weights = latentWeights
        return QuantMethod.allCases.filter { $0 != method && $0.definition.hasTransitions }.map { m in
            let qs: [any LayerQuantizer]
            if quantizers.has(m) {
                qs = quantizers(for: m)
            } else {
                if whatIfScratch[m] == nil {
                    var s = quantizers.spec
                    s.method = m
                    whatIfScratch[m] = model.quantizedLayers.map { s.make(layer: $0.weight.name, shape: $0.weight.shape) }
                }
                qs = whatIfScratch[m]!
                for (q, w) in zip(qs, weights) { q.calibrate(weights: w, toConvergence: true) }
            }
            return (m, zip(qs, weights).map { $0.fit($1) })
        }
    }
    private var whatIfScratch: [QuantMethod: [any LayerQuantizer]] = [:]

    /// A look at the network before any training: the loss and fits of one batch and the regularizer's measures,
    /// with batch-norm running statistics put back afterwards, so the run is the same as without it.
    public func probe(x: UnsafeMutablePointer<Float>, targets: Targets, n: Int, method: QuantMethod, stepIndex: Int) -> Result {
        let saved = model.batchNorms.map { ($0.runningMean.array, $0.runningVar.array) }
        let fits = quantize(method)
        let output = model.forward(x, n: n, training: true)
        let loss = model.objective.evaluate(output: output, targets: targets, n: n, withGrad: false)
        for (bn, s) in zip(model.batchNorms, saved) {
            s.0.withUnsafeBufferPointer { bn.runningMean.ptr.update(from: $0.baseAddress!, count: $0.count) }
            s.1.withUnsafeBufferPointer { bn.runningVar.ptr.update(from: $0.baseAddress!, count: $0.count) }
        }
        let measures = regularize(fits: fits, lambda: 0, stepIndex: stepIndex, measure: true)
        return Result(taskLoss: loss.loss, metricSum: loss.metricSum, fits: fits, measures: measures)
    }

    /// The regularizer's gradient (lambda > 0) needs no noise: it is the gradient of R's expectation.
    /// `measure` samples the noise to report R and the flip fraction (on logged steps); the noise stream
    /// depends only on (seed, step, layer).
    public func step(x: UnsafeMutablePointer<Float>, targets: Targets, n: Int, method: QuantMethod,
                     lambda: Float, lr: Float, stepIndex: Int, measure: Bool) -> Result {
        let timer = model.timer
        let qs = quantizers(for: method)
        let fits = timed(timer, "quantize", .forward) { quantize(method) }
        let output = model.forward(x, n: n, training: true)
        let loss = timed(timer, "loss", .forward) {
            model.objective.evaluate(output: output, targets: targets, n: n, withGrad: true)
        }
        model.backward(model.objective.grad.ptr, n: n)
        let layers = model.quantizedLayers
        timed(timer, "quantizer backward+update", .backward) {
            for (i, q) in qs.enumerated() {
                let w = UnsafeBufferPointer(layers[i].weight.value.buffer)
                q.backward(weights: w, fit: fits[i], grad: layers[i].weight.grad.buffer)
                q.update(weights: w, fit: fits[i])
            }
        }
        let measures = timed(timer, measure ? "regularizer+measure" : "regularizer", .backward) {
            regularize(fits: fits, lambda: lambda, stepIndex: stepIndex, measure: measure)
        }
        timed(timer, "adam", .backward) { optimizer.step(model.params + qs.flatMap(\.parameters), lr: lr) }
        return Result(taskLoss: loss.loss, metricSum: loss.metricSum, fits: fits, measures: measures)
    }

    /// Weights per block of the regularizer's gradient.
    static let regularizerBlock = 8192

    /// The regularizer's gradient for every quantized layer and, when `measure`, R and the flip fraction.
    private func regularize(fits: [QuantFit], lambda: Float, stepIndex: Int,
                            measure: Bool) -> [TransitionRegularizer.Measure] {
        var measures = [TransitionRegularizer.Measure](repeating: .init(reg: 0, flipFraction: 0), count: fits.count)
        guard fits.contains(where: { !$0.isIdentity }), measure || lambda > 0 else { return measures }
        let layers = model.quantizedLayers, noise = noise, reg = regularizer, seed = seed
        if measure {
            // R and the flip fraction (logged steps): a layer at a time, each with its own noise stream, its sums in
            // one order.
            measures.withUnsafeMutableBufferPointer { out in
                eachLayerLargestFirst { i in
                    // Layer i of step s: its own stream, for any number of layers.
                    var rng = RNG(seed: seed, stream: .regularizerNoise, UInt64(stepIndex) << 16 | UInt64(i))
                    out[i] = reg.measure(fit: fits[i], weights: UnsafeBufferPointer(layers[i].weight.value.buffer),
                                         noise: noise[i].buffer, rng: &rng)
                }
            }
        }
        guard lambda > 0 else { return measures }
        // The gradient is elementwise: every layer cut into blocks, all blocks in one region (a large layer no
        // longer bounds it), the same bits however they are shared.
        parallelElements(Workers.count, counts: layers.map(\.weight.count), block: Self.regularizerBlock) { i, range in
            reg.addGradient(fit: fits[i], weights: UnsafeBufferPointer(layers[i].weight.value.buffer), lambda: lambda,
                            into: layers[i].weight.grad.buffer, elements: range)
        }
        return measures
    }

    /// Re-estimates every batch norm's running statistics under `method`: the average of the batch statistics
    /// over `batches` (training-mode forward passes; nothing else changes, quantizer state included). Running
    /// statistics belong to the quantizer they were gathered under, so evaluating other quantizers needs this.
    public func recalibrateBatchNorm(method: QuantMethod,
                                     batches: (_ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> Void) {
        quantize(method)
        let bns = model.batchNorms
        let momentum = bns.first?.momentum ?? 0.1
        for bn in bns { bn.runningMean.buffer.update(repeating: 0); bn.runningVar.buffer.update(repeating: 1) }
        var seen = 0
        batches { x, n in
            for bn in bns { bn.momentum = 1 / Float(seen + 1) }
            _ = model.forward(x, n: n, training: true)
            seen += 1
        }
        for bn in bns { bn.momentum = momentum }
    }

    /// Loss and metric over `batches` in eval mode (running BN statistics) under `method`.
    public func evaluate(method: QuantMethod, batches: (_ body: (UnsafeMutablePointer<Float>, Targets, Int) -> Void) -> Void)
        -> (metric: Float, loss: Float) {
        quantize(method)
        var total = 0
        var loss: Double = 0, metric: Double = 0
        batches { x, targets, n in
            let output = model.forward(x, n: n, training: false)
            let r = model.objective.evaluate(output: output, targets: targets, n: n, withGrad: false)
            total += n; metric += r.metricSum; loss += Double(r.loss) * Double(n)
        }
        return (total > 0 ? Float(metric / Double(total)) : 0, total > 0 ? Float(loss / Double(total)) : 0)
    }
}
