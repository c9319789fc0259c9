import Foundation
import BTCore
import Quantizers
import XCTest

/// The quantizers against cases worked by hand from docs/methods.md's definitions.
/// W = [0.5, -0.2, 0.1, -0.8, 0.0, 0.3], mean|W| = 1.9/6.
final class HandWorkedTests: XCTestCase {
    let w: [Float] = [0.5, -0.2, 0.1, -0.8, 0.0, 0.3]
    let meanAbs: Float = 1.9 / 6

    func fit(_ m: QuantMethod) -> QuantFit { w.fitted(m) }
    /// Q(w) in units of the method's step (a, or a_opt for BT).
    func codes(_ f: QuantFit, step: Float) -> [Int] { w.map { Int((f.value($0) / step).rounded()) } }

    func testBWN() {
        let f = fit(.bwn)
        XCTAssertEqual(f.scales["a"]!, meanAbs, accuracy: 1e-6)
        let a = f.scales["a"]!
        XCTAssertEqual(codes(f, step: a), [1, -1, 1, -1, 1, 1])  // sign(0) = +1
        XCTAssertEqual(f.transitions, [0])
        XCTAssertEqual(f.levels, [-a, a])
        XCTAssertEqual(f.stepHeights, [2 * a])
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
        XCTAssertEqual(codes(f, step: f.scales["a"]!), [1, 0, 0, -1, 0, 1])  // |-0.2| < 0.209 stays 0
        XCTAssertEqual(f.transitions[0], -d, accuracy: 1e-6)
        XCTAssertEqual(f.transitions[1], d, accuracy: 1e-6)
        // W > d and W < -d are strict: a weight exactly at ±d stays 0.
        XCTAssertEqual(f.value(f.thresholds["delta"]!), 0)
        XCTAssertEqual(f.value(-f.thresholds["delta"]!), 0)
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
        let aOpt = f.scales["a_opt"]!
        // W1 = ternary(E1; d1 = 0.14667) = [1, 0, -1, -1, -1, 0]; codes = W0 + W1.
        XCTAssertEqual(codes(f, step: aOpt), [2, -1, 0, -2, 0, 1])
        XCTAssertEqual(f.levels, [-2, -1, 0, 1, 2].map { $0 * aOpt })
        // 0 is not among them: both sides of it map to code 0 (see testBTZeroIsNoTransition).
        let expected: [Float] = [-(a1 + d1), -(a1 - d1), a1 - d1, a1 + d1]
        XCTAssertEqual(f.transitions.count, 4)
        for (t, e) in zip(f.transitions, expected) { XCTAssertEqual(t, e, accuracy: 1e-5) }
        for h in f.stepHeights { XCTAssertEqual(h, aOpt, accuracy: 1e-6) }
    }

    /// `--bt-scale lsq`: the same codes [2, -1, 0, -2, 0, 1] and transitions, the scale <W, c> / <c, c> = 3.1 / 10,
    /// and a smaller error than a_opt's.
    func testBTLeastSquaresScale() {
        let paper = fit(.bt)
        let f = w.withUnsafeBufferPointer { BT(scale: .leastSquares).fit($0) }
        XCTAssertEqual(f.scales["a_opt"]!, 0.31, accuracy: 1e-6)
        XCTAssertEqual(codes(f, step: 0.31), [2, -1, 0, -2, 0, 1])
        XCTAssertEqual(f.transitions, paper.transitions)
        XCTAssertEqual(f.levels, [-2, -1, 0, 1, 2].map { $0 * f.scales["a_opt"]! })
        let error = { (q: QuantFit) in self.w.withUnsafeBufferPointer { q.relativeError($0) } }
        XCTAssertLessThan(error(f), error(paper))
        // The option travels in the spec, and a spec written before it existed reads as the paper's scale.
        let old = try! JSONDecoder().decode(QuantSpec.self, from: Data(#"{"method":"bt","delta_ratio":0.66}"#.utf8))
        XCTAssertEqual(old.btScale, .paper)
        let spec = QuantSpec(method: .bt, btScale: .leastSquares)
        XCTAssertEqual(try! JSONDecoder().decode(QuantSpec.self, from: JSONEncoder().encode(spec)), spec)
    }

    /// The transitions are exactly where Q jumps, as solved in docs/methods.md: scanning a fine grid, the
    /// code changes only at the listed points, and does change at each one with a non-zero step height.
    func testTransitionsAreWhereTheCodeChanges() {
        var rng = RNG(seed: 11)
        let weights = (0..<5000).map { _ in rng.gaussian() * 0.1 }
        for m in [QuantMethod.bwn, .twn, .bt] {
            let f = weights.fitted(m)
            var jumps: [Float] = []
            let lo: Float = -0.5, stepSize: Float = 1e-5
            var prev = reference(m, f, lo)
            for i in 1...100_000 {
                let x = lo + Float(i) * stepSize
                let c = reference(m, f, x)
                if c != prev { jumps.append(x); prev = c }
            }
            XCTAssertEqual(jumps.count, f.transitions.count, "\(m): jumps at \(jumps), transitions \(f.transitions)")
            for (j, t) in zip(jumps, f.transitions) { XCTAssertEqual(j, t, accuracy: 2e-5, "\(m)") }
            // And the table's Q is the paper's formula everywhere on the grid.
            for i in stride(from: 0, through: 100_000, by: 7) {
                let x = lo + Float(i) * stepSize
                XCTAssertEqual(f.value(x), reference(m, f, x), "\(m) at \(x)")
            }
        }
    }

    /// Q as docs/methods.md writes it, computed directly from the fit's scales (not from its table).
    func reference(_ m: QuantMethod, _ f: QuantFit, _ x: Float) -> Float {
        switch m {
        case .bwn: return f.scales["a"]! * (x >= 0 ? 1 : -1)
        case .twn:
            let d = f.thresholds["delta"]!, a = f.scales["a"]!
            return x > d ? a : (x < -d ? -a : 0)
        case .bt:
            let a1 = f.scales["a1"]!, d1 = f.thresholds["d1"]!
            let w0: Float = x >= 0 ? 1 : -1
            let e = x - a1 * w0
            return f.scales["a_opt"]! * (w0 + (e > d1 ? 1 : (e < -d1 ? -1 : 0)))
        default: fatalError()
        }
    }

    /// Solving in W lists 0 among BT's transitions too, but while a1 > d1 Q does not jump there: both sides map
    /// to code 0. The table leaves it out, so the regularizer and the distances see only real jumps.
    func testBTZeroIsNoTransition() {
        let f = fit(.bt)
        XCTAssertEqual(f.value(1e-6), 0)
        XCTAssertEqual(f.value(-1e-6), 0)
        XCTAssertFalse(f.transitions.contains(0))
    }

    /// When a1 <= d1 (a residual larger than the weights) Q jumps by 2 a_opt at 0 and code 0 is never used.
    func testBTWithLargeResidualJumpsAtZero() {
        let f = [Float](repeating: 0, count: 1).fitted(.bt)  // a1 = 0 = d1
        XCTAssertEqual(f.levelCount, 4)
        let g = ([0.01, -0.01, 1, -1] as [Float]).fitted(.bt, deltaRatio: 1.9)
        XCTAssertLessThanOrEqual(g.scales["a1"]!, g.thresholds["d1"]!)
        XCTAssertTrue(g.transitions.contains(0))
        for x: Float in [0.01, -0.01, 0.3, -0.3, 1, -1, 2, -2] { XCTAssertEqual(g.value(x), reference(.bt, g, x), "\(x)") }
    }

    /// docs/methods.md: on Gaussian weights the paper's a_opt gives BT a relative error of about 0.49,
    /// TWN about 0.44, and the least-squares scale for BT's codes about 0.30.
    func testGaussianErrors() {
        var rng = RNG(seed: 3)
        let g = (0..<200_000).map { _ in rng.gaussian() }
        let bt = g.fitted(.bt)
        let twn = g.fitted(.twn)
        XCTAssertEqual(g.withUnsafeBufferPointer { bt.relativeError($0) }, 0.49, accuracy: 0.015)
        XCTAssertEqual(g.withUnsafeBufferPointer { twn.relativeError($0) }, 0.44, accuracy: 0.015)
        let c = g.map { bt.value($0) / bt.scales["a_opt"]! }
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
