import Kernels

/// Mean softmax cross-entropy over a batch, with its gradient w.r.t. the logits.
public final class SoftmaxCrossEntropy {
    public let classes: Int
    public let grad: FloatBuffer

    public init(classes: Int, maxBatch: Int) {
        self.classes = classes
        grad = FloatBuffer(count: maxBatch * classes)
    }

    public struct Result { public var loss: Float; public var correct: Int }

    /// Loss and correct count; fills `grad` with dLoss/dlogits when `withGrad`.
    public func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, n: Int,
                         withGrad: Bool = true) -> Result {
        var loss: Double = 0
        var correct = 0
        let k = classes
        for i in 0..<n {
            let z = logits + i * k
            var mx = z[0], arg = 0
            for j in 1..<k where z[j] > mx { mx = z[j]; arg = j }
            var sum: Float = 0
            for j in 0..<k { sum += expf(z[j] - mx) }
            let y = Int(labels[i])
            loss += Double(logf(sum) - (z[y] - mx))
            if arg == y { correct += 1 }
            if withGrad {
                let g = grad.ptr + i * k
                for j in 0..<k { g[j] = (expf(z[j] - mx) / sum - (j == y ? 1 : 0)) / Float(n) }
            }
        }
        return Result(loss: Float(loss / Double(max(n, 1))), correct: correct)
    }
}

#if canImport(Glibc)
import Glibc
#endif
