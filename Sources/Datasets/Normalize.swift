import BTCore
/// Per-channel standardization fitted on the training set only (the test set must not leak into
/// the statistics). Stored as plain numbers so a checkpoint can carry and restore it.
public struct Normalizer: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    /// Throws unless there is one finite mean and one finite positive deviation per channel (the values may
    /// come from a damaged checkpoint).
    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, mean.count == std.count, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 })
        else { throw BTError("a normalizer needs one finite mean and one positive deviation per channel") }
        self.mean = mean; self.std = std
    }

    public init(fitting set: ImageSet) {
        let c = set.channels
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        set.pixels.withUnsafeBufferPointer { p in
            for i in 0..<p.count { let v = Double(p[i]); sum[i % c] += v; sq[i % c] += v * v }
        }
        let n = Double(max(set.count * set.height * set.width, 1))
        mean = sum.map { Float($0 / n) }
        // A constant channel would divide by ~0; leave its scale alone instead.
        std = zip(sum, sq).map { s, q in
            let sd = max(q / n - (s / n) * (s / n), 0).squareRoot()
            return sd < 1e-6 ? 1 : Float(sd)
        }
    }

    /// What a raw 0 pixel becomes: the fill for pixels shifted in from outside the image.
    public var zeroValue: [Float] { zip(mean, std).map { -$0 / $1 } }

    public func apply(_ set: inout ImageSet) {
        precondition(set.channels == mean.count, "normalizer has \(mean.count) channels, images have \(set.channels)")
        let c = set.channels
        let scale = std.map { 1 / $0 }
        set.pixels.withUnsafeMutableBufferPointer { p in
            if c == 1 {
                let m = mean[0], s = scale[0]
                for i in 0..<p.count { p[i] = (p[i] - m) * s }
            } else {
                for i in 0..<p.count { p[i] = (p[i] - mean[i % c]) * scale[i % c] }
            }
        }
    }
}
