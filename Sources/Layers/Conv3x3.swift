import BTCore
import Kernels

/// 3x3 convolution, stride 1, padding 1, NHWC, with an optional bias (none where batch norm follows).
/// The height and width can change between calls (`setSpatial`) within the buffers' capacity: a
/// fully convolutional net trains on patches and evaluates whole images with the same layers.
/// Work goes out in blocks as workers come free; the weight and bias gradients are summed per group of the batch
/// (`BatchSums`) and added over the groups' tree, so they are the same on any thread count and rank count. With output channels in multiples of 16 and up to
/// 32 input channels (or any count Winograd's weight gradient takes), the direct path runs on zero-padded
/// copies: Winograd F(2x2, 3x3) for the forward, input-gradient and weight-gradient convolutions where the
/// channel counts allow, the direct kernels otherwise. Everything else walks its share in chunks of images:
/// im2col into a small buffer, then one OpenBLAS GEMM.
public final class Conv3x3: QuantizedLayer {
    public let cin, cout: Int
    /// The current image size; training (the weight gradient) needs it no larger than at init.
    public private(set) var h, w: Int
    /// Latent weights, [cout, 3, 3, cin].
    public let weight: Param
    /// Nil where batch norm follows (a bias would cancel).
    public let bias: Param?
    /// A ReLU after the bias, in the same pass over the output (nets without batch norm).
    public let relu: Bool
    /// A learned gain per output channel on the effective weights, starting at 1 (nets without batch norm, where
    /// nothing else can rescale a quantized layer: the passes use gain[co] * Q(W)[co, ...]).
    public let gain: Param?
    /// The weights the forward and backward passes use: Q(latent) or the latent weights themselves.
    /// The straight-through estimator passes dL/d(effective) to the latent weights unchanged.
    public let effective: FloatBuffer
    public var outputSize: Int { h * w * cout }

    private let needsInputGrad: Bool
    private let workers: Int
    private let out: FloatBuffer
    private let dx: FloatBuffer?
    /// Per group of the batch (`weightGradBlocks`), made on first use.
    private var partialGrads: [FloatBuffer] = []
    private var partialBiasGrads: [FloatBuffer] = []
    /// The partials' sum in the direct kernels' [9*cin, cout] layout, before the transpose.
    private lazy var reduced = FloatBuffer(count: 9 * cin * cout)
    private let maskedGrad: FloatBuffer?  // dy through the fused ReLU
    private let trainTiles: Int
    private var input: UnsafeMutablePointer<Float>?
    /// How each pass runs, chosen once from the shape (`ConvAlgorithm`); every buffer below is sized for these.
    public let forwardAlgorithm: ConvAlgorithm
    /// nil where no input gradient is needed (the first layer).
    public let inputGradAlgorithm: ConvAlgorithm?
    public let weightGradAlgorithm: ConvAlgorithm
    // Padded-input (direct and Winograd) paths.
    private let xpad: FloatBuffer?, dypad: FloatBuffer?
    private let wt: FloatBuffer        // [9*cin, cout]
    private let wflip: FloatBuffer     // [9*cout, cin]: the kernel of the input-gradient convolution
    private let gained: FloatBuffer?   // gain ⊙ effective, what the passes use where there is a gain
    // Winograd F(2x2, 3x3) and F(4x4, 3x3) (about half F(2x2)'s multiply-adds) on the padded input.
    private let u: FloatBuffer, uflip: FloatBuffer  // [16, cin, cout] and [16, cout, cin]
    private let winogradScratch: [FloatBuffer], weightGradScratch: [FloatBuffer]
    private let u4: FloatBuffer, u4flip: FloatBuffer  // [36, cin, cout] and [36, cout, cin]
    private let winograd4Scratch: [FloatBuffer]
    // GEMM path.
    private let cols: [FloatBuffer]

    /// `h` x `w` and `maxBatch` size the training batch; `evalSide` also makes room for one image of up to
    /// evalSide x evalSide (whole-image evaluation).
    public init(name: String, cin: Int, cout: Int, h: Int, w: Int, maxBatch: Int, needsInputGrad: Bool = true,
                bias: Bool = false, relu: Bool = false, gain: Bool = false, quantized: Bool = true, evalSide: Int = 0,
                workers: Int = Workers.count, allowDirect: Bool = true, allowWinograd: Bool = true,
                allowWinograd4: Bool = true) {
        self.cin = cin; self.cout = cout; self.h = h; self.w = w
        self.needsInputGrad = needsInputGrad
        self.workers = workers
        weight = Param(name: name, shape: [cout, 3, 3, cin], quantized: quantized)
        self.bias = bias ? Param(name: name + ".bias", shape: [cout]) : nil
        self.relu = relu
        self.gain = gain ? Param(name: name + ".gain", shape: [cout]) : nil
        self.gain?.value.buffer.update(repeating: 1)
        maskedGrad = relu ? FloatBuffer(count: maxBatch * h * w * cout) : nil
        // A full-precision conv (no quantizer fills `effective`) computes with its latent weights.
        effective = quantized ? FloatBuffer(count: weight.count) : weight.value
        gained = gain ? FloatBuffer(count: weight.count) : nil
        let pixels = max(maxBatch * h * w, evalSide * evalSide)
        let padded = max(maxBatch * (h + 2) * (w + 2), (evalSide + 2) * (evalSide + 2))
        out = FloatBuffer(count: pixels * cout)
        dx = needsInputGrad ? FloatBuffer(count: maxBatch * h * w * cin) : nil
        trainTiles = ((h + 1) / 2) * ((w + 1) / 2)
        // The direct kernels win where GEMM operands are skinny (up to 32 input channels); past that, OpenBLAS
        // wins unless Winograd covers all three convolutions (measured with `btviz bench --profile`). Winograd is
        // F(4x4) where the channels allow, else F(2x2).
        let winogradAll = allowWinograd && Winograd.supportsWeightGrad(cin: cin, cout: cout)
        func paddedAlgorithm(cin: Int, cout: Int) -> ConvAlgorithm {
            guard allowWinograd && Winograd.supports(cin: cin, cout: cout) else { return .direct }
            return allowWinograd4 && Winograd4.supports(cin: cin, cout: cout) ? .winograd4 : .winograd2
        }
        let direct = allowDirect && DirectConv.supports(cout) && (cin <= 32 || winogradAll)
        forwardAlgorithm = direct ? paddedAlgorithm(cin: cin, cout: cout) : .gemm
        inputGradAlgorithm = !needsInputGrad ? nil : direct && DirectConv.supports(cin) ? paddedAlgorithm(cin: cout, cout: cin) : .gemm
        weightGradAlgorithm = !direct ? .gemm : !winogradAll ? .direct
            : allowWinograd4 && Winograd4.supports(cin: cin, cout: cout) ? .winograd4 : .winograd2
        let directInputGrad = inputGradAlgorithm.map { $0 != .gemm } ?? false
        xpad = direct ? FloatBuffer(count: (padded + 8) * cin) : nil
        dypad = directInputGrad ? FloatBuffer(count: DirectConv.paddedCount(images: maxBatch, h: h, w: w, c: cout)) : nil
        wt = FloatBuffer(count: 9 * cin * cout)
        wflip = FloatBuffer(count: 9 * cin * cout)
        u = FloatBuffer(count: forwardAlgorithm == .winograd2 ? 16 * cin * cout : 0)
        uflip = FloatBuffer(count: inputGradAlgorithm == .winograd2 ? 16 * cin * cout : 0)
        u4 = FloatBuffer(count: forwardAlgorithm == .winograd4 ? 36 * cin * cout : 0)
        u4flip = FloatBuffer(count: inputGradAlgorithm == .winograd4 ? 36 * cin * cout : 0)
        winograd4Scratch = (0..<(forwardAlgorithm == .winograd4 || inputGradAlgorithm == .winograd4 ? workers : 0)).map { _ in
            FloatBuffer(count: max(Winograd4.scratchCount(cin: cin, cout: cout), Winograd4.scratchCount(cin: cout, cout: cin)))
        }
        // F(2x2) scratch only where an F(2x2) forward or input gradient runs.
        winogradScratch = (0..<(forwardAlgorithm == .winograd2 || inputGradAlgorithm == .winograd2 ? workers : 0)).map { _ in
            FloatBuffer(count: Winograd.scratchCount(cin: cin, cout: cout))
        }
        let weightGradFloats = weightGradAlgorithm == .winograd4 ? Winograd4.weightGradScratchCount(cin: cin, cout: cout)
                                                                 : Winograd.weightGradScratchCount(h: h, w: w, cin: cin, cout: cout)
        weightGradScratch = (0..<(weightGradAlgorithm.isWinograd ? workers : 0)).map { _ in
            FloatBuffer(count: weightGradFloats)
        }
        // About 1 MB of columns per chunk keeps the GEMM operands in cache.
        let chunk = max(1, min(maxBatch, (1 << 18) / max(1, h * w * 9 * cin)))
        let needsCols = forwardAlgorithm == .gemm || inputGradAlgorithm == .gemm
        cols = needsCols ? (0..<workers).map { _ in FloatBuffer(count: chunk * h * w * 9 * cin) } : []
    }

    /// The zero-padded input buffer of the direct path, for the layer before to write into directly.
    public var paddedInputBuffer: UnsafeMutablePointer<Float>? { xpad?.ptr }
    /// Set when the layer before writes into `paddedInputBuffer`: forward then skips its own copy.
    public var inputArrivesPadded = false

    public var params: [Param] { [weight] + [bias, gain].compactMap { $0 } }
    public var macsPerSample: Int { h * w * 9 * cin * cout }
    public var label: String { "\(weight.name) \(cin)->\(cout) @\(h)x\(w)" }

    /// Images of `h` x `w` the buffers hold for a forward pass.
    public func capacity(h: Int, w: Int) -> Int {
        let byOutput = out.count / (h * w * cout)
        // The GEMM path walks images in chunks: it needs room for one.
        guard let xpad else { return cols.isEmpty || cols[0].count >= h * w * 9 * cin ? byOutput : 0 }
        return min(byOutput, (xpad.count - 8 * cin) / ((h + 2) * (w + 2) * cin))
    }

    /// Sets the image size of the following calls. The padded buffers are cleared: their borders must be zero
    /// for the new row length.
    public func setSpatial(h: Int, w: Int) {
        guard h != self.h || w != self.w else { return }
        precondition(h >= 1 && w >= 1 && capacity(h: h, w: w) >= 1, "\(label): no room for \(h)x\(w)")
        self.h = h; self.w = w
        xpad?.zero(); dypad?.zero()
    }

    /// Lays out the effective weights for the direct kernels: transposed, and (for training) flipped for the
    /// input gradient; each also Winograd-transformed where that path runs.
    private func prepareDirectWeights(withInputGradient: Bool) {
        let e = passWeights, t = wt.ptr, f = wflip.ptr
        let k9 = 9 * cin
        for co in 0..<cout {
            for k in 0..<k9 { t[k * cout + co] = e[co * k9 + k] }
        }
        switch forwardAlgorithm {
        case .winograd4: Winograd4.transformWeights(t, cin: cin, cout: cout, into: u4.ptr)
        case .winograd2: Winograd.transformWeights(t, cin: cin, cout: cout, into: u.ptr)
        case .direct, .gemm: break
        }
        guard let dx = inputGradAlgorithm, dx != .gemm, withInputGradient else { return }
        // W'[(ky, kx, co), ci] = W[co, (2 - ky, 2 - kx, ci)]
        for tap in 0..<9 {
            let flipped = 8 - tap
            for co in 0..<cout {
                for ci in 0..<cin { f[(tap * cout + co) * cin + ci] = e[co * k9 + flipped * cin + ci] }
            }
        }
        switch dx {
        case .winograd4: Winograd4.transformWeights(f, cin: cout, cout: cin, into: u4flip.ptr)
        case .winograd2: Winograd.transformWeights(f, cin: cout, cout: cin, into: uflip.ptr)
        case .direct, .gemm: break
        }
    }

    /// The weights the passes use: gain ⊙ effective where there is a gain, else effective.
    private var passWeights: UnsafeMutablePointer<Float> { gained?.ptr ?? effective.ptr }

    /// gained[co, k] = gain[co] * effective[co, k]: the effective weights change every step.
    private func applyGain() {
        guard let gained, let g = gain?.value.ptr else { return }
        let e = effective.ptr, k9 = 9 * cin
        for co in 0..<cout { for k in 0..<k9 { gained.ptr[co * k9 + k] = g[co] * e[co * k9 + k] } }
    }

    /// From dL/d(gain ⊙ Q) in weight.grad: dL/dgain[co] = Σ_k grad[co, k] Q[co, k], and dL/dQ = gain ⊙ grad.
    private func gainGradient() {
        guard let gain else { return }
        let g = weight.grad.ptr, e = effective.ptr, k9 = 9 * cin
        for co in 0..<cout {
            var s: Double = 0
            for k in 0..<k9 { s += Double(g[co * k9 + k] * e[co * k9 + k]); g[co * k9 + k] *= gain.value.ptr[co] }
            gain.grad.ptr[co] = Float(s)
        }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        input = x
        applyGain()
        let (cin, cout, h, w) = (cin, cout, h, w)
        precondition(n <= capacity(h: h, w: w), "\(label): \(n) images do not fit")
        let y = out.ptr
        let workers = min(self.workers, n)
        defer { if bias != nil || relu { addBiasAndReLU(to: y, pixels: n * h * w) } }
        if forwardAlgorithm != .gemm {
            prepareDirectWeights(withInputGradient: training)
            forwardPadded(x, n: n, into: y, epilogue: nil)
            return y
        }
        let wq = passWeights, chunk = cols[0].count / (h * w * 9 * cin)
        // Chunks of images from each group's first image (`BatchSums`), whatever the worker or rank count: OpenBLAS's
        // result for a row can depend on how many rows share its call, so the grouping must not change with them.
        parallelRanges(workers, Conv3x3.chunks(of: BatchSums.current.localGroups(images: n), size: chunk)) { wk, _, r in
            let col = self.cols[wk].ptr
            var img = r.lowerBound
            while img < r.upperBound {
                let c = min(chunk, r.upperBound - img)
                Im2col.forward(x + img * h * w * cin, images: c, h: h, w: w, c: cin, into: col)
                Gemm.sgemm(transB: true, m: c * h * w, n: cout, k: 9 * cin, a: col, lda: 9 * cin,
                           b: wq, ldb: 9 * cin, c: y + img * h * w * cout, ldc: cout)
                img += c
            }
        }
        return y
    }

    /// The forward on the padded-input kernels (F(4x4), F(2x2) or direct), into `y` or through `epilogue`.
    /// Work goes out in blocks (tiles for F(4x4), a sixteenth of the batch otherwise) as workers come free:
    /// each tile or image writes only its own outputs, so the result is the same however they fall.
    private func forwardPadded(_ x: UnsafeMutablePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>,
                               epilogue: Winograd.Epilogue?) {
        if forwardAlgorithm == .winograd4 {
            forward4(x, n: n, into: y, epilogue: epilogue)
            return
        }
        let (cin, cout, h, w) = (cin, cout, h, w), xp = xpad!.ptr, u = u.ptr, wt = wt.ptr
        let winograd = forwardAlgorithm == .winograd2, copyIn = !inputArrivesPadded
        parallelBlocks(min(workers, n), total: n, block: max(1, n / 16)) { wk, r in
            if copyIn { DirectConv.pad(x, images: r, h: h, w: w, c: cin, into: xp) }
            if winograd {
                Winograd.forward(xp, images: r, h: h, w: w, cin: cin, cout: cout, u: u,
                                 scratch: self.winogradScratch[wk].ptr, into: y, epilogue: epilogue)
            } else {
                DirectConv.forward(xp, images: r, h: h, w: w, cin: cin, cout: cout, weights: wt, into: y, epilogue: epilogue)
            }
        }
    }

    /// The F(4x4) forward: tiles split over the workers, so one large image uses both.
    private func forward4(_ x: UnsafeMutablePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, epilogue: Winograd.Epilogue?) {
        let (cin, cout, h, w) = (cin, cout, h, w), xp = xpad!.ptr, u4 = u4.ptr, workers = min(self.workers, n)
        if !inputArrivesPadded {
            parallelFor(workers) { wk in DirectConv.pad(x, images: workerRange(wk, of: workers, total: n), h: h, w: w, c: cin, into: xp) }
        }
        let tiles = n * Winograd4.tileCount(h: h, w: w), block = Winograd4.chunk(cin: cin, cout: cout)
        parallelBlocks(self.workers, total: tiles, block: block) { wk, r in
            Winograd4.forward(xp, tiles: r, h: h, w: w, cin: cin, cout: cout,
                              u: u4, scratch: self.winograd4Scratch[wk].ptr, into: y, epilogue: epilogue)
        }
    }

    /// Whether inference can pass the output through this epilogue in the same pass: the Winograd paths take
    /// any, the direct path one without a pool.
    public func fusesEpilogue(pooling: Bool) -> Bool {
        bias == nil && !relu && (forwardAlgorithm.isWinograd || (forwardAlgorithm == .direct && !pooling))
    }

    /// Inference with what follows (eval-mode batch norm, ReLU, pool) done by the output transform, written to
    /// the epilogue's destination, which it returns. Saves writing the output and reading it back.
    public func infer(_ x: UnsafeMutablePointer<Float>, n: Int, epilogue: Winograd.Epilogue) -> UnsafeMutablePointer<Float> {
        precondition(fusesEpilogue(pooling: epilogue.pool) && n <= capacity(h: h, w: w), "\(label): no fused inference here")
        input = x
        applyGain()
        prepareDirectWeights(withInputGradient: false)
        forwardPadded(x, n: n, into: out.ptr, epilogue: epilogue)
        return epilogue.out
    }

    /// The weight gradient's blocks: one per group of the batch (`BatchSums`), as tiles for F(4x4) and images
    /// otherwise. They depend only on the batch, so the gradient is the same on any number of workers or ranks.
    private func weightGradBlocks(n: Int) -> [Range<Int>] {
        let groups = BatchSums.current.localGroups(images: n)
        return weightGradAlgorithm == .winograd4 ? BatchGroups.units(groups, perImage: Winograd4.tileCount(h: h, w: w)) : groups
    }

    /// The per-block partial weight gradients, allocated on the first backward (inference never needs them).
    private func blockGrads(_ count: Int) -> [UnsafeMutablePointer<Float>] {
        while partialGrads.count < count { partialGrads.append(FloatBuffer(count: cout * 9 * cin)) }
        return partialGrads[..<count].map(\.ptr)
    }

    public func backward(_ dyOut: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        guard let x = input else { return nil }
        let dy = maskedGrad.map { reluGradient(dyOut, pixels: n * self.h * self.w, into: $0.ptr) } ?? dyOut
        let (cin, cout, h, w) = (cin, cout, h, w)
        precondition(((h + 1) / 2) * ((w + 1) / 2) <= trainTiles && (dx == nil || n * h * w * cin <= dx!.count),
                     "\(label): training needs the size it was made for")
        let chunk = cols.isEmpty ? 0 : cols[0].count / (h * w * 9 * cin)
        if let db = bias?.grad.ptr { biasGradient(dy, images: n, into: db) }
        let wq = passWeights
        let dxp = dx?.ptr
        let direct = forwardAlgorithm != .gemm, inputAlgorithm = inputGradAlgorithm, weightAlgorithm = weightGradAlgorithm
        let directDX = inputAlgorithm.map { $0 != .gemm } ?? false
        let xp = xpad?.ptr, dyp = dypad?.ptr, wflip = wflip.ptr, uflip = uflip.ptr, u4flip = u4flip.ptr
        let blocks = weightGradBlocks(n: n)
        nonisolated(unsafe) let partials = blockGrads(blocks.count)
        // The input gradient of `images` on the direct kernels: each image's dx is written by one call.
        func inputGradient(_ images: Range<Int>, _ wk: Int) {
            guard directDX, let dyp, let dxp else { return }
            DirectConv.pad(dy, images: images, h: h, w: w, c: cout, into: dyp)
            switch inputAlgorithm {
            case .winograd4?:
                Winograd4.forward(dyp, images: images, h: h, w: w, cin: cout, cout: cin, u: u4flip,
                                  scratch: self.winograd4Scratch[wk].ptr, into: dxp)
            case .winograd2?:
                Winograd.forward(dyp, images: images, h: h, w: w, cin: cout, cout: cin, u: uflip,
                                 scratch: self.winogradScratch[wk].ptr, into: dxp)
            default:
                DirectConv.forward(dyp, images: images, h: h, w: w, cin: cout, cout: cin, weights: wflip, into: dxp)
            }
        }
        // Images `r`: the weight gradient where it goes by images (GEMM; into `dW`), and the input gradient.
        func byImages(_ r: Range<Int>, _ wk: Int, _ dW: UnsafeMutablePointer<Float>) {
            inputGradient(r, wk)
            guard !direct || (dxp != nil && !directDX) else { return }
            let col = self.cols[wk].ptr
            var img = r.lowerBound
            while img < r.upperBound {
                let c = min(chunk, r.upperBound - img)
                let m = c * h * w
                let dyc = dy + img * h * w * cout
                if !direct {
                    Im2col.forward(x + img * h * w * cin, images: c, h: h, w: w, c: cin, into: col)
                    // dW[cout, 9cin] += dY^T[cout, m] * cols[m, 9cin]
                    Gemm.sgemm(transA: true, m: cout, n: 9 * cin, k: m, a: dyc, lda: cout, b: col, ldb: 9 * cin,
                               beta: 1, c: dW, ldc: 9 * cin)
                }
                if let dxp {
                    // dcols[m, 9cin] = dY[m, cout] * W[cout, 9cin], then scattered back onto the images.
                    Gemm.sgemm(m: m, n: 9 * cin, k: cout, a: dyc, lda: cout, b: wq, ldb: 9 * cin, c: col, ldc: 9 * cin)
                    Im2col.backward(col, images: c, h: h, w: w, c: cin, into: dxp + img * h * w * cin)
                }
                img += c
            }
        }
        // Each group adds its share of dW into its own partial, whichever worker runs it.
        parallelRanges(workers, blocks) { wk, b, r in
            let dW = partials[b]
            dW.update(repeating: 0, count: 9 * cin * cout)
            if direct, let xp {
                // dW laid out [9*cin, cout] here; transposed after the reduction below.
                switch weightAlgorithm {
                case .winograd4:
                    // Blocks of tiles: the input gradient goes by images below.
                    Winograd4.weightGrad(xp, dy, tiles: r, h: h, w: w, cin: cin, cout: cout,
                                         scratch: self.weightGradScratch[wk].ptr, into: dW)
                    return
                case .winograd2:
                    Winograd.weightGrad(xp, dy, images: r, h: h, w: w, cin: cin, cout: cout,
                                        scratch: self.weightGradScratch[wk].ptr, into: dW)
                case .direct, .gemm:
                    DirectConv.weightGrad(xp, dy, images: r, h: h, w: w, cin: cin, cout: cout, into: dW)
                }
            }
            byImages(r, wk, dW)
        }
        if weightAlgorithm == .winograd4 && dxp != nil {
            // By groups of images, so the GEMM input gradient chunks images the same on any worker or rank count.
            parallelRanges(workers, BatchSums.current.localGroups(images: n)) { wk, _, r in byImages(r, wk, partials[0]) }
        }
        // The groups' partials added over the batch's tree: bit-reproducible on any number of workers and ranks.
        let g = weight.grad.ptr, k9 = 9 * cin
        if direct {
            let t = reduced.ptr
            BatchSums.current.sum(partials, count: weight.count, workers: workers, into: t)
            for co in 0..<cout { for k in 0..<k9 { g[co * k9 + k] = t[k * cout + co] } }
        } else {
            BatchSums.current.sum(partials, count: weight.count, workers: workers, into: g)
        }
        gainGradient()
        return dxp
    }

    /// Each group cut into chunks of at most `size` images from its first one.
    static func chunks(of groups: [Range<Int>], size: Int) -> [Range<Int>] {
        groups.flatMap { g in stride(from: g.lowerBound, to: g.upperBound, by: max(size, 1)).map { $0..<min($0 + max(size, 1), g.upperBound) } }
    }

    /// y = y + b, then max(y, 0) where the ReLU is fused: one pass over the output.
    private func addBiasAndReLU(to y: UnsafeMutablePointer<Float>, pixels: Int) {
        let cout = cout, b = bias?.value.ptr, relu = relu, workers = min(self.workers, pixels)
        parallelFor(workers) { wk in
            for p in workerRange(wk, of: workers, total: pixels) {
                let row = y + p * cout
                if let b { for c in 0..<cout { row[c] += b[c] } }
                if relu { for c in 0..<cout { row[c] = max(row[c], 0) } }
            }
        }
    }

    /// dy where the output (after the ReLU) is positive, else 0.
    private func reluGradient(_ dy: UnsafePointer<Float>, pixels: Int, into d: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let count = pixels * cout, y = out.ptr, workers = min(self.workers, pixels)
        parallelFor(workers) { wk in
            for i in workerRange(wk, of: workers, total: count) { d[i] = y[i] > 0 ? dy[i] : 0 }
        }
        return d
    }

    /// db = sum of dy over every pixel: one partial per group of the batch, added over its tree (bit-reproducible
    /// on any number of workers and ranks).
    private func biasGradient(_ dy: UnsafePointer<Float>, images n: Int, into db: UnsafeMutablePointer<Float>) {
        let cout = cout, groups = BatchGroups.units(BatchSums.current.localGroups(images: n), perImage: h * w)
        while partialBiasGrads.count < groups.count { partialBiasGrads.append(FloatBuffer(count: cout)) }
        nonisolated(unsafe) let partials = partialBiasGrads[..<groups.count].map(\.ptr)
        parallelRanges(workers, groups) { _, b, r in
            let p = partials[b]
            p.update(repeating: 0, count: cout)
            for px in r {
                let row = dy + px * cout
                for c in 0..<cout { p[c] += row[c] }
            }
        }
        BatchSums.current.sum(partials, count: cout, workers: 1, into: db)
    }
}

/// How a convolution pass runs: `gemm` is im2col and OpenBLAS; the others work on the zero-padded input: `direct`
/// convolves it as it is, `winograd2` and `winograd4` through Winograd's F(2x2, 3x3) and F(4x4, 3x3) transforms.
public enum ConvAlgorithm: Sendable, Equatable {
    case gemm, direct, winograd2, winograd4

    var isWinograd: Bool { self == .winograd2 || self == .winograd4 }
}
