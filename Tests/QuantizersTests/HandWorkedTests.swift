import BTCore
import Quantizers
import XCTest

/// The quantizers against cases worked by hand from ENGINEERING.md's definitions.
/// W = [0.5, -0.2, 0.1, -0.8, 0.0, 0.3], mean|W| = 1.9/6.
final class HandWorkedTests: XCTestCase {
    let w: [Float] = [0.5, -0.2, 0.1, -0.8, 0.0, 0.3]
    let meanAbs: Float = 1.9 / 6

    func fit(_ m: QuantMethod) -> QuantFit { w.withUnsafeBufferPointer { m.quantizer().fit($0) } }
    func codes(_ f: QuantFit) -> [Int] { w.map { f.code($0) } }

    func testBWN() {
        let f = fit(.bwn)
        XCTAssertEqual(f.scales["a"]!, meanAbs, accuracy: 1e-6)
        XCTAssertEqual(codes(f), [1, -1, 1, -1, 1, 1])  // sign(0) = +1
        XCTAssertEqual(f.transitions, [0])
        XCTAssertEqual(f.levels, [-f.step, f.step])
        XCTAssertEqual(w.withUnsafeBufferPointer { f.levelCounts($0) }, [2, 4])
        // ||W - Q|| / ||W||, worked out: residuals 0.18333, 0.11667, -0.21667, -0.48333, -0.31667, -0.01667.
        let num: Float = [0.183333, 0.116667, 0.216667, 0.483333, 0.316667, 0.016667].map { $0 * $0 }.reduce(0, +)
        let den: Float = w.map { $0 * $0 }.reduce(0, +)
        XCTAssertEqual(w.withUnsafeBufferPointer { f.relativeError($0) }, (num / den).squareRoot(), accuracy: 1e-4)
    }

    func testTWN() {
        let f = fit(.twn)
        let d: Float = 0.66 * meanAbs  // 0.209
        XCTAssertEqual(f.thresholds["delta"]!, d, accuracy: 1e-6)
        XCTAssertEqual(f.scales["a"]!, (0.5 + 0.8 + 0.3) / 3, accuracy: 1e-6)  // mean |W| over |W| > d
        XCTAssertEqual(codes(f), [1, 0, 0, -1, 0, 1])  // |-0.2| < 0.209 stays 0
        XCTAssertEqual(f.transitions, [-d, d])
        XCTAssertEqual(w.withUnsafeBufferPointer { f.levelCounts($0) }, [1, 3, 2])
    }

    func testBT() {
        let f = fit(.bt)
        let a1 = meanAbs
        // E1 = W - a1*sign(W) = [0.18333, 0.11667, -0.21667, -0.48333, -0.31667, -0.01667]; a2 = 1.33333/6.
        let a2: Float = 1.333333 / 6
        let d1 = 0.66 * a2
        XCTAssertEqual(f.scales["a1"]!, a1, accuracy: 1e-6)
        XCTAssertEqual(f.scales["a2"]!, a2, accuracy: 1e-5)
        XCTAssertEqual(f.thresholds["d1"]!, d1, accuracy: 1e-5)
        XCTAssertEqual(f.scales["a_opt"]!, 0.75 * a1 - 0.25 * a2, accuracy: 1e-5)
        XCTAssertEqual(f.step, f.scales["a_opt"]!)
        // W1 = ternary(E1; d1 = 0.14667) = [1, 0, -1, -1, -1, 0]; codes = W0 + W1.
        XCTAssertEqual(codes(f), [2, -1, 0, -2, 0, 1])
        XCTAssertEqual(f.levels.count, 5)
        let expected: [Float] = [-(a1 + d1), -(a1 - d1), 0, a1 - d1, a1 + d1]
        for (t, e) in zip(f.transitions, expected) { XCTAssertEqual(t, e, accuracy: 1e-5) }
    }

    /// The transitions are exactly where Q jumps, as solved in ENGINEERING.md: scanning a fine grid, the
    /// code changes only at the listed points, and does change at each one with a non-zero step height.
    func testTransitionsAreWhereTheCodeChanges() {
        var rng = RNG(seed: 11)
        let weights = (0..<5000).map { _ in rng.gaussian() * 0.1 }
        for m in [QuantMethod.bwn, .twn, .bt] {
            let f = weights.withUnsafeBufferPointer { m.quantizer().fit($0) }
            let heights = f.stepHeights
            var jumps: [Float] = []
            let lo: Float = -0.5, stepSize: Float = 1e-5
            var prev = f.code(lo)
            for i in 1...100_000 {
                let x = lo + Float(i) * stepSize
                let c = f.code(x)
                if c != prev { jumps.append(x); prev = c }
            }
            let real = zip(f.transitions, heights).filter { $0.1 > 0 }.map(\.0)
            XCTAssertEqual(jumps.count, real.count, "\(m): jumps at \(jumps), transitions \(f.transitions)")
            for (j, t) in zip(jumps, real) { XCTAssertEqual(j, t, accuracy: 2e-5, "\(m)") }
        }
    }

    /// BT's point 0 is listed but Q does not jump there while a1 > d1: both sides map to code 0.
    func testBTZeroIsADegenerateTransition() {
        let f = fit(.bt)
        XCTAssertEqual(f.code(1e-6), 0)
        XCTAssertEqual(f.code(-1e-6), 0)
        XCTAssertEqual(f.stepHeights[2], 0)
        XCTAssertEqual(f.stepHeights[1], f.step, accuracy: 1e-6)
    }

    /// ENGINEERING.md: on Gaussian weights the paper's a_opt gives BT a relative error of about 0.49,
    /// TWN about 0.44, and the least-squares scale for BT's codes about 0.30.
    func testGaussianErrors() {
        var rng = RNG(seed: 3)
        let g = (0..<200_000).map { _ in rng.gaussian() }
        let bt = g.withUnsafeBufferPointer { QuantMethod.bt.quantizer().fit($0) }
        let twn = g.withUnsafeBufferPointer { QuantMethod.twn.quantizer().fit($0) }
        XCTAssertEqual(g.withUnsafeBufferPointer { bt.relativeError($0) }, 0.49, accuracy: 0.015)
        XCTAssertEqual(g.withUnsafeBufferPointer { twn.relativeError($0) }, 0.44, accuracy: 0.015)
        let c = g.map { Float(bt.code($0)) }
        let ls = zip(g, c).reduce(0) { $0 + $1.0 * $1.1 } / c.reduce(0) { $0 + $1 * $1 }
        let err = (zip(g, c).reduce(0) { $0 + ($1.0 - ls * $1.1) * ($1.0 - ls * $1.1) } / g.reduce(0) { $0 + $1 * $1 }).squareRoot()
        XCTAssertEqual(err, 0.30, accuracy: 0.015)
    }

    func testFullPrecisionIsIdentity() {
        let f = fit(.full)
        var out = [Float](repeating: 9, count: w.count)
        w.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { f.quantize(src, into: $0) } }
        XCTAssertEqual(out, w)
        XCTAssertTrue(f.transitions.isEmpty)
    }
}
