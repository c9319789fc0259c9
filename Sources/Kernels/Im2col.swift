/// 3x3, stride 1, padding 1 patch extraction for NHWC images.
/// Row r = (image, y, x) of the column matrix holds the 3x3xC patch centred there, in (ky, kx, c) order,
/// so a convolution is one GEMM: cols[rows, 9C] x W^T[9C, Cout]. In NHWC the three pixels of one patch
/// row are 3C contiguous floats, so each patch row is one copy.
public enum Im2col {
    public static func forward(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                               into cols: UnsafeMutablePointer<Float>) {
        forEachPatchRow(images: images, h: h, w: w, c: c) { col, image, lo, hi in
            copyPatchRow(x, image, lo, hi, c: c, into: cols + col)
        }
    }

    /// The adjoint of `forward`: scatters column gradients back onto the images, overwriting `dx`.
    public static func backward(_ cols: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                                into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: images * h * w * c)
        forEachPatchRow(images: images, h: h, w: w, c: c) { col, image, lo, hi in
            guard let image else { return }
            add(cols + col + lo * c, into: dx + image, count: (hi - lo) * c)
        }
    }

    /// The geometry both directions share. For every patch row (image, y, x, ky): `col`, the offset of its
    /// 3C floats in the column matrix; `image`, the offset in the images of its first pixel inside the image
    /// (nil when the row lies above or below it); and the pixels [lo, hi) of the three that lie inside
    /// (clipped at the left and right borders).
    @inline(__always)
    static func forEachPatchRow(images: Int, h: Int, w: Int, c: Int,
                                _ body: (_ col: Int, _ image: Int?, _ lo: Int, _ hi: Int) -> Void) {
        var col = 0
        for img in 0..<images {
            for y in 0..<h {
                for xx in 0..<w {
                    let lo = xx == 0 ? 1 : 0, hi = xx == w - 1 ? 2 : 3
                    for ky in 0..<3 {
                        let iy = y + ky - 1
                        let inside = iy >= 0 && iy < h
                        body(col + ky * 3 * c, inside ? ((img * h + iy) * w + xx - 1 + lo) * c : nil, lo, hi)
                    }
                    col += 9 * c
                }
            }
        }
    }

    /// One patch row of 3C floats: the pixels [lo, hi) of its three from the image at `image`, zeros for the rest
    /// (all zeros where the row lies above or below the image).
    @inline(__always)
    static func copyPatchRow(_ x: UnsafePointer<Float>, _ image: Int?, _ lo: Int, _ hi: Int, c: Int,
                             into d: UnsafeMutablePointer<Float>) {
        guard let image else { d.update(repeating: 0, count: 3 * c); return }
        if lo > 0 { d.update(repeating: 0, count: lo * c) }
        (d + lo * c).update(from: x + image, count: (hi - lo) * c)
        if hi < 3 { (d + hi * c).update(repeating: 0, count: (3 - hi) * c) }
    }

    @inline(__always)
    static func add(_ s: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { d.store8(d.load8(i) + s.load8(i), i); i += 8 }
        while i < count { d[i] += s[i]; i += 1 }
    }
}

/// 3x3, stride 2, padding 1 patch extraction for NHWC images (PyTorch's Conv2d(kernel 3, stride 2, padding 1)): the
/// output is ((h - 1) / 2 + 1) x ((w - 1) / 2 + 1), and row r = (image, oy, ox) of the column matrix holds the patch
/// centred on input pixel (2 oy, 2 ox), in (ky, kx, c) order as `Im2col`'s. A patch row is still 3C contiguous floats.
public enum StridedIm2col {
    public static func outputSide(_ side: Int) -> Int { (side - 1) / 2 + 1 }

    public static func forward(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                               into cols: UnsafeMutablePointer<Float>) {
        forEachPatchRow(images: images, h: h, w: w, c: c) { col, image, lo, hi in
            Im2col.copyPatchRow(x, image, lo, hi, c: c, into: cols + col)
        }
    }

    /// The adjoint of `forward`: scatters column gradients back onto the images, overwriting `dx`.
    public static func backward(_ cols: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                                into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: images * h * w * c)
        forEachPatchRow(images: images, h: h, w: w, c: c) { col, image, lo, hi in
            guard let image else { return }
            Im2col.add(cols + col + lo * c, into: dx + image, count: (hi - lo) * c)
        }
    }

    /// For every patch row (image, oy, ox, ky): its offset in the columns, the offset of its first pixel inside the
    /// image (nil above or below it), and the pixels [lo, hi) of its three that lie inside.
    @inline(__always)
    static func forEachPatchRow(images: Int, h: Int, w: Int, c: Int,
                                _ body: (_ col: Int, _ image: Int?, _ lo: Int, _ hi: Int) -> Void) {
        let oh = outputSide(h), ow = outputSide(w)
        var col = 0
        for img in 0..<images {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let left = 2 * ox - 1
                    let lo = left < 0 ? 1 : 0, hi = min(3, w - left)
                    for ky in 0..<3 {
                        let iy = 2 * oy + ky - 1
                        let inside = iy >= 0 && iy < h
                        body(col + ky * 3 * c, inside ? ((img * h + iy) * w + left + lo) * c : nil, lo, hi)
                    }
                    col += 9 * c
                }
            }
        }
    }
}
