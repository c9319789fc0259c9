import Kernels
import Layers

/// What a batch is trained toward.
public enum Targets {
    /// Class labels, one per sample.
    case labels(UnsafePointer<Int32>)
    /// Target values, as many per sample as the model outputs (super-resolution, denoising).
    case values(UnsafePointer<Float>)
}

/// A loss with the metric it is judged by. The metric of a set is `metricSum / samples`.
public protocol Objective: AnyObject {
    /// "accuracy" (higher is better, a fraction) or "psnr" (dB).
    var metricName: String { get }
    /// dLoss/doutput after an `evaluate` with `withGrad`.
    var grad: FloatBuffer { get }
    /// Mean loss over the batch and the sum of the per-sample metric.
    func evaluate(output: UnsafePointer<Float>, targets: Targets, n: Int, withGrad: Bool) -> (loss: Float, metricSum: Double)
}

/// Softmax cross-entropy, judged by accuracy.
public final class CrossEntropyAccuracy: Objective {
    public let loss: SoftmaxCrossEntropy
    public init(classes: Int, maxBatch: Int) { loss = SoftmaxCrossEntropy(classes: classes, maxBatch: maxBatch) }
    public var metricName: String { "accuracy" }
    public var grad: FloatBuffer { loss.grad }
    public func evaluate(output: UnsafePointer<Float>, targets: Targets, n: Int, withGrad: Bool) -> (loss: Float, metricSum: Double) {
        guard case .labels(let labels) = targets else { preconditionFailure("cross-entropy needs labels") }
        let r = loss.evaluate(logits: output, labels: labels, n: n, withGrad: withGrad)
        return (r.loss, Double(r.correct))
    }
}
