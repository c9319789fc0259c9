import BTCore

/// A training run's batches: each epoch one pass over the source in its own shuffled order (seeded by the run's
/// seed and the epoch), each batch normalized and then augmented with draws seeded by its step. So batch `step` is
/// the same however the run got there, which is what makes a resumed run equal an uninterrupted one: it starts
/// the epoch's pass again and skips the steps already done (free in memory, a re-read for a stream).
public final class TrainingBatches {
    public let source: ImageSource
    public let normalizer: Normalizer
    public let augmenter: Augmenter
    public let batchSize: Int
    public let seed: UInt64
    public var stepsPerEpoch: Int { (source.count + batchSize - 1) / batchSize }
    private var reader: ImageReader?
    private var readerStep = -1  // the step `reader` is positioned at
    private var readerIsShared = false  // `reader` reads only what is asked for (`ImageSource.sharePass`)
    private let scratch: UnsafeMutablePointer<Float>

    public init(source: ImageSource, normalizer: Normalizer, augmenter: Augmenter, batchSize: Int, seed: UInt64) {
        self.source = source; self.normalizer = normalizer; self.augmenter = augmenter
        self.batchSize = batchSize; self.seed = seed
        scratch = .allocate(capacity: source.imageSize)
    }

    deinit { scratch.deallocate() }

    /// Writes batch `step` (normalized, augmented) into `x` and `labels`; returns its size. `share`, given the
    /// batch's size, names the images this process trains on (a rank's share): all labels are written, but only
    /// those images are read, normalized and augmented, each exactly as a single process would have it. A stream
    /// stored by position (`NpzRows`) is then read by position, only the share.
    public func fill(step: Int, into x: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>,
                     share: ((Int) -> Range<Int>)? = nil) throws -> Int {
        let epoch = step / stepsPerEpoch, within = step % stepsPerEpoch
        let want = min(batchSize, source.count - within * batchSize)
        let only = share?(want) ?? 0..<want
        let partial = only != 0..<want
        if step != readerStep || reader == nil || (partial && !readerIsShared) {  // a new epoch, a jump (a resumed run), a rank's first
            reader = nil  // a stream's previous pass stops before the next one starts
            let order = PassOrder.shuffled(RNG(seed: seed, stream: .shuffle, UInt64(epoch)))
            let shared = partial ? source.sharePass(order) : nil
            reader = try shared ?? source.pass(order)
            readerIsShared = shared != nil
            try reader!.skip(within * batchSize)
        }
        let n = try reader!.read(want, only: only, into: x, labels: labels)
        guard n == want else { throw BTError("the training data ended early: \(n) of \(want) images at step \(step)") }
        readerStep = step + 1
        if within == stepsPerEpoch - 1 { reader = nil }  // the pass is done: free its buffer
        normalizer.apply(x + only.lowerBound * source.imageSize, count: only.count * source.imageSize)
        if augmenter.isActive {
            var rng = RNG(seed: seed, stream: .augment, UInt64(step))
            augmenter.augment(x, n: n, height: source.height, width: source.width, channels: source.channels,
                              scratch: scratch, rng: &rng, fillValue: normalizer.zeroValue, only: only)
        }
        return n
    }
}
