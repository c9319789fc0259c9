import BTCore
/// The transition regularizer: R = ||Q(W) - Q(W~)||_1 (the paper's Eq. 7, a sum over the layer's weights;
/// `.mean` divides by their count) with W~ = W + 0.1 * N(0, s^2), s = first scale, and Q(W~) using the clean
/// weights' fit. The training loss is L_task - lambda * sum R, so a larger R
/// (weights closer to transitions, more flips) is rewarded.
///
/// Gradient: through the straight-through estimator d/dW [Q(W) - Q(W~)] = 1 - 1 = 0, so a naive version
/// is a no-op. We differentiate R's expectation over the noise instead: for a transition t with jump h,
/// E|Q(W) - Q(W~)| ~ h * Phi(-|W - t| / s'), s' = 0.1 * s, whose derivative pulls W toward t when W is
/// within a few s' of it. For a monotone Q this expectation is exact: |Q(w) - Q(w + n)| is the sum of the jumps
/// between w and w + n, and each lies there with probability Phi(-|w - t| / s'). Scales and thresholds are treated as constants (no gradient through the fit).
public struct TransitionRegularizer: Sendable {
    /// Noise standard deviation as a fraction of the first scale (the paper's 0.1).
    public let noiseRatio: Float
    /// Sum (the paper's L1 norm) or mean over a layer's weights.
    public let reduction: RegReduction

    public init(noiseRatio: Float = 0.1, reduction: RegReduction = .sum) {
        self.noiseRatio = noiseRatio; self.reduction = reduction
    }

    public struct Measure: Sendable {
        /// R: sum (or mean) of |Q(W) - Q(W~)|
        public var reg: Float
        /// share of weights whose level differs between Q(W) and Q(W~)
        public var flipFraction: Float

        public init(reg: Float, flipFraction: Float) { self.reg = reg; self.flipFraction = flipFraction }
    }

    /// Samples the noise once (into `noise`, scratch of the same size) and measures R and the flip fraction.
    public func measure(fit: QuantFit, weights w: UnsafeBufferPointer<Float>,
                        noise: UnsafeMutableBufferPointer<Float>, rng: inout RNG) -> Measure {
        guard !fit.isIdentity, !w.isEmpty, fit.firstScale > 0 else { return Measure(reg: 0, flipFraction: 0) }
        rng.fillGaussian(UnsafeMutableBufferPointer(rebasing: noise[0..<w.count]), std: noiseRatio * fit.firstScale)
        var flips = 0
        var diff: Double = 0
        fit.forEachChannel(count: w.count) { c, range in
            for i in range {
                let j0 = fit.levelIndex(w[i], channel: c), j1 = fit.levelIndex(w[i] + noise[i], channel: c)
                if j0 != j1 { flips += 1; diff += Double(abs(fit.level(j0, channel: c) - fit.level(j1, channel: c))) }
            }
        }
        let n = Float(w.count)
        let r = Float(diff)
        return Measure(reg: reduction == .sum ? r : r / n, flipFraction: Float(flips) / n)
    }

    /// Adds d(-lambda * E[R]) / dW to `grad`, from each channel's transitions and jump heights.
    /// `elements`: only these weights' gradients (a block of the layer); each weight's terms are added in the same
    /// order whatever the block, so a layer cut into blocks gets the bits of the whole.
    public func addGradient(fit: QuantFit, weights w: UnsafeBufferPointer<Float>, lambda: Float,
                            into grad: UnsafeMutableBufferPointer<Float>, elements: Range<Int>? = nil) {
        guard lambda > 0, !fit.isIdentity, !w.isEmpty, fit.firstScale > 0 else { return }
        let sp = noiseRatio * fit.firstScale
        let invSqrt2Pi: Float = 0.398_942_28
        // Beyond 8 s' the density is below 1e-14 of its peak. (At 5 s' it is 4e-6: summed over a layer, that
        // cut-off showed as a 0.5% error in a finite-difference check.)
        let reach = 8 * sp
        let norm = sp * (reduction == .sum ? 1 : Float(w.count))
        let only = elements ?? 0..<w.count
        fit.forEachChannel(count: w.count) { c, channel in
            let range = channel.clamped(to: only)
            guard !range.isEmpty else { return }
            for (t, h) in fit.transitions(channel: c) where h > 0 {
                // dL/dw = +lambda * h * phi(|w-t|/s') / s' * sign(w - t)   (divided by N for the mean)
                let k = lambda * h * invSqrt2Pi / norm
                for i in range {
                    let d = w[i] - t
                    if abs(d) < reach {
                        let u = d / sp
                        grad[i] += k * expf(-0.5 * u * u) * (d >= 0 ? 1 : -1)
                    }
                }
            }
        }
    }
}

/// How R adds up a layer's weights.
public enum RegReduction: String, Codable, CaseIterable, Sendable {
    /// The paper's Eq. 7, ||Q(W) - Q(W~)||_1: every weight near a transition feels the full pull.
    case sum
    /// Divided by the layer's weight count: the pull is N times weaker (btviz before 0.2).
    case mean
}

#if canImport(Glibc)
import Glibc
#endif
