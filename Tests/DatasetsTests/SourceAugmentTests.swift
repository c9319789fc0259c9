import BTCore
import Datasets
import Foundation
import XCTest

/// The source protocol over sets in memory, and the augmentation the catalog entries choose.
final class SourceAugmentTests: XCTestCase {
    func testImageSetPassesFollowThePermutation() throws {
        let d = makeSynthetic(seed: 3, trainCount: 37, testCount: 5)
        let stored = try readAll(d.train, batch: 8)
        XCTAssertEqual(stored.pixels, d.train.pixels)
        XCTAssertEqual(stored.labels, d.train.labels)
        var rng = RNG(seed: 9, stream: .shuffle, 2)
        let order = rng.permutation(37)
        let shuffled = try readAll(d.train, .shuffled(RNG(seed: 9, stream: .shuffle, 2)), batch: 5)
        XCTAssertEqual(shuffled.labels, order.map { d.train.labels[$0] })
        XCTAssertEqual(Array(shuffled.pixels[784 * 3..<784 * 4]), Array(d.train.pixels[order[3] * 784..<(order[3] + 1) * 784]))
        // Skipping moves the cursor: the rest is the same as reading through.
        let r = try d.train.pass(.shuffled(RNG(seed: 9, stream: .shuffle, 2)))
        try r.skip(30)
        var lab = [Int32](repeating: 0, count: 10), px = [Float](repeating: 0, count: 10 * 784)
        let n = try px.withUnsafeMutableBufferPointer { p in try lab.withUnsafeMutableBufferPointer { try r.read(10, into: p.baseAddress!, labels: $0.baseAddress!) } }
        XCTAssertEqual(n, 7)
        XCTAssertEqual(Array(lab[0..<7]), Array(shuffled.labels[30...]))
        XCTAssertEqual(d.train.prefix(10).count, 10)
        XCTAssertEqual(d.train.prefix(0).count, 37)
    }

    func testNormalizerFromASourceEqualsTheSetsOwn() throws {
        let d = makeSynthetic(seed: 5, trainCount: 300, testCount: 5)
        XCTAssertEqual(try Normalizer(fitting: d.train as ImageSource), Normalizer(fitting: d.train))
        // Batch normalization gives what normalizing the set in place gives.
        let n = Normalizer(fitting: d.train)
        var inPlace = d.train
        n.apply(&inPlace)
        var batch = Array(d.train.pixels[0..<784 * 4])
        batch.withUnsafeMutableBufferPointer { n.apply($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(batch, Array(inPlace.pixels[0..<784 * 4]))
    }

    func testStandardAugmentationScalesWithTheSide() {
        XCTAssertEqual(Augmentation.standard(height: 28, width: 28, flip: false), Augmentation(pad: 2, cutout: 8, flip: false))
        XCTAssertEqual(Augmentation.standard(height: 32, width: 32, flip: true), Augmentation(pad: 4, cutout: 8, flip: true))
        XCTAssertEqual(Augmentation.standard(height: 64, width: 64, flip: true), Augmentation(pad: 8, cutout: 16, flip: true))
    }

    func augment(_ a: Augmenter, _ img: [Float], h: Int, w: Int, c: Int, seed: UInt64) -> [Float] {
        var x = img, scratch = [Float](repeating: 0, count: img.count), rng = RNG(seed: seed)
        x.withUnsafeMutableBufferPointer { xb in scratch.withUnsafeMutableBufferPointer { sb in
            a.augment(xb.baseAddress!, n: 1, height: h, width: w, channels: c, scratch: sb.baseAddress!, rng: &rng, fillValue: [])
        } }
        return x
    }

    /// Flips mirror rows, about half the time, and only when the entry allows them.
    func testFlip() {
        let h = 3, w = 4, c = 2
        let img = (0..<(h * w * c)).map { Float($0 + 1) }
        let mirrored = (0..<h).flatMap { y in (0..<w).reversed().flatMap { x in (0..<c).map { img[(y * w + x) * c + $0] } } }
        let flipOnly = Augmenter(pad: 0, cutout: 0, flipEnabled: true)
        var flips = 0
        for seed in 0..<200 {
            let out = augment(flipOnly, img, h: h, w: w, c: c, seed: UInt64(seed))
            XCTAssertTrue(out == img || out == mirrored)
            if out == mirrored { flips += 1 }
        }
        XCTAssertTrue((70...130).contains(flips), "\(flips) of 200")
        let none = Augmenter(pad: 0, cutout: 0, flipEnabled: false)
        XCTAssertTrue((0..<50).allSatisfy { augment(none, img, h: h, w: w, c: c, seed: UInt64($0)) == img })
        // Turning flips on leaves the crops and cutouts of a run without them as they were (flips draw last).
        let without = Augmenter(pad: 1, cutout: 2), with = Augmenter(pad: 1, cutout: 2, flipEnabled: true)
        for seed in 0..<50 {
            let a = augment(without, img, h: h, w: w, c: c, seed: UInt64(seed)), b = augment(with, img, h: h, w: w, c: c, seed: UInt64(seed))
            let bm = (0..<h).flatMap { y in (0..<w).reversed().flatMap { x in (0..<c).map { b[(y * w + x) * c + $0] } } }
            XCTAssertTrue(b == a || bm == a)
        }
    }

    /// Batch `step` is the same however it is reached: in order, after a jump back, or from a fresh pipeline
    /// (a resumed run) that starts mid-epoch.
    func testTrainingBatchesDependOnlyOnTheStep() throws {
        let d = makeSynthetic(seed: 7, trainCount: 50, testCount: 5)
        func pipeline() -> TrainingBatches {
            TrainingBatches(source: d.train, normalizer: Normalizer(fitting: d.train), augmenter: Augmenter(height: 28, width: 28),
                            batchSize: 16, seed: 3)
        }
        func batch(_ p: TrainingBatches, _ step: Int) throws -> [Float] {
            var x = [Float](repeating: 0, count: 16 * 784), l = [Int32](repeating: 0, count: 16)
            let n = try x.withUnsafeMutableBufferPointer { xb in try l.withUnsafeMutableBufferPointer { try p.fill(step: step, into: xb.baseAddress!, labels: $0.baseAddress!) } }
            return Array(x[0..<n * 784]) + l[0..<n].map(Float.init)
        }
        let p = pipeline()
        XCTAssertEqual(p.stepsPerEpoch, 4)
        let inOrder = try (0..<9).map { try batch(p, $0) }
        XCTAssertEqual(inOrder[3].count, 2 * 785, "the epoch's last batch holds the rest")
        XCTAssertNotEqual(inOrder[0], inOrder[4], "each epoch has its own order")
        XCTAssertEqual(try batch(p, 1), inOrder[1], "a jump back")
        XCTAssertEqual(try batch(pipeline(), 6), inOrder[6], "a fresh pipeline mid-epoch")
        XCTAssertEqual(try batch(p, 7), inOrder[7])
    }
}
