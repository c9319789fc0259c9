import BTCore
import Kernels

/// 3x3 convolution, stride 2, padding 1, no bias, NHWC: the first conv of a ResNet stage that halves the map.
/// im2col (`StridedIm2col`) then one OpenBLAS GEMM per chunk of images, as `Conv3x3`'s GEMM path: a stride-2 conv
/// does a quarter of a stride-1 conv's work on the same input, and two of ResNet-20's 19 convs are strided. The
/// weight gradient is summed per block of a partition fixed by the batch and added in block order, so it is the
/// same on any number of workers.
public final class StridedConv3x3: QuantizedLayer {
    public let cin, cout: Int
    /// Input size; the output is `outH` x `outW`.
    public let h, w: Int
    public let outH, outW: Int
    public let weight: Param
    public var bias: Param? { nil }
    public let effective: FloatBuffer
    public var outputSize: Int { outH * outW * cout }
    public var params: [Param] { [weight] }
    public var macsPerSample: Int { outH * outW * 9 * cin * cout }
    public var label: String { "\(weight.name) \(cin)->\(cout) @\(h)x\(w)/2" }

    private let workers: Int
    private let out: FloatBuffer, dx: FloatBuffer
    private let cols: [FloatBuffer]
    private let chunk: Int
    private var partialGrads: [FloatBuffer] = []
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, cin: Int, cout: Int, h: Int, w: Int, maxBatch: Int, quantized: Bool = true,
                workers: Int = Workers.count) {
        self.cin = cin; self.cout = cout; self.h = h; self.w = w
        outH = StridedIm2col.outputSide(h); outW = StridedIm2col.outputSide(w)
        self.workers = workers
        weight = Param(name: name, shape: [cout, 3, 3, cin], quantized: quantized)
        effective = quantized ? FloatBuffer(count: weight.count) : weight.value
        out = FloatBuffer(count: maxBatch * outH * outW * cout)
        dx = FloatBuffer(count: maxBatch * h * w * cin)
        // About 1 MB of columns per chunk keeps the GEMM operands in cache.
        let chunk = max(1, min(maxBatch, (1 << 18) / max(1, outH * outW * 9 * cin))), colCount = chunk * outH * outW * 9 * cin
        self.chunk = chunk
        cols = (0..<workers).map { _ in FloatBuffer(count: colCount) }
    }

    /// Images `r` in chunks: columns into the worker's buffer, then `body(first image, count, columns)`.
    private func chunks(_ x: UnsafePointer<Float>, _ r: Range<Int>, _ wk: Int,
                        _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let col = cols[wk].ptr
        var img = r.lowerBound
        while img < r.upperBound {
            let c = min(chunk, r.upperBound - img)
            StridedIm2col.forward(x + img * h * w * cin, images: c, h: h, w: w, c: cin, into: col)
            body(img, c, col)
            img += c
        }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let y = out.ptr, wq = effective.ptr, k = 9 * cin, pixels = outH * outW, cout = cout
        // Chunks from each group's first image whatever the worker or rank count: OpenBLAS's result for a row can
        // depend on how many rows share its call.
        parallelRanges(self.workers, Conv3x3.chunks(of: BatchSums.current.localGroups(images: n), size: chunk)) { wk, _, r in
            self.chunks(x, r, wk) { img, c, col in
                Gemm.sgemm(transB: true, m: c * pixels, n: cout, k: k, a: col, lda: k, b: wq, ldb: k,
                           c: y + img * pixels * cout, ldc: cout)
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let (h, w, cin, cout) = (h, w, cin, cout), k = 9 * cin, pixels = outH * outW
        let wq = effective.ptr, dxp = dx.ptr
        let groups = BatchSums.current.localGroups(images: n)
        while partialGrads.count < groups.count { partialGrads.append(FloatBuffer(count: cout * k)) }
        nonisolated(unsafe) let partials = partialGrads[..<groups.count].map(\.ptr)
        parallelRanges(workers, groups) { wk, b, r in
            let dW = partials[b]
            dW.update(repeating: 0, count: cout * k)
            self.chunks(x, r, wk) { img, c, col in
                let dyc = dy + img * pixels * cout, m = c * pixels
                // dW[cout, 9cin] += dY^T[cout, m] * cols[m, 9cin]
                Gemm.sgemm(transA: true, m: cout, n: k, k: m, a: dyc, lda: cout, b: col, ldb: k, beta: 1, c: dW, ldc: k)
                // dcols[m, 9cin] = dY[m, cout] * W[cout, 9cin], scattered back onto the images.
                Gemm.sgemm(m: m, n: k, k: cout, a: dyc, lda: cout, b: wq, ldb: k, c: col, ldc: k)
                StridedIm2col.backward(col, images: c, h: h, w: w, c: cin, into: dxp + img * h * w * cin)
            }
        }
        // The groups' partials added over the batch's tree: bit-reproducible on any number of workers and ranks.
        BatchSums.current.sum(partials, count: weight.count, workers: workers, into: weight.grad.ptr)
        return dxp
    }
}
