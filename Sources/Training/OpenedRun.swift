import BTCore
import Foundation
import Kernels
import Layers
import Models
import Quantizers
import Records

/// A trained run rebuilt from its folder: the checkpoint's weights and every quantizer's state in a fresh engine,
/// for classification and restoration alike. `RunFolder.open` makes the model alone (summary, predict, upscale,
/// denoise); `RunFolder.openForEvaluation` adds the run's data, to measure it under any method.
public final class OpenedRun {
    public let folder: RunFolder
    public let checkpoint: Checkpoint
    /// The checkpoint's options (the run as it was made; `--data-dir` may point at moved data).
    public let config: TrainConfig
    public let model: any Model
    public let engine: StepEngine
    /// The task with its data, when opened for evaluation.
    public let task: (any TrainingTask)?
    private let x: FloatBuffer?

    /// The method the run was trained with (at its checkpoint).
    public var trainedMethod: QuantMethod { checkpoint.header.method }
    /// The restoration net of an sr or denoise run (whose evaluation and export need its whole-image passes).
    public var restorationNet: RestorationNet? { model as? RestorationNet }
    /// The run's model definition.
    public var definition: ModelDefinition { config.modelDefinition ?? .vgg6 }

    init(folder: RunFolder, checkpoint: Checkpoint, config: TrainConfig, model: any Model, task: (any TrainingTask)?) {
        self.folder = folder; self.checkpoint = checkpoint; self.config = config; self.model = model; self.task = task
        engine = StepEngine(model: model, spec: checkpoint.header.spec ?? config.spec, seed: config.seed,
                            noiseRatio: config.noiseRatio, regReduction: config.regReduction)
        x = task.map { FloatBuffer(count: config.batchSize * $0.model.inputSize) }
    }

    /// The test metric and loss under `method` (the batch norms' statistics as they are).
    public func evaluate(method: QuantMethod) throws -> (metric: Float, loss: Float) {
        guard let task, let x else { throw BTError("\(folder.path) was opened without its data") }
        return try task.evaluate(engine, method: method, x: x.ptr)
    }

    /// Re-estimates the batch norms' running statistics under `method` on `images` training images (a fixed draw
    /// from the seed, no augmentation); returns how many it used. `restoreStored()` puts the checkpoint's back.
    public func recalibrateBatchNorm(method: QuantMethod, images: Int) throws -> Int {
        guard let task, let x else { throw BTError("\(folder.path) was opened without its data") }
        return try task.recalibrateBatchNorm(engine, method: method, images: images, x: x.ptr)
    }

    /// The checkpoint's weights and batch-norm statistics again.
    public func restoreStored() throws { try checkpoint.restore(into: engine, optimizer: false) }
}

extension RunFolder {
    /// The run's model with its checkpoint, quantized with the method it was trained with; no data is read.
    /// `maxBatch` bounds VGG-6's batch; `evalSide` the restoration net's whole-image side. `checkpoint` is the
    /// folder's, if the caller has read it already.
    public func open(checkpoint: Checkpoint? = nil, maxBatch: Int = 2, evalSide: Int = 64) throws -> OpenedRun {
        let ckpt = try checkpoint ?? loadCheckpoint()
        let c = ckpt.header.config
        let model = try Self.buildModel(ckpt, inputShape: { try classifierInput(ckpt).inputShape }, maxBatch: maxBatch, evalSide: evalSide)
        let run = OpenedRun(folder: self, checkpoint: ckpt, config: c, model: model, task: nil)
        try run.restoreStored()
        run.engine.quantize(ckpt.header.method)
        return run
    }

    /// A classifier's input shape and class count: the checkpoint's build facts (config.json's input shape and fc2's
    /// class count for files from before the model registry).
    public func classifierInput(_ ckpt: Checkpoint) throws -> (inputShape: [Int], classes: Int) {
        (try ckpt.header.inputShape ?? readConfig().header.inputShape, try ckpt.classCount())
    }

    /// The model a checkpoint describes, from its config's model id and options and its build facts (for files from
    /// before the model registry: config.json's input shape and fc2's class count). Restoration nets are built for
    /// one image of up to `evalSide` a side.
    static func buildModel(_ ckpt: Checkpoint, inputShape legacyShape: () throws -> [Int], maxBatch: Int, evalSide: Int) throws -> any Model {
        let c = ckpt.header.config
        guard let definition = c.modelDefinition else { throw BTError("the checkpoint's model \(c.model) is not one this btviz knows") }
        let build: ModelBuild
        switch definition.task {
        case .restoration:
            let s = c.restorationTask.scale
            build = ModelBuild(options: c.modelOptions, inputShape: [1, c.patch / s, c.patch / s], classes: 0, maxBatch: 1,
                               upscale: s, evalSide: evalSide)
        case .classification:
            build = ModelBuild(options: c.modelOptions, inputShape: try ckpt.header.inputShape ?? legacyShape(),
                               classes: try ckpt.classCount(), maxBatch: maxBatch)
        }
        return try definition.build(build)
    }

    /// The run's model with its task and data (the test split, and training images for batch-norm calibration).
    public func openForEvaluation(dataDir: String? = nil) throws -> OpenedRun {
        let ckpt = try loadCheckpoint()
        var c = ckpt.header.config
        if let dataDir { c.dataDir = dataDir }
        let task = try makeTrainingTask(config: ValidatedConfig(c), resume: ckpt)
        let run = OpenedRun(folder: self, checkpoint: ckpt, config: c, model: task.model, task: task)
        try run.restoreStored()
        return run
    }
}
