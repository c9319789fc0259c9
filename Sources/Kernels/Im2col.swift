/// 3x3, stride 1, padding 1 patch extraction for NHWC images.
/// Row r = (image, y, x) of the column matrix holds the 3x3xC patch centred there, in (ky, kx, c) order,
/// so a convolution is one GEMM: cols[rows, 9C] x W^T[9C, Cout].
public enum Im2col {
    public static func forward(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                               into cols: UnsafeMutablePointer<Float>) {
        let rowLen = 9 * c
        for img in 0..<images {
            let src = x + img * h * w * c
            for y in 0..<h {
                for xx in 0..<w {
                    let dst = cols + ((img * h + y) * w + xx) * rowLen
                    for ky in 0..<3 {
                        let iy = y + ky - 1
                        for kx in 0..<3 {
                            let ix = xx + kx - 1
                            let d = dst + (ky * 3 + kx) * c
                            if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                let s = src + (iy * w + ix) * c
                                for ch in 0..<c { d[ch] = s[ch] }
                            } else {
                                for ch in 0..<c { d[ch] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `forward`: scatters column gradients back onto the images, overwriting `dx`.
    public static func backward(_ cols: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int,
                                into dx: UnsafeMutablePointer<Float>) {
        let rowLen = 9 * c
        dx.update(repeating: 0, count: images * h * w * c)
        for img in 0..<images {
            let dst = dx + img * h * w * c
            for y in 0..<h {
                for xx in 0..<w {
                    let src = cols + ((img * h + y) * w + xx) * rowLen
                    for ky in 0..<3 {
                        let iy = y + ky - 1
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<3 {
                            let ix = xx + kx - 1
                            guard ix >= 0 && ix < w else { continue }
                            let s = src + (ky * 3 + kx) * c
                            let d = dst + (iy * w + ix) * c
                            for ch in 0..<c { d[ch] += s[ch] }
                        }
                    }
                }
            }
        }
    }
}
