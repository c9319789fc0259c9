import Datasets

/// MATLAB's rgb2ycbcr and ycbcr2rgb (ITU-R BT.601, studio range: Y in [16, 235], Cb and Cr in [16, 240]), the
/// colour space SR papers measure PSNR in. Values are on the 0-255 scale throughout; uint8 results are rounded
/// as MATLAB rounds (half away from zero, saturated).
public enum YCbCr {
    /// rgb2ycbcr's matrix for R, G, B in [0, 1] (the offset is 16, 128, 128), and its inverse for ycbcr2rgb.
    static let forward: [[Double]] = [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]
    static let inverse: [[Double]] = invert3(forward)

    /// R, G, B in 0...255 to unrounded Y, Cb, Cr. Written as MATLAB evaluates it on uint8 (coefficients divided by
    /// 255 first, terms summed in order, offset last), so rounding ties fall the same way.
    @inline(__always)
    public static func fromRGB(_ r: Double, _ g: Double, _ b: Double) -> (y: Double, cb: Double, cr: Double) {
        (luma(r, g, b), k.m10 * r + k.m11 * g + k.m12 * b + 128, k.m20 * r + k.m21 * g + k.m22 * b + 128)
    }

    @inline(__always)
    public static func luma(_ r: Double, _ g: Double, _ b: Double) -> Double { k.m00 * r + k.m01 * g + k.m02 * b + 16 }

    /// A 3x3 matrix as scalars (the hot loops read it per pixel); `k` is rgb2ycbcr's for 0-255 input.
    private struct Coefficients {
        let m00, m01, m02, m10, m11, m12, m20, m21, m22: Double
    }
    private static let k = Coefficients(
        m00: forward[0][0] / 255, m01: forward[0][1] / 255, m02: forward[0][2] / 255,
        m10: forward[1][0] / 255, m11: forward[1][1] / 255, m12: forward[1][2] / 255,
        m20: forward[2][0] / 255, m21: forward[2][1] / 255, m22: forward[2][2] / 255)

    /// Y of a uint8 image as rgb2ycbcr gives it (rounded).
    public static func lumaPlane(of image: RGBImage) -> Plane<UInt8> {
        let n = image.width * image.height
        let y = image.bytes.withUnsafeBufferPointer { p in
            (0..<n).map { i in matlabUInt8(luma(Double(p[3 * i]), Double(p[3 * i + 1]), Double(p[3 * i + 2]))) }
        }
        return Plane(width: image.width, height: image.height, pixels: y)
    }

    /// Y, Cb, Cr (0-255 scale) to unrounded R, G, B on 0...255.
    @inline(__always)
    public static func toRGB(_ y: Double, _ cb: Double, _ cr: Double) -> (r: Double, g: Double, b: Double) {
        let a = y - 16, c = cb - 128, d = cr - 128, m = inv
        return (m.m00 * a + m.m01 * c + m.m02 * d, m.m10 * a + m.m11 * c + m.m12 * d, m.m20 * a + m.m21 * c + m.m22 * d)
    }

    /// 255 times the inverse matrix (rows give R, G, B), as scalars.
    private static let inv = Coefficients(
        m00: 255 * inverse[0][0], m01: 255 * inverse[0][1], m02: 255 * inverse[0][2],
        m10: 255 * inverse[1][0], m11: 255 * inverse[1][1], m12: 255 * inverse[1][2],
        m20: 255 * inverse[2][0], m21: 255 * inverse[2][1], m22: 255 * inverse[2][2])

    /// rgb2ycbcr on a uint8 image.
    public static func planes(of image: RGBImage) -> (y: Plane<UInt8>, cb: Plane<UInt8>, cr: Plane<UInt8>) {
        let f = floatPlanes(of: image)
        return (f.y.map(matlabUInt8), f.cb.map(matlabUInt8), f.cr.map(matlabUInt8))
    }

    /// rgb2ycbcr unrounded (MATLAB on a double image, times 255).
    public static func floatPlanes(of image: RGBImage) -> (y: Plane<Double>, cb: Plane<Double>, cr: Plane<Double>) {
        let n = image.width * image.height
        var y = [Double](repeating: 0, count: n), cb = y, cr = y
        image.bytes.withUnsafeBufferPointer { p in
            for i in 0..<n {
                (y[i], cb[i], cr[i]) = fromRGB(Double(p[3 * i]), Double(p[3 * i + 1]), Double(p[3 * i + 2]))
            }
        }
        let w = image.width, h = image.height
        return (Plane(width: w, height: h, pixels: y), Plane(width: w, height: h, pixels: cb), Plane(width: w, height: h, pixels: cr))
    }

    /// ycbcr2rgb to a uint8 image; for a restored image, pass its Y (a network's output times 255, say) with the
    /// bicubic-upscaled Cb and Cr.
    public static func image(y: Plane<Double>, cb: Plane<Double>, cr: Plane<Double>) -> RGBImage {
        precondition(y.width == cb.width && y.width == cr.width && y.height == cb.height && y.height == cr.height,
                     "Y, Cb and Cr planes differ in size")
        var bytes = [UInt8](repeating: 0, count: y.pixels.count * 3)
        for i in 0..<y.pixels.count {
            let (r, g, b) = toRGB(y.pixels[i], cb.pixels[i], cr.pixels[i])
            bytes[3 * i] = matlabUInt8(r); bytes[3 * i + 1] = matlabUInt8(g); bytes[3 * i + 2] = matlabUInt8(b)
        }
        return RGBImage(width: y.width, height: y.height, bytes: bytes)
    }

    /// ycbcr2rgb on uint8 planes.
    public static func image(y: Plane<UInt8>, cb: Plane<UInt8>, cr: Plane<UInt8>) -> RGBImage {
        image(y: y.asDouble, cb: cb.asDouble, cr: cr.asDouble)
    }
}

/// The inverse of a 3x3 matrix by cofactors (the rgb2ycbcr matrix is well conditioned).
private func invert3(_ m: [[Double]]) -> [[Double]] {
    func c(_ r: Int, _ k: Int) -> Double {
        let r1 = (r + 1) % 3, r2 = (r + 2) % 3, k1 = (k + 1) % 3, k2 = (k + 2) % 3
        return m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    }
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2)
    return (0..<3).map { i in (0..<3).map { j in c(j, i) / det } }
}
