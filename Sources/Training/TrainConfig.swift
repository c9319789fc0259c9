import BTCore
import Datasets
import Layers
import Models
import Quantizers

/// What a run learns: image classes, or an image from a degraded one.
public enum TrainTask: String, Codable, CaseIterable, Sendable {
    case classify
    /// Super-resolution by `scale`.
    case sr
    /// Denoising Gaussian noise of std `sigma`.
    case denoise

    public var isRestoration: Bool { self != .classify }
}

/// Everything that defines a run. Saved as RUN/config.json; `--resume` reads it back.
public struct TrainConfig: Codable, Sendable {
    public var task: TrainTask = .classify
    public var dataset: String = "synthetic"
    public var dataDir: String?
    public var method: QuantMethod = .bt
    public var lambda: Float = QuantMethod.bt.definition.defaultLambda
    /// The network: an id of `ModelRegistry` (vgg6 for classification, srnet for sr and denoise by default), and
    /// every model's options (a run stores its own model's, at the top level of config.json under their keys).
    public var model: String = ModelDefinition.vgg6.id
    public var modelOptions = ModelOptions()
    public var epochs: Int = 15
    public var batchSize: Int = 128
    public var lr: Float = 2e-3
    public var seed: UInt64 = 0
    /// Every quantizer's options (delta_ratio, ttq_t, ...), stored at the top level of config.json under their keys.
    public var quantOptions = QuantOptions()
    public var noiseRatio: Float = 0.1
    /// R summed over a layer's weights (the paper's L1 norm) or averaged.
    public var regReduction: RegReduction = .sum
    public var initScheme: InitScheme = .pytorch
    public var crop: Bool = true
    public var cutout: Bool = true
    /// Horizontal flips where the dataset's catalog entry allows them (never for digits).
    public var flip: Bool = true
    /// An image folder's input side, how images are fitted to it, and its test split (a folder or a share).
    public var imageSize: Int?
    public var fit: ImageFit?
    public var testDir: String?
    public var testRatio: Double?
    public var logEvery: Int = 10
    public var histogramBins: Int = 100
    /// Use only the first N training / test images (0 = all): for quick runs and tests.
    public var trainLimit: Int = 0
    public var testLimit: Int = 0
    /// Restoration: the scale (sr), the noise std on [0, 1] intensities (denoise), the high-resolution patch side,
    /// the folder of training images (nil: T91), the set validated on each epoch, and steps per epoch.
    public var scale: Int = 2
    public var sigma: Float = 0.1
    public var patch: Int = 48
    public var trainData: String?
    public var valSet: String = "set5"
    public var epochSteps: Int = 500

    /// The run's model definition, or nil for an unknown id (`validate` says so).
    public var modelDefinition: ModelDefinition? { ModelRegistry.named(model) }
    /// The model's id and its options, e.g. "resnet depth=20 quantize_ends=off": what tells two models apart.
    public var modelDescription: String {
        guard let d = modelDefinition else { return model }
        return ([model] + modelOptions.of(d).map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }

    /// VGG-6's width K.
    public var k: Int {
        get { modelOptions.integer("k") }
        set { modelOptions["k"] = .integer(newValue) }
    }
    /// The restoration net: batch norm after the first and body convs instead of their biases.
    public var batchNorm: Bool {
        get { modelOptions.flag("batch_norm") }
        set { modelOptions["batch_norm"] = .flag(newValue) }
    }
    /// The restoration net: a learned gain per output channel on each quantized conv's weights (`Conv3x3.gain`).
    public var channelGain: Bool {
        get { modelOptions.flag("channel_gain") }
        set { modelOptions["channel_gain"] = .flag(newValue) }
    }

    enum CodingKeys: String, CodingKey {
        case dataset, method, lambda, model, epochs, lr, seed, crop, cutout
        case dataDir = "data_dir", batchSize = "batch_size"
        case noiseRatio = "noise_ratio", logEvery = "log_every", histogramBins = "histogram_bins"
        case trainLimit = "train_limit", testLimit = "test_limit"
        case regReduction = "reg_reduction", initScheme = "init"
        case flip, imageSize = "image_size", fit, testDir = "test_dir", testRatio = "test_ratio"
        case task, scale, sigma, patch, trainData = "train_data", valSet = "val_set", epochSteps = "epoch_steps"
    }

    /// A new run's defaults for `task`: the declaration above, or for sr and denoise `restoration(task)`.
    public static func defaults(for task: TrainTask) -> TrainConfig {
        task.isRestoration ? restoration(task) : TrainConfig()
    }

    /// A restoration run's defaults where they differ from classification's.
    public static func restoration(_ task: TrainTask) -> TrainConfig {
        var c = TrainConfig()
        c.task = task
        c.model = ModelDefinition.restoration.id
        c.batchSize = 16
        c.lr = 1e-3
        c.epochs = 10
        // The MSE's gradients on [0, 1] intensities are far smaller than cross-entropy's: at λ = 1e-6 the pull
        // already holds every weight at a transition and the net never leaves the bicubic output (T91 x2, BT).
        c.lambda = 0
        return c
    }

    /// The image-folder options the loader takes (defaults: 32x32, resized).
    public var folderOptions: ImageFolderOptions {
        ImageFolderOptions(side: imageSize ?? 32, fit: fit ?? .resize, testDir: testDir, testRatio: testRatio)
    }

    /// The quantizer options every method of this run is built with.
    public var spec: QuantSpec { QuantSpec(method: method, options: quantOptions) }

    public init() {}

    /// The default λ per method: the method's definition says (docs/results.md, the λ study).
    public static func defaultLambda(for method: QuantMethod) -> Float { method.definition.defaultLambda }

    /// Every key is optional on reading, so a newer btviz reads older configs. Keys added later default to
    /// what the version that wrote the file did (a mean regularizer and He-normal weights), not today's default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.dataset, &dataset)
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir)
        try read(.method, &method); try read(.lambda, &lambda); try read(.epochs, &epochs)
        try read(.batchSize, &batchSize); try read(.lr, &lr); try read(.seed, &seed)
        try read(.noiseRatio, &noiseRatio)
        try quantOptions.decode(from: decoder)
        try read(.crop, &crop); try read(.cutout, &cutout); try read(.logEvery, &logEvery)
        try read(.histogramBins, &histogramBins); try read(.trainLimit, &trainLimit); try read(.testLimit, &testLimit)
        try read(.flip, &flip)
        try read(.task, &task); try read(.scale, &scale); try read(.sigma, &sigma); try read(.patch, &patch)
        trainData = try c.decodeIfPresent(String.self, forKey: .trainData)
        try read(.valSet, &valSet); try read(.epochSteps, &epochSteps)
        // Runs from before the model registry name no model: VGG-6 for classification, the restoration net otherwise.
        model = task.isRestoration ? ModelDefinition.restoration.id : ModelDefinition.vgg6.id
        try read(.model, &model)
        try modelOptions.decode(from: decoder)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
        fit = try c.decodeIfPresent(ImageFit.self, forKey: .fit)
        testDir = try c.decodeIfPresent(String.self, forKey: .testDir)
        testRatio = try c.decodeIfPresent(Double.self, forKey: .testRatio)
        regReduction = try c.decodeIfPresent(RegReduction.self, forKey: .regReduction) ?? .mean
        initScheme = try c.decodeIfPresent(InitScheme.self, forKey: .initScheme) ?? .he
    }

    /// Every key as the synthesized coding would write it (nil ones left out), and the quantizers' options beside them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task); try c.encode(dataset, forKey: .dataset)
        try c.encodeIfPresent(dataDir, forKey: .dataDir)
        try c.encode(method, forKey: .method); try c.encode(lambda, forKey: .lambda); try c.encode(model, forKey: .model)
        try c.encode(epochs, forKey: .epochs); try c.encode(batchSize, forKey: .batchSize); try c.encode(lr, forKey: .lr)
        try c.encode(seed, forKey: .seed); try c.encode(noiseRatio, forKey: .noiseRatio)
        try c.encode(regReduction, forKey: .regReduction); try c.encode(initScheme, forKey: .initScheme)
        try c.encode(crop, forKey: .crop); try c.encode(cutout, forKey: .cutout); try c.encode(flip, forKey: .flip)
        try c.encodeIfPresent(imageSize, forKey: .imageSize); try c.encodeIfPresent(fit, forKey: .fit)
        try c.encodeIfPresent(testDir, forKey: .testDir); try c.encodeIfPresent(testRatio, forKey: .testRatio)
        try c.encode(logEvery, forKey: .logEvery); try c.encode(histogramBins, forKey: .histogramBins)
        try c.encode(trainLimit, forKey: .trainLimit); try c.encode(testLimit, forKey: .testLimit)
        try c.encode(scale, forKey: .scale); try c.encode(sigma, forKey: .sigma); try c.encode(patch, forKey: .patch)
        try c.encodeIfPresent(trainData, forKey: .trainData); try c.encode(valSet, forKey: .valSet)
        try c.encode(epochSteps, forKey: .epochSteps)
        if let definition = modelDefinition { try modelOptions.encode(to: encoder, model: definition) }
        try quantOptions.encode(to: encoder)
    }

    /// An upper bound on a run's steps (every image once per epoch at batch size 2): what a checkpoint's step
    /// is checked against. Nil if the options are out of range.
    public var stepsLimit: Int? {
        guard (1...100_000).contains(epochs) else { return nil }
        return epochs * 100_000_000
    }

    /// The first value no run can use, as a problem named by its config.json key (the command line names its flags).
    public func validate() throws {
        func need(_ ok: Bool, _ key: String, _ template: @autoclosure () -> String) throws {
            if !ok { throw ConfigProblem(key, template()) }
        }
        guard let definition = modelDefinition else {
            throw ConfigProblem("model", "{model} must be one of \(ModelRegistry.ids.joined(separator: ", ")) (got \(model))")
        }
        let wanted: ModelTask = task.isRestoration ? .restoration : .classification
        if definition.task != wanted {
            let fits = ModelRegistry.models(for: wanted).map(\.id).joined(separator: ", ")
            throw ConfigProblem("model", "{model} \(model) is a \(definition.task.rawValue) model; {task} \(task.rawValue) takes \(fits)")
        }
        if let p = modelOptions.problem(for: definition) { throw ConfigProblem(p.key, "{\(p.key)} must be \(p.accepted) (got \(p.value))") }
        try need(lambda >= 0 && lambda.isFinite, "lambda", "{lambda} must be a finite number >= 0 (got \(lambda))")
        try need(epochs >= 1 && epochs <= 100_000, "epochs", "{epochs} must be in 1...100000 (got \(epochs))")
        try need(batchSize >= 2 && batchSize <= 4096, "batch_size", "{batch_size} must be in 2...4096 (got \(batchSize))")
        try need(lr > 0 && lr.isFinite, "lr", "{lr} must be a finite number > 0 (got \(lr))")
        if let problem = spec.problem { throw problem }
        try need(noiseRatio > 0 && noiseRatio.isFinite, "noise_ratio", "{noise_ratio} must be > 0 (got \(noiseRatio))")
        try need(logEvery >= 1, "log_every", "{log_every} must be at least 1 (got \(logEvery))")
        try need(histogramBins >= 4 && histogramBins <= 1000, "histogram_bins", "{histogram_bins} must be in 4...1000")
        try need(trainLimit >= 0, "train_limit", "{train_limit} and {test_limit} must be >= 0")
        try need(testLimit >= 0, "test_limit", "{train_limit} and {test_limit} must be >= 0")
        if let imageSize { try need((8...512).contains(imageSize), "image_size", "{image_size} must be in 8...512 (got \(imageSize))") }
        if let testRatio { try need(testRatio > 0 && testRatio < 1, "test_ratio", "{test_ratio} must be between 0 and 1 (got \(testRatio))") }
        try need(testRatio == nil || testDir == nil, "test_ratio", "{test_dir} and {test_ratio} are two ways to choose the test split: give one")
        if task.isRestoration { return try validateRestoration() }
        let entry = try DatasetCatalog.named(dataset)
        if !entry.takesFolderOptions {
            let given = [("image_size", imageSize != nil), ("fit", fit != nil), ("test_dir", testDir != nil),
                         ("test_ratio", testRatio != nil)].filter(\.1).map(\.0)
            if let first = given.first {
                let shape = entry.imageShape.map { " (its images are \($0.map(String.init).joined(separator: "x")), its test split is official)" } ?? ""
                throw ConfigProblem(first, "{\(first)} does not apply to \(dataset)\(shape); it is for {dataset} folder")
            }
        }
    }

    private func validateRestoration() throws {
        if task == .sr, !(2...4).contains(scale) { throw ConfigProblem("scale", "{scale} must be 2, 3 or 4 (got \(scale))") }
        if task == .denoise, !(sigma > 0 && sigma <= 1) { throw ConfigProblem("sigma", "{sigma} must be in (0, 1] (got \(sigma))") }
        let s = task == .sr ? scale : 1
        guard patch >= 8 * s && patch <= 512 && patch % s == 0 else {
            throw ConfigProblem("patch", "{patch} must be a multiple of the scale from \(8 * s) to 512 (got \(patch))")
        }
        guard epochSteps >= 1 else { throw ConfigProblem("epoch_steps", "{epoch_steps} must be at least 1 (got \(epochSteps))") }
        guard batchSize <= 256 else { throw ConfigProblem("batch_size", "{batch_size} must be at most 256 for \(task.rawValue) (got \(batchSize))") }
    }
}

/// A config that passed `validate()`. It is checked once, where it comes in (the command line; a checkpoint's
/// header is checked as it is read), and passed down: what builds a run from it (`makeTrainingTask`, `Trainer`)
/// takes this and does not check again.
public struct ValidatedConfig: Sendable {
    public let config: TrainConfig

    public init(_ config: TrainConfig) throws {
        try config.validate()
        self.config = config
    }
}

/// A value no run can use, named by the option's config.json key. Its message writes every option it names as
/// `{key}`: the library spells them as keys, the command line as its flags, sweeps as their parameters.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The option at fault.
    public var key: String
    public var template: String

    public init(_ key: String, _ template: String) { self.key = key; self.template = template }

    /// The message with each `{key}` spelled by `name`.
    public func message(naming name: (String) -> String) -> String {
        var out = "", rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open] + name(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    public var description: String { message { $0 } }
}
