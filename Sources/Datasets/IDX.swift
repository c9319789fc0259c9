import BTCore
import Foundation

/// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic, counts), then uint8 items.
/// Everything the header promises is checked against the bytes, since a half-downloaded or
/// wrongly named file is the common failure and must give a clear message, not garbage training.
public enum IDXFiles {
    public static let trainImages = "train-images-idx3-ubyte"
    public static let trainLabels = "train-labels-idx1-ubyte"
    public static let testImages = "t10k-images-idx3-ubyte"
    public static let testLabels = "t10k-labels-idx1-ubyte"
    public static let all = [trainImages, trainLabels, testImages, testLabels]

    /// `<dir>/<base>.gz` if present, else `<dir>/<base>` if present (the gzip copy is preferred).
    public static func locate(_ base: String, in dir: String) -> String? {
        let gz = (dir as NSString).appendingPathComponent(base + ".gz")
        if fileExists(gz) { return gz }
        let raw = (dir as NSString).appendingPathComponent(base)
        return fileExists(raw) ? raw : nil
    }
}

@inline(__always)
private func be32(_ b: [UInt8], _ at: Int) -> Int {
    Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
}

/// Reads an idx3 image file (magic 2051) as floats in [0,1], one channel.
public func readIDXImages(path: String) throws -> (count: Int, height: Int, width: Int, pixels: [Float]) {
    let b = try readMaybeGzip(path: path)
    guard b.count >= 16 else { throw BTError("not an IDX image file: \(path) (only \(b.count) bytes)") }
    let magic = be32(b, 0)
    guard magic == 2051 else {
        throw BTError("not an IDX image file: \(path) (magic \(magic), expected 2051)")
    }
    let n = be32(b, 4), h = be32(b, 8), w = be32(b, 12)
    guard h > 0, w > 0, h <= 65536, w <= 65536 else {
        throw BTError("bad IDX image file \(path): image size \(h)x\(w)")
    }
    let (need, overflow) = n.multipliedReportingOverflow(by: h * w)
    let have = b.count - 16
    guard !overflow, need <= have else {
        throw BTError("truncated IDX image file \(path): header says \(n) images of \(h)x\(w) but only \(have) pixel bytes follow")
    }
    guard need == have else {
        throw BTError("bad IDX image file \(path): \(have - need) bytes after the \(n) images the header declares")
    }
    var pixels = [Float](repeating: 0, count: need)
    pixels.withUnsafeMutableBufferPointer { p in
        b.withUnsafeBufferPointer { src in
            for i in 0..<need { p[i] = Float(src[16 + i]) * (1 / 255) }
        }
    }
    return (n, h, w, pixels)
}

/// Reads an idx1 label file (magic 2049); every label must be below `classes`.
public func readIDXLabels(path: String, classes: Int) throws -> [Int32] {
    let b = try readMaybeGzip(path: path)
    guard b.count >= 8 else { throw BTError("not an IDX label file: \(path) (only \(b.count) bytes)") }
    let magic = be32(b, 0)
    guard magic == 2049 else {
        throw BTError("not an IDX label file: \(path) (magic \(magic), expected 2049)")
    }
    let n = be32(b, 4), have = b.count - 8
    guard n <= have else {
        throw BTError("truncated IDX label file \(path): header says \(n) labels but only \(have) bytes follow")
    }
    guard n == have else {
        throw BTError("bad IDX label file \(path): \(have - n) bytes after the \(n) labels the header declares")
    }
    if let i = b[8...].firstIndex(where: { Int($0) >= classes }) {
        throw BTError("bad IDX label file \(path): label \(b[i]) at item \(i - 8) is not below \(classes) classes")
    }
    return b[8...].map { Int32($0) }
}

/// The catalog's IDX datasets (fashion, mnist): those whose official files are the four IDX files.
public var idxDatasetNames: [String] {
    DatasetCatalog.entries.filter { e in Set(e.files.map(\.name)) == Set(IDXFiles.all.map { $0 + ".gz" }) }.map(\.name)
}

/// Loads an IDX dataset of the catalog by name from `dir`.
public func loadIDXDataset(name: String, dir: String) throws -> Dataset {
    guard idxDatasetNames.contains(name), let e = DatasetCatalog.entry(name) else {
        throw BTError("unknown IDX dataset '\(name)' (known: \(idxDatasetNames.joined(separator: ", ")))")
    }
    return try loadIDXPair(name: name, dir: dir, classNames: e.classNames)
}

/// Reads the four standard IDX files in `dir` (each .gz or raw) as dataset `name`.
func loadIDXPair(name: String, dir: String, classNames: [String]) throws -> Dataset {
    func path(_ base: String) throws -> String {
        guard let p = IDXFiles.locate(base, in: dir) else {
            throw BTError("\(name) data not found: \(dir) has no \(base)[.gz]; run `btviz fetch \(name)` or pass --data-dir")
        }
        return p
    }
    func load(_ imagesBase: String, _ labelsBase: String) throws -> ImageSet {
        let ip = try path(imagesBase), lp = try path(labelsBase)
        let img = try readIDXImages(path: ip)
        let labels = try readIDXLabels(path: lp, classes: classNames.count)
        guard labels.count == img.count else {
            throw BTError("\(ip) has \(img.count) images but \(lp) has \(labels.count) labels")
        }
        return ImageSet(count: img.count, height: img.height, width: img.width, channels: 1,
                        pixels: img.pixels, labels: labels)
    }
    let train = try load(IDXFiles.trainImages, IDXFiles.trainLabels)
    let test = try load(IDXFiles.testImages, IDXFiles.testLabels)
    guard train.height == test.height, train.width == test.width else {
        throw BTError("\(name) in \(dir): train images are \(train.height)x\(train.width) but test images are \(test.height)x\(test.width)")
    }
    return Dataset(name: name, train: train, test: test, classes: classNames.count, classNames: classNames)
}
