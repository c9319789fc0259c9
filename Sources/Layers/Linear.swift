import Kernels

/// Fully connected layer: y = x W^T (+ b), W is [out, in]. Kept full precision, as in the paper.
public final class Linear: WeightedLayer {
    public let inFeatures, outFeatures: Int
    public let weight: Param
    public let bias: Param?
    public var outputSize: Int { outFeatures }

    private let out: FloatBuffer
    private let dx: FloatBuffer
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool, maxBatch: Int) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = Param(name: name + ".weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? Param(name: name + ".bias", shape: [outFeatures]) : nil
        out = FloatBuffer(count: maxBatch * outFeatures)
        dx = FloatBuffer(count: maxBatch * inFeatures)
    }

    public var params: [Param] { [weight] + (bias.map { [$0] } ?? []) }
    public var label: String { "\(weight.name.split(separator: ".")[0]) \(inFeatures)->\(outFeatures)" }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let y = out.ptr
        Gemm.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                   b: weight.value.ptr, ldb: inFeatures, c: y, ldc: outFeatures)
        if let b = bias?.value.ptr {
            for i in 0..<n { for j in 0..<outFeatures { y[i * outFeatures + j] += b[j] } }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        Gemm.sgemm(transA: true, m: outFeatures, n: inFeatures, k: n, a: dy, lda: outFeatures, b: x,
                   ldb: inFeatures, c: weight.grad.ptr, ldc: inFeatures)
        if let db = bias?.grad.ptr {
            db.update(repeating: 0, count: outFeatures)
            for i in 0..<n { for j in 0..<outFeatures { db[j] += dy[i * outFeatures + j] } }
        }
        Gemm.sgemm(m: n, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight.value.ptr,
                   ldb: inFeatures, c: dx.ptr, ldc: inFeatures)
        return dx.ptr
    }
}
