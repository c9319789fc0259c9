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
        var sums = Sums(channels: set.channels)
        set.pixels.withUnsafeBufferPointer { sums.add($0.baseAddress!, count: $0.count) }
        self.init(sums, pixels: set.count * set.height * set.width)
    }

    /// Fits on the first `source.normalizationSample` images in stored order. For a set in memory that is all of
    /// it, summed in the same order as `init(fitting: ImageSet)`, so both give the same numbers.
    public init(fitting source: ImageSource) throws {
        let size = source.imageSize, total = min(source.normalizationSample, source.count)
        var sums = Sums(channels: source.channels)
        let batch = max(1, min(256, total))
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: batch * size)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        defer { buf.deallocate(); labels.deallocate() }
        let reader = try source.pass(.stored)
        var seen = 0
        while seen < total {
            let n = try reader.read(min(batch, total - seen), into: buf, labels: labels)
            guard n > 0 else { break }
            sums.add(buf, count: n * size)
            seen += n
        }
        self.init(sums, pixels: seen * source.height * source.width)
    }

    private struct Sums {
        var sum: [Double], sq: [Double]
        init(channels c: Int) { sum = .init(repeating: 0, count: c); sq = .init(repeating: 0, count: c) }
        mutating func add(_ p: UnsafePointer<Float>, count: Int) {
            let c = sum.count
            for i in 0..<count { let v = Double(p[i]); sum[i % c] += v; sq[i % c] += v * v }
        }
    }

    private init(_ s: Sums, pixels: Int) {
        let n = Double(max(pixels, 1))
        mean = s.sum.map { Float($0 / n) }
        // A constant channel would divide by ~0; leave its scale alone instead.
        std = zip(s.sum, s.sq).map { s, q in
            let sd = max(q / n - (s / n) * (s / n), 0).squareRoot()
            return sd < 1e-6 ? 1 : Float(sd)
        }
    }

    /// What a raw 0 pixel becomes: the fill for pixels shifted in from outside the image.
    public var zeroValue: [Float] { zip(mean, std).map { -$0 / $1 } }

    public func apply(_ set: inout ImageSet) {
        precondition(set.channels == mean.count, "normalizer has \(mean.count) channels, images have \(set.channels)")
        set.pixels.withUnsafeMutableBufferPointer { apply($0.baseAddress!, count: $0.count) }
    }

    /// Normalizes `count` NHWC values (whole pixels) in place.
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let c = mean.count
        let scale = std.map { 1 / $0 }
        if c == 1 {
            let m = mean[0], s = scale[0]
            for i in 0..<count { p[i] = (p[i] - m) * s }
        } else if c == 3 {  // RGB, pixel by pixel: the same arithmetic without a division per value
            let (m0, m1, m2, s0, s1, s2) = (mean[0], mean[1], mean[2], scale[0], scale[1], scale[2])
            var i = 0
            while i + 2 < count {
                p[i] = (p[i] - m0) * s0; p[i + 1] = (p[i + 1] - m1) * s1; p[i + 2] = (p[i + 2] - m2) * s2
                i += 3
            }
        } else {
            for i in 0..<count { p[i] = (p[i] - mean[i % c]) * scale[i % c] }
        }
    }
}
