import Records
/// The four methods whose fit is a function of the weights alone (docs/methods.md).
/// Per layer, means over the whole tensor. A weight exactly at a threshold follows the paper's rule; the
/// table's ">= goes up" rule gets it by placing TWN's upper transition one float step above d.

/// Identity: weights stay full precision.
public final class FullPrecision: StatelessQuantizer {
    public init() {}
    public var method: QuantMethod { .full }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit { .identity(w) }
}

/// BWN: Q = a * sign(W), sign(0) = +1, a = mean|W|. Transition: 0.
public final class BWN: StatelessQuantizer {
    public init() {}
    public var method: QuantMethod { .bwn }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let a = meanAbs(w)
        return QuantFit(method: .bwn, firstScale: a, scales: ["a": a], levels: [-a, a], transitions: [0])
    }
}

/// TWN: d = ratio * mean|W|; +a above d, -a below -d, else 0; a = mean |W| over |W| > d.
public final class TWN: StatelessQuantizer {
    public let deltaRatio: Float
    public init(deltaRatio: Float = 0.66) { self.deltaRatio = deltaRatio }
    public var method: QuantMethod { .twn }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let d = deltaRatio * meanAbs(w)
        var s: Double = 0
        var n = 0
        for x in w where abs(x) > d { s += Double(abs(x)); n += 1 }
        let a = n > 0 ? Float(s / Double(n)) : 0
        return QuantFit(method: .twn, firstScale: a, scales: ["a": a], thresholds: ["delta": d],
                        levels: [-a, 0, a], transitions: [-d, d.nextUp])
    }
}

/// BT: binarize, then ternarize the residual. W0 = sign(W), a1 = mean|W|, E1 = W - a1*W0,
/// a2 = mean|E1|, d1 = ratio*a2, W1 = ternary(E1; d1), Q = a_opt*(W0 + W1), a_opt = 0.75*a1 - 0.25*a2.
/// Solved in W, Q steps at ±(a1 - d1) and ±(a1 + d1). Solving in W also gives 0, but while a1 > d1 both sides
/// of 0 map to code 0 (W0 = +1 and W1 = -1, or -1 and +1), so it is no transition: nothing flips there.
/// When a1 <= d1 (never seen on real layers) Q jumps by 2 a_opt at 0 and skips code 0.
/// With `scale: .leastSquares` the same codes c take the scale <W, c> / <c, c> instead of a_opt (not the paper's
/// BT: a diagnostic, since a_opt leaves a larger error than TWN's, which no batch norm absorbs in the SR net).
public final class BT: StatelessQuantizer {
    public let deltaRatio: Float, scale: BTScale
    public init(deltaRatio: Float = 0.66, scale: BTScale = .paper) { self.deltaRatio = deltaRatio; self.scale = scale }
    public var method: QuantMethod { .bt }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let a1 = meanAbs(w)
        var s: Double = 0
        for x in w { s += Double(abs(x - a1 * (x >= 0 ? 1 : -1))) }
        let a2 = w.isEmpty ? 0 : Float(s / Double(w.count))
        let d1 = deltaRatio * a2
        let aOpt = scale == .paper ? 0.75 * a1 - 0.25 * a2 : leastSquaresScale(w, a1: a1, d1: d1)
        let scales = ["a1": a1, "a2": a2, "a_opt": aOpt], thresholds = ["d1": d1]
        // e > d1 and e < -d1 are strict: the upper transition of each pair sits one float step up.
        if a1 > d1 {
            return QuantFit(method: .bt, firstScale: a1, scales: scales, thresholds: thresholds,
                            levels: [-2, -1, 0, 1, 2].map { $0 * aOpt },
                            transitions: [-(a1 + d1), (-(a1 - d1)).nextUp, a1 - d1, (a1 + d1).nextUp])
        }
        return QuantFit(method: .bt, firstScale: a1, scales: scales, thresholds: thresholds,
                        levels: [-2, -1, 1, 2].map { $0 * aOpt },
                        transitions: [-(a1 + d1), 0, (a1 + d1).nextUp])
    }
}

/// BT's scale: the paper's a_opt = 0.75 a1 - 0.25 a2, or the least-squares one for the same codes.
public enum BTScale: String, Codable, Sendable, CaseIterable {
    case paper, leastSquares = "lsq"
}

extension BT {
    /// <W, c> / <c, c> for BT's codes c = W0 + W1 (W0 = sign(W), W1 = ternary(W - a1 W0; d1)).
    func leastSquaresScale(_ w: UnsafeBufferPointer<Float>, a1: Float, d1: Float) -> Float {
        var wc: Double = 0, cc: Double = 0
        for x in w {
            let b: Float = x >= 0 ? 1 : -1, e = x - a1 * b
            let c = b + (e > d1 ? 1 : e < -d1 ? -1 : 0)
            wc += Double(x * c); cc += Double(c * c)
        }
        return cc > 0 ? Float(wc / cc) : 0
    }
}

// MARK: - The definitions

extension QuantOption {
    /// TWN's and BT's threshold ratio (the paper's 0.66).
    public static let deltaRatio = QuantOption(key: "delta_ratio", help: "TWN/BT threshold ratio",
                                               kind: .real(default: 0.66, above: 0, below: 2))
    /// BT's one scale: the paper's a_opt, or the least-squares scale of the same codes.
    public static let btScale = QuantOption(
        key: "bt_scale", help: "BT's scale: paper (a_opt = 0.75 a1 - 0.25 a2) or lsq (least squares for the same codes; not the paper's method)",
        kind: .choice(default: BTScale.paper.rawValue, values: BTScale.allCases.map(\.rawValue)))
}

extension QuantMethod {
    public static let full = QuantMethod(id: "full"), bwn = QuantMethod(id: "bwn"), twn = QuantMethod(id: "twn"),
                      bt = QuantMethod(id: "bt")
}

/// The default λs (README, "The λ study"). R is summed over each layer's weights (the paper's Eq. 7), so at the
/// paper's 0.1 the pull takes over training (Fashion subset, BT: 71% against 86% at 0). Each weight's pull is
/// λ·h/s' at its peak, h the jump and s' = 0.1 x the first scale: 20λ for BWN (h = 2a), 10λ for TWN, about 6λ
/// for BT. So BWN gets a third of the others' λ: 1e-4 against 3e-4, where the flip fraction and the
/// near-transition share rise clearly within 2 epochs and accuracy does not fall below the PyTorch reference.
extension QuantizerDefinition {
    public static let full = QuantizerDefinition(
        id: "full", label: "full", summary: "full precision: weights used as they are", defaultLambda: 3e-4,
        hasTransitions: false, make: { _, _, _ in FullPrecision() }, describe: { _ in FitDescription() },
        storedScales: { _ in 0 })

    public static let bwn = QuantizerDefinition(
        id: "bwn", label: "BWN", summary: "binary weights ±a, a = mean|W|", defaultLambda: 1e-4,
        make: { _, _, _ in BWN() }, describe: { _ in FitDescription(scales: ["a"], scaleTitle: "a") })

    public static let twn = QuantizerDefinition(
        id: "twn", label: "TWN", summary: "ternary weights {-a, 0, a}, threshold delta-ratio x mean|W|",
        options: [.deltaRatio], defaultLambda: 3e-4,
        make: { s, _, _ in TWN(deltaRatio: s.deltaRatio) },
        describe: { _ in FitDescription(transitions: ["±Δ"], scales: ["a"], scaleTitle: "a", threshold: "delta") })

    public static let bt = QuantizerDefinition(
        id: "bt", label: "BT", summary: "binarized ternary: sign, then the ternarized residual, one scale a_opt",
        options: [.deltaRatio, .btScale], defaultLambda: 3e-4,
        make: { s, _, _ in BT(deltaRatio: s.deltaRatio, scale: s.btScale) },
        describe: { _ in FitDescription(transitions: ["±(a1−d1)", "±(a1+d1)"], scales: ["a1", "a2", "a_opt"],
                                        scaleTitle: "a1/a2/ao", threshold: "d1") })
}
