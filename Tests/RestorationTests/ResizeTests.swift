import Kernels
import Restoration
import XCTest

/// MATLAB imresize (bicubic) against worked weights and reference outputs.
final class ResizeTests: XCTestCase {
    /// A 6x5 test array (rows x columns).
    let a: [Double] = [
        12, 200, 37, 90, 255,
        64, 0, 128, 177, 33,
        250, 101, 66, 9, 140,
        18, 222, 190, 45, 77,
        130, 55, 240, 160, 3,
        99, 180, 25, 211, 120,
    ]
    var plane: Plane<Double> { Plane(width: 5, height: 6, pixels: a) }

    /// Enlarging by 2, worked by hand: output 1 (1-based) sits at u = 1/2 + 0.5 (1 - 1/2) = 0.75, so its taps are at
    /// distances 1.75, 0.75, -0.25, -1.25 from source pixels -1, 0, 1, 2, whose cubic weights are -3/128, 29/128,
    /// 111/128, -9/128 (exact in binary); pixels -1 and 0 mirror onto 2 and 1 (0-based 1 and 0).
    func testUpscaleWeightsWorkedByHand() {
        let w = ResizeWeights(inSize: 5, outSize: 10, scale: 2)
        XCTAssertEqual(w.taps, 4)
        let first: [Double] = [-3, 29, 111, -9]
        XCTAssertEqual(Array(w.weights[0..<4]), first.map { $0 / 128 })
        XCTAssertEqual(Array(w.indices[0..<4]), [1, 0, 0, 1])
        XCTAssertEqual(Array(w.weights[4..<8]), first.reversed().map { $0 / 128 })
        XCTAssertEqual(Array(w.indices[4..<8]), [0, 0, 1, 2])
        // The last output mirrors at the far border: pixels 4, 5, 6 (1-based) read 4, 5, 5, i.e. 0-based 3, 4, 4, 3.
        XCTAssertEqual(Array(w.indices[36..<40]), [3, 4, 4, 3])
    }

    /// Shrinking by 2 with antialiasing: the kernel is stretched to width 8, so each output reads 8 pixels with
    /// weights scale * cubic(scale * d), normalized; for 6 -> 3 they are the same for every output.
    func testDownscaleWeightsWorkedByHand() {
        let w = ResizeWeights(inSize: 6, outSize: 3, scale: 0.5)
        XCTAssertEqual(w.taps, 8)
        // Distances 3.5, 2.5, ..., -3.5 halved: cubic(1.75), cubic(1.25), cubic(0.75), cubic(0.25), mirrored; the raw
        // weights sum to 2 x 0.5 x (-3 - 9 + 29 + 111) / 128 = 1, so normalizing changes nothing.
        let half = [-3.0, -9, 29, 111].map { $0 / 256 }
        for (k, v) in (half + half.reversed()).enumerated() { XCTAssertEqual(w.weights[k], v, accuracy: 1e-15) }
        XCTAssertEqual(Array(w.indices[0..<8]), [2, 1, 0, 0, 1, 2, 3, 4])
        XCTAssertEqual(Array(w.indices[16..<24]), [1, 2, 3, 4, 5, 5, 4, 3])
        for o in 0..<3 { XCTAssertEqual(w.weights[(8 * o)..<(8 * o + 8)].reduce(0, +), 1, accuracy: 1e-12) }
    }

    /// Reference outputs from a float64 port of MATLAB's imresize (the same code as BasicSR's
    /// basicsr/utils/matlab_functions.py, with MATLAB's index mirroring; BasicSR's own float32 version agrees to
    /// 3e-5 for x2 and x1/2 and fails on 1/3 of a 5-pixel side). That port reproduces MATLAB R2017b's output for
    /// xinntao/matlab_functions_verification's baboon at x1/2, x1/3, x1/4, x2 and x3 exactly (after rounding).
    func testAgreesWithReferenceOutputs() {
        let down2: [Double] = [
            75.448593, 101.942459, 161.421021,
            136.506836, 99.590942, 67.101318,
            114.724258, 147.193161, 89.165161,
        ]
        assertClose(Imresize.resize(plane, width: 3, height: 3, scale: 0.5), down2)
        assertClose(Imresize.resize(plane, width: 2, height: 2, scale: 1.0 / 3), [93.658741, 120.649444, 129.707514, 98.568663])
        let up2: [Double] = [
            -12.714844, 54.571045, 189.142822, 193.728027, 68.326660, 21.385254, 52.903809, 124.996582, 237.663574, 293.997070,
            5.190186, 48.743225, 135.849304, 145.159363, 76.673401, 58.761475, 91.423584, 134.910645, 189.222656, 216.378662,
            41.000244, 37.087585, 29.262268, 48.022034, 93.366882, 133.513916, 168.463135, 154.738770, 92.340820, 61.141846,
            120.930420, 86.386353, 17.298218, 18.806580, 90.911438, 135.466187, 152.470825, 128.359619, 63.132568, 30.519043,
            244.980713, 196.639526, 99.957153, 57.513000, 69.307068, 64.618286, 43.446655, 55.773193, 101.597900, 124.510254,
            220.521973, 198.935303, 155.761963, 122.816956, 100.100281, 61.886353, 8.175171, 23.260925, 107.143616, 149.084961,
            47.554199, 93.273682, 184.712646, 214.718445, 183.291077, 127.270386, 46.656372, 30.822815, 79.769714, 104.243164,
            9.367920, 58.914246, 158.006897, 212.998352, 223.888611, 186.393188, 100.512085, 56.528687, 54.442993, 53.400146,
            105.963135, 95.856995, 75.644714, 117.656677, 221.892883, 239.254761, 169.742310, 100.378540, 31.163452, -3.444092,
            137.477783, 115.720642, 72.206360, 91.374268, 173.224365, 208.398804, 196.897583, 145.073914, 52.927795, 6.854736,
            103.911865, 118.505188, 147.691833, 134.151123, 77.883057, 93.825317, 181.977905, 190.614807, 119.736023, 84.296631,
            87.128906, 119.897461, 185.434570, 155.539551, 30.212402, 36.538574, 174.518066, 213.385254, 153.140137, 123.017578,
        ]
        let up = Imresize.upscale(plane, by: 2)
        XCTAssertEqual(up.width, 10); XCTAssertEqual(up.height, 12)
        assertClose(up, up2)

        // On uint8, rounded half away from zero and saturated: -12.7 -> 0, 293.997 -> 255, 136.507 -> 137.
        let u8 = Imresize.resize(plane.map { UInt8($0) }, width: 10, height: 12, scale: 2)
        XCTAssertEqual(u8.pixels, up2.map { UInt8(min(max($0, 0), 255).rounded()) })
        XCTAssertEqual(u8.pixels[0], 0); XCTAssertEqual(u8.pixels[9], 255)
        XCTAssertEqual(Imresize.resize(plane.map { UInt8($0) }, width: 3, height: 3, scale: 0.5).pixels, [75, 102, 161, 137, 100, 67, 115, 147, 89])
    }

    /// The float path (the network layer's) agrees with the double one, and a batch of planes is each plane resized.
    func testFloatBatchesMatchDouble() {
        let r = BicubicResize(inH: 24, inW: 24, upscale: 2)
        let batch = (0..<3).flatMap { noisePlane(width: 24, height: 24, seed: UInt64($0)).pixels.map { Float($0) / 255 } }
        var out = [Float](repeating: .nan, count: 3 * 48 * 48)
        batch.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { r.apply(s.baseAddress!, into: $0.baseAddress!, planes: 3) } }
        for n in 0..<3 {
            let src = Plane(width: 24, height: 24, pixels: batch[(n * 576)..<((n + 1) * 576)].map { Double($0) })
            let want = Imresize.upscale(src, by: 2)
            for i in 0..<(48 * 48) { XCTAssertEqual(Double(out[n * 2304 + i]), want.pixels[i], accuracy: 2e-6) }
        }
        // A constant plane stays constant (the weights sum to 1), shrinking too.
        let d = BicubicResize(inH: 12, inW: 9, downscale: 3)
        let ones = [Double](repeating: 7, count: 108)
        var small = [Double](repeating: 0, count: 12)
        ones.withUnsafeBufferPointer { s in small.withUnsafeMutableBufferPointer { d.apply(s.baseAddress!, into: $0.baseAddress!) } }
        for v in small { XCTAssertEqual(v, 7, accuracy: 1e-12) }
    }

    func testModCrop() {
        let p = noisePlane(width: 7, height: 5, seed: 1)
        let c = p.modCropped(3)
        XCTAssertEqual([c.width, c.height], [6, 3])
        XCTAssertEqual(c[2, 5], p[2, 5])
        let image = noiseImage(width: 481, height: 321, seed: 2)
        let m = Imresize.modCrop(image, 3)
        XCTAssertEqual([m.width, m.height], [480, 321])
        XCTAssertEqual(Array(m.bytes[(480 * 3 * 7)..<(480 * 3 * 7 + 6)]), Array(image.bytes[(481 * 3 * 7)..<(481 * 3 * 7 + 6)]))
    }

    private func assertClose(_ p: Plane<Double>, _ want: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.pixels.count, want.count, file: file, line: line)
        for (g, w) in zip(p.pixels, want) { XCTAssertEqual(g, w, accuracy: 2e-6, file: file, line: line) }
    }
}
