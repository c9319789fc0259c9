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

    private static let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

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
                        let q = (p00, p00 + c, p00 + w * c, p00 + w * c + c)
                        var ch = 0
                        // Eight channels at a time; ties keep the first candidate, as the scalar loop does.
                        while ch + 8 <= c {
                            var best = xi.load8(q.0 + ch)
                            var arg = SIMD8<Int32>(repeating: Int32(q.0 + ch)) &+ Self.lanes
                            var k = 1
                            while k < 4 {  // candidates 1...3, unrolled by hand to stay allocation-free
                                let off = k == 1 ? q.1 : (k == 2 ? q.2 : q.3)
                                let v = xi.load8(off + ch)
                                let better = v .> best
                                best.replace(with: v, where: better)
                                arg.replace(with: SIMD8<Int32>(repeating: Int32(off + ch)) &+ Self.lanes, where: better)
                                k += 1
                            }
                            y.store8(best, o + ch)
                            UnsafeMutableRawPointer(am + o + ch).storeBytes(of: arg, as: SIMD8<Int32>.self)
                            ch += 8
                        }
                        while ch < c {
                            var best = q.0 + ch
                            if xi[q.1 + ch] > xi[best] { best = q.1 + ch }
                            if xi[q.2 + ch] > xi[best] { best = q.2 + ch }
                            if xi[q.3 + ch] > xi[best] { best = q.3 + ch }
                            y[o + ch] = xi[best]
                            am[o + ch] = Int32(best)
                            ch += 1
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
