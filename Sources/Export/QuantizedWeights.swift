import Quantizers

/// A quantized layer's Q(W) as it is stored outside btviz, decided from the fit's level table alone:
/// - `grid`: one scale for the whole tensor and levels that are exactly integer multiples of it within int4's
///   range (BWN's ±a, TWN's {-a, 0, a}, BT's a_opt·{-2..2}): Q = code · scale, codes signed;
/// - `table`: anything else (TTQ's {-Wn, 0, Wp}, LQ-Nets' per-channel bases): Q = levels[channel][index].
/// "Exactly" is checked on the Float values, so code · scale in Float32 (what DequantizeLinear computes) is
/// bit for bit btviz's Q(W).
public enum QuantizedWeights {
    case grid(codes: [Int8], scale: Float)
    case table(indices: [Int8], levels: [Float], channels: Int)

    /// Q(W) of `weights` (btviz's layout) under `fit` in stored form; nil for full precision.
    public init?(fit: QuantFit, weights: UnsafeBufferPointer<Float>) {
        guard !fit.isIdentity else { return nil }
        var indices = [Int8](repeating: 0, count: weights.count)
        indices.withUnsafeMutableBufferPointer { fit.levelIndices(weights, into: $0) }
        if let (codes, scale) = QuantizedWeights.gridCodes(fit) {
            self = .grid(codes: indices.map { codes[Int($0)] }, scale: scale)
        } else {
            self = .table(indices: indices, levels: fit.levelTable, channels: fit.channels)
        }
    }

    /// Each level's int4 code and the one scale, when the levels lie exactly on such a grid.
    static func gridCodes(_ fit: QuantFit) -> (codes: [Int8], scale: Float)? {
        guard fit.channels == 1, let scale = fit.levelTable.map(abs).filter({ $0 > 0 }).min(), scale.isFinite else { return nil }
        var codes: [Int8] = []
        for level in fit.levelTable {
            let k = (level / scale).rounded()
            guard k >= -8, k <= 7, k * scale == level else { return nil }
            codes.append(Int8(k))
        }
        return (codes, scale)
    }

    /// Q(W), element by element (btviz's layout).
    public var values: [Float] {
        switch self {
        case .grid(let codes, let scale): return codes.map { Float($0) * scale }
        case .table(let indices, let levels, let channels):
            let per = indices.count / channels, count = levels.count / channels
            return indices.enumerated().map { i, j in levels[(i / per) * count + Int(j)] }
        }
    }
}
