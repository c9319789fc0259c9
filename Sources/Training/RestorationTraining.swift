import Records
import BTCore
import Datasets
import Foundation
import Kernels
import Models
import Quantizers
import Restoration

/// Super-resolution or denoising on the Y channel: random patches of the training images (T91 unless the run
/// names a folder), validated after each epoch on whole images of a benchmark set (Set5) by the benchmarks'
/// PSNR (0-255 Y, rounded prediction, `scale` pixels shaved for super-resolution).
public final class RestorationTraining: TrainingTask {
    public let dataName: String
    public let net: RestorationNet
    public var model: any Model { net }
    public let stepsPerEpoch: Int
    /// Every batch is full: an epoch is a number of steps of random patches.
    public let lastBatchImages: Int
    public let notes: [String]
    public let validationSet: String
    public let validation: [EvaluationPair]
    private let patches: RestorationPatches
    private let target: FloatBuffer

    public init(config c: TrainConfig) throws {
        let task = c.restorationTask
        let folder = try c.trainData ?? RestorationSet.t91.folder(dataDir: c.dataDir)
        patches = try RestorationPatches(folder: folder, task: task, patchSize: c.patch, batchSize: c.batchSize, seed: c.seed)
        guard let set = RestorationSet(name: c.valSet) else {
            throw BTError(settings: "unknown \(setting: "val_set") \(c.valSet); choose from \(RestorationSet.names)")
        }
        validationSet = set.rawValue
        validation = try Self.pairs(set: set, task: task, dataDir: c.dataDir)
        // Validation images go through the net whole (up to 640 pixels a side; larger ones in tiles).
        let side = min(640, validation.map { max($0.input.width, $0.input.height) }.max() ?? 0)
        net = try Self.build(config: c, inputSide: patches.inputSide, maxBatch: c.batchSize, evalSide: side)
        net.initialize(seed: c.seed)
        target = FloatBuffer(count: c.batchSize * net.outputSize)
        stepsPerEpoch = c.epochSteps
        lastBatchImages = c.batchSize
        dataName = (folder as NSString).lastPathComponent
        notes = patches.notes
    }

    /// A benchmark set's evaluation pairs: the same noisy images for every run (the noise is seeded per image).
    public static func pairs(set: RestorationSet, task: RestorationTask, dataDir: String?) throws -> [EvaluationPair] {
        try set.files(dataDir: dataDir).map { try Degradation.pair(HRImage.read(path: $0), task: task) }
    }

    public var inputShape: [Int] { [1, patches.inputSide, patches.inputSide] }
    public var classes: Int { 0 }

    /// The run's restoration net from its definition (the registry's srnet).
    static func build(config c: TrainConfig, inputSide: Int, maxBatch: Int, evalSide: Int) throws -> RestorationNet {
        guard let definition = c.modelDefinition, definition.task == .restoration else {
            throw ConfigProblem("model", "{model} \(c.model) is not a restoration model")
        }
        let model = try definition.build(ModelBuild(options: c.modelOptions, inputShape: [1, inputSide, inputSide], classes: 0,
                                                    maxBatch: maxBatch, upscale: c.restorationTask.scale, evalSide: evalSide))
        guard let net = model as? RestorationNet else { throw BTError("\(c.model) does not build a restoration net") }
        return net
    }
    public var testCount: Int { validation.count }
    public var dataIdentity: DataIdentity? { nil }  // the training images are sampled as patches; the config names them
    public var normalization: (mean: [Float], std: [Float]) { ([0], [1]) }

    /// Restoration trains on one process (ranks refuse it), so `share` is always the whole batch.
    public func batch(step: Int, into x: UnsafeMutablePointer<Float>, share: ((Int) -> Range<Int>)?) throws -> (n: Int, targets: Targets) {
        net.setSpatial(h: patches.inputSide, w: patches.inputSide)
        patches.fill(step: step, input: x, target: target.ptr)
        return (patches.batchSize, .values(target.ptr))
    }

    public func firstBatch(into x: UnsafeMutablePointer<Float>) throws -> (n: Int, targets: Targets) {
        try batch(step: 0, into: x)
    }

    /// Mean PSNR (dB) over the validation images and their mean squared error on [0, 1].
    public func evaluate(_ engine: StepEngine, method: QuantMethod, x: UnsafeMutablePointer<Float>) throws -> (metric: Float, loss: Float) {
        engine.quantize(method)
        let r = Self.measure(net, on: validation)
        return (Float(r.psnr), Float(r.mse))
    }

    /// The net's mean PSNR and MSE over `pairs`, predictions rounded to 0-255 as a saved image would be.
    public static func measure(_ net: RestorationNet, on pairs: [EvaluationPair]) -> (psnr: Double, mse: Double) {
        var psnrSum = 0.0, mseSum = 0.0
        for pair in pairs {
            let out = pair.input.pixels.withUnsafeBufferPointer {
                net.predict($0.baseAddress!, h: pair.input.height, w: pair.input.width)
            }
            let prediction = Plane(width: pair.target.width, height: pair.target.height,
                                   pixels: out.map { (min(max(Double($0), 0), 1) * 255).rounded() })
            psnrSum += psnr(prediction, pair.target, shave: pair.shave)
            var se = 0.0
            for (p, t) in zip(out, pair.target.pixels) { let d = Double(p) - t / 255; se += d * d }
            mseSum += se / Double(out.count)
        }
        return (psnrSum / Double(max(pairs.count, 1)), mseSum / Double(max(pairs.count, 1)))
    }

    public func recalibrateBatchNorm(_ engine: StepEngine, method: QuantMethod, images: Int, x: UnsafeMutablePointer<Float>) throws -> Int { 0 }
}

extension TrainConfig {
    /// The degradation a restoration run undoes.
    public var restorationTask: RestorationTask { task == .sr ? .superResolution(scale: scale) : .denoise(sigma: sigma) }
}

extension RestorationTask {
    var netTask: RestorationNet.Task {
        if case .superResolution(let s) = self { return .superResolution(scale: s) }
        return .denoise
    }
}

extension RestorationSet {
    /// The folder the set's images were found in.
    public func folder(dataDir: String?) throws -> String {
        (try files(dataDir: dataDir)[0] as NSString).deletingLastPathComponent
    }
}
