import Records
import Kernels

/// TTQ, trained ternary quantization (Zhu et al. 2016), as in the reference czhu95/ternarynet: per layer
/// Δ = t * max|W|; Q = +Wp where W > Δ, -Wn where W < -Δ, 0 between; Wp and Wn are trained scalars.
/// With g = dL/dQ: the latent weight gets Wp*g above Δ, g between, Wn*g below -Δ; dL/dWp = Σ g over W > Δ and
/// dL/dWn = -Σ g over W < -Δ (Q = -Wn there; the TTQ paper's Eq. 2 prints +Σ).
///
/// Initialization: Wp = Wn = 1.0, as the reference. Batch norm after every conv makes the forward pass blind to
/// their common scale, so the question was whether 1.0 (about 30x the latent weights) or the least-squares scales
/// of the weights (about their size) train better. Fashion subset, VGG-6(16), 15 epochs, 3 seeds, λ = 0:
/// 1.0 gives 85.61 ± 0.24, least squares 83.71 ± 0.82. Adam moves Wp and Wn by about lr a step whatever their
/// size; at 0.05 that is a few percent a step, and their ratio, which batch norm does not absorb, wanders.
/// `btviz quantize` and the evaluation of a run that never trained TTQ use the least-squares scales
/// (`calibrate` to convergence): there is no training to move them, and they make Q closest to W.
public final class TTQ: LayerQuantizer {
    public let t: Float
    public let wp: Param, wn: Param
    public var method: QuantMethod { .ttq }

    public init(layer: String, t: Float = 0.05) {
        self.t = t
        wp = Param(name: "quant.ttq.\(layer).wp", shape: [1])
        wn = Param(name: "quant.ttq.\(layer).wn", shape: [1])
        wp.value[0] = 1; wn.value[0] = 1
    }

    public var parameters: [Param] { [wp, wn] }
    public var state: [NamedTensor] { [] }

    func delta(_ w: UnsafeBufferPointer<Float>) -> Float {
        var m: Float = 0
        for x in w { m = max(m, abs(x)) }
        return t * m
    }

    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let d = delta(w), p = wp.value[0], n = wn.value[0]
        return QuantFit(method: .ttq, firstScale: meanAbs(w), scales: ["wp": p, "wn": n], thresholds: ["delta": d],
                        levels: [-n, 0, p], transitions: [-d, d.nextUp], scaleFree: true)
    }

    public func backward(weights w: UnsafeBufferPointer<Float>, fit: QuantFit, grad: UnsafeMutableBufferPointer<Float>) {
        let d = fit.thresholds["delta"] ?? 0, p = wp.value[0], n = wn.value[0]
        var gp: Double = 0, gn: Double = 0
        for i in 0..<w.count {
            let g = grad[i]
            if w[i] > d { gp += Double(g); grad[i] = p * g } else if w[i] < -d { gn -= Double(g); grad[i] = n * g }
        }
        wp.grad[0] = Float(gp)
        wn.grad[0] = Float(gn)
    }

    public func update(weights w: UnsafeBufferPointer<Float>, fit: QuantFit) {}

    /// To convergence: the least-squares scales of the two regions (a region with no weights keeps its scale).
    /// Otherwise (first use in training) the reference's 1.0 stands.
    public func calibrate(weights w: UnsafeBufferPointer<Float>, toConvergence: Bool) {
        guard toConvergence else { return }
        let d = delta(w)
        var sp: Double = 0, sn: Double = 0, np = 0, nn = 0
        for x in w {
            if x > d { sp += Double(x); np += 1 } else if x < -d { sn -= Double(x); nn += 1 }
        }
        if np > 0 { wp.value[0] = Float(sp / Double(np)) }
        if nn > 0 { wn.value[0] = Float(sn / Double(nn)) }
    }
}

extension QuantOption {
    /// TTQ's threshold as a fraction of max|W| (the reference's 0.05).
    public static let ttqT = QuantOption(key: "ttq_t", help: "TTQ's threshold as a fraction of max|W|",
                                         kind: .real(default: 0.05, above: 0, below: 1))
}

extension QuantMethod { public static let ttq = QuantMethod(id: "ttq") }

extension QuantizerDefinition {
    /// λ = 0: its jumps are Wp and Wn (1.0 at the start, as the reference), not latent-weight sized, and its
    /// transitions ±0.05 max|W| sit where the weights are densest: on the Fashion subset every λ tried costs
    /// accuracy (85.61 at 0, 78.49 at 1e-5, 78.67 at 3e-5, 75.65 at 3e-4).
    public static let ttq = QuantizerDefinition(
        id: "ttq", label: "TTQ", summary: "trained ternary: levels -Wn, 0, +Wp with Wn and Wp trained",
        options: [.ttqT], defaultLambda: 0,
        make: { s, layer, _ in TTQ(layer: layer, t: s.ttqT) },
        describe: { _ in FitDescription(transitions: ["±Δ"], scales: ["wp", "wn"], scaleTitle: "Wp/Wn", threshold: "delta",
                                        levels: ["−Wn", "", "Wp"]) },
        storedScales: { _ in 2 })
}
