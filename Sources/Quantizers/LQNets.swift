import Records
#if canImport(Glibc)
import Glibc
#endif
import Kernels

/// LQ-Nets' weight quantizer (Zhang et al. 2018), as in microsoft/LQ-Nets (`learned_quantization.py`,
/// `QuantizedWeight`): per output channel a basis v of K bits; the levels are b^T v for the 2^K codes
/// b in {-1, +1}^K and each weight takes the nearest (the transitions are the midpoints of sorted levels).
/// Every training step, from the codes B of this step's forward pass:
///   v* = (B^T B + δI)^-1 (B^T w + δ v),  δ = 1e-4,
///   v  <- the zero-debiased moving average (decay 0.9) of v*, as TensorFlow's `assign_moving_average`.
/// (The reference inverts B^T B without δI and adds δ v only on the right; with δI the solve also holds when a
/// channel uses fewer than K independent codes, and its fixed point is the same least-squares basis.)
/// The gradient is the identity straight-through estimator.
public final class LQNets: LayerQuantizer {
    public let bits: Int
    public let outputChannels: Int
    static let delta = 1e-4, decay = 0.9
    /// The basis in use, [channel][bit]; the moving average's biased accumulator; its step count.
    public let basis: FloatBuffer
    let biased: FloatBuffer
    let steps: FloatBuffer
    let layer: String
    public var method: QuantMethod { .lq }

    /// The reference's start: v_j = 2^j * 0.6745 * sqrt(2/n) / 2^(K-1), n = 9 * Cout (the 3x3 kernel's fan-out).
    public init(layer: String, outputChannels: Int, fanIn: Int, bits: Int = 2) {
        precondition((1...4).contains(bits) && outputChannels >= 1)
        self.layer = layer; self.bits = bits; self.outputChannels = outputChannels
        basis = FloatBuffer(count: outputChannels * bits)
        biased = FloatBuffer(count: outputChannels * bits)
        steps = FloatBuffer(count: 1)
        let n = Double(9 * outputChannels)
        let base = 0.6745 * (2 / n).squareRoot() / Double(1 << (bits - 1))
        for c in 0..<outputChannels { for j in 0..<bits { basis[c * bits + j] = Float(Double(1 << j) * base) } }
    }

    public var parameters: [Param] { [] }
    public var state: [NamedTensor] {
        [NamedTensor("quant.lq.\(layer).basis", basis), NamedTensor("quant.lq.\(layer).basis_ema", biased),
         NamedTensor("quant.lq.\(layer).basis_steps", steps)]
    }

    /// Code i's bits: bit j is +1 where (i >> j) & 1, else -1 (the reference's level multipliers).
    @inline(__always)
    func bit(_ code: Int, _ j: Int) -> Double { (code >> j) & 1 == 1 ? 1 : -1 }

    /// Channel c's codes ordered by their level, ascending, with the levels.
    func sortedCodes(channel c: Int) -> [(code: Int, level: Float)] {
        (0..<(1 << bits)).map { i in
            var l: Double = 0
            for j in 0..<bits { l += bit(i, j) * Double(basis[c * bits + j]) }
            return (i, Float(l))
        }.sorted { $0.level < $1.level }
    }

    public func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        var levels: [Float] = [], transitions: [Float] = []
        levels.reserveCapacity(outputChannels << bits)
        for c in 0..<outputChannels {
            let s = sortedCodes(channel: c).map(\.level)
            levels += s
            for j in 1..<s.count { transitions.append(0.5 * (s[j - 1] + s[j])) }
        }
        var scales: [String: Float] = [:]
        for j in 0..<bits {
            var m: Double = 0
            for c in 0..<outputChannels { m += Double(basis[c * bits + j]) }
            scales["v\(j + 1)"] = Float(m / Double(outputChannels))
        }
        return QuantFit(method: .lq, firstScale: meanAbs(w), scales: scales, channels: outputChannels,
                        levels: levels, transitions: transitions)
    }

    public func backward(weights w: UnsafeBufferPointer<Float>, fit: QuantFit, grad: UnsafeMutableBufferPointer<Float>) {}

    /// One least-squares basis per channel from this fit's codes, then the moving average.
    public func update(weights w: UnsafeBufferPointer<Float>, fit: QuantFit) {
        let target = solve(weights: w, fit: fit)
        let k = Float(1 - Self.decay)
        steps[0] += 1
        let debias = Float(1 - Self.decayPower(Int(steps[0])))
        for i in 0..<basis.count {
            biased[i] -= (biased[i] - target[i]) * k
            basis[i] = biased[i] / debias
        }
    }

    static func decayPower(_ n: Int) -> Double { pow(decay, Double(n)) }

    /// v* = (B^T B + δI)^-1 (B^T w + δ v) for every channel, from the level each weight takes in `fit`.
    public func solve(weights w: UnsafeBufferPointer<Float>, fit: QuantFit) -> [Float] {
        var out = [Float](repeating: 0, count: basis.count)
        let levels = 1 << bits
        fit.forEachChannel(count: w.count) { c, range in
            // Per level: how many weights and their sum; B^T B and B^T w follow from the codes' bits.
            var n = [Double](repeating: 0, count: levels), s = [Double](repeating: 0, count: levels)
            for i in range {
                let j = fit.levelIndex(w[i], channel: c)
                n[j] += 1; s[j] += Double(w[i])
            }
            let codes = sortedCodes(channel: c).map(\.code)
            var a = [Double](repeating: 0, count: bits * bits), b = [Double](repeating: 0, count: bits)
            for (j, code) in codes.enumerated() {
                for p in 0..<bits {
                    b[p] += s[j] * bit(code, p)
                    for q in 0..<bits { a[p * bits + q] += n[j] * bit(code, p) * bit(code, q) }
                }
            }
            for p in 0..<bits {
                a[p * bits + p] += Self.delta
                b[p] += Self.delta * Double(basis[c * bits + p])
            }
            let v = solveSymmetric(a, b, size: bits)
            for p in 0..<bits { out[c * bits + p] = Float(v[p]) }
        }
        return out
    }

    /// `btviz quantize` and evaluation of a method a run never trained: the reference's start with each channel's
    /// own standard deviation in place of He's sqrt(2/n), then alternating least squares (codes, then the basis
    /// for them) until neither moves, at most 100 rounds. (From the He-based start, a channel whose weights
    /// never reach the outer levels uses two codes only, and B^T B is singular there: the solve cannot leave.)
    /// In training nothing is done: the reference's start stands, and the first step's moving average already
    /// lands on the least-squares basis (zero-debiasing makes it v* itself).
    public func calibrate(weights w: UnsafeBufferPointer<Float>, toConvergence: Bool) {
        guard toConvergence, !w.isEmpty else { return }
        let per = w.count / outputChannels
        for c in 0..<outputChannels {
            let range = c * per..<(c == outputChannels - 1 ? w.count : (c + 1) * per)
            var s2: Double = 0
            for i in range { s2 += Double(w[i]) * Double(w[i]) }
            let base = 0.6745 * (s2 / Double(max(range.count, 1))).squareRoot() / Double(1 << (bits - 1))
            for j in 0..<bits { basis[c * bits + j] = Float(Double(1 << j) * base) }
        }
        var previous = [Int8](repeating: -1, count: w.count), current = previous
        for _ in 0..<100 {
            let f = fit(w)
            current.withUnsafeMutableBufferPointer { f.levelIndices(w, into: $0) }
            let v = solve(weights: w, fit: f)
            // δ's pull toward the old basis shrinks by δ/(n + δ) a round: stop when neither codes nor basis move.
            var moved: Float = 0, size: Float = 0
            for i in 0..<basis.count { moved = max(moved, abs(v[i] - basis[i])); size = max(size, abs(v[i])); basis[i] = v[i] }
            if current == previous && moved <= 1e-7 * size { break }
            previous = current
        }
    }
}

/// Solves A x = b for a small symmetric positive definite A (Gaussian elimination with partial pivoting).
func solveSymmetric(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
    var m = a, x = b
    for col in 0..<n {
        var pivot = col
        for r in col + 1..<max(n, col + 1) where abs(m[r * n + col]) > abs(m[pivot * n + col]) { pivot = r }
        if pivot != col {
            for k in 0..<n { m.swapAt(col * n + k, pivot * n + k) }
            x.swapAt(col, pivot)
        }
        let d = m[col * n + col]
        guard d != 0 else { continue }
        for r in 0..<n where r != col {
            let f = m[r * n + col] / d
            guard f != 0 else { continue }
            for k in col..<n { m[r * n + k] -= f * m[col * n + k] }
            x[r] -= f * x[col]
        }
    }
    return (0..<n).map { m[$0 * n + $0] != 0 ? x[$0] / m[$0 * n + $0] : 0 }
}

extension QuantOption {
    /// LQ-Nets' bits per weight (1 to 4).
    public static let lqBits = QuantOption(key: "lq_bits", help: "LQ-Nets' bits per weight",
                                           kind: .integer(default: 2, range: 1...4))
}

extension QuantMethod { public static let lq = QuantMethod(id: "lq") }

extension QuantizerDefinition {
    public static let lq = QuantizerDefinition(
        id: "lq", label: "LQ", summary: "LQ-Nets: a learned basis of lq-bits per output channel",
        options: [.lqBits], defaultLambda: 3e-4,
        make: { s, layer, shape in
            LQNets(layer: layer, outputChannels: shape.first ?? 1, fanIn: shape.dropFirst().reduce(1, *), bits: s.lqBits)
        },
        // The basis's channel means v1, v2, ...; the transitions are unnamed (±t1, ±t2, ...).
        describe: { scales in
            FitDescription(scales: Array((1...).lazy.map { "v\($0)" }.prefix(while: { scales[$0] != nil })), scaleTitle: "v1/v2..")
        },
        storedScales: { $0.channels * $0.scales.count })
}
