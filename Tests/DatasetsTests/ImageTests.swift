import BTCore
import Datasets
import Foundation
import XCTest

/// PNG (libpng) and JPEG (libjpeg-turbo) decoding and fitting, on files Pillow wrote (make_fixtures.py): pixel
/// (x, y) = ((17x + 3y) % 256, (5x + 11y) % 256, xy % 256), 20 x 12.
final class ImageTests: XCTestCase {
    let dir = join(TestData.fixtures, "images")

    func formula(_ x: Int, _ y: Int) -> [UInt8] { [UInt8((17 * x + 3 * y) % 256), UInt8((5 * x + 11 * y) % 256), UInt8((x * y) % 256)] }

    func testLosslessPNGsDecodeExactly() throws {
        for name in ["rgb.png", "rgba.png"] {
            let img = try RGBImage.read(path: join(dir, name))
            XCTAssertEqual([img.width, img.height], [20, 12], name)
            let want = (0..<12).flatMap { y in (0..<20).flatMap { x in formula(x, y) } }
            XCTAssertEqual(img.bytes, want, name)
        }
        // Grey, 16-bit grey and palette files come out as RGB equal to what Pillow decodes.
        for name in ["grey.png", "grey16.png", "palette.png"] {
            let img = try RGBImage.read(path: join(dir, name))
            let ref = try readNpy(path: join(dir, name.replacingOccurrences(of: ".", with: "_") + ".npy"))
            XCTAssertEqual(ref.shape, [12, 20, 3])
            XCTAssertEqual(img.bytes.map(Float.init), ref.values, name)
        }
    }

    func testJPEGsMatchPillowWithinOneLevel() throws {
        for name in ["rgb.jpg", "grey.jpg"] {
            let img = try RGBImage.read(path: join(dir, name))
            let ref = try readNpy(path: join(dir, name.replacingOccurrences(of: ".", with: "_") + ".npy")).values
            XCTAssertEqual(img.bytes.count, ref.count)
            let worst = zip(img.bytes, ref).map { abs(Float($0) - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1, name)
        }
        // And the lossy RGB file is close to what was encoded.
        let img = try RGBImage.read(path: join(dir, "rgb.jpg"))
        let want = (0..<12).flatMap { y in (0..<20).flatMap { x in formula(x, y) } }
        let mean = zip(img.bytes, want).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(want.count)
        XCTAssertLessThan(mean, 12)
    }

    func testUnreadableFiles() throws {
        assertBTError(try RGBImage.read(path: join(dir, "truncated.png")), contains: ["cannot read image", "truncated.png"])
        assertBTError(try RGBImage.read(path: join(dir, "truncated.jpg")), contains: ["cannot read image", "truncated.jpg"])
        assertBTError(try RGBImage.read(path: join(dir, "not_an_image.jpg")), contains: ["not a PNG or JPEG"])
        assertBTError(try RGBImage.read(path: join(dir, "missing.png")), contains: ["cannot read", "missing.png"])
    }

    func fit(_ img: RGBImage, _ side: Int, _ f: ImageFit) -> [Float] {
        var out = [Float](repeating: -1, count: side * side * 3)
        out.withUnsafeMutableBufferPointer { img.fitted(side: side, fit: f, into: $0.baseAddress!) }
        return out
    }

    func testFitting() throws {
        // Same size: the pixels themselves.
        let small = RGBImage(width: 3, height: 3, bytes: (0..<27).map { UInt8($0 * 9) })
        XCTAssertEqual(fit(small, 3, .resize), small.bytes.map { Float($0) / 255 })
        // A 2x downscale averages 2x2 blocks.
        let checker = RGBImage(width: 4, height: 4, bytes: (0..<16).flatMap { i -> [UInt8] in
            let v: UInt8 = (i % 4 + i / 4) % 2 == 0 ? 200 : 0; return [v, v, v] })
        XCTAssertEqual(fit(checker, 2, .resize), [Float](repeating: 100.0 / 255, count: 12))
        // Centre crop of a 6x2 image, left third red, middle green, right third blue: the middle is green.
        let bands = RGBImage(width: 6, height: 2, bytes: (0..<12).flatMap { i -> [UInt8] in
            switch (i % 6) / 2 { case 0: return [255, 0, 0]; case 1: return [0, 255, 0]; default: return [0, 0, 255] } })
        XCTAssertEqual(fit(bands, 2, .centerCrop), [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0])
        // Resize squeezes all three bands into 3 columns.
        let r = fit(bands, 3, .resize)
        XCTAssertEqual(Array(r[0..<9]).map { ($0 * 255).rounded() }, [255, 0, 0, 0, 255, 0, 0, 0, 255])
        // Enlarging a constant image keeps it constant; every value is written and in [0, 1].
        let grey = RGBImage(width: 5, height: 7, bytes: [UInt8](repeating: 77, count: 105))
        XCTAssertTrue(fit(grey, 32, .resize).allSatisfy { abs($0 - 77.0 / 255) < 1e-5 })
        let big = try RGBImage.read(path: join(dir, "rgb.png"))
        XCTAssertTrue(fit(big, 9, .centerCrop).allSatisfy { (0...1).contains($0) })
    }
}
