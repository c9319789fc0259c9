import Datasets
import Kernels

/// MATLAB's `imresize(A, scale, 'bicubic')` on planes (the weights live in Kernels' `BicubicResize`).
///
/// On uint8 the result is accumulated in double over both passes and rounded once, at the end, as the Python
/// ports (BasicSR, mmagic) do. With the LR rounded this way and the bicubic upscaling left in double, the
/// published bicubic rows come out within 0.01 dB; rounding between the passes and the upscaled image as well
/// gives Set5 x2 33.64 instead of 33.66.
public enum Imresize {
    public static func resize(_ p: Plane<Double>, width: Int, height: Int, scale: Double) -> Plane<Double> {
        let r = BicubicResize(inH: p.height, inW: p.width, outH: height, outW: width, scale: scale)
        var out = [Double](repeating: 0, count: width * height)
        p.pixels.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { r.apply(s.baseAddress!, into: $0.baseAddress!) } }
        return Plane(width: width, height: height, pixels: out)
    }

    public static func resize(_ p: Plane<UInt8>, width: Int, height: Int, scale: Double) -> Plane<UInt8> {
        resize(p.asDouble, width: width, height: height, scale: scale).map(matlabUInt8)
    }

    /// `imresize(p, 1/s)` of a plane whose sides are multiples of `s` (mod-crop it first).
    public static func downscale(_ p: Plane<UInt8>, by s: Int) -> Plane<UInt8> {
        precondition(p.width % s == 0 && p.height % s == 0, "mod-crop before downscaling")
        return resize(p, width: p.width / s, height: p.height / s, scale: 1 / Double(s))
    }

    public static func downscale(_ p: Plane<Double>, by s: Int) -> Plane<Double> {
        precondition(p.width % s == 0 && p.height % s == 0, "mod-crop before downscaling")
        return resize(p, width: p.width / s, height: p.height / s, scale: 1 / Double(s))
    }

    /// `imresize(p, s)`, unrounded (a prediction, compared in double).
    public static func upscale(_ p: Plane<Double>, by s: Int) -> Plane<Double> {
        resize(p, width: p.width * s, height: p.height * s, scale: Double(s))
    }

    /// MATLAB's `modcrop` of a colour image: the top-left part whose sides are multiples of `m`.
    public static func modCrop(_ image: RGBImage, _ m: Int) -> RGBImage {
        let w = image.width - image.width % m, h = image.height - image.height % m
        guard w != image.width || h != image.height else { return image }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(w * h * 3)
        for y in 0..<h { bytes += image.bytes[(y * image.width * 3)..<((y * image.width + w) * 3)] }
        return RGBImage(width: w, height: h, bytes: bytes)
    }
}
