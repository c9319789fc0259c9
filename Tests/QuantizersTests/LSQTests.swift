import Foundation
import Kernels
import Quantizers
import XCTest

/// LSQ by hand: 2 bits (Qn = 2, Qp = 1), s = 0.25, weights chosen so that w/s is exact in binary.
final class LSQTests: XCTestCase {
    //  w      v = w/s   where      round(v)  Q = code*s   dL/dQ  dL/dw  ds term          dL/dQ * term
    // -0.75    -3.0     below -Qn   (-2)     -0.5          1      0     -Qn = -2           -2
    // -0.4375  -1.75    inside      -2       -0.5          2      2     -2 + 1.75 = -0.25  -0.5
    // -0.1875  -0.75    inside      -1       -0.25        -1     -1     -1 + 0.75 = -0.25   0.25
    // -0.125   -0.5     inside      -1 (half away from 0) -0.25   0.5    0.5  -1 + 0.5 = -0.5   -0.25
    //  0.0625   0.25    inside       0        0            3      3      0 - 0.25 = -0.25   -0.75
    //  0.125    0.5     inside       1 (half away from 0)  0.25  -2     -2    1 - 0.5 = 0.5     -1
    //  0.15625  0.625   inside       1        0.25         1      1      1 - 0.625 = 0.375   0.375
    //  0.5      2.0     above Qp    (1)       0.25         4      0      Qp = 1              4
    // Σ = -2 - 0.5 + 0.25 - 0.25 - 0.75 - 1 + 0.375 + 4 = 0.125;  G = 1/sqrt(N Qp) = 1/sqrt(8);  dL/ds = 0.125/sqrt(8).
    let w: [Float] = [-0.75, -0.4375, -0.1875, -0.125, 0.0625, 0.125, 0.15625, 0.5]
    let dLdQ: [Float] = [1, 2, -1, 0.5, 3, -2, 1, 4]

    func testHandWorkedForwardAndGradients() {
        let q = LSQ(layer: "conv", bits: 2)
        XCTAssertEqual(q.s.name, "quant.lsq.conv.s")
        q.s.value[0] = 0.25
        let fit = w.withUnsafeBufferPointer { q.fit($0) }
        XCTAssertEqual(fit.levels, [-0.5, -0.25, 0, 0.25])
        XCTAssertEqual(fit.transitions.count, 3)
        XCTAssertEqual(fit.transitions[2], 0.125)
        XCTAssertEqual(fit.transitions[0], -0.375, accuracy: 1e-7)
        var out = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { fit.quantize(wb, into: $0) } }
        XCTAssertEqual(out, [-0.5, -0.5, -0.25, -0.25, 0, 0.25, 0.25, 0.25])

        var g = dLdQ
        w.withUnsafeBufferPointer { wb in g.withUnsafeMutableBufferPointer { q.backward(weights: wb, fit: fit, grad: $0) } }
        XCTAssertEqual(g, [0, 2, -1, 0.5, 3, -2, 1, 0])
        XCTAssertEqual(q.s.grad[0], Float(0.125 / 8.0.squareRoot()), accuracy: 1e-7)
        XCTAssertEqual(q.parameters.map(\.name), ["quant.lsq.conv.s"])
    }

    /// The paper's start: s = 2 mean|W| / sqrt(Qp). mean|w| = 2.34375 / 8 = 0.29296875.
    func testCalibrateAndBits() {
        let q2 = LSQ(layer: "a", bits: 2), q3 = LSQ(layer: "a", bits: 3)
        w.withUnsafeBufferPointer { q2.calibrate(weights: $0, toConvergence: false); q3.calibrate(weights: $0, toConvergence: true) }
        XCTAssertEqual(q2.s.value[0], 0.5859375)
        XCTAssertEqual(q3.s.value[0], 0.5859375 / Float(3).squareRoot(), accuracy: 1e-7)
        // 3 bits: Qn = 4, Qp = 3: eight levels -4s ... 3s and transitions at (i + 0.5) s.
        q3.s.value[0] = 1
        let f = w.withUnsafeBufferPointer { q3.fit($0) }
        XCTAssertEqual(f.levels, [-4, -3, -2, -1, 0, 1, 2, 3])
        XCTAssertEqual(f.transitions.map { ($0 * 2).rounded() / 2 }, [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
        // The spec builds it from its option; out of range is a problem named by the key.
        var spec = QuantSpec(method: .lsq)
        XCTAssertEqual(spec.options.integer("lsq_bits"), 2)
        spec.options["lsq_bits"] = .integer(5)
        XCTAssertEqual(spec.problem?.key, "lsq_bits")
        spec.options["lsq_bits"] = .integer(4)
        XCTAssertEqual((spec.make(layer: "x", shape: [4, 9]) as? LSQ)?.bits, 4)
    }

    /// Where every weight is clipped Q = -Qn s or Qp s exactly, so dL/ds is the true derivative times G:
    /// a finite difference of the smooth loss L = Σ c_i Q_i(s) agrees.
    func testStepGradientMatchesFiniteDifferencesWhereClipped() {
        let w: [Float] = [-3, -2.5, 2.2, 4], c: [Float] = [0.3, -1.2, 0.7, 2]
        let q = LSQ(layer: "x", bits: 2)
        func loss(_ s: Float) -> Double {
            q.s.value[0] = s
            let f = w.withUnsafeBufferPointer { q.fit($0) }
            var out = [Float](repeating: 0, count: w.count)
            w.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { f.quantize(wb, into: $0) } }
            return zip(out, c).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        let s: Float = 1, h: Float = 1e-2
        let numeric = (loss(s + h) - loss(s - h)) / Double(2 * h)
        q.s.value[0] = s
        let f = w.withUnsafeBufferPointer { q.fit($0) }
        var g = c
        w.withUnsafeBufferPointer { wb in g.withUnsafeMutableBufferPointer { q.backward(weights: wb, fit: f, grad: $0) } }
        XCTAssertEqual(Double(q.s.grad[0]) * (Double(w.count) * 1).squareRoot(), numeric, accuracy: 1e-4)
    }
}
