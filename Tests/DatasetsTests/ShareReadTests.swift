import BTCore
import Foundation
import XCTest
import Datasets

/// A rank of an MPI run builds only its share of each batch: the same pixels, labels, normalization and
/// augmentation a single process gives those images, and from stored .npz parts only the share's rows are read.
final class ShareReadTests: XCTestCase {
    /// Three stored parts (zip64 headers, as numpy.savez writes them) of 3x8x8 images, written with Python's
    /// zipfile alone (no numpy needed): 23, 17 and 31 images, labels 1-10.
    private func storedParts(compressed: Bool = false) throws -> [String] { try Self.parts(compressed: compressed) }

    static func parts(compressed: Bool = false) throws -> [String] {
        let dir = NSTemporaryDirectory() + "/btviz-share-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
        import struct, sys, zipfile
        out, compress = sys.argv[1], sys.argv[2] == "1"
        def npy(descr, shape, payload):
            head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
            pad = 64 - (10 + len(head) + 1) % 64
            head = head + " " * pad + "\\n"
            return b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(head)) + head.encode() + payload
        for part, n in enumerate([23, 17, 31]):
            data = bytes((i * 7 + part * 13 + k * 3) % 256 for i in range(n) for k in range(192))
            labels = struct.pack("<%dq" % n, *[(i * 3 + part) % 10 + 1 for i in range(n)])
            with zipfile.ZipFile("%s/part%d.npz" % (out, part), "w") as z:
                for name, payload in [("labels.npy", npy("<i8", "(%d,)" % n, labels)), ("data.npy", npy("|u1", "(%d, 192)" % n, data))]:
                    info = zipfile.ZipInfo(name)
                    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                    with z.open(info, "w", force_zip64=True) as f:
                        f.write(payload)
        """
        let (rc, out) = try runPython(["-c", script, dir, compressed ? "1" : "0"])
        XCTAssertEqual(rc, 0, out)
        return (0..<3).map { dir + "/part\($0).npz" }
    }

    private func batches(_ source: ImageSource) -> TrainingBatches {
        let normalizer = try! Normalizer(fitting: source)
        return TrainingBatches(source: source, normalizer: normalizer, augmenter: Augmenter(pad: 2, cutout: 4, flipEnabled: true),
                               batchSize: 16, seed: 5)
    }

    /// Every step of two epochs: the whole batch on one process, then each rank's share on its own batches; the
    /// share's images and every label equal the whole batch's, the other images are left untouched.
    private func assertSharesEqualTheWhole(_ make: () throws -> ImageSource, ranks: Int, file: StaticString = #filePath, line: UInt = #line) throws -> [TrainingBatches] {
        let whole = batches(try make())
        let perRank = try (0..<ranks).map { _ in batches(try make()) }
        let size = whole.source.imageSize
        var x = [Float](repeating: 0, count: 16 * size), labels = [Int32](repeating: 0, count: 16)
        var y = x, yLabels = labels
        for step in 0..<(2 * whole.stepsPerEpoch) {
            let n = try whole.fill(step: step, into: &x, labels: &labels)
            for (r, b) in perRank.enumerated() {
                y = [Float](repeating: .nan, count: y.count)
                let m = try b.fill(step: step, into: &y, labels: &yLabels, share: { BatchGroups.images(ofRank: r, ranks: ranks, batch: $0) })
                XCTAssertEqual(m, n, file: file, line: line)
                let share = BatchGroups.images(ofRank: r, ranks: ranks, batch: n)
                XCTAssertEqual(Array(yLabels[0..<n]), Array(labels[0..<n]), "step \(step) rank \(r): every label", file: file, line: line)
                let pixels = (share.lowerBound * size)..<(share.upperBound * size)
                XCTAssertTrue(y[pixels] == x[pixels], "step \(step) rank \(r): the share's pixels differ from the whole batch's", file: file, line: line)
                XCTAssertTrue(y[0..<(share.lowerBound * size)].allSatisfy(\.isNaN) && y[(share.upperBound * size)...].allSatisfy(\.isNaN),
                              "step \(step) rank \(r): only the share is written", file: file, line: line)
            }
        }
        return perRank
    }

    func testStoredPartsAreReadByPositionOnlyTheShare() throws {
        let paths = try storedParts()
        // A buffer smaller than the set, so the shuffle buffer's refills and its drain at the end both happen.
        let make = { try NpzImageStream(paths: paths, channels: 3, height: 8, width: 8, classes: 10, shuffleBuffer: 20) as ImageSource }
        let ranks = try assertSharesEqualTheWhole(make, ranks: 3)
        // 71 images, 5 steps an epoch, 2 epochs: each rank read its own share of each batch, and nothing else.
        let read = ranks.map { ($0.source as! NpzImageStream).rowsReadByPosition }
        XCTAssertEqual(read.reduce(0, +), 2 * 71, "every image once an epoch, by exactly one rank: \(read)")
        XCTAssertTrue(read.allSatisfy { $0 < 71 }, "no rank read the whole set: \(read)")
    }

    /// A resumed rank starts mid-epoch: the positions are followed to its step without reading.
    func testAShareReaderJumpsToAStepAsTheWholeOneDoes() throws {
        let paths = try storedParts()
        let make = { try NpzImageStream(paths: paths, channels: 3, height: 8, width: 8, classes: 10, shuffleBuffer: 20) }
        let whole = batches(try make()), rank = batches(try make())
        let size = whole.source.imageSize
        var x = [Float](repeating: 0, count: 16 * size), y = x, l = [Int32](repeating: 0, count: 16), m = l
        for step in [7, 3, 9] {
            let n = try whole.fill(step: step, into: &x, labels: &l)
            _ = try rank.fill(step: step, into: &y, labels: &m, share: { BatchGroups.images(ofRank: 1, ranks: 2, batch: $0) })
            let share = BatchGroups.images(ofRank: 1, ranks: 2, batch: n)
            let pixels = (share.lowerBound * size)..<(share.upperBound * size)
            XCTAssertTrue(y[pixels] == x[pixels], "step \(step): the share's pixels differ from the whole batch's")
            XCTAssertEqual(m, l)
        }
        XCTAssertEqual((rank.source as! NpzImageStream).rowsReadByPosition, 8 + 8 + 4, "only the share's rows: 8 of step 7's and 3's 16 images, 4 of step 9's 7")
    }

    /// Compressed parts cannot be read by position: every rank reads the stream whole, with the same result.
    func testCompressedPartsFallBackToTheWholeStream() throws {
        let paths = try storedParts(compressed: true)
        let make = { try NpzImageStream(paths: paths, channels: 3, height: 8, width: 8, classes: 10, shuffleBuffer: 20) as ImageSource }
        let ranks = try assertSharesEqualTheWhole(make, ranks: 2)
        XCTAssertEqual(ranks.map { ($0.source as! NpzImageStream).rowsReadByPosition }, [0, 0])
    }

    /// A set in memory: each rank copies its share only, the same bits.
    func testASetInMemoryFillsOnlyTheShare() throws {
        let n = 45, size = 3 * 8 * 8
        let pixels = (0..<(n * size)).map { Float(($0 * 37) % 251) / 251 }
        let set = ImageSet(count: n, height: 8, width: 8, channels: 3, pixels: pixels, labels: (0..<n).map { Int32($0 % 10) })
        _ = try assertSharesEqualTheWhole({ set }, ranks: 4)
    }
}

