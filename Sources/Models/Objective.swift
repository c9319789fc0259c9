import Foundation
import Kernels
import Layers
import Records

/// What a batch is trained toward.
public enum Targets {
    /// Class labels, one per sample.
    case labels(UnsafePointer<Int32>)
    /// Target values, as many per sample as the model outputs (super-resolution, denoising).
    case values(UnsafePointer<Float>)
}

/// A loss with the metric it is judged by. The metric of a set is `metricSum / samples`.
public protocol Objective: AnyObject {
    /// What `metricSum / samples` is: accuracy (a fraction here, printed as %) or PSNR (dB).
    var metric: Metric { get }
    /// dLoss/doutput after an `evaluate` with `withGrad`.
    var grad: FloatBuffer { get }
    /// Mean loss over the batch and the sum of the per-sample metric.
    func evaluate(output: UnsafePointer<Float>, targets: Targets, n: Int, withGrad: Bool) -> (loss: Float, metricSum: Double)
}

/// Softmax cross-entropy, judged by accuracy.
public final class CrossEntropyAccuracy: Objective {
    public let loss: SoftmaxCrossEntropy
    public init(classes: Int, maxBatch: Int) { loss = SoftmaxCrossEntropy(classes: classes, maxBatch: maxBatch) }
    public var metric: Metric { .accuracy }
    public var grad: FloatBuffer { loss.grad }
    public func evaluate(output: UnsafePointer<Float>, targets: Targets, n: Int, withGrad: Bool) -> (loss: Float, metricSum: Double) {
        guard case .labels(let labels) = targets else { preconditionFailure("cross-entropy needs labels") }
        let r = loss.evaluate(logits: output, labels: labels, n: n, withGrad: withGrad)
        return (r.loss, Double(r.correct))
    }
}

/// Mean squared error over every output value (PyTorch's MSELoss), judged by PSNR in dB on intensities in
/// [0, 1], averaged over samples. (Benchmark PSNR is measured on whole images in 0-255 Y with a shaved border:
/// that is the evaluation's, not this.)
public final class MeanSquaredErrorPSNR: Objective {
    public var valuesPerSample: Int
    public let grad: FloatBuffer
    public init(valuesPerSample: Int, capacity: Int) {
        self.valuesPerSample = valuesPerSample
        grad = FloatBuffer(count: capacity)
    }
    public var metric: Metric { .psnr }

    public func evaluate(output: UnsafePointer<Float>, targets: Targets, n: Int, withGrad: Bool) -> (loss: Float, metricSum: Double) {
        guard case .values(let t) = targets else { preconditionFailure("mean squared error needs target values") }
        let m = valuesPerSample, count = n * m, g = grad.ptr, scale = 2 / Float(count)
        var total: Double = 0, psnrSum: Double = 0
        for i in 0..<n {
            var sum: Float = 0
            for j in i * m..<(i + 1) * m {
                let d = output[j] - t[j]
                sum += d * d
                if withGrad { g[j] = scale * d }
            }
            total += Double(sum)
            psnrSum += Self.psnr(meanSquaredError: Double(sum) / Double(m))
        }
        return (Float(total / Double(count)), psnrSum)
    }

    /// 10 log10(1 / mse) for intensities in [0, 1], capped at 100 dB for an exact match.
    public static func psnr(meanSquaredError mse: Double) -> Double { mse <= 0 ? 100 : min(100, -10 * log10(mse)) }
}
