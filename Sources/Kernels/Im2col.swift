/// 3x3, stride 1, padding 1 patch extraction for NHWC images.
/// Row r = (image, y, x) of the column matrix holds the 3x3xC patch centred there, in (ky, kx, c) order,
/// so a convolution is one GEMM: cols[rows, 9C] x W^T[9C, Cout]. In NHWC the three pixels of one patch
/// row are 3C contiguous floats, so each patch row is one copy.
public enum Im2col {
    public static func forward(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                               into cols: UnsafeMutablePointer<Float>) {
        let rowLen = 9 * c, span = 3 * c
        for img in 0..<images {
            let src = x + img * h * w * c
            var dst = cols + img * h * w * rowLen
            for y in 0..<h {
                for xx in 0..<w {
                    for ky in 0..<3 {
                        let d = dst + ky * span
                        let iy = y + ky - 1
                        guard iy >= 0 && iy < h else { d.update(repeating: 0, count: span); continue }
                        // Columns xx-1 ... xx+1, clipped at the left and right borders.
                        let lo = xx == 0 ? 1 : 0, hi = xx == w - 1 ? 2 : 3
                        if lo == 1 { d.update(repeating: 0, count: c) }
                        d.advanced(by: lo * c).update(from: src + (iy * w + xx - 1 + lo) * c, count: (hi - lo) * c)
                        if hi == 2 { (d + 2 * c).update(repeating: 0, count: c) }
                    }
                    dst += rowLen
                }
            }
        }
    }

    /// The adjoint of `forward`: scatters column gradients back onto the images, overwriting `dx`.
    public static func backward(_ cols: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                                into dx: UnsafeMutablePointer<Float>) {
        let rowLen = 9 * c, span = 3 * c
        dx.update(repeating: 0, count: images * h * w * c)
        for img in 0..<images {
            let dst = dx + img * h * w * c
            var src = cols + img * h * w * rowLen
            for y in 0..<h {
                for xx in 0..<w {
                    for ky in 0..<3 {
                        let iy = y + ky - 1
                        guard iy >= 0 && iy < h else { continue }
                        let lo = xx == 0 ? 1 : 0, hi = xx == w - 1 ? 2 : 3
                        add(src + ky * span + lo * c, into: dst + (iy * w + xx - 1 + lo) * c, count: (hi - lo) * c)
                    }
                    src += rowLen
                }
            }
        }
    }

    @inline(__always)
    static func add(_ s: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { d.store8(d.load8(i) + s.load8(i), i); i += 8 }
        while i < count { d[i] += s[i]; i += 1 }
    }
}
