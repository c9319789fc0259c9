import BTCore
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

    /// Loss and correct count; fills `grad` with dLoss/dlogits when `withGrad`. The mean is over the whole batch
    /// (all ranks' images): per group of the batch, a Double sum of the losses and the correct count, added over
    /// the batch's tree (`BatchSums`), so every rank reports the same loss.
    public func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, n: Int,
                         withGrad: Bool = true) -> Result {
        let k = classes, batch = BatchSums.current.batchImages(local: n)
        let groups = BatchSums.current.localGroups(images: n)
        while sums.count < groups.count { sums.append(.allocate(capacity: 2)) }
        for (g, r) in groups.enumerated() {
            var loss: Double = 0, correct: Double = 0
            for i in r {
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
                    for j in 0..<k { g[j] = (expf(z[j] - mx) / sum - (j == y ? 1 : 0)) / Float(batch) }
                }
            }
            sums[g][0] = loss; sums[g][1] = correct
        }
        var total = [Double](repeating: 0, count: 2)
        total.withUnsafeMutableBufferPointer { BatchSums.current.sum(Array(sums[..<groups.count]), count: 2, into: $0.baseAddress!) }
        return Result(loss: Float(total[0] / Double(max(batch, 1))), correct: Int(total[1]))
    }

    /// Per group of the batch: its loss sum and correct count.
    private var sums: [UnsafeMutablePointer<Double>] = []
    deinit { sums.forEach { $0.deallocate() } }
}

#if canImport(Glibc)
import Glibc
#endif
