import BTCore
import Kernels
import Layers
import Models
import Quantizers
import XCTest

/// Finite-difference checks of a backward pass against its forward pass (a base without tests of its own).
/// The loss is L = sum(y * r) for a fixed random r, so dL/dy = r.
class GradientChecking: XCTestCase {
    struct Probe { let name: String; let value: UnsafeMutablePointer<Float>; let grad: UnsafeMutablePointer<Float>; let count: Int }

    /// Compares analytic and central-difference gradients at up to `samples` positions of each probe.
    func check(_ name: String, n: Int, inputSize: Int, outputSize: Int, params: [Param],
               checkInput: Bool = true, eps: Float = 1e-2, tolerance: Float = 2e-2, samples: Int = 40,
               forward: (UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>,
               backward: (UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float>?) {
        var rng = RNG(seed: 42)
        let x = FloatBuffer(count: n * inputSize), r = FloatBuffer(count: n * outputSize)
        rng.fillGaussian(x.buffer, std: 1)
        rng.fillGaussian(r.buffer, std: 1)
        func loss() -> Double {
            let y = forward(x.ptr)
            var s: Double = 0
            for i in 0..<n * outputSize { s += Double(y[i]) * Double(r[i]) }
            return s
        }
        _ = loss()
        let dx = backward(r.ptr)
        // Copy analytic gradients before finite differences overwrite layer state.
        var probes: [(String, UnsafeMutablePointer<Float>, [Float])] = params.map { ($0.name, $0.value.ptr, $0.grad.array) }
        if checkInput, let dx { probes.append(("input", x.ptr, Array(UnsafeBufferPointer(start: dx, count: n * inputSize)))) }
        for (pname, value, analytic) in probes {
            var numeric: [Float] = [], picked: [Float] = []
            for s in 0..<min(samples, analytic.count) {
                let i = (s * 7919) % analytic.count
                let old = value[i]
                value[i] = old + eps; let lp = loss()
                value[i] = old - eps; let lm = loss()
                value[i] = old
                numeric.append(Float((lp - lm) / Double(2 * eps)))
                picked.append(analytic[i])
            }
            XCTAssertLessThan(relativeDifference(numeric, picked), tolerance, "\(name): \(pname) gradient mismatch")
        }
    }

    /// ||a - b|| / (||a|| + ||b||): robust to single small entries, 0 when equal.
    func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
        var d: Float = 0, na: Float = 0, nb: Float = 0
        for i in 0..<a.count { d += (a[i] - b[i]) * (a[i] - b[i]); na += a[i] * a[i]; nb += b[i] * b[i] }
        return d.squareRoot() / max(na.squareRoot() + nb.squareRoot(), 1e-6)
    }

    /// A whole network's loss gradient against central differences, at `samples` entries of every parameter tensor
    /// (the backward pass must have run at the current weights: `params`' gradients are read first).
    func checkParameterGradients(_ params: [Param], samples: Int, eps: Float = 5e-4, tolerance: Float = 0.05,
                                 _ what: String, loss: () -> Double) {
        for p in params {
            let analytic = p.grad.array
            var numeric: [Float] = [], picked: [Float] = []
            for s in 0..<min(samples, p.count) {
                let i = (s * 7919) % p.count
                let old = p.value[i]
                p.value[i] = old + eps; let lp = loss()
                p.value[i] = old - eps; let lm = loss()
                p.value[i] = old
                numeric.append(Float((lp - lm) / Double(2 * eps)))
                picked.append(analytic[i])
            }
            XCTAssertLessThan(relativeDifference(numeric, picked), tolerance, "\(what) \(p.name)")
        }
    }
}
