import BTCore
import Kernels

/// Batch normalization over all rows of an [rows, channels] matrix (rows = batch x positions), with an
/// optional fused ReLU. Training uses batch statistics and updates running ones; eval uses running ones.
/// Per-channel work is folded into per-channel coefficients so every pass over the data is a fused
/// multiply-add per element, eight channels at a time.
public final class BatchNorm: Layer {
    public let channels: Int
    public let positions: Int
    public let relu: Bool
    public let gamma: Param
    public let beta: Param
    public let runningMean: FloatBuffer
    public let runningVar: FloatBuffer
    public let momentum: Float = 0.1
    public let eps: Float = 1e-5
    public var outputSize: Int { positions * channels }

    private let workers: Int
    private let out: FloatBuffer
    private let dx: FloatBuffer
    private let mean: FloatBuffer
    private let invStd: FloatBuffer
    private let coefA: FloatBuffer, coefB: FloatBuffer, coefC: FloatBuffer  // per-channel affine coefficients
    private let partials: [FloatBuffer]  // per worker: 2 x channels
    private var input: UnsafeMutablePointer<Float>?

    public init(name: String, channels: Int, positions: Int, maxBatch: Int, relu: Bool = true,
                workers: Int = Workers.count) {
        self.channels = channels; self.positions = positions; self.relu = relu
        self.workers = workers
        gamma = Param(name: name + ".gamma", shape: [channels])
        beta = Param(name: name + ".beta", shape: [channels])
        gamma.value.buffer.update(repeating: 1)
        runningMean = FloatBuffer(count: channels)
        runningVar = FloatBuffer(count: channels)
        runningVar.buffer.update(repeating: 1)
        out = FloatBuffer(count: maxBatch * positions * channels)
        dx = FloatBuffer(count: maxBatch * positions * channels)
        mean = FloatBuffer(count: channels)
        invStd = FloatBuffer(count: channels)
        coefA = FloatBuffer(count: channels); coefB = FloatBuffer(count: channels); coefC = FloatBuffer(count: channels)
        partials = (0..<workers).map { _ in FloatBuffer(count: 2 * channels) }
    }

    public var params: [Param] { [gamma, beta] }

    /// Runs `body(rows, first, second)` on each worker's share of rows, each accumulating into its own
    /// two per-channel vectors, then adds those up in a fixed order into `a` and `b`.
    private func reduceRows(_ rows: Int, into a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                            _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let c = channels
        let workers = min(self.workers, max(rows, 1))
        parallelFor(workers) { wk in
            let p = self.partials[wk].ptr
            p.update(repeating: 0, count: 2 * c)
            body(workerRange(wk, of: workers, total: rows), p, p + c)
        }
        a.update(repeating: 0, count: c); b.update(repeating: 0, count: c)
        for wk in 0..<workers {
            let p = partials[wk].ptr
            for j in 0..<c { a[j] += p[j]; b[j] += p[c + j] }
        }
    }

    /// Runs `body` on each worker's share of rows.
    private func mapRows(_ rows: Int, _ body: @escaping (Range<Int>) -> Void) {
        let workers = min(self.workers, max(rows, 1))
        parallelFor(workers) { wk in body(workerRange(wk, of: workers, total: rows)) }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let c = channels, rows = n * positions, c8 = c & ~7
        let mean = mean.ptr, inv = invStd.ptr, scratch = coefC.ptr
        if training {
            // Two passes (mean, then centred squares) for accuracy.
            reduceRows(rows, into: mean, scratch) { range, s, _ in
                for r in range {
                    let row = x + r * c
                    var j = 0
                    while j < c8 { s.store8(s.load8(j) + row.load8(j), j); j += 8 }
                    while j < c { s[j] += row[j]; j += 1 }
                }
            }
            for j in 0..<c { mean[j] /= Float(rows) }
            reduceRows(rows, into: scratch, inv) { range, _, s in
                for r in range {
                    let row = x + r * c
                    var j = 0
                    while j < c8 { let d = row.load8(j) - mean.load8(j); s.store8(s.load8(j) + d * d, j); j += 8 }
                    while j < c { let d = row[j] - mean[j]; s[j] += d * d; j += 1 }
                }
            }
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c {
                let v = inv[j] / Float(rows)
                inv[j] = 1 / (v + eps).squareRoot()
                rm[j] = (1 - momentum) * rm[j] + momentum * mean[j]
                rv[j] = (1 - momentum) * rv[j] + momentum * v * Float(rows) / Float(max(rows - 1, 1))
            }
        } else {
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c { mean[j] = rm[j]; inv[j] = 1 / (rv[j] + eps).squareRoot() }
        }
        // y = max(A x + B, 0) with A = gamma * invStd, B = beta - mean * A.
        let a = coefA.ptr, b = coefB.ptr, g = gamma.value.ptr, be = beta.value.ptr
        for j in 0..<c { a[j] = g[j] * inv[j]; b[j] = be[j] - mean[j] * a[j] }
        let y = out.ptr, relu = relu
        mapRows(rows) { range in
            for r in range {
                let xi = x + r * c, yi = y + r * c
                var j = 0
                while j < c8 {
                    var v = xi.load8(j) * a.load8(j) + b.load8(j)
                    if relu { v = v.replacing(with: 0, where: v .< 0) }
                    yi.store8(v, j); j += 8
                }
                while j < c { let v = xi[j] * a[j] + b[j]; yi[j] = relu ? max(v, 0) : v; j += 1 }
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let c = channels, rows = n * positions, c8 = c & ~7
        let mean = mean.ptr, inv = invStd.ptr, y = out.ptr, relu = relu
        let dg = gamma.grad.ptr, db = beta.grad.ptr
        // With g = dy masked by the ReLU: dbeta = sum g, and sum g * x (turned into dgamma below).
        let sgx = coefC.ptr
        reduceRows(rows, into: db, sgx) { range, sb, sx in
            for r in range {
                let xi = x + r * c, yi = y + r * c, di = dy + r * c
                var j = 0
                while j < c8 {
                    var g = di.load8(j)
                    if relu { g = g.replacing(with: 0, where: yi.load8(j) .<= 0) }
                    sb.store8(sb.load8(j) + g, j)
                    sx.store8(sx.load8(j) + g * xi.load8(j), j)
                    j += 8
                }
                while j < c {
                    let g = (relu && yi[j] <= 0) ? 0 : di[j]
                    sb[j] += g; sx[j] += g * xi[j]; j += 1
                }
            }
        }
        // dgamma = sum g * xhat = inv * (sum g x - mean * sum g).
        // dx = gamma * inv * (g - dbeta/m - xhat * dgamma/m) = A g + B x + C per channel.
        let m = Float(rows)
        let a = coefA.ptr, b = coefB.ptr, cc = coefC.ptr, gam = gamma.value.ptr
        for j in 0..<c {
            dg[j] = inv[j] * (sgx[j] - mean[j] * db[j])
            a[j] = gam[j] * inv[j]
            b[j] = -a[j] * inv[j] * dg[j] / m
            cc[j] = -a[j] * db[j] / m - b[j] * mean[j]
        }
        let dxp = dx.ptr
        mapRows(rows) { range in
            for r in range {
                let xi = x + r * c, yi = y + r * c, di = dy + r * c, o = dxp + r * c
                var j = 0
                while j < c8 {
                    var g = di.load8(j)
                    if relu { g = g.replacing(with: 0, where: yi.load8(j) .<= 0) }
                    o.store8(a.load8(j) * g + b.load8(j) * xi.load8(j) + cc.load8(j), j)
                    j += 8
                }
                while j < c {
                    let g = (relu && yi[j] <= 0) ? 0 : di[j]
                    o[j] = a[j] * g + b[j] * xi[j] + cc[j]; j += 1
                }
            }
        }
        return dxp
    }
}
