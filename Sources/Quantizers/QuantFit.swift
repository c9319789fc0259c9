/// A quantizer fitted to one layer's latent weights, as a table: for each channel, the levels Q can take and the
/// transitions between them. Everything downstream works from this table: Q(W) itself, the regularizer (each
/// transition with its jump height), level counts, errors and distances. The fit is frozen, so the same table
/// quantizes the clean weights and their noisy copies (the regularizer keeps the clean weights' thresholds).
///
/// The rule: a weight w of channel c takes level j of that channel, where j counts the channel's transitions t
/// with w >= t. Transitions are sorted within a channel; levels need not be (TTQ's learned -Wn may pass +Wp).
public struct QuantFit: Sendable {
    public let method: QuantMethod
    /// The regularizer's noise and distance unit, in latent-weight units: a (BWN, TWN), a1 (BT), mean|W| (TTQ,
    /// LQ-Nets, full precision).
    public let firstScale: Float
    /// Named scales and thresholds, for reports (channel means where the method has one per channel).
    public let scales: [String: Float]
    public let thresholds: [String: Float]
    /// 1 when the whole tensor shares one table, else the output channels (the tensor's first axis).
    public let channels: Int
    /// Levels per channel (0 for full precision).
    public let levelCount: Int
    /// levels[c * levelCount + j].
    public let levelTable: [Float]
    /// transitionTable[c * (levelCount - 1) + j]: where Q steps from level j to level j + 1.
    public let transitionTable: [Float]
    /// Q's scale is the method's own, not the weights' (TTQ's learned Wp and Wn start at 1.0): its error is
    /// measured after the least-squares rescale of Q, the scale batch norm absorbs anyway.
    public let scaleFree: Bool

    public init(method: QuantMethod, firstScale: Float, scales: [String: Float] = [:], thresholds: [String: Float] = [:],
                channels: Int = 1, levels: [Float], transitions: [Float], scaleFree: Bool = false) {
        precondition(channels >= 1 && (levels.isEmpty || (levels.count % channels == 0
                     && transitions.count == levels.count - channels)))
        self.method = method; self.firstScale = firstScale; self.scales = scales; self.thresholds = thresholds
        self.channels = channels
        levelCount = levels.count / channels
        levelTable = levels
        transitionTable = transitions
        self.scaleFree = scaleFree
    }

    /// Full precision: no levels, Q is the identity.
    public static func identity(_ w: UnsafeBufferPointer<Float>) -> QuantFit {
        QuantFit(method: .full, firstScale: meanAbs(w), levels: [], transitions: [])
    }

    public var isIdentity: Bool { levelCount == 0 }
    var transitionsPerChannel: Int { max(levelCount - 1, 0) }

    /// The level index of w in channel c.
    @inline(__always)
    public func levelIndex(_ w: Float, channel c: Int) -> Int {
        let base = c * transitionsPerChannel
        var j = 0
        for i in 0..<transitionsPerChannel where w >= transitionTable[base + i] { j = i + 1 }
        return j
    }

    @inline(__always)
    public func level(_ j: Int, channel c: Int) -> Float { levelTable[c * levelCount + j] }

    /// Which channel the i-th weight of a tensor of `count` weights belongs to (channels are the first axis).
    @inline(__always)
    public func channel(ofIndex i: Int, count: Int) -> Int { channels == 1 ? 0 : i / (count / channels) }

    /// Visits every weight with its channel; per-channel tables walk contiguous blocks.
    @inline(__always)
    public func forEachChannel(count: Int, _ body: (_ channel: Int, _ range: Range<Int>) -> Void) {
        let per = count / channels
        for c in 0..<channels { body(c, c * per..<(c == channels - 1 ? count : (c + 1) * per)) }
    }

    /// Q(W) for a whole tensor.
    public func quantize(_ w: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        if isIdentity {
            _ = out.update(fromContentsOf: w)
            return
        }
        forEachChannel(count: w.count) { c, range in
            for i in range { out[i] = level(levelIndex(w[i], channel: c), channel: c) }
        }
    }

    /// Level indices of a whole tensor (empty tensor of indices for full precision), for flip ratios.
    public func levelIndices(_ w: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Int8>) {
        if isIdentity { out.update(repeating: 0); return }
        forEachChannel(count: w.count) { c, range in
            for i in range { out[i] = Int8(truncatingIfNeeded: levelIndex(w[i], channel: c)) }
        }
    }

    /// How many weights sit at each level index (summed over channels).
    public func levelCounts(_ w: UnsafeBufferPointer<Float>) -> [Int] {
        var counts = [Int](repeating: 0, count: levelCount)
        guard !isIdentity else { return counts }
        forEachChannel(count: w.count) { c, range in
            for i in range { counts[levelIndex(w[i], channel: c)] += 1 }
        }
        return counts
    }

    /// ||W - Q(W)|| / ||W|| (with `scaleFree`, ||W - s Q(W)|| / ||W|| for the least-squares s).
    public func relativeError(_ w: UnsafeBufferPointer<Float>) -> Float {
        guard !isIdentity else { return 0 }
        var wq: Double = 0, qq: Double = 0, ww: Double = 0
        forEachChannel(count: w.count) { c, range in
            for i in range {
                let q = Double(level(levelIndex(w[i], channel: c), channel: c)), x = Double(w[i])
                wq += x * q; qq += q * q; ww += x * x
            }
        }
        guard ww > 0 else { return 0 }
        let s = scaleFree && qq > 0 ? wq / qq : 1
        // ||W - sQ||^2 = ww - 2 s wq + s^2 qq, in double precision.
        return Float((max(0, ww - 2 * s * wq + s * s * qq) / ww).squareRoot())
    }

    /// Channel c's transitions, sorted, and the height of Q's jump at each.
    public func transitions(channel c: Int) -> [(point: Float, height: Float)] {
        (0..<transitionsPerChannel).map { j in
            (transitionTable[c * transitionsPerChannel + j], abs(level(j + 1, channel: c) - level(j, channel: c)))
        }
    }

    /// Transitions averaged over channels (the table itself for a per-tensor fit): what records and the explorer draw.
    public var transitions: [Float] { channelMeans(transitionTable, per: transitionsPerChannel) }
    /// Levels averaged over channels.
    public var levels: [Float] { channelMeans(levelTable, per: levelCount) }
    /// Jump heights, averaged over channels.
    public var stepHeights: [Float] {
        var h = [Float](repeating: 0, count: transitionsPerChannel)
        for c in 0..<channels { for (j, t) in transitions(channel: c).enumerated() { h[j] += t.height / Float(channels) } }
        return h
    }

    /// The 10th and 90th percentile of each transition over channels (nil for a per-tensor fit): the band
    /// the explorer draws for LQ-Nets.
    public var transitionBands: [[Float]]? {
        guard channels > 1 else { return nil }
        return (0..<transitionsPerChannel).map { j in
            let sorted = (0..<channels).map { transitionTable[$0 * transitionsPerChannel + j] }.sorted()
            return [sorted[(channels - 1) / 10], sorted[(channels - 1) * 9 / 10]]
        }
    }

    private func channelMeans(_ table: [Float], per: Int) -> [Float] {
        guard channels > 1 else { return table }
        var m = [Double](repeating: 0, count: per)
        for c in 0..<channels { for j in 0..<per { m[j] += Double(table[c * per + j]) } }
        return m.map { Float($0 / Double(channels)) }
    }

    /// |w - nearest transition of its channel| / firstScale (0 if there are no transitions).
    @inline(__always)
    public func transitionDistance(_ w: Float, channel c: Int) -> Float {
        guard transitionsPerChannel > 0, firstScale > 0 else { return 0 }
        var best = Float.infinity
        let base = c * transitionsPerChannel
        for j in 0..<transitionsPerChannel { best = min(best, abs(w - transitionTable[base + j])) }
        return best / firstScale
    }
}

/// mean |w| in double precision (layers have up to millions of weights).
@inline(__always)
public func meanAbs(_ w: UnsafeBufferPointer<Float>) -> Float {
    guard !w.isEmpty else { return 0 }
    var s: Double = 0
    for x in w { s += Double(abs(x)) }
    return Float(s / Double(w.count))
}
