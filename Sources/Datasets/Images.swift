import BTCore
import CJpeg
import CPng
import Foundation

/// The per-image caps: BTCore/ReadLimits' rule applied to image files (PNG, JPEG and BMP, for training folders and
/// for upscale/denoise alike). A file is read only if it is a regular file of at most `maxFileBytes` (256 MB: more
/// than any real photo; a 24-bit BMP that large holds about 89 megapixels); its header is read before anything is
/// decoded, and the size it declares is refused past `maxPixels` or past what this process may still allocate.
public enum ImageLimits {
    public static let maxFileBytes = 256 << 20
    public static let maxPixels = 1 << 28

    /// The whole file, within `maxFileBytes`.
    public static func readFile(_ path: String) throws -> [UInt8] {
        try RegularFile(path).readAll(limit: maxFileBytes, what: "an image file")
    }

    /// Refuses a declared size before decoding: an empty or overflowing one, more than `maxPixels`, or more than
    /// this process may allocate at `bytesPerPixel`.
    public static func check(_ header: ImageHeader, path: String, bytesPerPixel: Int = 3) throws {
        let size = "\(header.width)x\(header.height)"
        guard header.width > 0, header.height > 0, let pixels = checkedProduct([header.width, header.height]) else {
            throw BTError("cannot read image \(path): bad size \(size)")
        }
        guard pixels <= maxPixels else {
            throw BTError("cannot read image \(path): bad size \(size) (\(megapixels(pixels)); an image may have at most \(megapixels(maxPixels)))")
        }
        try MemoryBudget.check(pixels * bytesPerPixel, for: "decoding image \(path) (\(size))")
    }

    /// "67.1 megapixels".
    public static func megapixels(_ pixels: Int) -> String {
        "\((Double(pixels) / 1e5).rounded() / 10) megapixels"
    }
}

/// What an image file's header declares, read before its pixels are decoded.
public struct ImageHeader: Sendable {
    public var width: Int
    public var height: Int
    /// One channel only (a grey PNG or JPEG, a grey-palette BMP).
    public var grayscale: Bool

    public init(width: Int, height: Int, grayscale: Bool) {
        self.width = width; self.height = height; self.grayscale = grayscale
    }
}

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

    /// Decodes a PNG or JPEG, told apart by their signatures, not the file name, within `ImageLimits`.
    public static func read(path: String) throws -> RGBImage {
        let data = try ImageLimits.readFile(path)
        let header = try Self.header(of: data, path: path)
        try ImageLimits.check(header, path: path)
        return try decode(data, header: header, path: path)
    }

    /// The header of a PNG or JPEG held in memory; nothing is decoded.
    public static func header(of data: [UInt8], path: String) throws -> ImageHeader {
        var message = [CChar](repeating: 0, count: 256)
        func fail() -> BTError { BTError("cannot read image \(path): \(String(cString: message))") }
        var w: UInt32 = 0, h: UInt32 = 0
        if isPNG(data) {
            guard btviz_png_info(data, data.count, &w, &h, &message, message.count) == 1 else { throw fail() }
            let color = btviz_png_is_color(data, data.count, &message, message.count)
            guard color >= 0 else { throw fail() }
            return ImageHeader(width: Int(w), height: Int(h), grayscale: color == 0)
        }
        if isJPEG(data) {
            var components: Int32 = 0
            guard btviz_jpeg_decode(data, data.count, nil, 0, &w, &h, &components, &message, message.count) == 1 else { throw fail() }
            return ImageHeader(width: Int(w), height: Int(h), grayscale: components == 1)
        }
        throw BTError("cannot read image \(path): not a PNG or JPEG file")
    }

    /// Decodes a PNG or JPEG whose `header` was read (and bounded) first; the pixels are allocated here, once.
    public static func decode(_ data: [UInt8], header: ImageHeader, path: String) throws -> RGBImage {
        var message = [CChar](repeating: 0, count: 256)
        var out = [UInt8](repeating: 0, count: header.width * header.height * 3)
        var w: UInt32 = 0, h: UInt32 = 0, components: Int32 = 0
        let ok = isPNG(data) ? btviz_png_decode(data, data.count, &out, out.count, &message, message.count)
                             : btviz_jpeg_decode(data, data.count, &out, out.count, &w, &h, &components, &message, message.count)
        guard ok == 1 else { throw BTError("cannot read image \(path): \(String(cString: message))") }
        return RGBImage(width: header.width, height: header.height, bytes: out)
    }

    public static func isPNG(_ d: [UInt8]) -> Bool { d.starts(with: [0x89, 0x50, 0x4E, 0x47]) }
    public static func isJPEG(_ d: [UInt8]) -> Bool { d.starts(with: [0xFF, 0xD8, 0xFF]) }
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
