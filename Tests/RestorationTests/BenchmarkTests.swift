import BTCore
import Foundation
import Restoration
import XCTest

/// The published baseline rows, computed from the real images.
final class BenchmarkTests: XCTestCase {
    /// The 'Bicubic' rows of the paper's Table 3 (the same as VDSR's and LapSRN's tables).
    func testBicubicTableSet5AndSet14() throws {
        let published: [(RestorationSet, Int, Double)] = [
            (.set5, 2, 33.66), (.set5, 3, 30.39), (.set5, 4, 28.42),
            (.set14, 2, 30.24), (.set14, 3, 27.55), (.set14, 4, 26.00),
        ]
        for (set, scale, want) in published {
            let got = try SRData.meanPSNR(set, .superResolution(scale: scale))
            XCTAssertEqual(got, want, accuracy: 0.02, "\(set.folderName) x\(scale)")
        }
    }

    /// BSD100 here is cropped to even sides, so x3 needs the mod-3 crop (480x320 -> 480x318).
    func testBSD100AtScale3UsesTheModCrop() throws {
        let files = try SRData.files(.bsd100)
        XCTAssertEqual(files.count, 100)
        let pair = try Degradation.pair(HRImage.read(path: files[0]), task: .superResolution(scale: 3))
        XCTAssertEqual([pair.target.width, pair.target.height].sorted(), [318, 480])
        XCTAssertEqual([pair.input.width * 3, pair.input.height * 3], [pair.target.width, pair.target.height])
        XCTAssertEqual(try SRData.meanPSNR(.bsd100, .superResolution(scale: 3)), 27.21, accuracy: 0.02)
    }

    /// The SR pair: the input is the uint8 LR over 255, the baseline its bicubic upscaling, on the target's grid.
    func testSRPair() throws {
        let image = try HRImage.read(path: SRData.files(.set5)[4])  // woman, 228x344
        let pair = try Degradation.pair(image, task: .superResolution(scale: 3))
        XCTAssertEqual([pair.target.width, pair.target.height], [228, 342])
        XCTAssertEqual([pair.input.width, pair.input.height], [76, 114])
        XCTAssertEqual([pair.baseline.width, pair.baseline.height], [228, 342])
        XCTAssertEqual(pair.shave, 3)
        let lr = Imresize.downscale(image.y.modCropped(3), by: 3)
        XCTAssertEqual(pair.input.pixels, lr.pixels.map { Float($0) / 255 })
        XCTAssertEqual(pair.target.pixels, image.y.modCropped(3).pixels.map(Double.init))
        XCTAssertThrowsError(try Degradation.pair(HRImage(name: "tiny", rgb: noiseImage(width: 8, height: 20, seed: 1)),
                                                  task: .superResolution(scale: 4))) { XCTAssertTrue("\($0)".contains("too small"), "\($0)") }
    }

    /// The paper's Table 4 'Noisy' row on Set5 is 26.20 / 20.26 / 14.65 dB. Clipped noise on Y (btviz's rule) gives
    /// 26.07 / 20.24 / 14.77: only sigma 0.1 is within 0.05 dB; no variant tried matches all three (see
    /// Degradation.addNoise). Each measured value is checked against the PSNR the clipped Gaussian must give in
    /// expectation, worked out per pixel from the normal distribution, so the noise's size and clipping are tested,
    /// not just repeated.
    func testNoisyPSNROnSet5() throws {
        let files = try SRData.files(.set5)
        let images = try files.map { try HRImage.read(path: $0) }
        for (sigma, paper, ours) in [(0.05, 26.20, 26.07), (0.1, 20.26, 20.24), (0.2, 14.65, 14.77)] {
            let task = RestorationTask.denoise(sigma: Float(sigma))
            var measured = 0.0, expected = 0.0
            for image in images {
                let pair = try Degradation.pair(image, task: task)
                XCTAssertTrue(pair.input.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
                XCTAssertEqual(pair.shave, 0)
                measured += pair.baselinePSNR / 5
                expected += 10 * log10(255 * 255 / expectedClippedMSE(pair.target, sigma: sigma)) / 5
            }
            XCTAssertEqual(measured, expected, accuracy: 0.02, "sigma \(sigma)")
            XCTAssertEqual(measured, ours, accuracy: 0.01, "sigma \(sigma)")
            if sigma == 0.1 { XCTAssertEqual(measured, paper, accuracy: 0.05) }
        }
    }

    /// The same image gets the same noise every time, wherever it is read from; other names and seeds differ.
    func testNoiseIsSeededPerImage() throws {
        let image = HRImage(name: "a.png", rgb: noiseImage(width: 32, height: 24, seed: 5))
        let task = RestorationTask.denoise(sigma: 0.1)
        let first = try Degradation.pair(image, task: task).input
        XCTAssertEqual(try Degradation.pair(image, task: task).input, first)
        var renamed = image
        renamed.name = "b.png"
        XCTAssertNotEqual(try Degradation.pair(renamed, task: task).input, first)
        XCTAssertNotEqual(try Degradation.pair(image, task: task, noiseSeed: 7).input, first)
        XCTAssertEqual(try BaselinePSNR.psnrs(files: SRData.files(.set5), task: task),
                       try BaselinePSNR.psnrs(files: SRData.files(.set5), task: task))
    }

    /// E[(clip(c + n, 0, 1) - c)^2] for n ~ N(0, sigma^2), summed over the plane (0-255 values) and scaled to 0-255.
    private func expectedClippedMSE(_ clean: Plane<Double>, sigma: Double) -> Double {
        func cdf(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.squareRoot())) }
        func pdf(_ z: Double) -> Double { exp(-z * z / 2) / (2 * Double.pi).squareRoot() }
        var cache: [Double: Double] = [:]
        var total = 0.0
        for v in clean.pixels {
            if let e = cache[v] { total += e; continue }
            let c = v / 255, a = -c / sigma, b = (1 - c) / sigma
            // Inside the range the error is the noise; below 0 it is -c, above 1 it is 1 - c.
            let inside = sigma * sigma * ((cdf(b) - cdf(a)) - (b * pdf(b) - a * pdf(a)))
            let e = (inside + c * c * cdf(a) + (1 - c) * (1 - c) * (1 - cdf(b))) * 255 * 255
            cache[v] = e
            total += e
        }
        return total / Double(clean.pixels.count)
    }
}
