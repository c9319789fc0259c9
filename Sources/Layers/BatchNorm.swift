import BTCore
import Kernels

/// Batch normalization per channel over every position of every sample, NHWC, with an optional fused
/// ReLU and an optional fused 2x2 max pool (stride 2, floor, as in PyTorch) after it. Training uses batch
/// statistics and updates running ones; eval uses the running ones.
///
/// Why fused: these layers are memory-bound, and every full-size tensor they do not write and read back
/// is a pass over the network's largest activations. Backward recomputes the ReLU mask and the pool's
/// winners from the input (see BatchNormPasses), so neither is stored.
public final class BatchNorm: Layer {
    public let channels: Int
    /// The map size of the following calls (`setSpatial`); training needs it no larger than at init.
    public private(set) var h, w: Int
    public let relu: Bool
    public let pool: Bool
    /// "bn1": its parameters and state are named under it.
    public let name: String
    public let gamma: Param
    public let beta: Param
    public let runningMean: FloatBuffer
    public let runningVar: FloatBuffer
    /// Weight of a batch's statistics in the running ones (PyTorch's 0.1). Recalibration sets 1/(i+1) for
    /// batch i, which makes the running statistics the plain average over its batches.
    public var momentum: Float = 0.1
    public let eps: Float = 1e-5
    public var positions: Int { h * w }
    /// Set when the next layer is a conv with a zero-padded input buffer: the output is written straight
    /// into its interior (and `forward` returns that buffer), saving the conv a copy.
    public var paddedOutput: UnsafeMutablePointer<Float>?
    public var outputSize: Int { pool ? (h / 2) * (w / 2) * channels : positions * channels }

    private let workers: Int
    private let maxBatch: Int
    /// Allocated on first use: a batch norm that hands off into a padded buffer never needs it.
    private lazy var out = FloatBuffer(count: capacity * channels)
    /// Positions the output buffer holds: the training batch's, or one whole image of up to evalSide x evalSide.
    private let capacity: Int
    private let dx: FloatBuffer
    private let mean: FloatBuffer, invStd: FloatBuffer
    private let scale: FloatBuffer, shift: FloatBuffer  // forward: v = x * scale + shift
    private let gradA: FloatBuffer, gradB: FloatBuffer, gradC: FloatBuffer  // backward: dx = A g + B x + C
    private let scratch: [FloatBuffer]  // per worker: 2 x channels Float partial sums
    private var sums: [UnsafeMutablePointer<Double>] = []  // per group of the batch: 2 x channels
    private let total: UnsafeMutablePointer<Double>       // the groups' sums added: 2 x channels
    private var input: UnsafeMutablePointer<Float>?

    /// Over an h x w map per sample; `pool` halves both after the normalization (and ReLU).
    public init(name: String, channels: Int, h: Int, w: Int, maxBatch: Int, relu: Bool = true, pool: Bool = false,
                evalSide: Int = 0, workers: Int = Workers.count) {
        capacity = max(maxBatch * h * w, evalSide * evalSide)
        self.channels = channels; self.h = h; self.w = w; self.relu = relu; self.pool = pool
        self.workers = workers
        self.name = name
        gamma = Param(name: name + ".gamma", shape: [channels])
        beta = Param(name: name + ".beta", shape: [channels])
        gamma.value.buffer.update(repeating: 1)
        runningMean = FloatBuffer(count: channels)
        runningVar = FloatBuffer(count: channels)
        runningVar.buffer.update(repeating: 1)
        self.maxBatch = maxBatch
        dx = FloatBuffer(count: maxBatch * h * w * channels)
        (mean, invStd) = (FloatBuffer(count: channels), FloatBuffer(count: channels))
        (scale, shift) = (FloatBuffer(count: channels), FloatBuffer(count: channels))
        (gradA, gradB, gradC) = (FloatBuffer(count: channels), FloatBuffer(count: channels), FloatBuffer(count: channels))
        scratch = (0..<workers).map { _ in FloatBuffer(count: 2 * channels) }
        total = .allocate(capacity: 2 * channels)
    }

    /// The running statistics by name ("bn1.running_mean", as PyTorch's state_dict), for checkpoints.
    public var stateTensors: [NamedTensor] {
        [NamedTensor(name + ".running_mean", runningMean), NamedTensor(name + ".running_var", runningVar)]
    }

    /// Over `positions` positions per sample, without pooling (e.g. after a fully connected layer).
    public convenience init(name: String, channels: Int, positions: Int, maxBatch: Int, relu: Bool = true,
                            workers: Int = Workers.count) {
        self.init(name: name, channels: channels, h: positions, w: 1, maxBatch: maxBatch, relu: relu, workers: workers)
    }

    deinit { sums.forEach { $0.deallocate() }; total.deallocate() }

    /// Sets the map size of the following calls (a fully convolutional net evaluating whole images).
    public func setSpatial(h: Int, w: Int) {
        precondition(h * w <= capacity, "\(label): no room for \(h)x\(w)")
        self.h = h; self.w = w
    }

    public var params: [Param] { [gamma, beta] }
    public var label: String {
        "\(name)\(relu ? "+relu" : "")\(pool ? "+pool" : "") \(channels)ch"
    }

    private var coefficients: BatchNormPasses.Coefficients { (UnsafePointer(scale.ptr), UnsafePointer(shift.ptr)) }

    /// Runs `body` on every group of the batch (`BatchSums`: its rows, or its images where `unitsPerImage` is 1 and
    /// the body pools), each into the group's own Double sums (2 x channels), and adds the groups' sums over the batch's
    /// tree: the statistics are the same to the bit on any number of workers and ranks.
    private func sumOverGroups(images n: Int, unitsPerImage: Int,
                               _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Double>) -> Void)
        -> UnsafeMutablePointer<Double> {
        let c2 = 2 * channels
        let groups = BatchGroups.units(BatchSums.current.localGroups(images: n), perImage: unitsPerImage)
        while sums.count < groups.count { sums.append(.allocate(capacity: c2)) }
        nonisolated(unsafe) let sums = sums
        parallelRanges(workers, groups) { wk, b, r in
            sums[b].update(repeating: 0, count: c2)
            body(r, self.scratch[wk].ptr, sums[b])
        }
        BatchSums.current.sum(Array(sums[..<groups.count]), count: c2, into: total)
        return total
    }

    /// Runs `body` on blocks of `total` units.
    /// Each unit is written by one call, so blocks go out as workers come free.
    private func split(_ total: Int, _ body: (Range<Int>) -> Void) {
        parallelBlocks(min(workers, max(total, 1)), total: total, block: max(1, (total + 31) / 32)) { _, r in body(r) }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        let c = channels, rows = n * positions
        precondition(rows <= capacity, "\(label): \(n) samples do not fit")
        let mean = mean.ptr, inv = invStd.ptr
        if training {
            // One pass: sums of (x - x0) and (x - x0)^2, x0 the batch's first row, a shift against cancellation
            // (on every rank: the one holding it shares it).
            let x0 = shift.ptr
            x0.update(from: x, count: c)
            BatchSums.current.shareFromFirstGroup(x0, count: c)
            let s = sumOverGroups(images: n, unitsPerImage: positions) { r, f, s in
                BatchNormPasses.shiftedSums(x, rows: r, c: c, shift: x0, scratch: f, into: s)
            }
            let batchRows = BatchSums.current.batchImages(local: n) * positions
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c {
                let d = s[j] / Double(batchRows)
                let v = Float(max(s[c + j] / Double(batchRows) - d * d, 0))
                mean[j] = x0[j] + Float(d)
                inv[j] = 1 / (v + eps).squareRoot()
                rm[j] = (1 - momentum) * rm[j] + momentum * mean[j]
                rv[j] = (1 - momentum) * rv[j] + momentum * v * Float(batchRows) / Float(max(batchRows - 1, 1))
            }
        } else {
            let rm = runningMean.ptr, rv = runningVar.ptr
            for j in 0..<c { mean[j] = rm[j]; inv[j] = 1 / (rv[j] + eps).squareRoot() }
        }
        setCoefficients()
        let relu = relu, k = coefficients, (h, w) = (h, w)
        let y = BatchNormPasses.Output(base: paddedOutput ?? out.ptr, h: pool ? h / 2 : h, w: pool ? w / 2 : w, c: c,
                                       padded: paddedOutput != nil)
        if pool {
            split(n) { BatchNormPasses.forwardPooled(x, images: $0, h: h, w: w, c: c, k, relu: relu, into: y) }
        } else if y.padded {
            split(n) { images in
                for img in images {
                    for r in 0..<h { BatchNormPasses.forward(x + (img * h + r) * w * c, rows: 0..<w, c: c, k, relu: relu, into: y.row(img, r)) }
                }
            }
        } else {
            split(rows) { BatchNormPasses.forward(x, rows: $0, c: c, k, relu: relu, into: y.base) }
        }
        return y.base
    }

    /// v = scale x + shift with scale = gamma * invStd, shift = beta - mean * scale.
    private func setCoefficients() {
        let a = scale.ptr, b = shift.ptr, g = gamma.value.ptr, be = beta.value.ptr, mean = mean.ptr, inv = invStd.ptr
        for j in 0..<channels { a[j] = g[j] * inv[j]; b[j] = be[j] - mean[j] * a[j] }
    }

    /// This layer's eval-mode pass as the conv before it will run it (Conv3x3.infer): the same coefficients and
    /// the same output buffer as `forward(training: false)`, so the result is the same to the bit.
    public func inferenceEpilogue() -> Winograd.Epilogue {
        let rm = runningMean.ptr, rv = runningVar.ptr, mean = mean.ptr, inv = invStd.ptr
        for j in 0..<channels { mean[j] = rm[j]; inv[j] = 1 / (rv[j] + eps).squareRoot() }
        setCoefficients()
        return Winograd.Epilogue(scale: scale.ptr, shift: shift.ptr, relu: relu, pool: pool,
                                 out: paddedOutput ?? out.ptr, padded: paddedOutput != nil)
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let c = channels, rows = n * positions, relu = relu, k = coefficients, (h, w) = (h, w)
        precondition(rows * c <= dx.count, "\(label): training needs the size it was made for")
        // With g the gradient past the pool and the ReLU: dbeta = sum g, and sum g x (turned into dgamma below).
        let s = pool
            ? sumOverGroups(images: n, unitsPerImage: 1) { r, f, s in
                BatchNormPasses.gradientSumsPooled(dy, x, images: r, h: h, w: w, c: c, k, relu: relu, scratch: f, into: s)
            }
            : sumOverGroups(images: n, unitsPerImage: positions) { r, f, s in
                BatchNormPasses.gradientSums(dy, x, rows: r, c: c, k, relu: relu, scratch: f, into: s)
            }
        // dgamma = sum g xhat = inv (sum g x - mean sum g).
        // dx = gamma inv (g - dbeta/m - xhat dgamma/m) = A g + B x + C per channel, m the whole batch's rows.
        let m = Float(BatchSums.current.batchImages(local: n) * positions)
        let mean = mean.ptr, inv = invStd.ptr, gam = gamma.value.ptr
        let dg = gamma.grad.ptr, db = beta.grad.ptr
        let ga = gradA.ptr, gb = gradB.ptr, gc = gradC.ptr
        for j in 0..<c {
            db[j] = Float(s[j])
            dg[j] = inv[j] * Float(s[c + j] - Double(mean[j]) * s[j])
            ga[j] = gam[j] * inv[j]
            gb[j] = -ga[j] * inv[j] * dg[j] / m
            gc[j] = -ga[j] * db[j] / m - gb[j] * mean[j]
        }
        let abc = (UnsafePointer(ga), UnsafePointer(gb), UnsafePointer(gc)), dxp = dx.ptr
        if pool {
            split(n) { BatchNormPasses.inputGradientPooled(dy, x, images: $0, h: h, w: w, c: c, k, relu: relu, abc, into: dxp) }
        } else {
            split(rows) { BatchNormPasses.inputGradient(dy, x, rows: $0, c: c, k, relu: relu, abc, into: dxp) }
        }
        return dxp
    }
}
