import BTCore
import Kernels

/// 3x3 convolution to a few output channels (an image-to-image net's last layer, 64 -> 1), stride 1,
/// padding 1, NHWC, with bias. Input channels in multiples of 16. Full precision.
///
/// Why its own layer: with one output channel a GEMM is a matrix-vector product, and im2col of a whole
/// image is nine times the input. Here every pass reads zero-padded copies directly, and work is split
/// by rows, so one large image uses both workers.
public final class NarrowConv3x3: WeightedLayer {
    public typealias V = SIMD16<Float>
    public let cin, cout: Int
    public private(set) var h, w: Int
    /// [cout, 3, 3, cin], as Conv3x3.
    public let weight: Param
    public let bias: Param?
    public var outputSize: Int { h * w * cout }
    public var params: [Param] { [weight, bias!] }
    public var macsPerSample: Int { h * w * 9 * cin * cout }
    public var label: String { "\(weight.name) \(cin)->\(cout) @\(h)x\(w)" }

    private let workers: Int
    private let trainImages: Int, trainH: Int, trainW: Int
    private let xpad: FloatBuffer, dypad: FloatBuffer
    private let out: FloatBuffer, dx: FloatBuffer
    private var partialGrads: [FloatBuffer] = []  // per block of the backward's partition, made on first use
    private var n = 0

    /// Sized for `maxBatch` images of h x w in training and one of up to evalSide x evalSide.
    public init(name: String, cin: Int, cout: Int, h: Int, w: Int, maxBatch: Int, evalSide: Int = 0,
                workers: Int = Workers.count) {
        precondition(cin % 16 == 0 && cout >= 1, "NarrowConv3x3 takes input channels in multiples of 16")
        self.cin = cin; self.cout = cout; self.h = h; self.w = w; self.workers = workers
        trainImages = maxBatch; trainH = h; trainW = w
        weight = Param(name: name, shape: [cout, 3, 3, cin])
        bias = Param(name: name + ".bias", shape: [cout])
        let padded = max(maxBatch * (h + 2) * (w + 2), (evalSide + 2) * (evalSide + 2))
        xpad = FloatBuffer(count: padded * cin)
        dypad = FloatBuffer(count: maxBatch * (h + 2) * (w + 2) * cout)
        out = FloatBuffer(count: max(maxBatch * h * w, evalSide * evalSide) * cout)
        dx = FloatBuffer(count: maxBatch * h * w * cin)
    }

    /// Images of `h` x `w` a forward pass has room for.
    public func capacity(h: Int, w: Int) -> Int {
        min(xpad.count / ((h + 2) * (w + 2) * cin), out.count / (h * w * cout))
    }

    /// As Conv3x3.setSpatial: later calls take h x w images, padded borders cleared.
    public func setSpatial(h: Int, w: Int) {
        guard h != self.h || w != self.w else { return }
        precondition(h >= 1 && w >= 1 && capacity(h: h, w: w) >= 1, "\(label): no room for \(h)x\(w)")
        self.h = h; self.w = w
        xpad.zero(); dypad.zero()
    }

    /// Copies rows of NHWC images into the interior of a padded buffer.
    private func pad(_ x: UnsafePointer<Float>, rows: Range<Int>, c: Int, into p: UnsafeMutablePointer<Float>) {
        let (h, w) = (h, w)
        for r in rows {
            let img = r / h, y = r % h
            (p + ((img * (h + 2) + y + 1) * (w + 2) + 1) * c).update(from: x + r * w * c, count: w * c)
        }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        precondition(n <= capacity(h: h, w: w), "\(label): \(n) images do not fit")
        self.n = n
        let (cin, cout, h, w) = (cin, cout, h, w)
        let xp = xpad.ptr, y = out.ptr, wt = weight.value.ptr, b = bias!.value.ptr
        let rows = n * h, workers = min(self.workers, rows)
        parallelFor(workers) { wk in
            let r = workerRange(wk, of: workers, total: rows)
            self.pad(x, rows: r, c: cin, into: xp)
        }
        parallelBlocks(workers, total: rows, block: max(1, rows / 32)) { _, rs in
            for r in rs {
                let img = r / h, oy = r % h
                for ox in 0..<w {
                    for co in 0..<cout {
                        var acc = V()
                        for ky in 0..<3 {
                            let src = xp + ((img * (h + 2) + oy + ky) * (w + 2) + ox) * cin
                            let k = wt + (co * 9 + ky * 3) * cin
                            for i in stride(from: 0, to: 3 * cin, by: 16) { acc.addProduct(load(src + i), load(k + i)) }
                        }
                        y[(r * w + ox) * cout + co] = acc.sum() + b[co]
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        precondition(n <= trainImages && h <= trainH && w <= trainW, "\(label): training needs the size it was made for")
        let (cin, cout, h, w) = (cin, cout, h, w)
        let xp = xpad.ptr, dyp = dypad.ptr, wt = weight.value.ptr, dxp = dx.ptr
        let rows = n * h, workers = min(self.workers, rows)
        // dW[co, ky, kx, :] += dy[p, co] * xpad[p + (ky, kx), :]; the bias gradient after it. Per block of a
        // partition of the rows fixed by the batch, added in block order below: the same on any thread count.
        let part = Partition(total: rows, maxBlocks: Partition.maxBlocks)
        while partialGrads.count < part.count { partialGrads.append(FloatBuffer(count: 9 * cin * cout + cout)) }
        nonisolated(unsafe) let partials = partialGrads[..<part.count].map(\.ptr)
        parallelPartition(workers, part) { _, b, r in
            self.pad(dy, rows: r, c: cout, into: dyp)
            let g = partials[b]
            g.update(repeating: 0, count: 9 * cin * cout + cout)
            for row in r {
                let img = row / h, oy = row % h
                for ox in 0..<w {
                    for co in 0..<cout {
                        let d = dy[(row * w + ox) * cout + co]
                        if d == 0 { continue }
                        let dv = V(repeating: d)
                        for ky in 0..<3 {
                            let src = xp + ((img * (h + 2) + oy + ky) * (w + 2) + ox) * cin
                            let k = g + (co * 9 + ky * 3) * cin
                            for i in stride(from: 0, to: 3 * cin, by: 16) {
                                UnsafeMutableRawPointer(k + i).storeBytes(of: load(k + i) + dv * load(src + i), as: V.self)
                            }
                        }
                        g[9 * cin * cout + co] += d
                    }
                }
            }
        }
        // dx[p, :] = sum over (ky, kx, co) of dy[p + (1 - ky, 1 - kx), co] * W[co, ky, kx, :]: a gather, so rows
        // split without races (the padded dy of every row must be complete first).
        parallelBlocks(workers, total: rows, block: max(1, rows / 32)) { _, rs in
            for row in rs {
                let img = row / h, oy = row % h
                for ox in 0..<w {
                    let d = dxp + (row * w + ox) * cin
                    for c in stride(from: 0, to: cin, by: 16) {
                        var acc = V()
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let src = dyp + ((img * (h + 2) + oy + 2 - ky) * (w + 2) + ox + 2 - kx) * cout
                                for co in 0..<cout {
                                    acc.addProduct(V(repeating: src[co]), load(wt + ((co * 3 + ky) * 3 + kx) * cin + c))
                                }
                            }
                        }
                        UnsafeMutableRawPointer(d + c).storeBytes(of: acc, as: V.self)
                    }
                }
            }
        }
        let gw = weight.grad.ptr, gb = bias!.grad.ptr, count = 9 * cin * cout
        gw.update(repeating: 0, count: count)
        gb.update(repeating: 0, count: cout)
        for p in partials {
            for i in 0..<count { gw[i] += p[i] }
            for co in 0..<cout { gb[co] += p[count + co] }
        }
        return dxp
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    private func load(_ p: UnsafeMutablePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
}
