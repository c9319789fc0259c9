import BTCore
import Quantizers
import XCTest

final class RegularizerTests: XCTestCase {
    let reg = TransitionRegularizer()

    func gaussianWeights(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<n).map { _ in rng.gaussian() * 0.05 }
    }

    /// E[R] under the noise, written out independently of the gradient code: sum over transitions of
    /// h * Phi(-|w - t| / s') per weight, summed over the weights (the paper's L1 norm) or averaged.
    func expectedR(_ f: QuantFit, _ w: [Float], _ reduction: RegReduction = .sum) -> Double {
        expectedR(f, w.map(Double.init), reduction)
    }

    func expectedR(_ f: QuantFit, _ w: [Double], _ reduction: RegReduction = .sum) -> Double {
        let sp = Double(0.1 * f.firstScale)
        var total = 0.0
        for x in w {
            for (t, h) in f.transitions(channel: 0) {
                total += Double(h) * 0.5 * erfc(abs(x - Double(t)) / sp / 2.0.squareRoot())
            }
        }
        return reduction == .sum ? total : total / Double(w.count)
    }

    /// The analytic gradient is -lambda * dE[R]/dW, checked by central differences of E[R].
    func testGradientMatchesExpectedR() {
        for m in [QuantMethod.bwn, .twn, .ttq, .lq, .bt] {
          for reduction in RegReduction.allCases {
            let reg = TransitionRegularizer(reduction: reduction)
            let w = gaussianWeights(400, seed: 1)
            let f = w.fitted(m)
            var g = [Float](repeating: 0, count: w.count)
            w.withUnsafeBufferPointer { wp in g.withUnsafeMutableBufferPointer { reg.addGradient(fit: f, weights: wp, lambda: 1, into: $0) } }
            var checked = 0
            let eps = 1e-5, wd = w.map(Double.init)
            // E[R] has a cusp at each transition (|w - t|); central differences straddling it are meaningless.
            for i in 0..<w.count where !f.transitions.contains(where: { abs(w[i] - $0) < 2 * Float(eps) }) {
                var wp = wd, wm = wd
                wp[i] += eps; wm[i] -= eps
                let numeric = -(expectedR(f, wp, reduction) - expectedR(f, wm, reduction)) / (2 * eps)
                XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 * abs(numeric) + 1e-6, "\(m) \(reduction) weight \(i)")
                if abs(numeric) > 1e-4 { checked += 1 }
            }
            XCTAssertGreaterThan(checked, 5, "\(m) \(reduction): some weights must be near a transition")
          }
        }
    }

    /// A gradient-descent step on -lambda*R moves weights toward their nearest transition.
    func testDescentPullsTowardTransitions() {
        let w = gaussianWeights(2000, seed: 2)
        let f = w.fitted(.twn)
        var g = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wp in g.withUnsafeMutableBufferPointer { reg.addGradient(fit: f, weights: wp, lambda: 0.1, into: $0) } }
        let moved = zip(w, g).map { $0 - 1e-2 * $1 }
        let before = w.map { f.transitionDistance($0, channel: 0) }.reduce(0, +)
        let after = moved.map { f.transitionDistance($0, channel: 0) }.reduce(0, +)
        XCTAssertLessThan(after, before)
        XCTAssertTrue(g.contains { $0 != 0 })
    }

    /// The sampled R agrees with its expectation, and flips happen only near transitions.
    func testMeasureAgreesWithExpectation() {
        let w = gaussianWeights(20_000, seed: 3)
        for m in [QuantMethod.bwn, .twn, .ttq, .lq, .bt] {
            let f = w.fitted(m)
            var noise = [Float](repeating: 0, count: w.count)
            var rng = RNG(seed: 4)
            var mean = 0.0
            for i in 0..<20 {
                let r = w.withUnsafeBufferPointer { wp in noise.withUnsafeMutableBufferPointer { reg.measure(fit: f, weights: wp, noise: $0, rng: &rng) } }
                mean += Double(r.reg) / 20
                // The same draw, averaged instead of summed, is the sum over the weight count.
                var again = RNG(seed: 40 + UInt64(i)), twin = RNG(seed: 40 + UInt64(i))
                let s = w.withUnsafeBufferPointer { wp in noise.withUnsafeMutableBufferPointer { reg.measure(fit: f, weights: wp, noise: $0, rng: &again) } }
                let a = w.withUnsafeBufferPointer { wp in noise.withUnsafeMutableBufferPointer {
                    TransitionRegularizer(reduction: .mean).measure(fit: f, weights: wp, noise: $0, rng: &twin) } }
                XCTAssertEqual(a.reg * Float(w.count), s.reg, accuracy: 1e-4 * s.reg)
                XCTAssertEqual(a.flipFraction, s.flipFraction)
                XCTAssertGreaterThan(r.flipFraction, 0)
                XCTAssertLessThan(r.flipFraction, 0.2)
            }
            XCTAssertEqual(mean, expectedR(f, w), accuracy: 0.05 * expectedR(f, w), "\(m)")
        }
    }

    func testFarFromTransitionsNothingFlips() {
        let w: [Float] = Array(repeating: 1, count: 50) + Array(repeating: -1, count: 50)
        let f = w.fitted(.bwn)
        var noise = [Float](repeating: 0, count: w.count)
        var rng = RNG(seed: 5)
        let r = w.withUnsafeBufferPointer { wp in noise.withUnsafeMutableBufferPointer { reg.measure(fit: f, weights: wp, noise: $0, rng: &rng) } }
        XCTAssertEqual(r.flipFraction, 0)
        XCTAssertEqual(r.reg, 0)
        var g = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wp in g.withUnsafeMutableBufferPointer { reg.addGradient(fit: f, weights: wp, lambda: 1, into: $0) } }
        XCTAssertEqual(g.reduce(0) { $0 + abs($1) }, 0)
    }

    func testLambdaZeroAddsNothing() {
        let w = gaussianWeights(100, seed: 6)
        let f = w.fitted(.bt)
        var g = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wp in g.withUnsafeMutableBufferPointer { reg.addGradient(fit: f, weights: wp, lambda: 0, into: $0) } }
        XCTAssertEqual(g, [Float](repeating: 0, count: w.count))
    }
}
