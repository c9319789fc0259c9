import Records
import BTCore
import Datasets
import Kernels
import Layers
import Models
import Quantizers

/// What a run learns: the model, where its batches come from, and how it is judged. The trainer drives any
/// task the same way (steps, records, checkpoints, the explorer's controls); classification and image
/// restoration (super-resolution, denoising) conform.
public protocol TrainingTask: AnyObject {
    /// What records and screens call the data, e.g. "fashion" or "T91".
    var dataName: String { get }
    /// One input sample's shape [channels, height, width].
    var inputShape: [Int] { get }
    /// A classifier's class count; 0 for restoration.
    var classes: Int { get }
    var model: any Model { get }
    var stepsPerEpoch: Int { get }
    /// Images in an epoch's last batch (fewer than the batch size where the training set does not divide).
    var lastBatchImages: Int { get }
    /// Samples (images) the evaluation covers.
    var testCount: Int { get }
    /// What loading wants the user to know (skipped files).
    var notes: [String] { get }
    /// What the task's data is (counts, file checksums), recorded in the run's header; nil where unknown.
    var dataIdentity: DataIdentity? { get }
    /// The input normalization a checkpoint keeps (identity where there is none).
    var normalization: (mean: [Float], std: [Float]) { get }
    /// Batch `step`, the same whatever ran before (so a resumed run sees what it would have): inputs into
    /// `x`, and the targets, which point into the task's own buffers until the next call.
    /// `share`, given the batch's size, names the images this process trains on (a rank's): only those are read.
    func batch(step: Int, into x: UnsafeMutablePointer<Float>, share: ((Int) -> Range<Int>)?) throws -> (n: Int, targets: Targets)
    /// The batch the untrained network is first shown (step 0's record).
    func firstBatch(into x: UnsafeMutablePointer<Float>) throws -> (n: Int, targets: Targets)
    /// The test metric and loss under `method` (its quantizers as they stand).
    func evaluate(_ engine: StepEngine, method: QuantMethod, x: UnsafeMutablePointer<Float>) throws -> (metric: Float, loss: Float)
    /// Re-estimates batch-norm statistics under `method` on `images` training images; how many it used.
    func recalibrateBatchNorm(_ engine: StepEngine, method: QuantMethod, images: Int, x: UnsafeMutablePointer<Float>) throws -> Int
}

extension TrainingTask {
    /// The whole batch `step`.
    public func batch(step: Int, into x: UnsafeMutablePointer<Float>) throws -> (n: Int, targets: Targets) {
        try batch(step: step, into: x, share: nil)
    }
}

/// The task a configuration describes, its data loaded; `resume` keeps a checkpoint's input normalization.
public func makeTrainingTask(config validated: ValidatedConfig, resume: Checkpoint? = nil) throws -> any TrainingTask {
    let config = validated.config
    if config.task.isRestoration { return try RestorationTraining(config: config) }
    let data = try loadTrainingData(name: config.dataset, dataDir: config.dataDir, folder: config.folderOptions)
    return try ClassificationTask(config: config, data: data, resume: resume)
}

/// A classifier (the run's model definition) on labelled images: the recipe's augmentation, batches of the training split, accuracy on the test split.
public final class ClassificationTask: TrainingTask {
    public let dataName: String
    public let model: any Model
    public let classes: Int
    public let stepsPerEpoch: Int
    public let notes: [String]
    /// The data's class names in label order (an image folder's subfolders); empty where the data has none.
    public let classNames: [String]
    private let identity: DataIdentity?
    private let train: ImageSource, test: ImageSource
    private let normalizer: Normalizer
    private let batches: TrainingBatches
    private let labels: UnsafeMutablePointer<Int32>
    private let batchSize: Int, seed: UInt64

    /// A `resume`d run keeps its checkpoint's input normalization; a new one fits it to the training split.
    public init(config: TrainConfig, data: TrainingData, resume: Checkpoint? = nil) throws {
        if let trained = resume.flatMap({ try? $0.classCount() }), trained != data.classes {
            // Said here, in the data's terms: otherwise the checkpoint's last layer is blamed for the wrong size.
            throw BTError(settings: "the data (\(data.name)) now has \(data.classes) classes, but the run was trained on \(trained): the data changed since training; point \(setting: "data_dir") at the data the run was trained on")
        }
        let normalization = resume.map { (mean: $0.header.normalizerMean, std: $0.header.normalizerStd) }
        let train = data.train.prefix(config.trainLimit)
        let test = data.test.prefix(config.testLimit)
        guard train.count >= 2, test.count >= 1 else { throw BTError("dataset \(data.name) has too few images") }
        let normalizer = try normalization.map { try Normalizer(mean: $0.mean, std: $0.std) } ?? Normalizer(fitting: train)
        guard normalizer.mean.count == train.channels else { throw BTError("checkpoint does not match the dataset's channels") }
        self.train = train; self.test = test; self.normalizer = normalizer
        // The catalog entry's augmentation, less what the options turn off.
        var aug = Augmenter(data.augmentation)
        aug.cropEnabled = config.crop
        aug.cutoutEnabled = config.cutout
        aug.flipEnabled = config.flip && data.augmentation.flip
        batches = TrainingBatches(source: train, normalizer: normalizer, augmenter: aug, batchSize: config.batchSize, seed: config.seed)
        stepsPerEpoch = (train.count + config.batchSize - 1) / config.batchSize
        // No batch is larger than a split (training batches, calibration and evaluation all stop at its end), so
        // 4 images at --batch-size 128 need activations for 4, not 128.
        let largest = min(config.batchSize, max(train.count, test.count))
        guard let definition = config.modelDefinition else { throw ConfigProblem("model", "unknown {model} \(config.model)") }
        model = try definition.build(ModelBuild(options: config.modelOptions, inputShape: data.inputShape, classes: data.classes,
                                                maxBatch: largest))
        model.initialize(seed: config.seed, scheme: config.initScheme)
        classes = data.classes
        dataName = data.name
        notes = data.notes
        classNames = data.classNames.count == data.classes ? data.classNames : []
        identity = data.identity
        batchSize = config.batchSize; seed = config.seed
        labels = .allocate(capacity: config.batchSize)
    }

    deinit { labels.deallocate() }

    public var inputShape: [Int] { train.shape }
    public var testCount: Int { test.count }
    public var lastBatchImages: Int { train.count - (stepsPerEpoch - 1) * batchSize }
    public var dataIdentity: DataIdentity? { identity }
    public var normalization: (mean: [Float], std: [Float]) { (normalizer.mean, normalizer.std) }

    public func batch(step: Int, into x: UnsafeMutablePointer<Float>, share: ((Int) -> Range<Int>)?) throws -> (n: Int, targets: Targets) {
        (try batches.fill(step: step, into: x, labels: labels, share: share), .labels(labels))
    }

    public func firstBatch(into x: UnsafeMutablePointer<Float>) throws -> (n: Int, targets: Targets) {
        let first = try train.pass(.shuffled(RNG(seed: seed, stream: .shuffle, 0)))
        let n = try first.read(batchSize, into: x, labels: labels)
        normalizer.apply(x, count: n * train.imageSize)
        return (n, .labels(labels))
    }

    /// A streamed split that fails to read stops the pass; the error is thrown after it.
    public func evaluate(_ engine: StepEngine, method: QuantMethod, x: UnsafeMutablePointer<Float>) throws -> (metric: Float, loss: Float) {
        let (test, labels, b, normalizer) = (test, labels, batchSize, normalizer)
        var failure: Error?
        let result = engine.evaluate(method: method) { body in
            do {
                let reader = try test.pass(.stored)
                while true {
                    let n = try reader.read(b, into: x, labels: labels)
                    guard n > 0 else { break }
                    normalizer.apply(x, count: n * test.imageSize)
                    body(x, .labels(labels), n)
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return result
    }

    /// A fixed draw from the seed, no augmentation, batches of at least 2.
    public func recalibrateBatchNorm(_ engine: StepEngine, method: QuantMethod, images: Int,
                                     x: UnsafeMutablePointer<Float>) throws -> Int {
        let (train, labels, b, normalizer, seed) = (train, labels, batchSize, normalizer, seed)
        var count = max(2, min(images, train.count))
        if count % b == 1 { count -= 1 }  // a last batch of one image has no batch variance
        var failure: Error?, used = 0
        engine.recalibrateBatchNorm(method: method) { body in
            do {
                let reader = try train.pass(.shuffled(RNG(seed: seed, stream: .calibration)))
                while used < count {
                    let n = try reader.read(min(b, count - used), into: x, labels: labels)
                    guard n > 0 else { break }
                    normalizer.apply(x, count: n * train.imageSize)
                    body(x, n)
                    used += n
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return used
    }
}
