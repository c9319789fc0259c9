import BTCore
import Kernels
import Quantizers
import XCTest

/// TTQ and LQ-Nets against hand-worked cases, finite differences and a direct least-squares solve.
final class TrainedQuantizerTests: XCTestCase {
    let w: [Float] = [0.5, -0.2, 0.1, -0.8, 0.0, 0.3]

    func pointer<T>(_ a: [Float], _ body: (UnsafeBufferPointer<Float>) -> T) -> T { a.withUnsafeBufferPointer(body) }

    // MARK: TTQ

    /// Δ = 0.05 * 0.8 = 0.04. Least squares: Wp = mean(0.5, 0.1, 0.3) = 0.3, Wn = mean(0.2, 0.8) = 0.5.
    func testTTQHandWorked() {
        let q = TTQ(layer: "c", t: 0.05)
        pointer(w) { q.calibrate(weights: $0, toConvergence: true) }
        XCTAssertEqual(q.wp.value[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(q.wn.value[0], 0.5, accuracy: 1e-6)
        let f = pointer(w) { q.fit($0) }
        XCTAssertEqual(f.thresholds["delta"]!, 0.04, accuracy: 1e-7)
        XCTAssertEqual(w.map { f.value($0) }, [0.3, -0.5, 0.3, -0.5, 0, 0.3])
        // Asymmetric transitions: ±Δ with jumps Wn below and Wp above.
        XCTAssertEqual(f.transitions(channel: 0).map(\.height), [0.5, 0.3])
        XCTAssertEqual(f.value(0.04), 0)   // W > Δ is strict
        XCTAssertEqual(f.value(-0.04), 0)  // and so is W < -Δ
        // g = dL/dQ = 1...6: the latent weight gets Wp*g, g, Wn*g; dWp = 1 + 3 + 6, dWn = -(2 + 4).
        var g: [Float] = [1, 2, 3, 4, 5, 6]
        pointer(w) { wp in g.withUnsafeMutableBufferPointer { q.backward(weights: wp, fit: f, grad: $0) } }
        for (a, e) in zip(g, [0.3, 1.0, 0.9, 2.0, 5, 1.8] as [Float]) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        XCTAssertEqual(q.wp.grad[0], 10)
        XCTAssertEqual(q.wn.grad[0], -6)
        XCTAssertEqual(q.parameters.map(\.name), ["quant.ttq.c.wp", "quant.ttq.c.wn"])
        // The error ignores Q's own scale: Wp, Wn of 10x the weights give the same as the least-squares ones.
        let err = pointer(w) { f.relativeError($0) }
        q.wp.value[0] = 3; q.wn.value[0] = 5
        XCTAssertEqual(pointer(w) { w in q.fit(w).relativeError(w) }, err, accuracy: 1e-6)
        // By hand: residuals after Q = [0.3, -0.5, 0.3, -0.5, 0, 0.3] (least squares already) are
        // [0.2, 0.3, -0.2, -0.3, 0, 0]; ||r||^2 = 0.26, ||W||^2 = 1.03.
        XCTAssertEqual(err, (0.26 / 1.03).squareRoot(), accuracy: 1e-5)
    }

    /// Training starts from the reference's Wp = Wn = 1.0 (first use does not calibrate); `quantize` and the
    /// evaluation of an untrained method calibrate to the least-squares scales.
    func testTTQStartsAtTheReferenceValues() {
        let q = TTQ(layer: "c")
        XCTAssertEqual([q.wp.value[0], q.wn.value[0]], [1, 1])
        pointer(w) { q.calibrate(weights: $0, toConvergence: false) }
        XCTAssertEqual([q.wp.value[0], q.wn.value[0]], [1, 1])
    }

    /// Central differences of L(Q) for L = Σ c·Q + ½ Σ Q², against TTQ's backward. For Wp and Wn Q is smooth.
    /// For W, Q is a step function, so the check is against the function whose derivative the estimator
    /// defines: Wp·W above Δ, W between, Wn·W below (away from the thresholds, where that is smooth too).
    func testTTQGradientsMatchFiniteDifferences() {
        var rng = RNG(seed: 21)
        let n = 300
        let weights = (0..<n).map { _ in rng.gaussian() * 0.05 }
        let c = (0..<n).map { _ in rng.gaussian() }
        let q = TTQ(layer: "c", t: 0.2)
        q.wp.value[0] = 0.07; q.wn.value[0] = 0.04
        func loss(_ qv: [Double]) -> Double { zip(qv, c).reduce(0) { $0 + Double($1.1) * $1.0 + 0.5 * $1.0 * $1.0 } }
        func quantized(_ ws: [Float], wp: Double, wn: Double, surrogate: Bool) -> [Double] {
            let d = Double(pointer(ws) { q.fit($0) }.thresholds["delta"]!)
            return ws.map { x in
                let x = Double(x)
                if x > d { return surrogate ? wp * x : wp }
                if x < -d { return surrogate ? wn * x : -wn }
                return surrogate ? x : 0
            }
        }
        let f = pointer(weights) { q.fit($0) }
        let qv = weights.map { Double(f.value($0)) }
        var g = zip(qv, c).map { Float($0 + Double($1)) }  // dL/dQ
        pointer(weights) { wp in g.withUnsafeMutableBufferPointer { q.backward(weights: wp, fit: f, grad: $0) } }
        let (wp, wn) = (Double(q.wp.value[0]), Double(q.wn.value[0])), h = 1e-6
        let dwp = (loss(quantized(weights, wp: wp + h, wn: wn, surrogate: false))
                   - loss(quantized(weights, wp: wp - h, wn: wn, surrogate: false))) / (2 * h)
        let dwn = (loss(quantized(weights, wp: wp, wn: wn + h, surrogate: false))
                   - loss(quantized(weights, wp: wp, wn: wn - h, surrogate: false))) / (2 * h)
        XCTAssertEqual(Double(q.wp.grad[0]), dwp, accuracy: 1e-4 * max(1, abs(dwp)))
        XCTAssertEqual(Double(q.wn.grad[0]), dwn, accuracy: 1e-4 * max(1, abs(dwn)))
        // The latent weights: the surrogate's derivative at the point, with dL/dQ taken at Q (not the surrogate).
        let d = f.thresholds["delta"]!
        var checked = 0
        for i in 0..<n where abs(abs(weights[i]) - d) > 1e-3 {
            let scale: Double = weights[i] > d ? wp : (weights[i] < -d ? wn : 1)
            var plus = weights, minus = weights
            plus[i] += 1e-3; minus[i] -= 1e-3
            let sp = quantized(plus, wp: wp, wn: wn, surrogate: true)[i], sm = quantized(minus, wp: wp, wn: wn, surrogate: true)[i]
            let numeric = (qv[i] + Double(c[i])) * (sp - sm) / 2e-3
            XCTAssertEqual(Double(g[i]), numeric, accuracy: 1e-4 * max(1, abs(numeric)), "weight \(i)")
            XCTAssertEqual(Double(g[i]), (qv[i] + Double(c[i])) * scale, accuracy: 1e-5)
            checked += 1
        }
        XCTAssertGreaterThan(checked, n / 2)
    }

    // MARK: LQ-Nets

    /// The reference's start for one channel of a 3x3 conv with one output: n = 9, v = [b, 2b] with
    /// b = 0.6745 * sqrt(2/9) / 2 = 0.158988; levels ±b, ±3b; transitions at the midpoints -2b, 0, 2b.
    func testLQReferenceInitializationAndLevels() {
        let q = LQNets(layer: "c", outputChannels: 1, fanIn: 9, bits: 2)
        let b: Float = 0.6745 * (2.0 / 9).squareRoot() / 2
        XCTAssertEqual(q.basis[0], b, accuracy: 1e-6)
        XCTAssertEqual(q.basis[1], 2 * b, accuracy: 1e-6)
        let f = pointer(w) { q.fit($0) }
        for (l, e) in zip(f.levels, [-3 * b, -b, b, 3 * b]) { XCTAssertEqual(l, e, accuracy: 1e-6) }
        for (t, e) in zip(f.transitions, [-2 * b, 0, 2 * b]) { XCTAssertEqual(t, e, accuracy: 1e-6) }
        // Nearest level: 0.5 -> 3b (0.477), -0.2 -> -b, 0.1 -> b, -0.8 -> -3b, 0 -> b (ties go up), 0.3 -> b (below 2b = 0.318).
        XCTAssertEqual(w.map { f.value($0) }, [3 * b, -b, b, -3 * b, b, b].map { Float($0) })
    }

    /// The least-squares step against a direct solve written out here: B built weight by weight from the
    /// brute-force nearest level, then (B^T B + δI)^-1 (B^T w + δ v) by the 2x2 inverse, per channel.
    func testLQLeastSquaresStepMatchesDirectSolve() {
        var rng = RNG(seed: 5)
        let channels = 3, per = 144
        let weights = (0..<channels * per).map { _ in rng.gaussian() * 0.05 }
        let q = LQNets(layer: "c", outputChannels: channels, fanIn: per, bits: 2)
        let f = pointer(weights) { q.fit($0) }
        let solved = pointer(weights) { q.solve(weights: $0, fit: f) }
        for c in 0..<channels {
            let v = [Double(q.basis[2 * c]), Double(q.basis[2 * c + 1])]
            var a = [0.0, 0, 0, 0], rhs = [0.0, 0]
            for i in c * per..<(c + 1) * per {
                // Codes b in {-1, +1}^2, nearest b^T v.
                var best = (Double.infinity, [0.0, 0])
                for b0 in [-1.0, 1] { for b1 in [-1.0, 1] {
                    let e = abs(Double(weights[i]) - (b0 * v[0] + b1 * v[1]))
                    if e < best.0 { best = (e, [b0, b1]) }
                } }
                let b = best.1
                a[0] += b[0] * b[0]; a[1] += b[0] * b[1]; a[2] += b[1] * b[0]; a[3] += b[1] * b[1]
                rhs[0] += b[0] * Double(weights[i]); rhs[1] += b[1] * Double(weights[i])
            }
            a[0] += 1e-4; a[3] += 1e-4
            rhs[0] += 1e-4 * v[0]; rhs[1] += 1e-4 * v[1]
            let det = a[0] * a[3] - a[1] * a[2]
            let x0 = (a[3] * rhs[0] - a[1] * rhs[1]) / det, x1 = (a[0] * rhs[1] - a[2] * rhs[0]) / det
            XCTAssertEqual(Double(solved[2 * c]), x0, accuracy: 1e-6)
            XCTAssertEqual(Double(solved[2 * c + 1]), x1, accuracy: 1e-6)
        }
    }

    /// The basis follows a zero-debiased moving average (decay 0.9): after one update it is v1* itself, after
    /// two (0.09 v1* + 0.1 v2*) / 0.19.
    func testLQMovingAverageIsZeroDebiased() {
        var rng = RNG(seed: 6)
        var weights = (0..<288).map { _ in rng.gaussian() * 0.05 }
        let q = LQNets(layer: "c", outputChannels: 2, fanIn: 144, bits: 2)
        let f1 = pointer(weights) { q.fit($0) }
        let v1 = pointer(weights) { q.solve(weights: $0, fit: f1) }
        pointer(weights) { q.update(weights: $0, fit: f1) }
        for i in 0..<4 { XCTAssertEqual(q.basis[i], v1[i], accuracy: 1e-6) }
        weights = weights.map { $0 * 1.5 }
        let f2 = pointer(weights) { q.fit($0) }
        let v2 = pointer(weights) { q.solve(weights: $0, fit: f2) }
        pointer(weights) { q.update(weights: $0, fit: f2) }
        for i in 0..<4 { XCTAssertEqual(q.basis[i], (0.09 * v1[i] + 0.1 * v2[i]) / 0.19, accuracy: 1e-6) }
        XCTAssertEqual(q.state.map(\.name), ["quant.lq.c.basis", "quant.lq.c.basis_ema", "quant.lq.c.basis_steps"])
    }

    /// `quantize`'s alternating least squares ends at a fixed point: each channel's basis is the least-squares
    /// fit of its weights for the codes it gives, and it beats the reference start on error.
    func testLQAlternatingLeastSquaresConverges() {
        var rng = RNG(seed: 8)
        let channels = 4, per = 200
        let weights = (0..<channels * per).map { c in rng.gaussian() * 0.02 * Float(1 + c / per) }
        let start = LQNets(layer: "c", outputChannels: channels, fanIn: per, bits: 2)
        let before = pointer(weights) { w in start.fit(w).relativeError(w) }
        let f = weights.fitted(.lq, channels: channels)
        XCTAssertEqual(f.channels, channels)
        XCTAssertLessThan(pointer(weights) { f.relativeError($0) }, before)
        // Per channel the levels spread with the weights (channel 3 is 4x channel 0).
        XCTAssertGreaterThan(f.level(3, channel: 3), 3 * f.level(3, channel: 0),
                             "\((0..<channels).map { c in (0..<4).map { f.level($0, channel: c) } })")
        // Fixed point: re-solving on the converged codes changes nothing (δ's pull vanishes there).
        let q = LQNets(layer: "c", outputChannels: channels, fanIn: per, bits: 2)
        pointer(weights) { q.calibrate(weights: $0, toConvergence: true) }
        let g = pointer(weights) { q.fit($0) }
        let again = pointer(weights) { q.solve(weights: $0, fit: g) }
        for i in 0..<q.basis.count { XCTAssertEqual(again[i], q.basis[i], accuracy: 1e-5 * abs(q.basis[i]) + 1e-8) }
    }

    /// 1 to 4 bits: 2^K levels per channel, sorted, the transitions between them.
    func testLQBitWidths() {
        var rng = RNG(seed: 9)
        let weights = (0..<400).map { _ in rng.gaussian() * 0.05 }
        for bits in 1...4 {
            let f = weights.fitted(.lq, channels: 2, bits: bits)
            XCTAssertEqual(f.levelCount, 1 << bits)
            for c in 0..<2 {
                let t = f.transitions(channel: c).map(\.point)
                XCTAssertEqual(t, t.sorted(), "\(bits) bits")
                for j in 0..<f.levelCount - 1 { XCTAssertLessThanOrEqual(f.level(j, channel: c), f.level(j + 1, channel: c)) }
            }
        }
    }
}
