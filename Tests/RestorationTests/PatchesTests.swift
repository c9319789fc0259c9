import BTCore
import Datasets
import Foundation
import Restoration
import XCTest

/// Training patches: aligned, transformed alike, and a function of (seed, step) only.
final class PatchesTests: XCTestCase {
    /// Small random-texture images, so every patch position is unique and can be found again.
    let images = (0..<3).map { HRImage(name: "img\($0).png", rgb: noiseImage(width: 40 + 6 * $0, height: 30 + 3 * $0, seed: UInt64(10 + $0))) }

    func batch(_ p: RestorationPatches, step: Int) -> (input: [Float], target: [Float]) {
        var input = [Float](repeating: .nan, count: p.batchSize * p.inputSide * p.inputSide)
        var target = [Float](repeating: .nan, count: p.batchSize * p.targetSide * p.targetSide)
        input.withUnsafeMutableBufferPointer { i in target.withUnsafeMutableBufferPointer { p.fill(step: step, input: i.baseAddress!, target: $0.baseAddress!) } }
        return (input, target)
    }

    func testDeterministicInSeedAndStep() throws {
        let a = try RestorationPatches(images: images, task: .superResolution(scale: 2), patchSize: 16, batchSize: 8, seed: 42)
        let b = try RestorationPatches(images: images, task: .superResolution(scale: 2), patchSize: 16, batchSize: 8, seed: 42)
        XCTAssertEqual([a.inputSide, a.targetSide, a.imageCount], [8, 16, 3])
        let step5 = batch(a, step: 5)
        _ = batch(b, step: 0); _ = batch(b, step: 9)  // what ran before does not matter
        let again = batch(b, step: 5)
        XCTAssertEqual(again.input, step5.input); XCTAssertEqual(again.target, step5.target)
        XCTAssertNotEqual(batch(a, step: 6).target, step5.target)
        let other = try RestorationPatches(images: images, task: .superResolution(scale: 2), patchSize: 16, batchSize: 8, seed: 43)
        XCTAssertNotEqual(batch(other, step: 5).target, step5.target)
        XCTAssertFalse(step5.input.contains { $0.isNaN } || step5.target.contains { $0.isNaN })

        let d1 = try RestorationPatches(images: images, task: .denoise(sigma: 0.1), patchSize: 12, batchSize: 4, seed: 1)
        let d2 = try RestorationPatches(images: images, task: .denoise(sigma: 0.1), patchSize: 12, batchSize: 4, seed: 1)
        _ = batch(d2, step: 3)
        XCTAssertEqual(batch(d1, step: 2).input, batch(d2, step: 2).input)
    }

    /// Each target is a window of some image's Y at a multiple of the scale, turned by one of the 8 flips/rotations,
    /// and its input is the same window of that image's whole-image LR (imresize, uint8), turned the same way.
    func testSRPatchesAreAligned() throws {
        for s in [2, 3, 4] {
            let p = 4 * s
            let patches = try RestorationPatches(images: images, task: .superResolution(scale: s), patchSize: p, batchSize: 16, seed: 7)
            let (input, target) = batch(patches, step: 3)
            var transformsSeen = Set<Int>()
            for b in 0..<16 {
                let t = Array(target[(b * p * p)..<((b + 1) * p * p)])
                guard let (i, y, x, k) = locate(t, side: p) else { XCTFail("target patch \(b) at x\(s) is no window of an image"); continue }
                XCTAssertEqual(y % s, 0); XCTAssertEqual(x % s, 0)
                let hr = images[i].y.modCropped(s)
                let lr = Imresize.downscale(hr, by: s)
                XCTAssertEqual(Array(input[(b * 16)..<((b + 1) * 16)]), window(lr, y: y / s, x: x / s, side: 4, transform: k), "x\(s) sample \(b)")
                transformsSeen.insert(k)
            }
            XCTAssertGreaterThan(transformsSeen.count, 3, "flips and rotations are drawn")
        }
    }

    /// Denoising: the target is a clean window, the input that window plus noise of about sigma, clipped to [0, 1].
    func testDenoisePatches() throws {
        let patches = try RestorationPatches(images: images, task: .denoise(sigma: 0.1), patchSize: 20, batchSize: 6, seed: 3)
        XCTAssertEqual([patches.inputSide, patches.targetSide], [20, 20])
        let (input, target) = batch(patches, step: 0)
        var sum = 0.0, n = 0
        for b in 0..<6 {
            XCTAssertNotNil(locate(Array(target[(b * 400)..<((b + 1) * 400)]), side: 20))
            for j in (b * 400)..<((b + 1) * 400) where target[j] > 0.3 && target[j] < 0.7 {  // rarely clipped
                sum += Double((input[j] - target[j]) * (input[j] - target[j])); n += 1
            }
        }
        XCTAssertTrue(input.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual((sum / Double(n)).squareRoot(), 0.1, accuracy: 0.01)
    }

    func testSkipsSmallAndUnreadableImages() throws {
        let small = HRImage(name: "small.png", rgb: noiseImage(width: 15, height: 40, seed: 1))
        let p = try RestorationPatches(images: images + [small], task: .superResolution(scale: 4), patchSize: 16, batchSize: 2, seed: 0)
        XCTAssertEqual(p.imageCount, 3)
        XCTAssertEqual(p.notes, ["skipped 1 of 4 images smaller than the 16x16 patch"])
        XCTAssertThrowsError(try RestorationPatches(images: [small], task: .superResolution(scale: 4), patchSize: 16, batchSize: 2, seed: 0))
        XCTAssertThrowsError(try RestorationPatches(images: images, task: .superResolution(scale: 3), patchSize: 16, batchSize: 2, seed: 0)) {
            XCTAssertTrue("\($0)".contains("multiple of the scale"), "\($0)")
        }
        XCTAssertThrowsError(try RestorationPatches(images: images, task: .denoise(sigma: 0), patchSize: 16, batchSize: 2, seed: 0))

        // A folder: a corrupt file is skipped with a counted warning; a folder of only corrupt files is an error.
        let dir = try makeTempDir(self)
        for (k, image) in images.enumerated() { try BMP.write(image.rgb, to: dir + "/\(k).bmp") }
        _ = FileManager.default.createFile(atPath: dir + "/broken.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2]))
        _ = FileManager.default.createFile(atPath: dir + "/MD5SUMS", contents: Data("not an image".utf8))
        let fromFolder = try RestorationPatches(folder: dir, task: .superResolution(scale: 2), patchSize: 16, batchSize: 2, seed: 0)
        XCTAssertEqual(fromFolder.imageCount, 3)
        XCTAssertEqual(fromFolder.notes.count, 1)
        XCTAssertTrue(fromFolder.notes[0].contains("skipped 1 of 4 images"), fromFolder.notes[0])
        let bad = try makeTempDir(self)
        _ = FileManager.default.createFile(atPath: bad + "/broken.bmp", contents: Data([0x42, 0x4D, 0]))
        XCTAssertThrowsError(try RestorationPatches(folder: bad, task: .denoise(sigma: 0.1), patchSize: 16, batchSize: 2, seed: 0)) {
            XCTAssertTrue("\($0)".contains("broken.bmp"), "\($0)")
        }
    }

    /// The window at (x, y) turned by transform k: bit 2 transposes, bit 0 mirrors left-right, bit 1 top-bottom.
    private func window(_ plane: Plane<UInt8>, y: Int, x: Int, side n: Int, transform k: Int) -> [Float] {
        (0..<(n * n)).map { value(plane, y: y, x: x, side: n, transform: k, at: $0) }
    }

    private func value(_ plane: Plane<UInt8>, y: Int, x: Int, side n: Int, transform k: Int, at j: Int) -> Float {
        var a = j / n, c = j % n
        if k & 4 != 0 { swap(&a, &c) }
        if k & 1 != 0 { c = n - 1 - c }
        if k & 2 != 0 { a = n - 1 - a }
        return Float(plane[y + a, x + c]) / 255
    }

    /// Finds (image, y, x, transform) of a target patch by brute force over the small test images.
    private func locate(_ patch: [Float], side n: Int) -> (Int, Int, Int, Int)? {
        for (i, y) in planes.enumerated() {
            for k in 0..<8 {
                for y0 in 0...(y.height - n) {
                    for x0 in 0...(y.width - n)
                    where (0..<(n * n)).allSatisfy({ value(y, y: y0, x: x0, side: n, transform: k, at: $0) == patch[$0] }) {
                        return (i, y0, x0, k)
                    }
                }
            }
        }
        return nil
    }

    private lazy var planes = images.map(\.y)
}
