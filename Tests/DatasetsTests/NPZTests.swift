import BTCore
import Datasets
import Foundation
import XCTest

/// ImageNet 64x64's .npz parts (numpy.savez and savez_compressed files from make_fixtures.py:
/// data[i, k] = (11i + 13k + 71 (k / 4096) + 31 part) % 256, planar; labels[i] = (397i + part) % 1000 + 1), streamed.
final class NPZTests: XCTestCase {
    let dir = join(TestData.fixtures, "imagenet64"), bad = join(TestData.fixtures, "npz-bad")
    var parts: [String] { [join(dir, "train_data_batch_1.npz"), join(dir, "train_data_batch_2.npz")] }

    /// The image the formula gives, NHWC floats: image i of part `part`.
    func expected(_ i: Int, part: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 12288)
        for ch in 0..<3 { for p in 0..<4096 { out[p * 3 + ch] = Float((11 * i + 13 * (ch * 4096 + p) + 71 * ch + 31 * part) % 256) / 255 } }
        return out
    }
    func label(_ i: Int, part: Int) -> Int32 { Int32((i * 397 + part) % 1000) }

    func stream(buffer: Int = 16_384) throws -> NpzImageStream {
        try NpzImageStream(paths: parts, channels: 3, height: 64, width: 64, classes: 1000, shuffleBuffer: buffer)
    }

    func testStoredOrderAndFormats() throws {
        let s = try stream()
        XCTAssertEqual(s.count, 9)
        XCTAssertEqual(s.shape, [3, 64, 64])
        let (pixels, labels) = try readAll(s)
        let want = (0..<5).map { (1, $0) } + (0..<4).map { (2, $0) }  // stored part 1, deflated part 2
        XCTAssertEqual(labels, want.map { label($0.1, part: $0.0) })
        for (j, (part, i)) in want.enumerated() {
            let e = expected(i, part: part)
            let wrong = (0..<12288).filter { abs(pixels[j * 12288 + $0] - e[$0]) > 1e-6 }.count
            XCTAssertEqual(wrong, 0, "image \(j): pixels not where the planar layout puts them")
        }
        // Arrays are found by name, whatever else the archive holds ('mean').
        XCTAssertEqual(try NpzFile(path: parts[1]).arrays.sorted(), ["data", "labels", "mean"])
    }

    /// A shuffled pass is a permutation of the stored images, the same for the same RNG, and different for another.
    func testShuffledPassesAreDeterministicPermutations() throws {
        let s = try stream()
        let stored = try readAll(s)
        func signature(_ r: (pixels: [Float], labels: [Int32])) -> [[Float]] {
            (0..<r.labels.count).map { Array(r.pixels[$0 * 12288..<$0 * 12288 + 8]) }
        }
        let a = try readAll(s, .shuffled(RNG(seed: 1, stream: .shuffle, 0)), batch: 4)
        let b = try readAll(s, .shuffled(RNG(seed: 1, stream: .shuffle, 0)), batch: 2)
        let c = try readAll(s, .shuffled(RNG(seed: 2, stream: .shuffle, 0)))
        XCTAssertEqual(a.pixels, b.pixels, "the batch size does not change the order")
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertNotEqual(a.labels, c.labels)
        XCTAssertEqual(signature(a).sorted { $0.lexicographicallyPrecedes($1) }, signature(stored).sorted { $0.lexicographicallyPrecedes($1) })
        // Each image keeps its own label (the shuffle once handed out the stored order's pixels with drawn labels).
        var labelOf: [[Float]: Int32] = [:]
        for (i, sig) in signature(stored).enumerated() { labelOf[sig] = stored.labels[i] }
        for (i, sig) in signature(a).enumerated() { XCTAssertEqual(labelOf[sig], a.labels[i], "image \(i) of the shuffled pass") }
        XCTAssertNotEqual(a.labels, stored.labels)
        // Skipping is reading without the copy: the rest of the pass is the same.
        let r = try s.pass(.shuffled(RNG(seed: 1, stream: .shuffle, 0)))
        try r.skip(5)
        var buf = [Float](repeating: 0, count: 9 * 12288), lab = [Int32](repeating: 0, count: 9)
        let n = try buf.withUnsafeMutableBufferPointer { b in try lab.withUnsafeMutableBufferPointer { try r.read(9, into: b.baseAddress!, labels: $0.baseAddress!) } }
        XCTAssertEqual(n, 4)
        XCTAssertEqual(Array(lab[0..<4]), Array(a.labels[5...]))
    }

    /// With a buffer of B images, an image leaves at most... it can only be drawn once it has been read into the
    /// buffer: output j comes from the first j + B images of the parts' visiting order.
    func testBoundedBufferReach() throws {
        let s = try stream(buffer: 2)
        for seed in 0..<20 {
            let out = try readAll(s, .shuffled(RNG(seed: UInt64(seed), stream: .shuffle, 0))).labels
            XCTAssertEqual(out.count, 9)
            // The parts' order for this pass: the first image out belongs to the first part visited.
            let firstPart = (0..<5).map { label($0, part: 1) }.contains(out[0]) ? 1 : 2
            let order = firstPart == 1 ? (0..<5).map { label($0, part: 1) } + (0..<4).map { label($0, part: 2) }
                                       : (0..<4).map { label($0, part: 2) } + (0..<5).map { label($0, part: 1) }
            for (j, l) in out.enumerated() {
                let at = try XCTUnwrap(order.firstIndex(of: l))
                XCTAssertLessThan(at, j + 2, "seed \(seed): output \(j) came from stored position \(at)")
            }
            XCTAssertEqual(Set(out), Set(order))
        }
    }

    func testPrefixAndNormalizerSample() throws {
        let s = try stream()
        let p = s.prefix(6)
        XCTAssertEqual(p.count, 6)
        XCTAssertEqual(try readAll(p).labels, (0..<5).map { label($0, part: 1) } + [label(0, part: 2)])
        XCTAssertEqual(try readAll(p, .shuffled(RNG(seed: 3))).labels.count, 6)
        let n = try Normalizer(fitting: s)
        let all = try readAll(s).pixels
        let mean0 = stride(from: 0, to: all.count, by: 3).map { Double(all[$0]) }.reduce(0, +) / Double(all.count / 3)
        XCTAssertEqual(Double(n.mean[0]), mean0, accuracy: 1e-5)
    }

    /// The catalog entry finds the parts in the layout the official zips unpack to.
    func testCatalogLayout() throws {
        let root = try makeTempDir(self)
        for (sub, files) in [("Imagenet64_train_part1_npz", ["train_data_batch_1.npz"]),
                             ("Imagenet64_train_part2_npz", ["train_data_batch_2.npz"]), ("Imagenet64_val_npz", ["val_data.npz"])] {
            try FileManager.default.createDirectory(atPath: join(root, sub), withIntermediateDirectories: true)
            for f in files { try FileManager.default.copyItem(atPath: join(dir, f), toPath: join(join(root, sub), f)) }
        }
        let d = try DatasetCatalog.named("imagenet64").loadData(DatasetRequest(dir: root))
        XCTAssertEqual(d.train.count, 9)
        XCTAssertEqual(d.test.count, 3)
        XCTAssertEqual(d.classes, 1000)
        XCTAssertEqual(d.augmentation, Augmentation(pad: 8, cutout: 16, flip: true), "4 px at 32x32, scaled to 64x64")
        XCTAssertTrue(d.train is NpzImageStream)
        XCTAssertEqual(try readAll(d.test).labels, (0..<3).map { label($0, part: 9) })
        // Zips that were not unpacked yet: the error says how.
        let zipped = try makeTempDir(self)
        try writeBytes([1, 2, 3], join(zipped, "Imagenet64_val_npz.zip"))
        assertBTError(try DatasetCatalog.named("imagenet64").loadData(DatasetRequest(dir: zipped)), contains: ["not unpacked", "btviz fetch imagenet64"])
    }

    func testBadParts() throws {
        func open(_ name: String) throws -> NpzImageStream {
            try NpzImageStream(paths: [join(bad, name)], channels: 3, height: 64, width: 64, classes: 1000)
        }
        assertBTError(try open("no_labels.npz"), contains: ["no_labels.npz", "no 'labels' array", "it has arrays data"])
        assertBTError(try open("no_data.npz"), contains: ["no_data.npz", "no 'data' array"])
        assertBTError(try open("wrong_width.npz"), contains: ["shape [3, 3072]", "expected (3, 12288)"])
        assertBTError(try open("int_data.npz"), contains: ["dtype '<i2'", "uint8"])
        assertBTError(try open("label_zero.npz"), contains: ["label 0 at 0", "1-1000"])
        assertBTError(try open("count_mismatch.npz"), contains: ["shape [3, 12288]", "for 2 labels"])
        let tmp = try makeTempDir(self)
        let whole = try readBytes(parts[0])
        let cut = join(tmp, "cut.npz")
        try writeBytes(Array(whole[0..<whole.count - 100]), cut)  // the central directory is gone
        assertBTError(try NpzImageStream(paths: [cut], channels: 3, height: 64, width: 64, classes: 1000), contains: ["bad .npz file", cut])
        try writeBytes(Array("just text".utf8), cut)
        assertBTError(try NpzFile(path: cut), contains: ["bad .npz file", "not a readable zip archive"])
        // Damage inside a member's data is found by its CRC while streaming, as an error of the pass.
        var flipped = whole
        flipped[whole.count / 2] ^= 0xFF
        let damaged = join(tmp, "damaged.npz")
        try writeBytes(flipped, damaged)
        let s = try NpzImageStream(paths: [damaged], channels: 3, height: 64, width: 64, classes: 1000)
        assertBTError(try readAll(s), contains: ["bad .npz file", damaged, "CRC"])
    }
}
