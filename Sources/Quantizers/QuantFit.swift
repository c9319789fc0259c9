/// A quantizer fitted to one layer's latent weights: its scales and thresholds are fixed here,
/// so the same fit can quantize the clean weights and their noisy copies (the regularizer
/// holds thresholds from the clean weights).
///
/// Every quantizer in btviz maps a weight to an integer code and the code to `code * step`.
public struct QuantFit: Sendable {
    public let method: QuantMethod
    /// Value of one code step: a (BWN, TWN) or a_opt (BT). 1 for full precision.
    public let step: Float
    /// The quantizer's first scale (a or a1): the noise and distance unit of the regularizer.
    public let firstScale: Float
    /// Named scales and thresholds, for reports.
    public let scales: [String: Float]
    public let thresholds: [String: Float]
    /// Transition points in latent-weight units, sorted.
    public let transitions: [Float]
    /// The codes this quantizer can emit, ascending.
    public let codes: [Int]
    // Parameters of `code(_:)`.
    let delta: Float   // TWN threshold
    let a1: Float      // BT binary scale
    let d1: Float      // BT residual threshold

    public init(method: QuantMethod, step: Float, firstScale: Float, scales: [String: Float],
                thresholds: [String: Float], transitions: [Float], codes: [Int],
                delta: Float = 0, a1: Float = 0, d1: Float = 0) {
        self.method = method; self.step = step; self.firstScale = firstScale; self.scales = scales
        self.thresholds = thresholds; self.transitions = transitions.sorted(); self.codes = codes
        self.delta = delta; self.a1 = a1; self.d1 = d1
    }

    /// The integer code of a weight. Full precision has no codes (always 0).
    @inline(__always)
    public func code(_ w: Float) -> Int {
        switch method {
        case .full:
            return 0
        case .bwn:
            return w >= 0 ? 1 : -1
        case .twn:
            return w > delta ? 1 : (w < -delta ? -1 : 0)
        case .bt:
            let w0 = w >= 0 ? 1 : -1
            let e = w - a1 * Float(w0)
            return w0 + (e > d1 ? 1 : (e < -d1 ? -1 : 0))
        }
    }

    @inline(__always)
    public func value(_ w: Float) -> Float { method == .full ? w : Float(code(w)) * step }

    /// The quantized values, ascending (empty for full precision).
    public var levels: [Float] { codes.map { Float($0) * step } }

    /// Q(W) for a whole tensor.
    public func quantize(_ w: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        if method == .full {
            _ = out.update(fromContentsOf: w)
            return
        }
        for i in 0..<w.count { out[i] = Float(code(w[i])) * step }
    }

    /// How many weights sit at each level, in `codes` order.
    public func levelCounts(_ w: UnsafeBufferPointer<Float>) -> [Int] {
        guard let lo = codes.first, let hi = codes.last else { return [] }
        var counts = [Int](repeating: 0, count: hi - lo + 1)
        for x in w { counts[code(x) - lo] += 1 }
        return codes.map { counts[$0 - lo] }
    }

    /// ||W - Q(W)|| / ||W||.
    public func relativeError(_ w: UnsafeBufferPointer<Float>) -> Float {
        var num: Double = 0, den: Double = 0
        for x in w {
            let d = Double(x - value(x))
            num += d * d
            den += Double(x) * Double(x)
        }
        return den > 0 ? Float((num / den).squareRoot()) : 0
    }

    /// Height of the jump in Q at each transition (0 where Q does not actually jump, e.g. BT's
    /// point 0 when a1 > d1: both sides of 0 map to code 0).
    public var stepHeights: [Float] {
        let eps = max(firstScale, 1e-12) * 1e-4
        return transitions.map { t in abs(value(t + eps) - value(t - eps)) }
    }

    /// |w - nearest transition| / firstScale (0 if there are no transitions).
    @inline(__always)
    public func transitionDistance(_ w: Float) -> Float {
        guard !transitions.isEmpty, firstScale > 0 else { return 0 }
        var best = Float.infinity
        for t in transitions { best = min(best, abs(w - t)) }
        return best / firstScale
    }
}
