import BTCore
import CPng
import Datasets
import Foundation

/// Image files for restoration: PNG, JPEG or BMP in (told apart by signature, not name), 8-bit RGB PNG or BMP out.
public enum ImageFiles {
    /// The extensions a folder of images is listed by (checksum lists and other files are not images).
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "bmp"]

    /// The pixels, and whether the file holds one channel only (a grey PNG or JPEG, a grey-palette BMP).
    public static func read(path: String) throws -> (image: RGBImage, grayscale: Bool) {
        let data = try readBytes(path: path)
        if data.starts(with: [0x42, 0x4D]) { return try BMP.decode(data, path: path) }
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            var message = [CChar](repeating: 0, count: 256)
            let color = btviz_png_is_color(data, data.count, &message, message.count)
            guard color >= 0 else { throw BTError("cannot read image \(path): \(String(cString: message))") }
            return (try RGBImage.read(path: path), color == 0)
        }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return (try RGBImage.read(path: path), jpegComponents(data) == 1) }
        throw BTError("cannot read image \(path): not a PNG, JPEG or BMP file")
    }

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

    /// The component count in a JPEG's frame header (1 for greyscale), or nil if there is none before the scan.
    static func jpegComponents(_ d: [UInt8]) -> Int? {
        var i = 2
        while i + 3 < d.count {
            guard d[i] == 0xFF else { return nil }
            let m = d[i + 1]
            if m == 0xFF { i += 1; continue }  // fill byte
            if m == 0x01 || (0xD0...0xD7).contains(m) { i += 2; continue }  // markers without a length
            if m == 0xDA { return nil }  // start of scan: no frame header seen
            if (0xC0...0xCF).contains(m), m != 0xC4, m != 0xC8, m != 0xCC { return i + 9 < d.count ? Int(d[i + 9]) : nil }
            i += 2 + (Int(d[i + 2]) << 8 | Int(d[i + 3]))
        }
        return nil
    }

    /// The whole file, with a one-line error naming it.
    static func readBytes(path: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw BTError("cannot read image \(path): is a directory")
        }
        guard let f = fopen(path, "rb") else { throw BTError("cannot read image \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var out: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out += chunk[0..<n] }
            if n < chunk.count {
                if ferror(f) != 0 { throw BTError("cannot read image \(path): \(String(cString: strerror(errno)))") }
                return out
            }
        }
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

    public static func read(path: String) throws -> HRImage {
        let (rgb, gray) = try ImageFiles.read(path: path)
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
