/// Bounds a decoded record must sit in before anything counts, sums or indexes with its numbers. A record
/// from a damaged or hand-edited metrics.jsonl that breaks them is skipped, not trusted: counts of 2^63 - 1
/// would overflow a sum, a step of -2^63 a subtraction.
enum RecordChecks {
    static let maxStep = 1 << 40, maxEpoch = 1 << 30, maxCount = 1 << 40, maxBins = 100_000, maxItems = 4096

    static func plausible(_ r: RunRecord) -> Bool {
        // A time, if any, is a date TensorBoard can show (1970 to 5138), never NaN or infinite.
        if let t = r.time, !(0...1e11).contains(t) { return false }
        switch r {
        case .step(let s):
            return (0...maxStep).contains(s.step) && (0...maxEpoch).contains(s.epoch) && (0...maxStep).contains(s.totalSteps)
                && s.lambda.isFinite && s.layers.count <= maxItems && s.layers.allSatisfy(plausible)
        case .epoch(let e):
            return (0...maxEpoch).contains(e.epoch) && (0...maxStep).contains(e.step)
                && [e.trainMetric, e.testMetric].allSatisfy(Metric.printing(e.metric).isPlausible)
        case .event(let e):
            return (0...maxStep).contains(e.step) && (0...maxEpoch).contains(e.epoch) && e.message.utf8.count <= 10_000
        }
    }

    static func plausible(_ l: LayerRecord) -> Bool {
        l.shape.count <= 8 && l.shape.allSatisfy { (0...maxCount).contains($0) }
            && l.levels.count <= 64 && l.levelCounts.count == l.levels.count && l.transitions.count <= 64
            && (l.transitionBands ?? []).allSatisfy { $0.count == 2 && $0.allSatisfy(\.isFinite) } && (l.transitionBands?.count ?? 0) <= 64
            && l.levelCounts.allSatisfy { (0...maxCount).contains($0) }
            && (l.levels + l.transitions + Array(l.scales.values) + Array(l.thresholds.values)).allSatisfy(\.isFinite)
            && plausible(l.histogram) && plausible(l.distanceHistogram)
    }

    static func plausible(_ h: Histogram) -> Bool {
        h.counts.count <= maxBins && h.edges.count == h.counts.count + 1 && h.edges.allSatisfy(\.isFinite)
            && h.counts.allSatisfy { (0...maxCount).contains($0) }
    }
}
