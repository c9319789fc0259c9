import BTCore
import Datasets
import Foundation
import XCTest

final class CIFARTests: XCTestCase {
    /// The real subset: record counts from the file sizes, labels and pixels where the format puts them.
    func testRealSubset() throws {
        let dir = try TestData.requireCIFARSubset()
        let found = try XCTUnwrap(CIFARFiles.locate(in: dir))
        XCTAssertEqual(found, .folder(dir, trainBatches: ["data_batch_1.bin"]))
        let (train, test) = try loadCIFAR10(found, classes: 10)
        XCTAssertEqual(train.count, 4000)
        XCTAssertEqual(test.count, 1000)
        XCTAssertEqual(train.shape, [3, 32, 32])
        // The first official labels (shared/data/README.md).
        XCTAssertEqual(Array(train.labels.prefix(5)), [6, 9, 9, 4, 1])
        XCTAssertEqual(Array(test.labels.prefix(5)), [3, 8, 8, 0, 6])
        // Pixel (y 5, x 7) of record 123: bytes 1 + 5*32+7 (R), +1024 (G), +2048 (B) of the record.
        let raw = try readBytes(join(dir, "data_batch_1.bin"))
        let rec = 123 * 3073, p = 5 * 32 + 7
        for c in 0..<3 {
            XCTAssertEqual(train.pixels[123 * 3072 + p * 3 + c], Float(raw[rec + 1 + c * 1024 + p]) / 255, accuracy: 1e-6)
        }
        XCTAssertEqual(train.labels[123], Int32(raw[rec]))
        let counts = (0..<10).map { k in train.labels.filter { $0 == k }.count }
        XCTAssertTrue(counts.allSatisfy { (366...422).contains($0) }, "\(counts)")
    }

    /// The official .tar.gz is read without extracting it, and gives what the extracted files give.
    func testArchiveEqualsFolder() throws {
        let src = try TestData.requireCIFARSubset()
        let dir = try makeTempDir(self)
        let inner = join(dir, "cifar-10-batches-bin")
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        let raw = try readBytes(join(src, "data_batch_1.bin")), testRaw = try readBytes(join(src, "test_batch.bin"))
        for k in 1...5 { try writeBytes(Array(raw[(k - 1) * 40 * 3073..<k * 40 * 3073]), join(inner, "data_batch_\(k).bin")) }
        try writeBytes(Array(testRaw[0..<30 * 3073]), join(inner, "test_batch.bin"))
        try "airplane\n".write(toFile: join(inner, "batches.meta.txt"), atomically: true, encoding: .utf8)
        let folder = try loadCIFAR10(try XCTUnwrap(CIFARFiles.locate(in: dir)), classes: 10)
        XCTAssertEqual(folder.train.count, 200)
        let archive = join(dir, "cifar-10-binary.tar.gz")
        try sh("cd '\(dir)' && tar -czf cifar-10-binary.tar.gz cifar-10-batches-bin")
        XCTAssertEqual(CIFARFiles.locate(in: dir), .archive(archive), "the archive is preferred")
        let packed = try loadCIFAR10(.archive(archive), classes: 10)
        XCTAssertEqual(packed.train.pixels, folder.train.pixels)
        XCTAssertEqual(packed.train.labels, folder.train.labels)
        XCTAssertEqual(packed.test.labels, folder.test.labels)
        XCTAssertEqual(packed.train.labels.prefix(5), [6, 9, 9, 4, 1])

        // The catalog entry loads it with flips allowed (photos), crop padding 4.
        let d = try DatasetCatalog.named("cifar10").loadData(DatasetRequest(dir: dir))
        XCTAssertEqual(d.augmentation, Augmentation(pad: 4, cutout: 8, flip: true))
        XCTAssertEqual(d.classNames.first, "airplane")

        // A member missing from the archive, and a damaged archive.
        try FileManager.default.removeItem(atPath: join(inner, "test_batch.bin"))
        try sh("cd '\(dir)' && rm cifar-10-binary.tar.gz && tar -czf cifar-10-binary.tar.gz cifar-10-batches-bin")
        assertBTError(try loadCIFAR10(.archive(archive), classes: 10), contains: [archive, "test_batch.bin"])
        let gz = try readBytes(archive)
        try writeBytes(Array(gz[0..<gz.count / 2]), archive)
        assertBTError(try loadCIFAR10(.archive(archive), classes: 10), contains: ["truncated gzip", archive])
        try sh("cd '\(dir)' && printf 'not a tar archive at all, just text' | gzip > cifar-10-binary.tar.gz")
        assertBTError(try loadCIFAR10(.archive(archive), classes: 10), contains: ["bad tar archive", archive])
    }

    func testBadRecordsAreOneLineErrors() throws {
        let src = try TestData.requireCIFARSubset()
        let dir = try makeTempDir(self)
        let raw = try readBytes(join(src, "test_batch.bin"))
        try writeBytes(Array(raw[0..<10 * 3073]), join(dir, "test_batch.bin"))
        let batch = join(dir, "data_batch_1.bin")
        func load() throws { _ = try loadCIFAR10(try XCTUnwrap(CIFARFiles.locate(in: dir)), classes: 10) }
        try writeBytes(Array(raw[0..<(5 * 3073 - 1)]), batch)  // truncated: the last record lacks a byte
        assertBTError(try load(), contains: [batch, "3073-byte records", "4 records and 3072 bytes over"])
        try writeBytes(Array(raw[0..<(5 * 3073)]) + [0], batch)
        assertBTError(try load(), contains: [batch, "5 records and 1 bytes over"])
        try writeBytes([], batch)
        assertBTError(try load(), contains: [batch, "empty"])
        var labelled = Array(raw[0..<(3 * 3073)]); labelled[2 * 3073] = 10
        try writeBytes(labelled, batch)
        assertBTError(try load(), contains: [batch, "record 2", "label 10"])
        // Not there at all: the catalog's loader names the folder and the fix.
        let empty = try makeTempDir(self)
        assertBTError(try DatasetCatalog.named("cifar10").loadData(DatasetRequest(dir: empty)), contains: [empty, "btviz fetch cifar10"])
    }
}
