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

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let y = out.ptr
        Gemm.sgemm(transB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                   b: effective.ptr, ldb: inFeatures, c: y, ldc: outFeatures)
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
        Gemm.sgemm(m: n, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: effective.ptr,
                   ldb: inFeatures, c: dx.ptr, ldc: inFeatures)
        return dx.ptr
    }
}
