import BTCore
import Kernels

/// 3x3 convolution, stride 1, padding 1, no bias (batch norm follows), NHWC.
/// Each worker takes a contiguous share of the batch and walks it in chunks of images: im2col into a
/// small per-worker buffer, then one GEMM, so the column matrix is never materialized for the batch.
public final class Conv3x3: Layer {
    public let cin, cout, h, w: Int
    /// Latent weights, [cout, 3, 3, cin].
    public let weight: Param
    /// The weights the forward and backward passes use: Q(latent) or the latent weights themselves.
    /// The straight-through estimator passes dL/d(effective) to the latent weights unchanged.
    public let effective: FloatBuffer
    public var outputSize: Int { h * w * cout }

    private let needsInputGrad: Bool
    private let workers: Int
    private let chunk: Int
    private let out: FloatBuffer
    private let dx: FloatBuffer?
    private let cols: [FloatBuffer]
    private let partialGrads: [FloatBuffer]
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, cin: Int, cout: Int, h: Int, w: Int, maxBatch: Int, needsInputGrad: Bool = true,
                workers: Int = Workers.count) {
        self.cin = cin; self.cout = cout; self.h = h; self.w = w
        self.needsInputGrad = needsInputGrad
        self.workers = workers
        weight = Param(name: name, shape: [cout, 3, 3, cin], quantized: true)
        effective = FloatBuffer(count: weight.count)
        // About 1 MB of columns per chunk keeps the GEMM operands in cache.
        let chunk = max(1, min(maxBatch, (1 << 18) / max(1, h * w * 9 * cin)))
        self.chunk = chunk
        out = FloatBuffer(count: maxBatch * h * w * cout)
        dx = needsInputGrad ? FloatBuffer(count: maxBatch * h * w * cin) : nil
        cols = (0..<workers).map { _ in FloatBuffer(count: chunk * h * w * 9 * cin) }
        partialGrads = (0..<workers).map { _ in FloatBuffer(count: cout * 9 * cin) }
    }

    public var params: [Param] { [weight] }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let (cin, cout, h, w, chunk) = (cin, cout, h, w, chunk)
        let wq = effective.ptr, y = out.ptr
        let workers = min(self.workers, n)
        parallelFor(workers) { wk in
            let col = self.cols[wk].ptr
            var img = workerRange(wk, of: workers, total: n).lowerBound
            let end = workerRange(wk, of: workers, total: n).upperBound
            while img < end {
                let c = min(chunk, end - img)
                Im2col.forward(x + img * h * w * cin, images: c, h: h, w: w, c: cin, into: col)
                Gemm.sgemm(transB: true, m: c * h * w, n: cout, k: 9 * cin, a: col, lda: 9 * cin,
                           b: wq, ldb: 9 * cin, c: y + img * h * w * cout, ldc: cout)
                img += c
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let (cin, cout, h, w, chunk) = (cin, cout, h, w, chunk)
        let wq = effective.ptr
        let dxp = dx?.ptr
        let workers = min(self.workers, n)
        parallelFor(workers) { wk in
            let col = self.cols[wk].ptr
            let dW = self.partialGrads[wk].ptr
            let r = workerRange(wk, of: workers, total: n)
            var img = r.lowerBound
            var first = true
            while img < r.upperBound {
                let c = min(chunk, r.upperBound - img)
                let m = c * h * w
                let dyc = dy + img * h * w * cout
                Im2col.forward(x + img * h * w * cin, images: c, h: h, w: w, c: cin, into: col)
                // dW[cout, 9cin] (+)= dY^T[cout, m] * cols[m, 9cin]
                Gemm.sgemm(transA: true, m: cout, n: 9 * cin, k: m, a: dyc, lda: cout, b: col, ldb: 9 * cin,
                           beta: first ? 0 : 1, c: dW, ldc: 9 * cin)
                first = false
                if let dxp {
                    // dcols[m, 9cin] = dY[m, cout] * W[cout, 9cin], reusing the column buffer.
                    Gemm.sgemm(m: m, n: 9 * cin, k: cout, a: dyc, lda: cout, b: wq, ldb: 9 * cin, c: col, ldc: 9 * cin)
                    Im2col.backward(col, images: c, h: h, w: w, c: cin, into: dxp + img * h * w * cin)
                }
                img += c
            }
            if first { self.partialGrads[wk].zero() }
        }
        // Fixed-order reduction keeps results bit-reproducible.
        let g = weight.grad.ptr
        g.update(from: partialGrads[0].ptr, count: weight.count)
        for wk in 1..<max(workers, 1) {
            let p = partialGrads[wk].ptr
            for i in 0..<weight.count { g[i] += p[i] }
        }
        return dxp
    }
}
