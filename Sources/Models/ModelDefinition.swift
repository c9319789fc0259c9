import BTCore
import Layers
import Records

/// What a model learns: image classes, or an image from a degraded one.
public enum ModelTask: String, Sendable {
    case classification, restoration
}

/// Everything btviz knows about one network family, declared in the model's own file and listed once in
/// `ModelRegistry.all`: its id, its own options (K belongs to VGG-6, depth to ResNet), how to build it from recorded
/// facts, its task, the metric it reports and its memory estimate. Training, `RunFolder.open`, `eval`, `bench`,
/// `predict`, `summary`, `export` and the sweep ask the definition; nothing else in the tree knows a model's id.
public struct ModelDefinition: Sendable {
    /// The id runs, checkpoints and the command line use ("resnet").
    public var id: String
    /// One line for help texts.
    public var summary: String
    public var task: ModelTask
    /// The metric its runs report.
    public var metric: Metric
    /// The model's own options; the CLI spells each as --key-with-dashes.
    public var options: [ModelOption]
    /// What reports and the explorer call the model so built, e.g. "VGG-6(16)", "ResNet-20".
    public var title: @Sendable (_ build: ModelBuild) -> String
    /// A fresh, uninitialized model.
    public var make: @Sendable (_ build: ModelBuild) -> any Model
    /// Bytes the model needs at `build.maxBatch` (activations, parameters with their gradients, quantized copies and
    /// Adam's moments), or nil if the count overflows: checked before anything is allocated.
    public var memoryBytes: @Sendable (_ build: ModelBuild) -> Int?

    public init(id: String, summary: String, task: ModelTask, metric: Metric, options: [ModelOption],
                title: @escaping @Sendable (ModelBuild) -> String,
                make: @escaping @Sendable (ModelBuild) -> any Model,
                memoryBytes: @escaping @Sendable (ModelBuild) -> Int?) {
        self.id = id; self.summary = summary; self.task = task; self.metric = metric; self.options = options
        self.title = title; self.make = make; self.memoryBytes = memoryBytes
    }

    /// Throws a one-line error when the model cannot fit in the memory this process may use (MemoryBudget: the
    /// machine's available memory, `ulimit -v` and the cgroup limit, whichever is tightest).
    public func checkMemory(_ build: ModelBuild, available: Int? = MemoryBudget.current()?.bytes) throws {
        let what = "\(title(build)) at batch \(build.maxBatch) on \(build.inputShape.map(String.init).joined(separator: "x")) inputs"
        // What the user can lower: the batch, and the model's own size options (VGG-6's k, ResNet's depth).
        var lower: SettingText = "\(setting: "batch_size")"
        for o in options { if case .integer = o.kind { lower = "\(lower) or \(setting: o.key)" } }
        guard let need = memoryBytes(build) else {
            throw BTError(settings: "\(what) needs more memory than can be counted; lower \(lower), or check the image size")
        }
        if let available, need > available {
            throw BTError(settings: "\(what) needs about \(Self.gigabytes(need)) of memory; this process may use \(Self.gigabytes(available)) (lower \(lower), or check the image size)")
        }
    }

    /// Checks the memory, then builds.
    public func build(_ build: ModelBuild) throws -> any Model {
        try checkMemory(build)
        return make(build)
    }

    static func gigabytes(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? "\((Double(bytes) / Double(1 << 30) * 10).rounded() / 10) GB" : "\(bytes >> 20) MB"
    }
}

/// The facts a model is built from: what a checkpoint records beside its tensors (as llm.c's header does), so a run
/// is rebuilt from its own files.
public struct ModelBuild: Sendable {
    public var options: ModelOptions
    /// One input sample's shape [channels, height, width] (restoration: the low-resolution training patch).
    public var inputShape: [Int]
    /// Classes of a classifier; 0 for restoration.
    public var classes: Int
    /// The largest batch the buffers hold.
    public var maxBatch: Int
    /// Restoration: 1 for denoising, else the super-resolution scale; and the whole-image side evaluated in one piece.
    public var upscale: Int
    public var evalSide: Int

    public init(options: ModelOptions, inputShape: [Int], classes: Int, maxBatch: Int, upscale: Int = 1, evalSide: Int = 0) {
        self.options = options; self.inputShape = inputShape; self.classes = classes; self.maxBatch = maxBatch
        self.upscale = upscale; self.evalSide = evalSide
    }
}

/// One option of a model: its key (config.json, checkpoints; the CLI's flag is --key-with-dashes), what it means,
/// its default and what it accepts.
public struct ModelOption: Sendable {
    public enum Kind: Sendable {
        /// One of `allowed` when given, else anything in the range.
        case integer(default: Int, range: ClosedRange<Int>, allowed: [Int]? = nil)
        case flag(default: Bool)
    }

    public var key: String
    public var help: String
    public var kind: Kind

    public init(key: String, help: String, kind: Kind) { self.key = key; self.help = help; self.kind = kind }

    public var defaultValue: ModelOptionValue {
        switch kind {
        case .integer(let d, _, _): .integer(d)
        case .flag(let d): .flag(d)
        }
    }

    /// "in 1...512", "one of 20, 32, 44, 56", "on or off".
    public var accepted: String {
        switch kind {
        case .integer(_, _, let allowed?): "one of " + allowed.map(String.init).joined(separator: ", ")
        case .integer(_, let r, nil): "in \(r.lowerBound)...\(r.upperBound)"
        case .flag: "on or off"
        }
    }

    /// Nil if the value is accepted.
    public func problem(_ v: ModelOptionValue) -> ModelOptionProblem? {
        let ok: Bool
        switch (kind, v) {
        case (.integer(_, _, let allowed?), .integer(let x)): ok = allowed.contains(x)
        case (.integer(_, let r, nil), .integer(let x)): ok = r.contains(x)
        case (.flag, .flag): ok = true
        default: ok = false
        }
        return ok ? nil : ModelOptionProblem(key: key, accepted: accepted, value: "\(v)")
    }
}

public enum ModelOptionValue: Sendable, Equatable, Hashable, CustomStringConvertible {
    case integer(Int), flag(Bool)

    public var integer: Int? { if case .integer(let x) = self { x } else { nil } }
    public var flag: Bool? { if case .flag(let x) = self { x } else { nil } }

    public var description: String {
        switch self {
        case .integer(let x): "\(x)"
        case .flag(let x): x ? "on" : "off"
        }
    }
}

/// An option value out of range, named by its key.
public struct ModelOptionProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var accepted: String
    public var value: String
    public var description: String { "\(key) must be \(accepted) (got \(value))" }
}

/// Every registry model option's value, by key (defaults where not set). A run stores only its own model's options.
public struct ModelOptions: Sendable, Equatable {
    public private(set) var values: [String: ModelOptionValue]

    public init() {
        values = Dictionary(uniqueKeysWithValues: ModelRegistry.options.map { ($0.key, $0.defaultValue) })
    }

    public subscript(key: String) -> ModelOptionValue? {
        get { values[key] }
        set { if let newValue { values[key] = newValue } }
    }

    public func integer(_ key: String) -> Int { values[key]?.integer ?? ModelRegistry.option(key)?.defaultValue.integer ?? 0 }
    public func flag(_ key: String) -> Bool { values[key]?.flag ?? ModelRegistry.option(key)?.defaultValue.flag ?? false }

    /// The values of `model`'s options, in its declaration order.
    public func of(_ model: ModelDefinition) -> [(key: String, value: ModelOptionValue)] {
        model.options.map { ($0.key, values[$0.key] ?? $0.defaultValue) }
    }

    /// The first of `model`'s option values out of range, or another model's option set away from its default.
    public func problem(for model: ModelDefinition) -> ModelOptionProblem? {
        for o in model.options { if let v = values[o.key], let p = o.problem(v) { return p } }
        let own = Set(model.options.map(\.key))
        for o in ModelRegistry.options where !own.contains(o.key) && values[o.key] != o.defaultValue {
            let owners = ModelRegistry.all.filter { d in d.options.contains { $0.key == o.key } }.map(\.id)
            return ModelOptionProblem(key: o.key, accepted: "left unset: it is an option of \(owners.joined(separator: ", ")), not of \(model.id)",
                                      value: values[o.key].map { "\($0)" } ?? "")
        }
        return nil
    }

    /// Reads every registry option present under its key (a file written before an option existed keeps the default).
    public mutating func decode(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: OptionKey.self)
        for o in ModelRegistry.options {
            switch o.kind {
            case .integer: if let v = try c.decodeIfPresent(Int.self, forKey: OptionKey(o.key)) { values[o.key] = .integer(v) }
            case .flag: if let v = try c.decodeIfPresent(Bool.self, forKey: OptionKey(o.key)) { values[o.key] = .flag(v) }
            }
        }
    }

    /// Writes `model`'s options under their keys, beside the encoder's other keys.
    public func encode(to encoder: any Encoder, model: ModelDefinition) throws {
        var c = encoder.container(keyedBy: OptionKey.self)
        for (key, value) in of(model) {
            switch value {
            case .integer(let v): try c.encode(v, forKey: OptionKey(key))
            case .flag(let v): try c.encode(v, forKey: OptionKey(key))
            }
        }
    }
}
