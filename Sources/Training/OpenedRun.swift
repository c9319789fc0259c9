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
    /// The model as what it is: VGG-6 for a classification run, the restoration net for sr and denoise.
    public var classifier: VGG6? { model as? VGG6 }
    public var restorationNet: RestorationNet? { model as? RestorationNet }

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
        let model: any Model
        if c.task.isRestoration {
            model = RestorationNet(task: c.restorationTask.netTask, patch: c.patch / c.restorationTask.scale, maxBatch: 1,
                                   evalSide: evalSide, batchNorm: c.batchNorm, channelGain: c.channelGain)
        } else {
            // VGG-6's input shape is the data's, kept in config.json; its class count is the checkpoint's.
            let h = try readConfig().header
            guard let classes = ckpt.data["fc2.bias"]?.count, classes >= 2 else {
                throw BTError("\(checkpointPath) holds no VGG-6 classifier (fc2.bias)")
            }
            try VGG6.checkMemory(k: h.k, inputShape: h.inputShape, classes: classes, batch: maxBatch)
            model = VGG6(k: h.k, inputShape: h.inputShape, classes: classes, maxBatch: maxBatch)
        }
        let run = OpenedRun(folder: self, checkpoint: ckpt, config: c, model: model, task: nil)
        try run.restoreStored()
        run.engine.quantize(ckpt.header.method)
        return run
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
