import BTCore
import CJpeg
import CPng
import Foundation

/// PNG and JPEG files, decoded by Debian's libpng and libjpeg-turbo to 8-bit RGB (grey, palette, 16-bit and alpha
/// PNGs and greyscale JPEGs all come out as RGB), then fitted to the network's input size.
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]  // row-major RGB

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * 3, "RGB bytes do not match the size")
        self.width = width; self.height = height; self.bytes = bytes
    }

    /// Decodes a PNG or JPEG, told apart by their signatures, not the file name.
    public static func read(path: String) throws -> RGBImage {
        let data = try readFileBytes(path: path)
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(data, path: path) }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data, path: path) }
        throw BTError("cannot read image \(path): not a PNG or JPEG file")
    }

    static func decodePNG(_ data: [UInt8], path: String) throws -> RGBImage {
        var message = [CChar](repeating: 0, count: 256)
        var w: UInt32 = 0, h: UInt32 = 0
        guard btviz_png_info(data, data.count, &w, &h, &message, message.count) == 1 else {
            throw BTError("cannot read image \(path): \(String(cString: message))")
        }
        guard w > 0, h > 0, Int(w) * Int(h) <= 1 << 28 else { throw BTError("cannot read image \(path): size \(w)x\(h)") }
        var out = [UInt8](repeating: 0, count: Int(w) * Int(h) * 3)
        guard btviz_png_decode(data, data.count, &out, out.count, &message, message.count) == 1 else {
            throw BTError("cannot read image \(path): \(String(cString: message))")
        }
        return RGBImage(width: Int(w), height: Int(h), bytes: out)
    }

    static func decodeJPEG(_ data: [UInt8], path: String) throws -> RGBImage {
        var message = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var w: UInt32 = 0, h: UInt32 = 0
        guard btviz_jpeg_decode(data, data.count, &out, &w, &h, &message, message.count) == 1, let out else {
            throw BTError("cannot read image \(path): \(String(cString: message))")
        }
        defer { free(out) }
        return RGBImage(width: Int(w), height: Int(h), bytes: Array(UnsafeBufferPointer(start: out, count: Int(w) * Int(h) * 3)))
    }
}

/// How an image is brought to the input size.
public enum ImageFit: String, Codable, Sendable, CaseIterable {
    /// The whole image scaled to side x side (the aspect ratio is not kept).
    case resize
    /// The shorter side scaled to `side`, then the centre side x side cut out (torchvision's Resize + CenterCrop).
    case centerCrop = "center-crop"
}

extension RGBImage {
    /// The image fitted to `side` x `side`, as NHWC floats in [0, 1] written to `out`. Resampling is separable:
    /// area averaging when shrinking (no aliasing), bilinear when enlarging.
    public func fitted(side: Int, fit: ImageFit, into out: UnsafeMutablePointer<Float>) {
        // The source window that maps onto the output, in source pixels.
        var x0 = 0.0, y0 = 0.0, ww = Double(width), hh = Double(height)
        if fit == .centerCrop {
            let s = Double(min(width, height))
            x0 = (Double(width) - s) / 2; y0 = (Double(height) - s) / 2; ww = s; hh = s
        }
        let cols = weights(out: side, in: width, start: x0, span: ww)
        let rows = weights(out: side, in: height, start: y0, span: hh)
        // Horizontal pass over the rows any output row needs, then vertical.
        var tmp = [Float](repeating: 0, count: height * side * 3)
        bytes.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let row = src.baseAddress! + y * width * 3
                for (ox, taps) in cols.enumerated() {
                    var r: Float = 0, g: Float = 0, b: Float = 0
                    for (x, wt) in taps {
                        r += wt * Float(row[3 * x]); g += wt * Float(row[3 * x + 1]); b += wt * Float(row[3 * x + 2])
                    }
                    let o = (y * side + ox) * 3
                    tmp[o] = r; tmp[o + 1] = g; tmp[o + 2] = b
                }
            }
        }
        for (oy, taps) in rows.enumerated() {
            for ox in 0..<side {
                var r: Float = 0, g: Float = 0, b: Float = 0
                for (y, wt) in taps {
                    let o = (y * side + ox) * 3
                    r += wt * tmp[o]; g += wt * tmp[o + 1]; b += wt * tmp[o + 2]
                }
                let d = out + (oy * side + ox) * 3
                d[0] = min(max(r / 255, 0), 1); d[1] = min(max(g / 255, 0), 1); d[2] = min(max(b / 255, 0), 1)
            }
        }
    }
}

/// For each of `n` output samples over source pixels `start ..< start + span` (of `size`), the source pixels and
/// their normalized weights. Shrinking averages the source pixels each output pixel covers, in proportion to the
/// overlap (area averaging: an exact mean at integer factors); enlarging interpolates linearly between pixel centres.
private func weights(out n: Int, in size: Int, start: Double, span: Double) -> [[(Int, Float)]] {
    let scale = span / Double(n)
    return (0..<n).map { i in
        var taps: [(Int, Double)] = []
        if scale >= 1 {
            let lo = start + Double(i) * scale, hi = lo + scale
            for x in Int(lo.rounded(.down))..<Int(hi.rounded(.up)) {
                let w = min(hi, Double(x + 1)) - max(lo, Double(x))
                if w > 1e-9 { taps.append((min(max(x, 0), size - 1), w)) }
            }
        } else {
            let centre = start + (Double(i) + 0.5) * scale - 0.5
            let x0 = Int(centre.rounded(.down)), f = centre - Double(x0)
            taps = [(min(max(x0, 0), size - 1), 1 - f), (min(max(x0 + 1, 0), size - 1), f)]
        }
        let total = taps.reduce(0) { $0 + $1.1 }
        return taps.map { ($0.0, Float($0.1 / total)) }
    }
}
