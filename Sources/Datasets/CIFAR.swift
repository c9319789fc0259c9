import BTCore
import Foundation

/// CIFAR-10's binary version: records of 3,073 bytes, a label byte (0-9) and then 1,024 red, 1,024 green and
/// 1,024 blue bytes (32x32, row-major). The files carry no header, so the record count is the file size over
/// 3,073 and anything else is a damaged file. Read from the extracted `cifar-10-batches-bin/` or straight from
/// the official `cifar-10-binary.tar.gz`.
public enum CIFARFiles {
    public static let archive = "cifar-10-binary.tar.gz"
    public static let folder = "cifar-10-batches-bin"
    public static let trainBatches = (1...5).map { "data_batch_\($0).bin" }
    public static let testBatch = "test_batch.bin"
    static let side = 32, recordSize = 1 + 3 * 32 * 32
    /// An official batch holds 10,000 records; more than 60,000 (184 MB) is not a CIFAR-10 batch.
    static let maxRecords = 60_000

    /// Refuses a batch of `bytes` bytes (`what`) before it is read: a whole number of records, at most
    /// `maxRecords`, and room for it and its floats (4 bytes a pixel) within MemoryBudget.
    static func checkBatchSize(_ bytes: Int, what: String) throws {
        let r = recordSize
        guard bytes <= maxRecords * r else {
            throw BTError("bad CIFAR-10 file \(what): it is \(MemoryBudget.describe(bytes)); a batch has at most \(maxRecords) records of \(r) bytes (\(MemoryBudget.describe(maxRecords * r)))")
        }
        guard bytes > 0 else { throw BTError("bad CIFAR-10 file \(what): it is empty") }
        guard bytes % r == 0 else {
            throw BTError("bad CIFAR-10 file \(what): \(bytes) bytes is not a whole number of \(r)-byte records (\(bytes / r) records and \(bytes % r) bytes over; truncated or not CIFAR-10)")
        }
        try MemoryBudget.check(bytes * 5, for: "reading \(what)")
    }

    /// Where the data is in `dir`: the archive, or a folder (the named subfolder, else `dir` itself) holding the
    /// test batch and at least one training batch. Nil if neither.
    public static func locate(in dir: String) -> CIFARLocation? {
        let tgz = (dir as NSString).appendingPathComponent(archive)
        if fileExists(tgz) { return .archive(tgz) }
        for d in [(dir as NSString).appendingPathComponent(folder), dir] {
            let batches = trainBatches.filter { fileExists((d as NSString).appendingPathComponent($0)) }
            if !batches.isEmpty, fileExists((d as NSString).appendingPathComponent(testBatch)) {
                return .folder(d, trainBatches: batches)
            }
        }
        return nil
    }
}

public enum CIFARLocation: Equatable {
    case archive(String)
    case folder(String, trainBatches: [String])

    public var description: String {
        switch self {
        case .archive(let p): return p
        case .folder(let d, let b):
            return b.count == 5 ? "\(d)/" : "\(d)/ (\(b.count) of 5 training batches)"
        }
    }
}

/// Decodes CIFAR-10 records (`bytes` named `what` in errors) into NHWC floats in [0, 1] and labels.
func decodeCIFAR(_ bytes: [UInt8], what: String, classes: Int) throws -> ImageSet {
    let r = CIFARFiles.recordSize, side = CIFARFiles.side, plane = side * side
    try CIFARFiles.checkBatchSize(bytes.count, what: what)
    let n = bytes.count / r
    var pixels = [Float](repeating: 0, count: n * plane * 3)
    var labels = [Int32](repeating: 0, count: n)
    try bytes.withUnsafeBufferPointer { src in
        try pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0..<n {
                let rec = src.baseAddress! + i * r
                guard Int(rec[0]) < classes else {
                    throw BTError("bad CIFAR-10 file \(what): record \(i) has label \(rec[0]), not below \(classes) classes")
                }
                labels[i] = Int32(rec[0])
                let out = dst.baseAddress! + i * plane * 3
                for p in 0..<plane {  // planar R, G, B -> interleaved RGB
                    out[3 * p] = Float(rec[1 + p]) * (1 / 255)
                    out[3 * p + 1] = Float(rec[1 + plane + p]) * (1 / 255)
                    out[3 * p + 2] = Float(rec[1 + 2 * plane + p]) * (1 / 255)
                }
            }
        }
    }
    return ImageSet(count: n, height: side, width: side, channels: 3, pixels: pixels, labels: labels)
}

/// The training batches (in order) and the test batch, wherever `locate` found them.
public func loadCIFAR10(_ location: CIFARLocation, classes: Int) throws -> (train: ImageSet, test: ImageSet) {
    var train: [ImageSet] = [], test: ImageSet?
    // The record count comes from the size, so a batch is refused by its size before it is read.
    func readBatch(_ p: String) throws -> ImageSet {
        let f = try RegularFile(p)
        try CIFARFiles.checkBatchSize(f.size, what: p)
        return try decodeCIFAR(f.readAll(limit: f.size, what: "a CIFAR-10 batch"), what: p, classes: classes)
    }
    switch location {
    case .folder(let dir, let batches):
        for b in batches {
            train.append(try readBatch((dir as NSString).appendingPathComponent(b)))
        }
        test = try readBatch((dir as NSString).appendingPathComponent(CIFARFiles.testBatch))
    case .archive(let path):
        let tar = try TarReader(gzipPath: path)
        var found: [String: ImageSet] = [:]
        let wanted = Set(CIFARFiles.trainBatches + [CIFARFiles.testBatch])
        while let m = try tar.next() {
            let base = (m.name as NSString).lastPathComponent
            guard m.isFile, wanted.contains(base), m.name.hasPrefix(CIFARFiles.folder + "/") else { continue }
            let what = "\(path) member \(m.name)"
            try CIFARFiles.checkBatchSize(m.size, what: what)
            found[base] = try decodeCIFAR(tar.readMember(m), what: what, classes: classes)
        }
        for b in CIFARFiles.trainBatches {
            guard let s = found[b] else {
                throw BTError("bad CIFAR-10 archive \(path): it has no \(CIFARFiles.folder)/\(b) (an incomplete download?)")
            }
            train.append(s)
        }
        guard let t = found[CIFARFiles.testBatch] else {
            throw BTError("bad CIFAR-10 archive \(path): it has no \(CIFARFiles.folder)/\(CIFARFiles.testBatch)")
        }
        test = t
    }
    return (concatenate(train), test!)
}

/// One set from several of the same shape, in order.
func concatenate(_ sets: [ImageSet]) -> ImageSet {
    guard sets.count > 1, let first = sets.first else { return sets[0] }
    var pixels = [Float](), labels = [Int32]()
    pixels.reserveCapacity(sets.reduce(0) { $0 + $1.pixels.count })
    labels.reserveCapacity(sets.reduce(0) { $0 + $1.count })
    for s in sets { pixels += s.pixels; labels += s.labels }
    return ImageSet(count: labels.count, height: first.height, width: first.width, channels: first.channels,
                    pixels: pixels, labels: labels)
}
