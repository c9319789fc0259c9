import BTCore
import Datasets
import Foundation
import XCTest

/// IDX header for `count` items of `dims` (big-endian), as the official files have it.
func idxHeader(magic: Int, count: Int, dims: [Int] = []) -> [UInt8] {
    ([magic, count] + dims).flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
}

/// gzip through the system tool (tests only; the library only inflates).
func gzipBytes(_ bytes: [UInt8], in dir: String) throws -> [UInt8] {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { throw XCTSkip("no /usr/bin/gzip") }
    let p = join(dir, "tmp-\(UUID().uuidString)")
    try writeBytes(bytes, p)
    let (rc, out) = try runProcess("/usr/bin/gzip", ["-n", p])
    XCTAssertEqual(rc, 0, out)
    defer { try? FileManager.default.removeItem(atPath: p + ".gz") }
    return try readBytes(p + ".gz")
}

/// Four small, valid raw IDX files (`n` 4x3 images, labels i % 10) in `dir`.
func writeTinyIDX(_ dir: String, n: Int = 20, labels: [UInt8]? = nil) throws {
    let imgs = idxHeader(magic: 2051, count: n, dims: [4, 3]) + (0..<(n * 12)).map { UInt8($0 % 256) }
    let labs = idxHeader(magic: 2049, count: n) + (labels ?? (0..<n).map { UInt8($0 % 10) })
    for (f, b) in [(IDXFiles.trainImages, imgs), (IDXFiles.testImages, imgs),
                   (IDXFiles.trainLabels, labs), (IDXFiles.testLabels, labs)] {
        try writeBytes(b, join(dir, f))
    }
}

final class IDXTests: XCTestCase {
    func testFashionSubset() throws {
        let dir = try TestData.requireFashionSubset()
        let d = try loadIDXDataset(name: "fashion", dir: dir)
        XCTAssertEqual(d.train.count, 2557)
        XCTAssertEqual(d.test.count, 4443)
        XCTAssertEqual(d.classes, 10)
        XCTAssertEqual(d.classNames.count, 10)
        XCTAssertEqual(d.classNames[9], "Ankle boot")
        XCTAssertEqual(d.classNames[0], "T-shirt/top")
        XCTAssertEqual(d.inputShape, [1, 28, 28])
        for s in [d.train, d.test] {
            XCTAssertEqual([s.height, s.width, s.channels], [28, 28, 1])
            XCTAssertEqual(s.pixels.count, s.count * 784)
            XCTAssertEqual(s.labels.count, s.count)
            XCTAssertEqual(s.pixels.min(), 0)
            XCTAssertEqual(s.pixels.max(), 1)
            let mean = s.pixels.reduce(0, +) / Float(s.pixels.count)
            XCTAssertEqual(mean, 0.286, accuracy: 0.02, "Fashion-MNIST mean intensity is about 0.286")
        }
        // The official first items are both 9 (Ankle boot).
        XCTAssertEqual(d.train.labels.first, 9)
        XCTAssertEqual(d.test.labels.first, 9)
        // Balance as documented in shared/data/README.md.
        func histogram(_ l: [Int32]) -> [Int] { l.reduce(into: [Int](repeating: 0, count: 10)) { $0[Int($1)] += 1 } }
        let tr = histogram(d.train.labels), te = histogram(d.test.labels)
        XCTAssertEqual(tr.min(), 242); XCTAssertEqual(tr.max(), 277)
        XCTAssertEqual(te.min(), 415); XCTAssertEqual(te.max(), 470)
        // The first image (an ankle boot) is dark at the top-left corner and has ink in the middle rows.
        XCTAssertEqual(d.train.pixels[0], 0)
        XCTAssertGreaterThan(d.train.pixels[14 * 28..<15 * 28].max()!, 0.5)
    }

    func testGzipAndRawGiveTheSameDataset() throws {
        let src = try TestData.requireFashionSubset()
        let dir = try makeTempDir(self)
        for f in IDXFiles.all {
            try writeBytes(try readMaybeGzip(path: join(src, f + ".gz")), join(dir, f))
        }
        let raw = try loadIDXDataset(name: "fashion", dir: dir)
        let gz = try loadIDXDataset(name: "fashion", dir: src)
        XCTAssertEqual(raw.train.pixels, gz.train.pixels)
        XCTAssertEqual(raw.train.labels, gz.train.labels)
        XCTAssertEqual(raw.test.pixels, gz.test.pixels)
        XCTAssertEqual(raw.test.labels, gz.test.labels)
        // Raw bytes pass through readMaybeGzip unchanged.
        let rawLabels = try readBytes(join(dir, IDXFiles.trainLabels))
        XCTAssertEqual(try readMaybeGzip(path: join(dir, IDXFiles.trainLabels)), rawLabels)
        XCTAssertEqual(rawLabels.count, 8 + 2557)
    }

    func testGzipPreferredOverRawAndMultiMember() throws {
        let dir = try makeTempDir(self)
        try writeTinyIDX(dir)
        let good = try loadIDXDataset(name: "mnist", dir: dir)
        XCTAssertEqual(good.classNames, (0..<10).map(String.init))
        XCTAssertEqual(good.train.count, 20)
        XCTAssertEqual(good.train.pixels[13], 13 / 255, accuracy: 1e-7)
        // A valid .gz beside a broken raw file wins.
        let labels = try readBytes(join(dir, IDXFiles.trainLabels))
        try writeBytes(try gzipBytes(labels, in: dir), join(dir, IDXFiles.trainLabels + ".gz"))
        try writeBytes([1, 2, 3], join(dir, IDXFiles.trainLabels))
        XCTAssertEqual(try loadIDXDataset(name: "mnist", dir: dir).train.labels, good.train.labels)
        // Two concatenated gzip members inflate to the concatenation (what `gunzip` does).
        let a = try gzipBytes(Array(labels[0..<10]), in: dir), b = try gzipBytes(Array(labels[10...]), in: dir)
        try writeBytes(a + b, join(dir, "multi.gz"))
        XCTAssertEqual(try readMaybeGzip(path: join(dir, "multi.gz")), labels)
    }

    func testCorruptFilesGiveOneLineErrors() throws {
        let src = try TestData.requireFashionSubset()
        let dir = try makeTempDir(self)
        let labelsPath = join(dir, IDXFiles.trainLabels), imagesPath = join(dir, IDXFiles.trainImages)
        func load() throws -> Dataset { try loadIDXDataset(name: "fashion", dir: dir) }

        try writeTinyIDX(dir)
        XCTAssertNoThrow(try load())

        // Wrong magic: an image file where labels belong, and vice versa.
        try writeBytes(idxHeader(magic: 2051, count: 20, dims: [4, 3]) + [UInt8](repeating: 0, count: 240), labelsPath)
        assertBTError(try load(), contains: [labelsPath, "magic 2051", "2049"])
        try writeTinyIDX(dir)
        try writeBytes(idxHeader(magic: 2049, count: 20) + [UInt8](repeating: 0, count: 20), imagesPath)
        assertBTError(try load(), contains: [imagesPath, "magic 2049", "2051"])

        // Truncated raw payload (header says more than the file holds), and extra bytes.
        try writeTinyIDX(dir)
        try writeBytes(idxHeader(magic: 2051, count: 20, dims: [4, 3]) + [UInt8](repeating: 0, count: 239), imagesPath)
        assertBTError(try load(), contains: ["truncated", imagesPath, "20 images"])
        try writeTinyIDX(dir)
        try writeBytes(idxHeader(magic: 2049, count: 20) + [UInt8](repeating: 0, count: 19), labelsPath)
        assertBTError(try load(), contains: ["truncated", labelsPath])
        try writeTinyIDX(dir)
        try writeBytes(idxHeader(magic: 2049, count: 20) + [UInt8](repeating: 0, count: 21), labelsPath)
        assertBTError(try load(), contains: [labelsPath, "1 bytes after"])

        // Image/label count mismatch.
        try writeTinyIDX(dir)
        try writeBytes(idxHeader(magic: 2049, count: 19) + [UInt8](repeating: 0, count: 19), labelsPath)
        assertBTError(try load(), contains: ["20 images", "19 labels", labelsPath])

        // A label outside the classes.
        try writeTinyIDX(dir, labels: (0..<20).map { $0 == 7 ? 10 : 0 })
        assertBTError(try load(), contains: ["label 10", "item 7", "10 classes"])

        // Garbage bytes, short files and an empty file.
        for junk: [UInt8] in [(0..<300).map { UInt8(($0 * 37 + 11) % 256) }, [0, 0, 8], []] {
            try writeTinyIDX(dir)
            try writeBytes(junk, imagesPath)
            assertBTError(try load(), contains: ["not an IDX image file", imagesPath])
        }

        // Truncated and corrupted .gz (a real file cut short, a flipped byte, gzip magic then junk).
        try writeTinyIDX(dir)
        let gz = try readBytes(join(src, IDXFiles.trainImages + ".gz"))
        try FileManager.default.removeItem(atPath: imagesPath)
        let gzPath = imagesPath + ".gz"
        for cut in [gz.count / 2, gz.count - 4, 12] {
            try writeBytes(Array(gz[0..<cut]), gzPath)
            assertBTError(try load(), contains: ["gzip", gzPath])
        }
        var flipped = gz; flipped[gz.count / 2] ^= 0xFF
        try writeBytes(flipped, gzPath)
        assertBTError(try load(), contains: ["gzip", gzPath])
        try writeBytes([0x1f, 0x8b] + (0..<100).map { UInt8($0) }, gzPath)
        assertBTError(try load(), contains: ["corrupt gzip", gzPath])
        try writeBytes(gz + [1, 2, 3, 4], gzPath)
        assertBTError(try load(), contains: ["trailing garbage", gzPath])
    }

    func testMissingFilesAndUnknownName() throws {
        let dir = try makeTempDir(self)
        assertBTError(try loadIDXDataset(name: "fashion", dir: dir), contains: [dir, "btviz fetch fashion", IDXFiles.trainImages])
        try writeTinyIDX(dir)
        try FileManager.default.removeItem(atPath: join(dir, IDXFiles.testLabels))
        assertBTError(try loadIDXDataset(name: "mnist", dir: dir), contains: [dir, "btviz fetch mnist", IDXFiles.testLabels])
        assertBTError(try loadIDXDataset(name: "cifar", dir: dir), contains: ["cifar"])
        assertBTError(try readMaybeGzip(path: join(dir, "nope")), contains: [join(dir, "nope")])
    }

    func testLoadDatasetByName() throws {
        let src = try TestData.requireFashionSubset()
        let home = try makeTempDir(self)
        let viaEnv = try loadDataset(name: "fashion", environment: ["HOME": home, "BTVIZ_DATA": TestData.sharedData + "/fashion-subset"])
        XCTAssertEqual(viaEnv.train.count, 2557)
        XCTAssertEqual(try loadDataset(name: "fashion", dataDir: src, environment: ["HOME": home]).test.count, 4443)
        let synth = try loadDataset(name: "synthetic", seed: 4)
        XCTAssertEqual(synth.train.pixels, makeSynthetic(seed: 4).train.pixels)
        assertBTError(try loadDataset(name: "fashion", environment: ["HOME": home]),
                      contains: [join(home, ".cache/btviz/fashion"), "btviz fetch fashion"])
        assertBTError(try loadDataset(name: "cifar100"), contains: ["cifar100", "synthetic", "cifar10"])
    }

    func testResolveDataDir() throws {
        let root = try makeTempDir(self)
        let home = join(root, "home"), data = join(root, "data"), explicit = join(root, "explicit")
        let cache = join(home, ".cache/btviz/fashion")
        XCTAssertEqual(defaultCacheDir(name: "fashion", environment: ["HOME": home]), cache)
        var env = ["HOME": home]
        let system = join(root, "usr-share-datasets-fashion-mnist")
        func resolve(_ explicit: String?, name: String = "fashion") -> String {
            resolveDataDir(name: name, explicit: explicit, environment: env, systemDirs: [system])
        }
        // Nothing anywhere: the explicit dir, else the cache, so the error names it.
        XCTAssertEqual(resolve(explicit), explicit)
        XCTAssertEqual(resolve(nil), cache)
        func put(_ dir: String, gz: Bool = false) throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try writeBytes([], join(dir, IDXFiles.trainImages + (gz ? ".gz" : "")))
        }
        // A system package's copy (Debian's dataset-fashion-mnist) is found when nothing else is there...
        try put(system, gz: true)
        XCTAssertEqual(resolve(nil), system)
        // ...and comes after the cache.
        try put(cache)
        XCTAssertEqual(resolve(nil), cache)
        XCTAssertEqual(DatasetCatalog.entry("fashion")?.systemDirs, ["/usr/share/datasets/fashion-mnist"])
        // A named folder wins even when it is empty: no silent fallback to the cache.
        XCTAssertEqual(resolve(explicit), explicit)
        env["BTVIZ_DATA"] = data
        try put(data, gz: true)
        XCTAssertEqual(resolve(nil), data)
        try put(join(data, "fashion"))
        XCTAssertEqual(resolve(nil), join(data, "fashion"))
        try put(explicit, gz: true)
        XCTAssertEqual(resolve(explicit), explicit)
        // Another dataset name does not pick up $BTVIZ_DATA/fashion.
        XCTAssertEqual(resolve(nil, name: "mnist"), data)
    }

    /// Debian re-gzips the official files: the .gz md5s differ, the contents do not. btviz checks contents.
    func testOfficialContentsRecognizedThroughNewGzipHeaders() throws {
        let official = TestData.sharedData + "/fashion"
        guard FileManager.default.fileExists(atPath: official) else { XCTFail("no \(official): ../shared is part of the test setup"); return }
        let source = try XCTUnwrap(DatasetCatalog.entry("fashion"))
        let dir = try makeTempDir(self)
        for base in IDXFiles.all {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "gzip -dc '\(official)/\(base).gz' | gzip -1 > '\(dir)/\(base).gz'"]
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            XCTAssertNotEqual(md5Hex([UInt8](try XCTUnwrap(FileManager.default.contents(atPath: "\(dir)/\(base).gz")))),
                              source.files.first { $0.name == base + ".gz" }?.checksum.hex)
        }
        XCTAssertTrue(hasOfficialContents(source, in: official))
        XCTAssertTrue(hasOfficialContents(source, in: dir))
        XCTAssertEqual(try loadIDXDataset(name: "fashion", dir: dir).train.count, 60_000)
        // One changed label is no longer the official set.
        var labels = try readMaybeGzip(path: "\(dir)/\(IDXFiles.trainLabels).gz")
        labels[100] = (labels[100] + 1) % 10
        try FileManager.default.removeItem(atPath: "\(dir)/\(IDXFiles.trainLabels).gz")
        try writeBytes(labels, "\(dir)/\(IDXFiles.trainLabels)")
        XCTAssertFalse(hasOfficialContents(source, in: dir))
    }
}
