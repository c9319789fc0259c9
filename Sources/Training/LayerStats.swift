import Records
import Quantizers

/// Builds the per-layer report of a step: the quantizer's fit, level occupancy, errors, distances,
/// histograms and the step-to-step flip ratio. It remembers each layer's codes from the previous step.
public final class LayerStatsTracker {
    public let bins: Int
    private var previousCodes: [[Int8]]

    public init(layerCount: Int, bins: Int = 100) {
        self.bins = bins
        previousCodes = Array(repeating: [], count: layerCount)
    }

    /// Records this step's codes; returns the share that changed since the last call (0 on the first).
    public func flipRatio(layer: Int, fit: QuantFit, weights w: UnsafeBufferPointer<Float>) -> Float {
        let comparable = previousCodes[layer].count == w.count
        if !comparable { previousCodes[layer] = [Int8](repeating: 0, count: w.count) }
        // Updated in place: a local copy would make copy-on-write duplicate the codes every step.
        var changed = 0
        previousCodes[layer].withUnsafeMutableBufferPointer { prev in
            fit.forEachChannel(count: w.count) { c, range in
                for i in range {
                    let j = Int8(truncatingIfNeeded: fit.isIdentity ? 0 : fit.levelIndex(w[i], channel: c))
                    if comparable && j != prev[i] { changed += 1 }
                    prev[i] = j
                }
            }
        }
        return comparable && !fit.isIdentity ? Float(changed) / Float(max(w.count, 1)) : 0
    }

    public func record(name: String, shape: [Int], fit: QuantFit, weights w: UnsafeBufferPointer<Float>,
                       measure: TransitionRegularizer.Measure, flipRatio: Float,
                       whatIf: [(method: QuantMethod, fit: QuantFit)] = []) -> LayerRecord {
        var maxAbs: Float = 0
        for x in w { maxAbs = max(maxAbs, abs(x)) }
        let range = max(maxAbs, 1e-8)
        var distances = [Float](repeating: 0, count: w.count)
        var distSum: Double = 0, maxDist: Float = 0
        fit.forEachChannel(count: w.count) { c, range in
            for i in range {
                let d = fit.transitionDistance(w[i], channel: c)
                distances[i] = d; distSum += Double(d); maxDist = max(maxDist, d)
            }
        }
        let hasTransitions = !fit.transitions.isEmpty
        return LayerRecord(
            name: name, shape: shape, scales: fit.scales, thresholds: fit.thresholds,
            transitions: fit.transitions, transitionBands: fit.transitionBands, levels: fit.levels,
            levelCounts: fit.levelCounts(w),
            flipFraction: measure.flipFraction, flipRatio: flipRatio,
            meanTransitionDistance: hasTransitions ? Float(distSum / Double(max(w.count, 1))) : 0,
            quantError: fit.relativeError(w), reg: measure.reg,
            histogram: histogram(w, lo: -range, hi: range),
            distanceHistogram: hasTransitions ? histogram(distances[...], lo: 0, hi: max(maxDist, 1e-6))
                                              : Histogram(edges: [0, 1], counts: [0]),
            whatIf: whatIf.isEmpty ? nil : whatIf.map { m, f in
                WhatIfFit(method: m.rawValue, transitions: f.transitions, levels: f.levels, levelCounts: f.levelCounts(w),
                          quantError: f.relativeError(w))
            },
            fit: fit.fitDescription)
    }

    private func histogram<C: Collection>(_ values: C, lo: Float, hi: Float) -> Histogram where C.Element == Float {
        var counts = [Int](repeating: 0, count: bins)
        // In Double: with weights near Float's limit, hi - lo overflows Float, and a NaN or infinite bin index
        // would trap in Int(). Out-of-range and non-finite values land in the end bins.
        let (l, h) = (Double(lo), Double(hi))
        let scale = Double(bins) / max(h - l, .leastNormalMagnitude)
        for x in values {
            let t = ((Double(x) - l) * scale).rounded(.down)
            let b = t.isNaN ? 0 : Int(min(max(t, 0), Double(bins - 1)))
            counts[b] += 1
        }
        let edges = (0...bins).map { Float(l + (h - l) * Double($0) / Double(bins)) }
        return Histogram(edges: edges, counts: counts)
    }
}
