/// The one interface every weight quantizer stands behind: fit it to a layer's latent weights.
public protocol WeightQuantizer: Sendable {
    var method: QuantMethod { get }
    func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit
}

extension QuantMethod {
    /// The quantizer for this method. `deltaRatio` is the paper's 0.66 (TWN's and BT's threshold ratio).
    public func quantizer(deltaRatio: Float = 0.66) -> any WeightQuantizer {
        switch self {
        case .full: FullPrecision()
        case .bwn: BWN()
        case .twn: TWN(deltaRatio: deltaRatio)
        case .bt: BT(deltaRatio: deltaRatio)
        }
    }
}

/// mean |w| in double precision (layers have up to millions of weights).
@inline(__always)
func meanAbs(_ w: UnsafeBufferPointer<Float>) -> Float {
    guard !w.isEmpty else { return 0 }
    var s: Double = 0
    for x in w { s += Double(abs(x)) }
    return Float(s / Double(w.count))
}

/// Identity: weights stay full precision.
public struct FullPrecision: WeightQuantizer {
    public init() {}
    public var method: QuantMethod { .full }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        QuantFit(method: .full, step: 1, firstScale: meanAbs(w), scales: [:], thresholds: [:],
                 transitions: [], codes: [])
    }
}

/// BWN: Q = a * sign(W), sign(0) = +1, a = mean|W|. Transition: 0.
public struct BWN: WeightQuantizer {
    public init() {}
    public var method: QuantMethod { .bwn }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let a = meanAbs(w)
        return QuantFit(method: .bwn, step: a, firstScale: a, scales: ["a": a], thresholds: [:],
                        transitions: [0], codes: [-1, 1])
    }
}

/// TWN: d = ratio * mean|W|; codes +1 above d, -1 below -d, else 0; a = mean |W| over |W| > d.
public struct TWN: WeightQuantizer {
    public let deltaRatio: Float
    public init(deltaRatio: Float = 0.66) { self.deltaRatio = deltaRatio }
    public var method: QuantMethod { .twn }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let d = deltaRatio * meanAbs(w)
        var s: Double = 0
        var n = 0
        for x in w where abs(x) > d { s += Double(abs(x)); n += 1 }
        let a = n > 0 ? Float(s / Double(n)) : 0
        return QuantFit(method: .twn, step: a, firstScale: a, scales: ["a": a], thresholds: ["delta": d],
                        transitions: [-d, d], codes: [-1, 0, 1], delta: d)
    }
}

/// BT: binarize, then ternarize the residual. W0 = sign(W), a1 = mean|W|, E1 = W - a1*W0,
/// a2 = mean|E1|, d1 = ratio*a2, W1 = ternary(E1; d1), Q = a_opt*(W0 + W1), a_opt = 0.75*a1 - 0.25*a2.
/// Transitions solved in W: 0, ±(a1 - d1), ±(a1 + d1).
public struct BT: WeightQuantizer {
    public let deltaRatio: Float
    public init(deltaRatio: Float = 0.66) { self.deltaRatio = deltaRatio }
    public var method: QuantMethod { .bt }
    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        let a1 = meanAbs(w)
        var s: Double = 0
        for x in w { s += Double(abs(x - a1 * (x >= 0 ? 1 : -1))) }
        let a2 = w.isEmpty ? 0 : Float(s / Double(w.count))
        let d1 = deltaRatio * a2
        let aOpt = 0.75 * a1 - 0.25 * a2
        return QuantFit(method: .bt, step: aOpt, firstScale: a1,
                        scales: ["a1": a1, "a2": a2, "a_opt": aOpt], thresholds: ["d1": d1],
                        transitions: [-(a1 + d1), -(a1 - d1), 0, a1 - d1, a1 + d1],
                        codes: [-2, -1, 0, 1, 2], a1: a1, d1: d1)
    }
}
