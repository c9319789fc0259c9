/// A run's flip share: the one definition that the sweep board, the explorer, `compare`, `sweep table --figure
/// flip_share` and TensorBoard's `train/flip_share` all print, so one run never shows two numbers under one name.
///
/// Of a step record: Σ flip_fraction·n / Σ n over its quantized layers, n a layer's weight count. That is the share
/// of the network's quantized weights the regularizer's noise would flip; a plain mean over layers would let
/// VGG-6(16)'s first conv on Fashion-MNIST (144 weights) count as much as its last (36,864).
/// Of a run: that of its last step record (in file order, as `RunState` folds them), or with `withinEpochs` the last
/// one logged in the first N epochs. Step 0's record (the weights before any training) never counts: a run whose only
/// step record is step 0's has no flip share yet. One record and not a window: a record's share is over every quantized
/// weight (thousands at least), so one noise draw already varies little, and the last record is what a live board has.
public struct FlipShare: Sendable, Equatable {
    /// Only step records of epochs before this count (`compare --within-epochs N`); nil: all of them.
    public let withinEpochs: Int?
    /// The run's flip share so far: nil before a step record after step 0, and when that record's method is full
    /// precision (nothing to flip).
    public private(set) var value: Float?
    /// The step of the record `value` is of.
    public private(set) var step: Int?

    public init(withinEpochs: Int? = nil) { self.withinEpochs = withinEpochs }

    /// The flip share after every record, in order.
    public init(records: [RunRecord], withinEpochs: Int? = nil) {
        self.init(withinEpochs: withinEpochs)
        for r in records { apply(r) }
    }

    public mutating func apply(_ record: RunRecord) {
        guard case .step(let s) = record, s.step > 0 else { return }
        if let n = withinEpochs, s.epoch >= n { return }
        value = Self.of(s)
        step = s.step
    }

    /// A step record's flip share; nil for step 0's record and for a full-precision step.
    public static func of(_ record: StepRecord) -> Float? {
        record.step > 0 ? of(layers: record.layers) : nil
    }

    /// Σ flip_fraction·n / Σ n over the quantized layers (those with levels); nil when there is none.
    public static func of(layers: [LayerRecord]) -> Float? {
        var flipped = 0.0, total = 0.0
        for l in layers where !l.levels.isEmpty && l.flipFraction.isFinite {
            // In Double: a damaged record's shape (8 sides of up to 2^40, as RecordChecks allows) would overflow Int.
            let n = l.shape.reduce(1.0) { $0 * Double(max(0, $1)) }
            flipped += Double(l.flipFraction) * n
            total += n
        }
        return total > 0 ? Float(flipped / total) : nil
    }
}
