import BTCore
import Kernels

/// 2x2 max pooling, stride 2, NHWC; odd trailing rows and columns are dropped (floor), as in PyTorch.
public final class MaxPool2: Layer {
    public let h, w, c: Int
    public var oh: Int { h / 2 }
    public var ow: Int { w / 2 }
    public var outputSize: Int { oh * ow * c }

    private let workers: Int
    private let out: FloatBuffer
    private let dx: FloatBuffer
    private let argmax: UnsafeMutablePointer<Int32>  // index within the sample's input of each output's max

    public init(h: Int, w: Int, c: Int, maxBatch: Int, workers: Int = Workers.count) {
        self.h = h; self.w = w; self.c = c; self.workers = workers
        out = FloatBuffer(count: maxBatch * (h / 2) * (w / 2) * c)
        dx = FloatBuffer(count: maxBatch * h * w * c)
        argmax = .allocate(capacity: max(1, maxBatch * (h / 2) * (w / 2) * c))
    }

    deinit { argmax.deallocate() }

    public var params: [Param] { [] }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        let (h, w, c, oh, ow) = (h, w, c, oh, ow)
        let y = out.ptr, am = argmax
        let workers = min(self.workers, n)
        parallelFor(workers) { wk in
            for img in workerRange(wk, of: workers, total: n) {
                let xi = x + img * h * w * c
                let base = img * oh * ow * c
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = base + (oy * ow + ox) * c
                        let p00 = ((2 * oy) * w + 2 * ox) * c
                        let offsets = (p00, p00 + c, p00 + w * c, p00 + w * c + c)
                        for ch in 0..<c {
                            var best = offsets.0 + ch
                            if xi[offsets.1 + ch] > xi[best] { best = offsets.1 + ch }
                            if xi[offsets.2 + ch] > xi[best] { best = offsets.2 + ch }
                            if xi[offsets.3 + ch] > xi[best] { best = offsets.3 + ch }
                            y[o + ch] = xi[best]
                            am[o + ch] = Int32(best)
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        let inSize = h * w * c, outSize = outputSize
        let d = dx.ptr, am = argmax
        let workers = min(self.workers, n)
        parallelFor(workers) { wk in
            for img in workerRange(wk, of: workers, total: n) {
                let di = d + img * inSize
                di.update(repeating: 0, count: inSize)
                for o in img * outSize..<(img + 1) * outSize { di[Int(am[o])] += dy[o] }
            }
        }
        return d
    }
}
