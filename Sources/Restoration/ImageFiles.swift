import BTCore
import CPng
import Datasets
import Foundation

/// Image files for restoration: PNG, JPEG or BMP in (told apart by signature, not name), 8-bit RGB PNG or BMP out.
public enum ImageFiles {
    /// The extensions a folder of images is listed by (checksum lists and other files are not images).
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "bmp"]

    /// The pixels, and whether the file holds one channel only (a grey PNG or JPEG, a grey-palette BMP). The
    /// header is read and bounded (`ImageLimits`) before anything is decoded; `check` may refuse it further (the
    /// memory a command needs for an image of that size).
    public static func read(path: String, check: (ImageHeader) throws -> Void = { _ in }) throws -> (image: RGBImage, grayscale: Bool) {
        let data = try ImageLimits.readFile(path)
        let header = try Self.header(of: data, path: path)
        try ImageLimits.check(header, path: path)
        try check(header)
        if isBMP(data) { return try BMP.decode(data, path: path) }
        return (try RGBImage.decode(data, header: header, path: path), header.grayscale)
    }

    /// The header of a PNG, JPEG or BMP held in memory; nothing is decoded.
    public static func header(of data: [UInt8], path: String) throws -> ImageHeader {
        if isBMP(data) { return try BMP.header(of: data, path: path) }
        guard RGBImage.isPNG(data) || RGBImage.isJPEG(data) else {
            throw BTError("cannot read image \(path): not a PNG, JPEG or BMP file")
        }
        return try RGBImage.header(of: data, path: path)
    }

    static func isBMP(_ d: [UInt8]) -> Bool { d.starts(with: [0x42, 0x4D]) }

    /// The image files of a folder (by extension, hidden files left out), sorted by name.
    public static func list(folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    public static func encodePNG(_ image: RGBImage) throws -> [UInt8] {
        var message = [CChar](repeating: 0, count: 256)
        var size = 0
        guard btviz_png_encode(image.bytes, UInt32(image.width), UInt32(image.height), nil, &size, &message, message.count) == 1 else {
            throw BTError("cannot encode PNG: \(String(cString: message))")
        }
        var out = [UInt8](repeating: 0, count: size)
        guard btviz_png_encode(image.bytes, UInt32(image.width), UInt32(image.height), &out, &size, &message, message.count) == 1 else {
            throw BTError("cannot encode PNG: \(String(cString: message))")
        }
        return Array(out.prefix(size))
    }

    /// Written atomically (a temporary file renamed over the target), so a reader never sees half a PNG.
    public static func writePNG(_ image: RGBImage, to path: String) throws {
        try AtomicFile.write(Data(try encodePNG(image)), to: path)
    }
}

/// A clean (high-resolution) image as the benchmarks take it.
public struct HRImage: Sendable {
    public var name: String
    public var rgb: RGBImage
    public var grayscale: Bool

    public init(name: String, rgb: RGBImage, grayscale: Bool = false) {
        self.name = name; self.rgb = rgb; self.grayscale = grayscale
    }

    /// `check` as for `ImageFiles.read`: it sees the header before anything is decoded.
    public static func read(path: String, check: (ImageHeader) throws -> Void = { _ in }) throws -> HRImage {
        let (rgb, gray) = try ImageFiles.read(path: path, check: check)
        return HRImage(name: (path as NSString).lastPathComponent, rgb: rgb, grayscale: gray)
    }

    /// Y as the benchmark scripts compute it: MATLAB's rgb2ycbcr on the uint8 image (rounded), except for a
    /// one-channel file, whose grey values are taken as Y as they are (Set14's bridge: 1.3 dB apart otherwise).
    public var y: Plane<UInt8> {
        if grayscale {
            return Plane(width: rgb.width, height: rgb.height, pixels: (0..<rgb.width * rgb.height).map { rgb.bytes[3 * $0] })
        }
        return YCbCr.lumaPlane(of: rgb)
    }
}
