import BTCore
import Foundation
import Kernels
import XCTest

/// Winograd F(4x4, 3x3) against a plain 3x3 convolution summed in Double.
final class Winograd4Tests: XCTestCase {
    /// Random padded inputs (slack poisoned with NaN, so a patch reading past the last image shows),
    /// weights in DirectConv's [9*cin, cout] layout, and their F(4x4) transform.
    struct Problem {
        let n, h, w, cin, cout: Int
        let xp: FloatBuffer, wt: FloatBuffer, u: FloatBuffer

        init(n: Int, h: Int, w: Int, cin: Int, cout: Int, seed: UInt64) {
            (self.n, self.h, self.w, self.cin, self.cout) = (n, h, w, cin, cout)
            var rng = RNG(seed: seed)
            let x = FloatBuffer(count: n * h * w * cin)
            rng.fillGaussian(x.buffer, std: 1)
            xp = FloatBuffer(count: DirectConv.paddedCount(images: n, h: h, w: w, c: cin))
            DirectConv.pad(x.ptr, images: 0..<n, h: h, w: w, c: cin, into: xp.ptr)
            for i in n * (h + 2) * (w + 2) * cin..<xp.count { xp[i] = .nan }
            wt = FloatBuffer(count: 9 * cin * cout)
            rng.fillGaussian(wt.buffer, std: 1)
            u = FloatBuffer(count: 36 * cin * cout)
            Winograd4.transformWeights(wt.ptr, cin: cin, cout: cout, into: u.ptr)
        }

        var outputCount: Int { n * h * w * cout }

        /// y = conv3x3(x, wt), NHWC, summed in Double.
        func reference() -> [Double] {
            var y = [Double](repeating: 0, count: outputCount)
            let (pw, x, g) = (w + 2, xp.ptr, wt.ptr)
            y.withUnsafeMutableBufferPointer { out in
                for img in 0..<n {
                    for oy in 0..<h {
                        for ox in 0..<w {
                            let acc = out.baseAddress! + ((img * h + oy) * w + ox) * cout
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let px = x + ((img * (h + 2) + oy + ky) * pw + ox + kx) * cin
                                    for ci in 0..<cin {
                                        let xv = Double(px[ci]), row = g + ((ky * 3 + kx) * cin + ci) * cout
                                        for co in 0..<cout { acc[co] += xv * Double(row[co]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return y
        }

        /// Winograd4.forward over `tiles` (all of them by default) into `y`.
        func run(tiles: Range<Int>? = nil, into y: FloatBuffer) {
            let scratch = FloatBuffer(count: Winograd4.scratchCount(cin: cin, cout: cout))
            let all = 0..<n * Winograd4.tileCount(h: h, w: w)
            Winograd4.forward(xp.ptr, tiles: tiles ?? all, h: h, w: w, cin: cin, cout: cout, u: u.ptr,
                              scratch: scratch.ptr, into: y.ptr)
        }
    }

    /// Output buffer with `slack` sentinel floats past the real outputs, every float starting as the sentinel.
    static let sentinel: Float = 12345
    func outputs(_ p: Problem, slack: Int = 64) -> FloatBuffer {
        let y = FloatBuffer(count: p.outputCount + slack)
        y.ptr.update(repeating: Self.sentinel, count: y.count)
        return y
    }

    /// Relative L2 error against the reference; also checks that every output was written and nothing past.
    func error(_ p: Problem, slack: Int = 64) -> Double {
        let y = outputs(p, slack: slack)
        p.run(into: y)
        let ref = p.reference()
        var num = 0.0, den = 0.0
        for i in 0..<p.outputCount {
            let d = Double(y[i]) - ref[i]
            num += d * d; den += ref[i] * ref[i]
        }
        for i in p.outputCount..<y.count where y[i] != Self.sentinel {
            XCTFail("wrote past the outputs at \(i - p.outputCount), \(p.cin)->\(p.cout) \(p.h)x\(p.w)")
            break
        }
        return (num / max(den, 1e-300)).squareRoot()
    }

    /// Both register tilings of the products (16 output channels, and AVX-512's 32).
    func withBothTilings(_ body: () -> Void) {
        let saved = Winograd.wideTiles
        defer { Winograd.wideTiles = saved }
        for wide in [false, true] {
            Winograd.wideTiles = wide
            body()
        }
    }

    func testSupports() {
        XCTAssertTrue(Winograd4.supports(cin: 8, cout: 16))
        XCTAssertTrue(Winograd4.supports(cin: 256, cout: 256))
        XCTAssertFalse(Winograd4.supports(cin: 8, cout: 8))
        XCTAssertFalse(Winograd4.supports(cin: 12, cout: 16))
        XCTAssertEqual(Winograd4.tileCount(h: 9, w: 14), 3 * 4)
    }

    /// Every pairing of odd and even sizes: cropped tiles at the bottom, the right, or both, and images
    /// smaller than one tile.
    func testOddSizes() {
        let sizes = [1, 3, 5, 7, 9, 14, 17, 28, 33]
        var worst = 0.0
        withBothTilings {
            for (i, h) in sizes.enumerated() {
                for (j, w) in sizes.enumerated() {
                    let (cin, cout) = (i + j) % 2 == 0 ? (8, 16) : (16, 32)
                    let p = Problem(n: 1 + (i + j) % 3, h: h, w: w, cin: cin, cout: cout, seed: UInt64(100 * h + w))
                    let e = error(p)
                    worst = max(worst, e)
                    XCTAssertLessThan(e, 1e-5, "\(cin)->\(cout) \(h)x\(w) n=\(p.n)")
                }
            }
        }
        print("Winograd4 odd sizes: worst relative L2 error \(worst)")
    }

    /// Every channel combination, at sizes with cropped tiles, n = 1...3.
    func testChannels() {
        var worst = [Int: Double]()
        withBothTilings {
            for cin in [8, 16, 32, 64, 128, 256] {
                for cout in [16, 32, 48, 64, 128, 256] {
                    let (h, w, n) = [(9, 14, 2), (17, 5, 1), (7, 7, 3)][(cin + cout / 16) % 3]
                    let p = Problem(n: n, h: h, w: w, cin: cin, cout: cout, seed: UInt64(cin * 1000 + cout))
                    let e = error(p)
                    worst[cin] = max(worst[cin] ?? 0, e)
                    XCTAssertLessThan(e, 1e-5, "\(cin)->\(cout) \(h)x\(w) n=\(n)")
                }
            }
        }
        print("Winograd4 channels: worst relative L2 error by cin \(worst.sorted { $0.key < $1.key })")
    }

    /// A large image at wide channels: the error the real layers would see.
    func testLargeImageWideChannels() {
        let p = Problem(n: 1, h: 33, w: 28, cin: 256, cout: 256, seed: 7)
        let e = error(p)
        // F(2x2) on the same problem, for scale.
        let y2 = outputs(p), u2 = FloatBuffer(count: 16 * p.cin * p.cout)
        let s2 = FloatBuffer(count: Winograd.scratchCount(cin: p.cin, cout: p.cout))
        Winograd.transformWeights(p.wt.ptr, cin: p.cin, cout: p.cout, into: u2.ptr)
        Winograd.forward(p.xp.ptr, images: 0..<1, h: p.h, w: p.w, cin: p.cin, cout: p.cout, u: u2.ptr, scratch: s2.ptr, into: y2.ptr)
        let ref = p.reference()
        let e2 = (zip(ref, y2.buffer).reduce(0.0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) }
            / ref.reduce(0.0) { $0 + $1 * $1 }).squareRoot()
        print("Winograd4 256->256 33x28: relative L2 error \(e) (F(2x2): \(e2))")
        XCTAssertLessThan(e, 1e-5)
    }

    /// Splitting one image's tiles (or a batch's, across image boundaries) gives the whole call's output
    /// bit for bit, and an image range writes only its own images.
    func testTileSplitsAgreeBitForBit() {
        withBothTilings {
            for (n, h, w, cin, cout) in [(1, 37, 41, 64, 64), (1, 30, 19, 32, 48), (3, 9, 10, 16, 32)] {
                let p = Problem(n: n, h: h, w: w, cin: cin, cout: cout, seed: UInt64(h * w))
                let whole = outputs(p)
                p.run(into: whole)
                let total = n * Winograd4.tileCount(h: h, w: w)
                for cuts in [[0, total / 2, total], [0, 1, 7, 31].filter { $0 < total } + [total], Array(0...total)] {
                    let split = outputs(p)
                    for (a, b) in zip(cuts, cuts.dropFirst()) { p.run(tiles: a..<b, into: split) }
                    XCTAssertEqual(memcmp(whole.ptr, split.ptr, whole.count * 4), 0, "\(cin)->\(cout) \(h)x\(w) cuts \(cuts.count)")
                }
                // The images variant over the middle image(s): the others stay untouched.
                guard n > 1 else { continue }
                let some = outputs(p), per = h * w * cout
                let scratch = FloatBuffer(count: Winograd4.scratchCount(cin: cin, cout: cout))
                Winograd4.forward(p.xp.ptr, images: 1..<n, h: h, w: w, cin: cin, cout: cout, u: p.u.ptr,
                                  scratch: scratch.ptr, into: some.ptr)
                XCTAssertTrue((0..<per).allSatisfy { some[$0] == Self.sentinel }, "image 0 was written")
                XCTAssertEqual(memcmp(whole.ptr + per, some.ptr + per, (n - 1) * per * 4), 0)
            }
        }
    }

    /// The weight gradient against dW[ky, kx, ci, co] = sum of x[y + ky, x + kx, ci] * dy[y, x, co] in Double, added
    /// onto what dW held: cropped tiles, chunks that run across images (40 8x8 images), both register tilings and
    /// both row blocks (cin a multiple of 5 or not).
    func testWeightGradient() {
        var worst = 0.0
        withBothTilings {
            for (n, h, w, cin, cout) in [(3, 7, 9, 8, 16), (2, 13, 11, 16, 32), (40, 8, 8, 40, 32), (1, 5, 3, 32, 48)] {
                let p = Problem(n: n, h: h, w: w, cin: cin, cout: cout, seed: UInt64(n * h * w + cin))
                var rng = RNG(seed: 3)
                let dy = FloatBuffer(count: p.outputCount)
                rng.fillGaussian(dy.buffer, std: 1)
                let dw = FloatBuffer(count: 9 * cin * cout)
                for i in 0..<dw.count { dw[i] = Float(i % 7) }
                let scratch = FloatBuffer(count: Winograd4.weightGradScratchCount(cin: cin, cout: cout))
                // Two image ranges into the same dW: the sum over all images.
                Winograd4.weightGrad(p.xp.ptr, dy.ptr, images: 0..<n / 2, h: h, w: w, cin: cin, cout: cout, scratch: scratch.ptr, into: dw.ptr)
                Winograd4.weightGrad(p.xp.ptr, dy.ptr, images: n / 2..<n, h: h, w: w, cin: cin, cout: cout, scratch: scratch.ptr, into: dw.ptr)
                var ref = (0..<dw.count).map { Double($0 % 7) }
                for img in 0..<n {
                    for oy in 0..<h {
                        for ox in 0..<w {
                            let g = dy.ptr + ((img * h + oy) * w + ox) * cout
                            for tap in 0..<9 {
                                let x = p.xp.ptr + ((img * (h + 2) + oy + tap / 3) * (w + 2) + ox + tap % 3) * cin
                                for ci in 0..<cin {
                                    for co in 0..<cout { ref[(tap * cin + ci) * cout + co] += Double(x[ci]) * Double(g[co]) }
                                }
                            }
                        }
                    }
                }
                var num = 0.0, den = 0.0
                for i in 0..<dw.count { num += (Double(dw[i]) - ref[i]) * (Double(dw[i]) - ref[i]); den += ref[i] * ref[i] }
                let e = (num / den).squareRoot()
                worst = max(worst, e)
                XCTAssertLessThan(e, 1e-5, "\(cin)->\(cout) \(h)x\(w) n=\(n)")
            }
        }
        print("Winograd4 weight gradient: worst relative L2 error \(worst)")
    }
}
