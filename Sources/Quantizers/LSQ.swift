import Records
#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// LSQ, learned step size quantization (Esser et al. 2020), for weights: one step s per layer, trained by the
/// optimizer. At b bits (signed) Qn = 2^(b-1), Qp = 2^(b-1) - 1 and
///   Q(w) = round(clip(w/s, -Qn, Qp)) * s,
/// so at 2 bits the levels are {-2s, -s, 0, s} and the transitions (i + 0.5) s: -1.5s, -0.5s, +0.5s.
/// round() takes halves away from zero (Swift's `rounded()`; PyTorch's torch.round would take them to even):
/// the table puts a positive transition at (i + 0.5) s and a negative one a float step above -(i + 0.5) s, so
/// the ">= goes up" rule sends w/s = 0.5 to 1 and w/s = -0.5 to -1.
///
/// Gradients (the paper's Eq. 3 and 5), with v = w/s and g = dL/dQ:
///   dL/dw = g where -Qn < v < Qp, else 0 (the straight-through estimator inside the clip);
///   dL/ds = G * Σ g_i * (round(v_i) - v_i inside, -Qn below, Qp above),  G = 1 / sqrt(N Qp), N the layer's weights.
/// (G only matters to SGD; Adam divides it out, bar its epsilon.)
/// Start (`calibrate`, the paper's): s = 2 mean|W| / sqrt(Qp), on first use in training and in `btviz quantize`.
///
/// Default λ = 0, as TTQ: s is trained against the task loss, so the transitions move with it, and no λ study
/// has been run for LSQ.
public final class LSQ: LayerQuantizer {
    public let bits: Int
    public let s: Param
    public var method: QuantMethod { .lsq }

    /// --lsq-bits: bits per weight (signed levels -2^(b-1) ... 2^(b-1) - 1).
    public static let bitsOption = QuantOption(key: "lsq_bits", help: "LSQ's bits per weight", kind: .integer(default: 2, range: 2...4))

    public var qn: Int { 1 << (bits - 1) }
    public var qp: Int { (1 << (bits - 1)) - 1 }

    public init(layer: String, bits: Int = 2) {
        precondition((2...4).contains(bits))
        self.bits = bits
        s = Param(name: "quant.lsq.\(layer).s", shape: [1])
        s.value[0] = 1
    }

    public var parameters: [Param] { [s] }
    public var state: [NamedTensor] { [] }

    /// The step in use: s, kept positive so the table stays sorted.
    var step: Float { max(s.value[0], Float.leastNormalMagnitude) }

    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let st = step
        let levels = (-qn...qp).map { Float($0) * st }
        let transitions = (-qn..<qp).map { k -> Float in
            let t = (Float(k) + 0.5) * st
            return t < 0 ? t.nextUp : t
        }
        return QuantFit(method: .lsq, firstScale: st, scales: ["s": st], levels: levels, transitions: transitions)
    }

    public func backward(weights w: UnsafeBufferPointer<Float>, fit: QuantFit, grad: UnsafeMutableBufferPointer<Float>) {
        let st = step, lo = Float(-qn), hi = Float(qp)
        var gs: Double = 0
        for i in 0..<w.count {
            let v = w[i] / st, g = grad[i]
            if v <= lo {
                gs += Double(g) * Double(lo); grad[i] = 0
            } else if v >= hi {
                gs += Double(g) * Double(hi); grad[i] = 0
            } else {
                let code = Float(fit.levelIndex(w[i], channel: 0) - qn)
                gs += Double(g) * Double(code - v)
            }
        }
        s.grad[0] = Float(gs / (Double(w.count) * Double(qp)).squareRoot())
    }

    public func update(weights w: UnsafeBufferPointer<Float>, fit: QuantFit) {}

    /// The paper's start, s = 2 mean|W| / sqrt(Qp), whether or not training follows (all-zero weights keep s).
    public func calibrate(weights w: UnsafeBufferPointer<Float>, toConvergence: Bool) {
        let m = meanAbs(w)
        if m > 0 { s.value[0] = 2 * m / Float(qp).squareRoot() }
    }
}

extension QuantizerDefinition {
    public static let lsq = QuantizerDefinition(
        id: "lsq", label: "LSQ", summary: "learned step size: levels -2^(b-1) s ... (2^(b-1) - 1) s, the step s trained",
        options: [LSQ.bitsOption], defaultLambda: 0,
        make: { spec, layer, _ in LSQ(layer: layer, bits: spec.options.integer(LSQ.bitsOption.key)) },
        // Transitions at ±(i + 0.5) s, by magnitude; the one scale is the step.
        describe: { _ in FitDescription(transitions: (0..<8).map { "±\($0).5s" }, scales: ["s"], scaleTitle: "s") })
}

extension QuantMethod { public static let lsq = QuantMethod(id: "lsq") }
