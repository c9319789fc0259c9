import BTCore

/// A dataset's default augmentation (its catalog entry's): the padding of the random crop, the cutout square,
/// and whether a horizontal flip keeps an image's class (not for digits).
public struct Augmentation: Sendable, Equatable {
    public var pad: Int
    public var cutout: Int
    public var flip: Bool

    public init(pad: Int, cutout: Int, flip: Bool) {
        precondition(pad >= 0 && cutout >= 0)
        self.pad = pad; self.cutout = cutout; self.flip = flip
    }

    /// The recipe's sizes: 2 px padding at 28x28, 4 px at 32x32 scaled with the side above it (8 at 64x64),
    /// and an 8x8 cutout scaled the same way.
    public static func standard(height: Int, width: Int, flip: Bool) -> Augmentation {
        let side = min(height, width)
        return side < 32 ? Augmentation(pad: 2, cutout: 8, flip: flip)
                         : Augmentation(pad: 4 * side / 32, cutout: 8 * side / 32, flip: flip)
    }
}

/// Augments a batch in place (a random shift, that is a crop of the padded image; cutout; a horizontal flip where
/// allowed) without allocating, so it can run inside the training loop.
public struct Augmenter: Sendable {
    public var pad: Int
    public var cutout: Int
    public var cropEnabled: Bool
    public var cutoutEnabled: Bool
    public var flipEnabled: Bool

    public init(pad: Int, cutout: Int, cropEnabled: Bool = true, cutoutEnabled: Bool = true, flipEnabled: Bool = false) {
        precondition(pad >= 0 && cutout >= 0)
        self.pad = pad; self.cutout = cutout
        self.cropEnabled = cropEnabled; self.cutoutEnabled = cutoutEnabled; self.flipEnabled = flipEnabled
    }

    /// Defaults by image size (`Augmentation.standard`), no flip.
    public init(height: Int, width: Int) {
        let a = Augmentation.standard(height: height, width: width, flip: false)
        self.init(pad: a.pad, cutout: a.cutout)
    }

    public init(_ a: Augmentation) {
        self.init(pad: a.pad, cutout: a.cutout, flipEnabled: a.flip)
    }

    /// Whether `augment` changes anything.
    public var isActive: Bool { (cropEnabled && pad > 0) || (cutoutEnabled && cutout > 0) || flipEnabled }

    /// Augments `n` images of `h` x `w` x `c` at `batch` in place. Each image is shifted by up to `pad` pixels
    /// (uncovered pixels get `fillValue`, one per channel: normalized raw 0), a `cutout` square (centre uniform over
    /// the image, clipped at the border) is set to 0, the normalized mean, and it is mirrored with probability 1/2
    /// if flips are on. `scratch` holds one image. The draws come in that order, so turning flips on leaves the
    /// crops and cutouts of a run without them as they were.
    /// `only`: the images to change (a rank's share of the batch); the draws of the others are made all the same,
    /// so an image is augmented alike whichever process holds it.
    public func augment(_ batch: UnsafeMutablePointer<Float>, n: Int, height h: Int, width w: Int, channels c: Int,
                        scratch: UnsafeMutablePointer<Float>, rng: inout RNG, fillValue: [Float], only: Range<Int>? = nil) {
        precondition(fillValue.isEmpty || fillValue.count == c, "fillValue needs one value per channel")
        let size = h * w * c
        for b in 0..<n {
            let d = draws(height: h, width: w, rng: &rng)
            if let only, !only.contains(b) { continue }
            let img = batch + b * size
            if d.dy != 0 || d.dx != 0 {
                scratch.update(from: img, count: size)
                shifted(scratch, img, h: h, w: w, c: c, dy: d.dy, dx: d.dx, fill: fillValue)
            }
            if let (cy, cx) = d.cutoutCentre {
                let y0 = max(cy - cutout / 2, 0), y1 = min(cy - cutout / 2 + cutout, h)
                let x0 = max(cx - cutout / 2, 0), x1 = min(cx - cutout / 2 + cutout, w)
                if x0 < x1 {
                    for y in y0..<y1 { (img + (y * w + x0) * c).update(repeating: 0, count: (x1 - x0) * c) }
                }
            }
            if d.flip { mirror(img, h: h, w: w, c: c) }
        }
    }

    /// One image's random choices, drawn in the recipe's order: shift, cutout centre, flip.
    struct Draws { var dy = 0, dx = 0, cutoutCentre: (Int, Int)?, flip = false }

    func draws(height h: Int, width w: Int, rng: inout RNG) -> Draws {
        var d = Draws()
        let p = cropEnabled ? pad : 0
        if p > 0 { d.dy = rng.below(2 * p + 1) - p; d.dx = rng.below(2 * p + 1) - p }
        if cutoutEnabled && cutout > 0 { let cy = rng.below(h); d.cutoutCentre = (cy, rng.below(w)) }
        if flipEnabled { d.flip = rng.below(2) == 1 }
        return d
    }

    /// Copies images `indices` of `set` into `out` and their labels into `labels`, then augments them if `augment`.
    public func makeBatch(from set: ImageSet, indices: UnsafeBufferPointer<Int>,
                          into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                          rng: inout RNG, augment: Bool, fillValue: [Float]) {
        let size = set.imageSize
        set.pixels.withUnsafeBufferPointer { pix in
            for (b, idx) in indices.enumerated() {
                precondition(idx >= 0 && idx < set.count, "image index \(idx) out of range")
                (out + b * size).update(from: pix.baseAddress! + idx * size, count: size)
                labels[b] = set.labels[idx]
            }
        }
        guard augment else { return }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size)
        defer { scratch.deallocate() }
        self.augment(out, n: indices.count, height: set.height, width: set.width, channels: set.channels,
                     scratch: scratch, rng: &rng, fillValue: fillValue)
    }

    public func makeBatch(from set: ImageSet, indices: ArraySlice<Int>,
                          into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                          rng: inout RNG, augment: Bool, fillValue: [Float]) {
        indices.withUnsafeBufferPointer {
            makeBatch(from: set, indices: $0, into: out, labels: labels, rng: &rng, augment: augment, fillValue: fillValue)
        }
    }
}

/// dst(y, x) = src(y + dy, x + dx), or `fill` where that falls outside the image.
@inline(__always)
private func shifted(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                     h: Int, w: Int, c: Int, dy: Int, dx: Int, fill: [Float]) {
    let x0 = max(0, -dx), x1 = min(w, w - dx)  // destination columns that have a source
    for y in 0..<h {
        let row = dst + y * w * c
        let sy = y + dy
        if sy < 0 || sy >= h || x0 >= x1 {
            fillPixels(row, 0, w, c, fill)
            continue
        }
        fillPixels(row, 0, x0, c, fill)
        (row + x0 * c).update(from: src + (sy * w + x0 + dx) * c, count: (x1 - x0) * c)
        fillPixels(row, x1, w, c, fill)
    }
}

@inline(__always)
private func fillPixels(_ row: UnsafeMutablePointer<Float>, _ from: Int, _ to: Int, _ c: Int, _ fill: [Float]) {
    guard from < to else { return }
    if fill.isEmpty { (row + from * c).update(repeating: 0, count: (to - from) * c); return }
    for x in from..<to { for k in 0..<c { row[x * c + k] = fill[k] } }
}

/// Mirrors an NHWC image left to right.
@inline(__always)
private func mirror(_ img: UnsafeMutablePointer<Float>, h: Int, w: Int, c: Int) {
    for y in 0..<h {
        let row = img + y * w * c
        var l = 0, r = w - 1
        while l < r {
            for k in 0..<c { let t = row[l * c + k]; row[l * c + k] = row[r * c + k]; row[r * c + k] = t }
            l += 1; r -= 1
        }
    }
}
