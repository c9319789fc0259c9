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

/// An IDX file's header (`headerSize` bytes, checked by `body`, which returns how many data bytes it declares,
/// what they are in words and how many bytes of memory loading them takes) and then exactly those bytes. The
/// header is read first, so a declared size is bounded before anything is allocated, and a gzip file is
/// inflated only that far; whatever follows is an error, like a short file.
private func readIDX(path: String, kind: String, headerSize: Int,
                     body: ([UInt8]) throws -> (bytes: Int, items: String, memory: Int)) throws -> (header: [UInt8], data: [UInt8]) {
    let s = try FileStream(path: path)
    let header = try s.bytes(headerSize)
    guard header.count == headerSize else { throw BTError("not an IDX \(kind) file: \(path) (only \(header.count) bytes)") }
    let (need, items, memory) = try body(header)
    if !s.isGzip, need > s.file.size - headerSize {
        throw BTError("truncated IDX \(kind) file \(path): header says \(items) but only \(s.file.size - headerSize) bytes follow")
    }
    try MemoryBudget.check(memory, for: "reading \(path) (\(items))")
    let data = try s.bytes(need)
    guard data.count == need else {
        throw BTError("truncated IDX \(kind) file \(path): header says \(items) but only \(data.count) bytes follow")
    }
    guard try s.atEnd() else {
        let extra = s.isGzip ? "more bytes" : "\(s.file.size - headerSize - need) bytes"
        throw BTError("bad IDX \(kind) file \(path): \(extra) after the \(items) the header declares")
    }
    return (header, data)
}

/// Reads an idx3 image file (magic 2051) as floats in [0,1], one channel.
public func readIDXImages(path: String) throws -> (count: Int, height: Int, width: Int, pixels: [Float]) {
    var n = 0, h = 0, w = 0
    let (_, b) = try readIDX(path: path, kind: "image", headerSize: 16) { head in
        let magic = be32(head, 0)
        guard magic == 2051 else { throw BTError("not an IDX image file: \(path) (magic \(magic), expected 2051)") }
        n = be32(head, 4); h = be32(head, 8); w = be32(head, 12)
        guard h > 0, w > 0, h <= 65536, w <= 65536 else {
            throw BTError("bad IDX image file \(path): image size \(h)x\(w)")
        }
        // Memory: the bytes and the floats made from them, 5 bytes a pixel.
        guard let need = checkedProduct([n, h, w]), let memory = checkedProduct([need, 5]) else {
            throw BTError("bad IDX image file \(path): \(n) images of \(h)x\(w) is too large")
        }
        return (need, "\(n) images of \(h)x\(w)", memory)
    }
    var pixels = [Float](repeating: 0, count: b.count)
    pixels.withUnsafeMutableBufferPointer { p in
        b.withUnsafeBufferPointer { src in
            for i in 0..<src.count { p[i] = Float(src[i]) * (1 / 255) }
        }
    }
    return (n, h, w, pixels)
}

/// Reads an idx1 label file (magic 2049); every label must be below `classes`.
public func readIDXLabels(path: String, classes: Int) throws -> [Int32] {
    let (_, b) = try readIDX(path: path, kind: "label", headerSize: 8) { head in
        let magic = be32(head, 0)
        guard magic == 2049 else { throw BTError("not an IDX label file: \(path) (magic \(magic), expected 2049)") }
        let n = be32(head, 4)
        return (n, "\(n) labels", n * 5)
    }
    if let i = b.firstIndex(where: { Int($0) >= classes }) {
        throw BTError("bad IDX label file \(path): label \(b[i]) at item \(i) is not below \(classes) classes")
    }
    return b.map { Int32($0) }
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
            throw BTError(settings: "\(name) data not found: \(dir) has no \(base)[.gz]; run `btviz fetch \(name)` or pass \(setting: "data_dir")")
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
