import BTCore
import Datasets
import Foundation
import XCTest

final class NormalizeAugmentTests: XCTestCase {
    func testNormalizerStatistics() {
        // Two channels with known statistics: c0 = 0,1,2,3 (mean 1.5, std sqrt(1.25)), c1 constant 5.
        var set = ImageSet(count: 2, height: 1, width: 2, channels: 2,
                           pixels: [0, 5, 1, 5, 2, 5, 3, 5], labels: [0, 1])
        let n = Normalizer(fitting: set)
        XCTAssertEqual(n.mean[0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(n.std[0], Float(1.25).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(n.mean[1], 5, accuracy: 1e-6)
        XCTAssertEqual(n.std[1], 1, "a constant channel keeps scale 1")
        XCTAssertEqual(n.zeroValue[0], -1.5 / Float(1.25).squareRoot(), accuracy: 1e-6)
        n.apply(&set)
        let c0 = stride(from: 0, to: 8, by: 2).map { set.pixels[$0] }
        XCTAssertEqual(c0.reduce(0, +), 0, accuracy: 1e-5)
        XCTAssertEqual(c0.map { $0 * $0 }.reduce(0, +) / 4, 1, accuracy: 1e-5)
        XCTAssertEqual(set.pixels[1], 0)
    }

    func testNormalizerOnFashion() throws {
        var d = try loadIDXDataset(name: "fashion", dir: try TestData.requireFashionSubset())
        let n = Normalizer(fitting: d.train)
        n.apply(&d.train); n.apply(&d.test)
        let tr = d.train.pixels.map(Double.init), te = d.test.pixels.map(Double.init)
        let mean = tr.reduce(0, +) / Double(tr.count)
        let sd = (tr.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(tr.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-3)
        XCTAssertEqual(sd, 1, accuracy: 1e-3)
        // The test set uses the training statistics: close to, not exactly, standardized.
        XCTAssertEqual(te.reduce(0, +) / Double(te.count), 0, accuracy: 0.05)
        XCTAssertEqual(Float(te.min()!), n.zeroValue[0], accuracy: 1e-5)
    }

    func testDefaults() {
        XCTAssertEqual(Augmenter(height: 28, width: 28).pad, 2)
        XCTAssertEqual(Augmenter(height: 32, width: 32).pad, 4)
        XCTAssertEqual(Augmenter(height: 28, width: 28).cutout, 8)
    }

    /// Runs makeBatch into fresh buffers.
    func batch(_ aug: Augmenter, _ set: ImageSet, _ idx: [Int], seed: UInt64, augment: Bool,
               fill: [Float]) -> ([Float], [Int32]) {
        var out = [Float](repeating: .nan, count: idx.count * set.imageSize)
        var labels = [Int32](repeating: -1, count: idx.count)
        var rng = RNG(seed: seed, stream: .augment, 0)
        out.withUnsafeMutableBufferPointer { o in
            labels.withUnsafeMutableBufferPointer { l in
                aug.makeBatch(from: set, indices: idx[...], into: o.baseAddress!, labels: l.baseAddress!,
                              rng: &rng, augment: augment, fillValue: fill)
            }
        }
        return (out, labels)
    }

    func testPlainBatchCopies() {
        let d = makeSynthetic(seed: 1, trainCount: 50, testCount: 10)
        let idx = [7, 3, 49, 3]
        let (out, labels) = batch(Augmenter(height: 28, width: 28), d.train, idx, seed: 1, augment: false, fill: [-1])
        XCTAssertEqual(labels, idx.map { d.train.labels[$0] })
        for (b, i) in idx.enumerated() {
            XCTAssertEqual(out[b * 784..<(b + 1) * 784], d.train.pixels[i * 784..<(i + 1) * 784])
        }
    }

    func testAugmentationDeterministicAndChangesPixels() {
        var d = makeSynthetic(seed: 2, trainCount: 100, testCount: 10)
        d.train.pixels = d.train.pixels.map { $0 * 0.9 + 0.05 }  // no raw zeros: a 0 marks cutout
        let idx = Array(0..<64)
        let aug = Augmenter(height: 28, width: 28)
        let (a, la) = batch(aug, d.train, idx, seed: 9, augment: true, fill: [-0.5])
        let (b, _) = batch(aug, d.train, idx, seed: 9, augment: true, fill: [-0.5])
        let (c, _) = batch(aug, d.train, idx, seed: 10, augment: true, fill: [-0.5])
        XCTAssertEqual(a, b, "same RNG state, same batch")
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(la, idx.map { d.train.labels[$0] })
        XCTAssertFalse(a.contains { $0.isNaN }, "every output pixel is written")
        var changed = 0, withCutout = 0
        for i in idx {
            let img = a[i * 784..<(i + 1) * 784]
            if img != d.train.pixels[i * 784..<(i + 1) * 784] { changed += 1 }
            if img.filter({ $0 == 0 }).count >= 16 { withCutout += 1 }
        }
        XCTAssertGreaterThan(changed, 60)
        XCTAssertEqual(withCutout, 64, "every image carries a cutout (at least 4x4 after clipping)")
    }

    func testCropAndCutoutGeometry() {
        // Pixel values = 1 + index, so every shift is recognizable; fill -7 marks uncovered pixels.
        let h = 6, w = 5, c = 2
        let pixels = (0..<(h * w * c)).map { Float($0 + 1) }
        let set = ImageSet(count: 1, height: h, width: w, channels: c, pixels: pixels, labels: [3])
        let cropOnly = Augmenter(pad: 2, cutout: 0)
        var shifts = Set<[Int]>()
        for seed in 0..<200 {
            let (out, _) = batch(cropOnly, set, [0], seed: UInt64(seed), augment: true, fill: [-7, -8])
            // Recover the shift from any covered pixel and check the whole image against it.
            guard let j = out.firstIndex(where: { $0 > 0 }) else { XCTFail("image fully shifted out"); continue }
            let srcIdx = Int(out[j]) - 1
            let (sy, sx) = (srcIdx / c / w, srcIdx / c % w), (y, x) = (j / c / w, j / c % w)
            let dy = sy - y, dx = sx - x
            XCTAssertTrue(abs(dy) <= 2 && abs(dx) <= 2)
            shifts.insert([dy, dx])
            for y in 0..<h {
                for x in 0..<w {
                    for k in 0..<c {
                        let (yy, xx) = (y + dy, x + dx)
                        let want = (0..<h).contains(yy) && (0..<w).contains(xx) ? pixels[(yy * w + xx) * c + k] : [-7, -8][k]
                        XCTAssertEqual(out[(y * w + x) * c + k], want)
                    }
                }
            }
        }
        XCTAssertEqual(shifts.count, 25, "all shifts in [-2, 2]^2 occur")

        let cutOnly = Augmenter(pad: 0, cutout: 3)
        var maxZeros = 0, sawClipped = false
        for seed in 0..<200 {
            let (out, _) = batch(cutOnly, set, [0], seed: UInt64(seed), augment: true, fill: [])
            let zeros = out.indices.filter { out[$0] == 0 }
            XCTAssertEqual(zeros.count % c, 0, "cutout covers whole pixels")
            maxZeros = max(maxZeros, zeros.count / c)
            if zeros.count / c < 9 { sawClipped = true }
            for i in out.indices where out[i] != 0 { XCTAssertEqual(out[i], pixels[i]) }
            // Zeroed pixels form a rectangle of at most 3x3.
            let ys = Set(zeros.map { $0 / c / w }), xs = Set(zeros.map { $0 / c % w })
            XCTAssertLessThanOrEqual(ys.count, 3); XCTAssertLessThanOrEqual(xs.count, 3)
            XCTAssertEqual(zeros.count / c, ys.count * xs.count)
        }
        XCTAssertEqual(maxZeros, 9)
        XCTAssertTrue(sawClipped, "cutouts near the border are clipped")
    }
}
