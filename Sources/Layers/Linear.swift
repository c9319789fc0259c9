import BTCore
import Kernels

/// Fully connected layer: y = x W^T (+ b), W is [out, in]. Full precision in the paper's VGG-6; a model may quantize
/// it (`quantized`: the passes then use `effective`, which the engine fills with Q(weight)).
public final class Linear: QuantizedLayer {
    public let inFeatures, outFeatures: Int
    public let weight: Param
    public let bias: Param?
    /// The weights the passes use: Q(latent) when quantized, else the latent weights themselves.
    public let effective: FloatBuffer
    public var outputSize: Int { outFeatures }
    public var macsPerSample: Int { inFeatures * outFeatures }

    private let out: FloatBuffer
    private let dx: FloatBuffer
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool, maxBatch: Int, quantized: Bool = false) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Param(name: name + ".weight", shape: [outFeatures, inFeatures], quantized: quantized)
        effective = quantized ? FloatBuffer(count: outFeatures * inFeatures) : weight.value
        self.bias = bias ? Param(name: name + ".bias", shape: [outFeatures]) : nil
        out = FloatBuffer(count: maxBatch * outFeatures)
        dx = FloatBuffer(count: maxBatch * inFeatures)
    }

    public var params: [Param] { [weight] + (bias.map { [$0] } ?? []) }
    public var label: String { "\(weight.name.split(separator: ".")[0]) \(inFeatures)->\(outFeatures)" }

    /// Every pass goes one group of the batch (`BatchSums`) at a time, so each OpenBLAS call's shape, and with it
    /// every row's result, depends on the group only; the weight and bias gradients are one partial per group,
    /// added over the batch's tree: the same on any number of workers and ranks.
    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let y = out.ptr, (fin, fout) = (inFeatures, outFeatures), wq = effective.ptr, b = bias?.value.ptr
        parallelRanges(Workers.count, BatchSums.current.localGroups(images: n)) { _, _, r in
            Gemm.sgemm(transB: true, m: r.count, n: fout, k: fin, a: x + r.lowerBound * fin, lda: fin,
                       b: wq, ldb: fin, c: y + r.lowerBound * fout, ldc: fout)
            if let b { for i in r { for j in 0..<fout { y[i * fout + j] += b[j] } } }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let (fin, fout) = (inFeatures, outFeatures), wq = effective.ptr, dxp = dx.ptr, hasBias = bias != nil
        let groups = BatchSums.current.localGroups(images: n), size = fout * fin + fout
        while partials.count < groups.count { partials.append(FloatBuffer(count: size)) }
        nonisolated(unsafe) let parts = partials[..<groups.count].map(\.ptr)
        parallelRanges(Workers.count, groups) { _, g, r in
            // Partial g: dW [out, in] then db [out].
            let dyr = dy + r.lowerBound * fout
            Gemm.sgemm(transA: true, m: fout, n: fin, k: r.count, a: dyr, lda: fout, b: x + r.lowerBound * fin,
                       ldb: fin, c: parts[g], ldc: fin)
            if hasBias {
                let db = parts[g] + fout * fin
                db.update(repeating: 0, count: fout)
                for i in r { for j in 0..<fout { db[j] += dy[i * fout + j] } }
            }
            Gemm.sgemm(m: r.count, n: fin, k: fout, a: dyr, lda: fout, b: wq, ldb: fin, c: dxp + r.lowerBound * fin, ldc: fin)
        }
        BatchSums.current.sum(parts, count: fout * fin, workers: Workers.count, into: weight.grad.ptr)
        if let db = bias?.grad.ptr {
            let biasParts = parts.map { $0 + fout * fin }
            BatchSums.current.sum(biasParts, count: fout, workers: 1, into: db)
        }
        return dxp
    }

    /// Per group of the batch: its weight gradient and bias gradient, made on the first backward.
    private var partials: [FloatBuffer] = []
}
