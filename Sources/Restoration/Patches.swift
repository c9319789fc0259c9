import BTCore

/// Training batches of aligned patches cut from clean images, for SR or denoising.
///
/// SR: each image's Y is mod-cropped and downscaled once, exactly as the benchmarks make their LR inputs (imresize,
/// uint8-rounded), and a batch cuts an LR patch and the HR patch it came from. Denoising: a clean patch and fresh
/// seeded noise, clipped as in evaluation. Every sample takes a random image, position and one of the 8
/// flips/rotations (the same on input and target). A batch depends only on (seed, step), so a resumed run draws
/// what the uninterrupted one would have.
public final class RestorationPatches: @unchecked Sendable {
    public let task: RestorationTask
    public let patchSize: Int
    public let batchSize: Int
    public let seed: UInt64
    /// One line per kind of image left out (too small for the patch; unreadable, when loaded from a folder).
    public let notes: [String]

    private let hr: [Plane<UInt8>]
    private let lr: [Plane<UInt8>]  // empty for denoising

    /// The side of an input patch: patchSize / scale for SR, patchSize for denoising.
    public var inputSide: Int { patchSize / task.scale }
    public var targetSide: Int { patchSize }
    public var imageCount: Int { hr.count }

    /// `patchSize` is the HR (target) side and must be a multiple of the SR scale.
    public init(images: [HRImage], task: RestorationTask, patchSize: Int, batchSize: Int, seed: UInt64,
                notes: [String] = []) throws {
        let s = task.scale
        guard s >= 1, patchSize >= s, patchSize % s == 0 else {
            throw BTError("patch size \(patchSize) must be a positive multiple of the scale \(s)")
        }
        guard batchSize >= 1 else { throw BTError("batch size must be at least 1 (got \(batchSize))") }
        if case .denoise(let sigma) = task, !(sigma > 0 && sigma <= 1) {
            throw BTError("noise sigma must be in (0, 1] (got \(sigma))")
        }
        var hr: [Plane<UInt8>] = [], lr: [Plane<UInt8>] = [], small = 0
        for image in images {
            let y = image.y.modCropped(s)
            guard y.width >= patchSize, y.height >= patchSize else { small += 1; continue }
            hr.append(y)
            if s > 1 { lr.append(Imresize.downscale(y, by: s)) }
        }
        guard !hr.isEmpty else {
            throw BTError("no training image is at least \(patchSize)x\(patchSize) (\(images.count) images given)")
        }
        self.task = task; self.patchSize = patchSize; self.batchSize = batchSize; self.seed = seed
        self.hr = hr; self.lr = lr
        self.notes = notes + (small == 0 ? [] : ["skipped \(small) of \(images.count) images smaller than the \(patchSize)x\(patchSize) patch"])
    }

    /// Every PNG, JPEG or BMP in `folder` (unreadable files skipped with a counted warning, unless all are).
    public convenience init(folder: String, task: RestorationTask, patchSize: Int, batchSize: Int, seed: UInt64) throws {
        let (images, notes) = try RestorationImages.load(folder: folder)
        try self.init(images: images, task: task, patchSize: patchSize, batchSize: batchSize, seed: seed, notes: notes)
    }

    /// Writes batch `step`: input [B, inputSide, inputSide, 1] and target [B, P, P, 1], both Y / 255.
    public func fill(step: Int, input: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>) {
        var rng = RNG(seed: seed, stream: .augment, UInt64(truncatingIfNeeded: step))
        let p = patchSize, q = inputSide, s = task.scale
        for b in 0..<batchSize {
            let i = rng.below(hr.count)
            let image = hr[i]
            // A position on the input grid, so the HR patch starts at a multiple of the scale (aligned).
            let y0 = rng.below(image.height / s - q + 1), x0 = rng.below(image.width / s - q + 1)
            let t = rng.below(8)
            let tgt = target + b * p * p, inp = input + b * q * q
            copy(image, y: y0 * s, x: x0 * s, side: p, transform: t, into: tgt)
            switch task {
            case .superResolution:
                copy(lr[i], y: y0, x: x0, side: q, transform: t, into: inp)
            case .denoise(let sigma):
                inp.update(from: tgt, count: p * p)
                Degradation.addNoise(UnsafeMutableBufferPointer(start: inp, count: p * p), sigma: sigma, rng: &rng)
            }
        }
    }

    /// The `side` x `side` window at (x, y), turned by dihedral transform `t` (bit 2: transpose, bit 0: mirror
    /// left-right, bit 1: mirror top-bottom), as Y / 255.
    private func copy(_ plane: Plane<UInt8>, y: Int, x: Int, side n: Int, transform t: Int, into out: UnsafeMutablePointer<Float>) {
        plane.pixels.withUnsafeBufferPointer { px in
            for oy in 0..<n {
                for ox in 0..<n {
                    var a = oy, c = ox
                    if t & 4 != 0 { swap(&a, &c) }
                    if t & 1 != 0 { c = n - 1 - c }
                    if t & 2 != 0 { a = n - 1 - a }
                    out[oy * n + ox] = Float(px[(y + a) * plane.width + x + c]) / 255
                }
            }
        }
    }
}
