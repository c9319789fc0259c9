import Datasets
import Restoration
import XCTest

/// rgb2ycbcr / ycbcr2rgb as MATLAB defines them, and PSNR with a shave.
final class ColorTests: XCTestCase {
    /// Worked from the matrix: white -> (235, 128, 128), black -> (16, 128, 128); pure red -> Y = 16 + 65.481,
    /// Cb = 128 - 37.797, Cr = 128 + 112; a grey level v -> Y = 16 + 219 v / 255 (the row sums to 219).
    func testKnownColours() {
        let image = RGBImage(width: 4, height: 1, bytes: [255, 255, 255, 0, 0, 0, 255, 0, 0, 128, 128, 128])
        let (y, cb, cr) = YCbCr.planes(of: image)
        XCTAssertEqual(y.pixels, [235, 16, 81, 126])
        XCTAssertEqual(cb.pixels, [128, 128, 90, 128])
        XCTAssertEqual(cr.pixels, [128, 128, 240, 128])
        XCTAssertEqual(YCbCr.lumaPlane(of: image), y)
        let red = YCbCr.fromRGB(255, 0, 0)
        XCTAssertEqual(red.y, 81.481, accuracy: 1e-9); XCTAssertEqual(red.cb, 90.203, accuracy: 1e-9); XCTAssertEqual(red.cr, 240, accuracy: 1e-9)
        XCTAssertEqual(YCbCr.fromRGB(128, 128, 128).y, 16 + 219 * 128 / 255.0, accuracy: 1e-9)
    }

    /// ycbcr2rgb inverts rgb2ycbcr: exactly (to rounding) on floats, within one level through uint8 planes.
    func testInverse() {
        let image = noiseImage(width: 40, height: 30, seed: 9)
        let f = YCbCr.floatPlanes(of: image)
        for i in stride(from: 0, to: 1200, by: 7) {
            let (r, g, b) = YCbCr.toRGB(f.y.pixels[i], f.cb.pixels[i], f.cr.pixels[i])
            XCTAssertEqual(r, Double(image.bytes[3 * i]), accuracy: 1e-9)
            XCTAssertEqual(g, Double(image.bytes[3 * i + 1]), accuracy: 1e-9)
            XCTAssertEqual(b, Double(image.bytes[3 * i + 2]), accuracy: 1e-9)
        }
        XCTAssertEqual(YCbCr.image(y: f.y, cb: f.cb, cr: f.cr).bytes, image.bytes)
        let (y, cb, cr) = YCbCr.planes(of: image)
        let back = YCbCr.image(y: y, cb: cb, cr: cr)
        // Rounding Y, Cb and Cr moves B by up to 1.164 / 2 + 2.017 / 2 (Cb weighs 2.017 in B), so 2 levels at most.
        for (a, b) in zip(back.bytes, image.bytes) { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 2) }
        // Out-of-gamut values saturate: Y, Cb, Cr all 255 lie beyond red and blue, Y 0 below black.
        let one = { (v: Double) in Plane(width: 1, height: 1, pixels: [v]) }
        let sat = YCbCr.image(y: one(255), cb: one(255), cr: one(255))
        XCTAssertEqual(sat.bytes[0], 255); XCTAssertEqual(sat.bytes[2], 255)
        XCTAssertEqual(YCbCr.image(y: one(0), cb: one(128), cr: one(128)).bytes, [0, 0, 0])
    }

    /// PSNR = 10 log10(255^2 / MSE) over the unshaved middle.
    func testPSNR() {
        let a = Plane(width: 6, height: 5, pixels: [Double](repeating: 100, count: 30))
        var b = a
        b.pixels[0] = 0  // a corner: shaved away with shave 1
        b.pixels[2 * 6 + 2] = 110
        // Unshaved: MSE = (100^2 + 10^2) / 30. Shaved by 1: the 4x3 middle, MSE = 100 / 12.
        XCTAssertEqual(psnr(b, a), 10 * log10(255 * 255 * 30 / 10_100.0), accuracy: 1e-12)
        XCTAssertEqual(psnr(b, a, shave: 1), 10 * log10(255 * 255 * 12 / 100.0), accuracy: 1e-12)
        XCTAssertEqual(psnr(a, a), .infinity)
    }
}
