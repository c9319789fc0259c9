import BTCore
import Kernels

/// Batch normalization over all rows of an [rows, channels] matrix (rows = batch x positions), with an
/// optional fused ReLU. Training uses batch statistics and updates running ones; eval uses running ones.
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
    private let scratch: FloatBuffer
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
        scratch = FloatBuffer(count: channels)
        partials = (0..<workers).map { _ in FloatBuffer(count: 2 * channels) }
    }

    public var params: [Param] { [gamma, beta] }

    /// Per-channel sums of f(row) over each worker's rows, combined in a fixed order into `into`.
    private func channelSums(rows: Int, into a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                             _ body: @escaping (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let c = channels
        let workers = min(self.workers, max(rows, 1))
        parallelFor(workers) { wk in
            let p = self.partials[wk].ptr
            p.update(repeating: 0, count: 2 * c)
            for r in workerRange(wk, of: workers, total: rows) { body(r, p, p + c) }
        }
        a.update(repeating: 0, count: c); b.update(repeating: 0, count: c)
        for wk in 0..<workers {
            let p = partials[wk].ptr
            for j in 0..<c { a[j] += p[j]; b[j] += p[c + j] }
        }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let c = channels, rows = n * positions
        let mean = mean.ptr, inv = invStd.ptr
        if training {
            // Two passes (mean, then centred squares) for accuracy.
            let variance = scratch.ptr
            channelSums(rows: rows, into: mean, variance) { r, s, _ in
                let row = x + r * c
                for j in 0..<c { s[j] += row[j] }
            }
            for j in 0..<c { mean[j] /= Float(rows) }
            channelSums(rows: rows, into: inv, variance) { r, _, s2 in
                let row = x + r * c
                for j in 0..<c { let d = row[j] - mean[j]; s2[j] += d * d }
            }
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c {
                let v = variance[j] / Float(rows)
                inv[j] = 1 / (v + eps).squareRoot()
                rm[j] = (1 - momentum) * rm[j] + momentum * mean[j]
                rv[j] = (1 - momentum) * rv[j] + momentum * v * Float(rows) / Float(max(rows - 1, 1))
            }
        } else {
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c { mean[j] = rm[j]; inv[j] = 1 / (rv[j] + eps).squareRoot() }
        }
        let g = gamma.value.ptr, b = beta.value.ptr, y = out.ptr, relu = relu
        let workers = min(self.workers, max(rows, 1))
        parallelFor(workers) { wk in
            for r in workerRange(wk, of: workers, total: rows) {
                let xi = x + r * c, yi = y + r * c
                for j in 0..<c {
                    let v = (xi[j] - mean[j]) * inv[j] * g[j] + b[j]
                    yi[j] = relu ? max(v, 0) : v
                }
            }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let c = channels, rows = n * positions
        let mean = mean.ptr, inv = invStd.ptr, y = out.ptr, relu = relu
        let dg = gamma.grad.ptr, db = beta.grad.ptr
        // dbeta = sum g, dgamma = sum g * xhat, where g = dy masked by the ReLU.
        channelSums(rows: rows, into: db, dg) { r, sb, sg in
            let xi = x + r * c, yi = y + r * c, di = dy + r * c
            for j in 0..<c {
                let g = (relu && yi[j] <= 0) ? 0 : di[j]
                sb[j] += g
                sg[j] += g * (xi[j] - mean[j]) * inv[j]
            }
        }
        let gam = gamma.value.ptr, dxp = dx.ptr
        let m = Float(rows)
        let workers = min(self.workers, max(rows, 1))
        parallelFor(workers) { wk in
            for r in workerRange(wk, of: workers, total: rows) {
                let xi = x + r * c, yi = y + r * c, di = dy + r * c, o = dxp + r * c
                for j in 0..<c {
                    let g = (relu && yi[j] <= 0) ? 0 : di[j]
                    let xhat = (xi[j] - mean[j]) * inv[j]
                    o[j] = gam[j] * inv[j] * (g - db[j] / m - xhat * dg[j] / m)
                }
            }
        }
        return dxp
    }
}
