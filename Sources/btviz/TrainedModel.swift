import BTCore
import Layers
import Models
import Training

/// A run's model rebuilt from its checkpoint: the weights and quantizer state restored into a fresh engine.
enum TrainedModel {
    /// VGG-6 for a classification run, the restoration net for a super-resolution or denoising one. `header`
    /// (config.json's) gives VGG-6's K and input shape; `maxBatch` bounds VGG-6's batch, `evalSide` the
    /// restoration net's whole-image side.
    static func rebuild(_ ckpt: Checkpoint, header h: RunHeader, path: String, maxBatch: Int = 2,
                        evalSide: Int = 64) throws -> (model: any Model, engine: StepEngine) {
        if ckpt.header.config.task.isRestoration {
            let r = try RestorationTraining.load(ckpt, evalSide: evalSide)
            return (r.net, r.engine)
        }
        let c = try classifier(ckpt, header: h, path: path, maxBatch: maxBatch)
        return (c.model, c.engine)
    }

    /// VGG-6 with the checkpoint's weights, or a one-line error for a checkpoint that holds no classifier.
    static func classifier(_ ckpt: Checkpoint, header h: RunHeader, path: String, maxBatch: Int) throws -> (model: VGG6, engine: StepEngine) {
        guard let classes = ckpt.data["fc2.bias"]?.count, classes >= 2 else {
            throw BTError("\(path) holds no VGG-6 classifier (fc2.bias)")
        }
        try MemoryEstimate.check(k: h.k, inputShape: h.inputShape, classes: classes, batch: maxBatch)
        let model = VGG6(k: h.k, inputShape: h.inputShape, classes: classes, maxBatch: maxBatch)
        let engine = StepEngine(model: model, spec: ckpt.header.spec ?? ckpt.header.config.spec, seed: 0)
        try ckpt.restore(into: engine, optimizer: false)
        return (model, engine)
    }
}
