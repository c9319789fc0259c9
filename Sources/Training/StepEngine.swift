import BTCore
import Kernels
import Layers
import Quantizers

/// One training step of VGG-6 with a weight quantizer and the transition regularizer:
/// quantize -> forward -> loss -> backward (STE) -> regularizer gradient -> Adam.
/// The trainer and the benchmark both drive this, so what is timed is what trains.
public final class StepEngine {
    public let model: VGG6
    public let optimizer: Adam
    public let regularizer: TransitionRegularizer
    public let deltaRatio: Float
    public let seed: UInt64
    private let noise: [FloatBuffer]
    /// The conv layers each worker regularizes: the largest alone, the rest together (it is half the weights).
    private let regularizerShares: [[Int]]

    public init(model: VGG6, seed: UInt64, deltaRatio: Float = 0.66, noiseRatio: Float = 0.1,
                regReduction: RegReduction = .sum) {
        self.model = model
        self.seed = seed
        self.deltaRatio = deltaRatio
        optimizer = Adam(params: model.params)
        regularizer = TransitionRegularizer(noiseRatio: noiseRatio, reduction: regReduction)
        noise = model.convs.map { FloatBuffer(count: $0.weight.count) }
        let order = model.convs.indices.sorted { model.convs[$0].weight.count > model.convs[$1].weight.count }
        regularizerShares = order.count > 1 ? [[order[0]], Array(order.dropFirst())] : [order]
    }

    public struct Result {
        public var taskLoss: Float
        public var correct: Int
        public var fits: [QuantFit]
        /// R and flip fraction per conv layer (zeros when not measured).
        public var measures: [TransitionRegularizer.Measure]
        public var regLoss: Float { measures.reduce(0) { $0 + $1.reg } }
    }

    /// The regularizer's gradient (lambda > 0) needs no noise: it is the gradient of R's expectation.
    /// `measure` samples the noise to report R and the flip fraction (on logged steps); the noise stream
    /// depends only on (seed, step, layer).
    public func step(x: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, n: Int, method: QuantMethod,
                     lambda: Float, lr: Float, stepIndex: Int, measure: Bool) -> Result {
        let timer = model.timer
        let fits = timed(timer, "quantize", .forward) { model.quantize(method, deltaRatio: deltaRatio) }
        let logits = model.forward(x, n: n, training: true)
        let loss = timed(timer, "softmax+loss", .forward) { model.loss.evaluate(logits: logits, labels: labels, n: n) }
        model.backward(model.loss.grad.ptr, n: n)
        let measures = timed(timer, measure ? "regularizer+measure" : "regularizer", .backward) {
            regularize(fits: fits, method: method, lambda: lambda, stepIndex: stepIndex, measure: measure)
        }
        timed(timer, "adam", .backward) { optimizer.step(lr: lr) }
        return Result(taskLoss: loss.loss, correct: loss.correct, fits: fits, measures: measures)
    }

    /// The regularizer's gradient for every conv layer and, when `measure`, R and the flip fraction.
    private func regularize(fits: [QuantFit], method: QuantMethod, lambda: Float, stepIndex: Int,
                            measure: Bool) -> [TransitionRegularizer.Measure] {
        var measures = [TransitionRegularizer.Measure](repeating: .init(reg: 0, flipFraction: 0), count: fits.count)
        if method != .full && (measure || lambda > 0) {
            // Layers are independent: split them over two workers, each layer with its own noise stream.
            let shares = regularizerShares, convs = model.convs, noise = noise, reg = regularizer, seed = seed
            measures.withUnsafeMutableBufferPointer { out in
                parallelFor(shares.count) { wk in
                    for i in shares[wk] {
                        let w = UnsafeBufferPointer(convs[i].weight.value.buffer)
                        if measure {
                            var rng = RNG(seed: seed, stream: .regularizerNoise, UInt64(stepIndex) &* 64 &+ UInt64(i))
                            out[i] = reg.measure(fit: fits[i], weights: w, noise: noise[i].buffer, rng: &rng)
                        }
                        reg.addGradient(fit: fits[i], weights: w, lambda: lambda, into: convs[i].weight.grad.buffer)
                    }
                }
            }
        }
        return measures
    }

    /// Re-estimates every batch norm's running statistics under `method`: the average of the batch statistics
    /// over `batches` (training-mode forward passes; nothing else changes). Running statistics belong to the
    /// quantizer they were gathered under, so evaluating other quantizers on a checkpoint needs this.
    public func recalibrateBatchNorm(method: QuantMethod,
                                     batches: (_ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> Void) {
        model.quantize(method, deltaRatio: deltaRatio)
        let bns = model.batchNorms
        for bn in bns { bn.runningMean.buffer.update(repeating: 0); bn.runningVar.buffer.update(repeating: 1) }
        var seen = 0
        batches { x, n in
            for bn in bns { bn.momentum = 1 / Float(seen + 1) }
            _ = model.forward(x, n: n, training: true)
            seen += 1
        }
        for bn in bns { bn.momentum = 0.1 }
    }

    /// Loss and accuracy of `set`-shaped data in eval mode (running BN statistics) under `method`.
    public func evaluate(method: QuantMethod, batches: (_ body: (UnsafeMutablePointer<Float>, UnsafePointer<Int32>, Int) -> Void) -> Void)
        -> (accuracy: Float, loss: Float) {
        model.quantize(method, deltaRatio: deltaRatio)
        var total = 0, correct = 0
        var loss: Double = 0
        batches { x, labels, n in
            let logits = model.forward(x, n: n, training: false)
            let r = model.loss.evaluate(logits: logits, labels: labels, n: n, withGrad: false)
            total += n; correct += r.correct; loss += Double(r.loss) * Double(n)
        }
        return (total > 0 ? Float(correct) / Float(total) : 0, total > 0 ? Float(loss / Double(total)) : 0)
    }
}
