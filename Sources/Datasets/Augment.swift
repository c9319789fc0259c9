import BTCore

/// Assembles training batches into a preallocated NHWC buffer, optionally with the two cheap
/// augmentations that help small binarized nets most: a random shift (crop of a padded image)
/// and cutout. It never allocates, so it can run inside the training loop.
public struct Augmenter: Sendable {
    public var pad: Int
    public var cutout: Int
    public var cropEnabled: Bool
    public var cutoutEnabled: Bool

    public init(pad: Int, cutout: Int, cropEnabled: Bool = true, cutoutEnabled: Bool = true) {
        precondition(pad >= 0 && cutout >= 0)
        self.pad = pad; self.cutout = cutout
        self.cropEnabled = cropEnabled; self.cutoutEnabled = cutoutEnabled
    }

    /// Defaults by image size: pad 2 at 28x28 (4 at 32x32 and larger), cutout 8.
    public init(height: Int, width: Int) {
        self.init(pad: min(height, width) >= 32 ? 4 : 2, cutout: 8)
    }

    /// Copies images `indices` of `set` into `out` (indices.count * set.imageSize floats) and their
    /// labels into `labels`. With `augment`, each image is shifted by up to `pad` pixels (uncovered
    /// pixels get `fillValue`, one per channel: normalized raw 0) and a `cutout` square (centre
    /// uniform over the image, clipped at the border) is set to 0, the normalized mean.
    public func makeBatch(from set: ImageSet, indices: UnsafeBufferPointer<Int>,
                          into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                          rng: inout RNG, augment: Bool, fillValue: [Float]) {
        let h = set.height, w = set.width, c = set.channels, size = set.imageSize
        precondition(fillValue.isEmpty || fillValue.count == c, "fillValue needs one value per channel")
        set.pixels.withUnsafeBufferPointer { pix in
            set.labels.withUnsafeBufferPointer { lab in
                for (b, idx) in indices.enumerated() {
                    precondition(idx >= 0 && idx < set.count, "image index \(idx) out of range")
                    let src = pix.baseAddress! + idx * size, dst = out + b * size
                    labels[b] = lab[idx]
                    guard augment else { dst.update(from: src, count: size); continue }
                    let p = cropEnabled ? pad : 0
                    let dy = p > 0 ? rng.below(2 * p + 1) - p : 0
                    let dx = p > 0 ? rng.below(2 * p + 1) - p : 0
                    shifted(src, dst, h: h, w: w, c: c, dy: dy, dx: dx, fill: fillValue)
                    if cutoutEnabled && cutout > 0 {
                        let cy = rng.below(h), cx = rng.below(w)
                        let y0 = max(cy - cutout / 2, 0), y1 = min(cy - cutout / 2 + cutout, h)
                        let x0 = max(cx - cutout / 2, 0), x1 = min(cx - cutout / 2 + cutout, w)
                        if x0 < x1 {
                            for y in y0..<y1 { (dst + (y * w + x0) * c).update(repeating: 0, count: (x1 - x0) * c) }
                        }
                    }
                }
            }
        }
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
