/// What a training run reports. These records are the only thing that flows from the engine
/// to its observers (metrics.jsonl, the headless progress line, the live explorer, replay),
/// so each one is Codable and a run can be rebuilt from its metrics.jsonl alone.

/// A histogram: `edges.count == counts.count + 1`.
public struct Histogram: Codable, Sendable, Equatable {
    public var edges: [Float]
    public var counts: [Int]
    public init(edges: [Float], counts: [Int]) { self.edges = edges; self.counts = counts }
}

/// What another method would make of a layer's latent weights at this step (nothing is changed by asking).
public struct WhatIfFit: Codable, Sendable, Equatable {
    public var method: String
    public var transitions: [Float]
    public var levels: [Float]
    public var levelCounts: [Int]
    /// ||W - Q(W)|| / ||W|| under that method.
    public var quantError: Float

    enum CodingKeys: String, CodingKey {
        case method, transitions, levels
        case levelCounts = "level_counts", quantError = "quant_error"
    }

    public init(method: String, transitions: [Float], levels: [Float], levelCounts: [Int], quantError: Float) {
        self.method = method; self.transitions = transitions; self.levels = levels; self.levelCounts = levelCounts
        self.quantError = quantError
    }
}

/// One quantized layer at one step.
public struct LayerRecord: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Named scales: `a` (BWN, TWN) or `a1`, `a2`, `a_opt` (BT). Empty for full precision.
    public var scales: [String: Float]
    /// Named thresholds in latent-weight units: `delta` (TWN) or `d1` (BT, on the residual).
    public var thresholds: [String: Float]
    /// Transition points in latent-weight units, sorted (channel means where each channel has its own).
    public var transitions: [Float]
    /// Per-channel methods (LQ-Nets): each transition's 10th and 90th percentile over channels.
    public var transitionBands: [[Float]]?
    /// Quantized values in transition order (channel means where each channel has its own), and how many
    /// weights sit at each.
    public var levels: [Float]
    public var levelCounts: [Int]
    /// Share of weights whose level changes under the regularizer's noise.
    public var flipFraction: Float
    /// Share of weights whose level changed since the previous step (Larq's FlipRatio).
    public var flipRatio: Float
    /// Mean |w - nearest transition| / first scale.
    public var meanTransitionDistance: Float
    /// ||W - Q(W)|| / ||W||.
    public var quantError: Float
    /// The regularizer's R for this layer: sum (or mean, see StepRecord.regReduction) of |Q(W) - Q(W~)|.
    public var reg: Float
    /// Latent weights.
    public var histogram: Histogram
    /// |w - nearest transition| / first scale.
    public var distanceHistogram: Histogram
    /// The other quantized methods on the same latent weights (absent in older runs).
    public var whatIf: [WhatIfFit]?
    /// How the fit names its transitions, scales and levels (absent in older runs: see `fitDescription(method:)`).
    public var fit: FitDescription?

    enum CodingKeys: String, CodingKey {
        case name, shape, scales, thresholds, transitions, levels, reg, histogram, fit
        case transitionBands = "transition_bands"
        case levelCounts = "level_counts", flipFraction = "flip_fraction", flipRatio = "flip_ratio"
        case meanTransitionDistance = "mean_transition_distance", quantError = "quant_error"
        case distanceHistogram = "distance_histogram", whatIf = "what_if"
    }

    public init(name: String, shape: [Int], scales: [String: Float], thresholds: [String: Float],
                transitions: [Float], transitionBands: [[Float]]? = nil, levels: [Float], levelCounts: [Int], flipFraction: Float,
                flipRatio: Float, meanTransitionDistance: Float, quantError: Float, reg: Float,
                histogram: Histogram, distanceHistogram: Histogram, whatIf: [WhatIfFit]? = nil, fit: FitDescription? = nil) {
        self.name = name; self.shape = shape; self.scales = scales; self.thresholds = thresholds
        self.transitions = transitions; self.transitionBands = transitionBands; self.levels = levels; self.levelCounts = levelCounts
        self.flipFraction = flipFraction; self.flipRatio = flipRatio
        self.meanTransitionDistance = meanTransitionDistance; self.quantError = quantError; self.reg = reg
        self.histogram = histogram; self.distanceHistogram = distanceHistogram; self.whatIf = whatIf
        self.fit = fit
    }
}

/// `{"type":"step", ...}`: written every `--log-every` steps.
public struct StepRecord: Codable, Sendable {
    public var type = "step"
    public var step: Int
    public var epoch: Int
    public var totalSteps: Int
    public var method: String
    public var lambda: Float
    /// L = task_loss - lambda * reg_loss.
    public var loss: Float
    public var taskLoss: Float
    /// Sum over layers of R.
    public var regLoss: Float
    /// How each layer's R adds up its weights: "sum" (the paper's L1 norm) or "mean". Absent in runs
    /// written before the choice existed, which used the mean.
    public var regReduction: String?
    /// What the objective is judged by (a `Metric`'s name: "accuracy", "psnr"), and its value on this training batch.
    public var metric: String
    public var batchMetric: Float
    public var lr: Float
    public var samplesPerS: Float
    public var etaS: Float
    public var layers: [LayerRecord]
    /// When the record was logged, in seconds since 1970 (TensorBoard's wall time); absent in older runs.
    public var time: Double?

    enum CodingKeys: String, CodingKey {
        case type, step, epoch, method, lambda, loss, lr, layers, metric, time
        case totalSteps = "total_steps", taskLoss = "task_loss", regLoss = "reg_loss", batchMetric = "batch_metric"
        case samplesPerS = "samples_per_s", etaS = "eta_s", regReduction = "reg_reduction"
        case batchAcc = "batch_acc"  // before metrics were named
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step); epoch = try c.decode(Int.self, forKey: .epoch)
        totalSteps = try c.decode(Int.self, forKey: .totalSteps); method = try c.decode(String.self, forKey: .method)
        lambda = try c.decode(Float.self, forKey: .lambda); loss = try c.decode(Float.self, forKey: .loss)
        taskLoss = try c.decode(Float.self, forKey: .taskLoss); regLoss = try c.decode(Float.self, forKey: .regLoss)
        regReduction = try c.decodeIfPresent(String.self, forKey: .regReduction)
        metric = try c.decodeIfPresent(String.self, forKey: .metric) ?? Metric.accuracy.name
        batchMetric = try c.decodeIfPresent(Float.self, forKey: .batchMetric) ?? c.decode(Float.self, forKey: .batchAcc)
        lr = try c.decode(Float.self, forKey: .lr); samplesPerS = try c.decode(Float.self, forKey: .samplesPerS)
        etaS = try c.decode(Float.self, forKey: .etaS); layers = try c.decode([LayerRecord].self, forKey: .layers)
        time = try c.decodeIfPresent(Double.self, forKey: .time)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type); try c.encode(step, forKey: .step); try c.encode(epoch, forKey: .epoch)
        try c.encode(totalSteps, forKey: .totalSteps); try c.encode(method, forKey: .method)
        try c.encode(lambda, forKey: .lambda); try c.encode(loss, forKey: .loss); try c.encode(taskLoss, forKey: .taskLoss)
        try c.encode(regLoss, forKey: .regLoss); try c.encodeIfPresent(regReduction, forKey: .regReduction)
        try c.encode(metric, forKey: .metric); try c.encode(batchMetric, forKey: .batchMetric)
        try c.encode(lr, forKey: .lr); try c.encode(samplesPerS, forKey: .samplesPerS); try c.encode(etaS, forKey: .etaS)
        try c.encode(layers, forKey: .layers); try c.encodeIfPresent(time, forKey: .time)
    }

    public init(step: Int, epoch: Int, totalSteps: Int, method: String, lambda: Float, loss: Float,
                taskLoss: Float, regLoss: Float, regReduction: String? = nil, metric: String = Metric.accuracy.name, batchMetric: Float,
                lr: Float, samplesPerS: Float,
                etaS: Float, layers: [LayerRecord]) {
        self.step = step; self.epoch = epoch; self.totalSteps = totalSteps; self.method = method
        self.lambda = lambda; self.loss = loss; self.taskLoss = taskLoss; self.regLoss = regLoss
        self.regReduction = regReduction
        self.metric = metric; self.batchMetric = batchMetric; self.lr = lr; self.samplesPerS = samplesPerS; self.etaS = etaS
        self.layers = layers
    }
}

/// `{"type":"epoch", ...}`: after each epoch's evaluation on the test split.
public struct EpochRecord: Codable, Sendable {
    public var type = "epoch"
    public var epoch: Int
    public var step: Int
    public var method: String
    /// The objective's metric (a `Metric`'s name: "accuracy", "psnr"): over the epoch's training batches, and on the test split.
    public var metric: String
    public var trainMetric: Float
    public var trainLoss: Float
    public var testMetric: Float
    public var testLoss: Float
    public var seconds: Float
    /// When the record was logged, in seconds since 1970; absent in older runs.
    public var time: Double?

    enum CodingKeys: String, CodingKey {
        case type, epoch, step, method, seconds, metric, time
        case trainMetric = "train_metric", trainLoss = "train_loss", testMetric = "test_metric", testLoss = "test_loss"
        case trainAcc = "train_acc", testAcc = "test_acc"  // before metrics were named
    }

    public init(epoch: Int, step: Int, method: String, metric: String = Metric.accuracy.name, trainMetric: Float, trainLoss: Float,
                testMetric: Float, testLoss: Float, seconds: Float) {
        self.epoch = epoch; self.step = step; self.method = method; self.metric = metric; self.trainMetric = trainMetric
        self.trainLoss = trainLoss; self.testMetric = testMetric; self.testLoss = testLoss; self.seconds = seconds
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch); step = try c.decode(Int.self, forKey: .step)
        method = try c.decode(String.self, forKey: .method)
        metric = try c.decodeIfPresent(String.self, forKey: .metric) ?? Metric.accuracy.name
        trainMetric = try c.decodeIfPresent(Float.self, forKey: .trainMetric) ?? c.decode(Float.self, forKey: .trainAcc)
        testMetric = try c.decodeIfPresent(Float.self, forKey: .testMetric) ?? c.decode(Float.self, forKey: .testAcc)
        trainLoss = try c.decode(Float.self, forKey: .trainLoss); testLoss = try c.decode(Float.self, forKey: .testLoss)
        seconds = try c.decode(Float.self, forKey: .seconds)
        time = try c.decodeIfPresent(Double.self, forKey: .time)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type); try c.encode(epoch, forKey: .epoch); try c.encode(step, forKey: .step)
        try c.encode(method, forKey: .method); try c.encode(metric, forKey: .metric)
        try c.encode(trainMetric, forKey: .trainMetric); try c.encode(trainLoss, forKey: .trainLoss)
        try c.encode(testMetric, forKey: .testMetric); try c.encode(testLoss, forKey: .testLoss)
        try c.encode(seconds, forKey: .seconds); try c.encodeIfPresent(time, forKey: .time)
    }
}

/// What an event record says happened. A struct over the string, not an enum: a kind written by a later version
/// still decodes (and counts as nothing this version acts on).
public struct EventKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(rawValue) }
    public var description: String { rawValue }

    /// A training started (`from` the folder's previous state, if replaced) or resumed from its checkpoint.
    public static let start = EventKind(rawValue: "start"), resume = EventKind(rawValue: "resume")
    /// The method or λ changed mid-run: `from` and `to` hold the method ids or the λ values (`lambdaText`).
    public static let method = EventKind(rawValue: "method"), lambda = EventKind(rawValue: "lambda")
    public static let pause = EventKind(rawValue: "pause"), unpause = EventKind(rawValue: "unpause")
    public static let checkpoint = EventKind(rawValue: "checkpoint")
    /// The run ended: stopped on request (with a checkpoint), the loss became non-finite, or the last step ran.
    public static let stop = EventKind(rawValue: "stop"), nan = EventKind(rawValue: "nan"), done = EventKind(rawValue: "done")
}

/// `{"type":"event", ...}`: anything that changes mid-run.
public struct EventRecord: Codable, Sendable {
    public var type = "event"
    public var step: Int
    public var epoch: Int
    public var kind: EventKind
    public var from: String?
    public var to: String?
    public var message: String
    /// When the record was logged, in seconds since 1970; absent in older runs.
    public var time: Double?

    /// A λ as `from`/`to` spell it, and back: one spelling, so a λ event reads back to the value it recorded.
    public static func lambdaText(_ l: Float) -> String { "\(l)" }
    public static func lambdaValue(_ text: String?) -> Float? { text.flatMap(Float.init) }

    public init(step: Int, epoch: Int, kind: EventKind, from: String? = nil, to: String? = nil, message: String) {
        self.step = step; self.epoch = epoch; self.kind = kind; self.from = from; self.to = to
        self.message = message
    }
}

/// One line of metrics.jsonl.
public enum RunRecord: Sendable {
    case step(StepRecord)
    case epoch(EpochRecord)
    case event(EventRecord)

    /// When the record was logged (seconds since 1970), or nil for a run written before records held it.
    public var time: Double? {
        switch self {
        case .step(let r): return r.time
        case .epoch(let r): return r.time
        case .event(let r): return r.time
        }
    }

    /// The record as logged at `time`: the trainer stamps each record once, so every sink sees the same time.
    public func stamped(_ time: Double) -> RunRecord {
        switch self {
        case .step(var r): r.time = time; return .step(r)
        case .epoch(var r): r.time = time; return .epoch(r)
        case .event(var r): r.time = time; return .event(r)
        }
    }
}

/// The run's fixed facts, shown in the explorer's header and written to RUN/config.json.
public struct RunHeader: Codable, Sendable {
    /// The model's title for screens and tables.
    public var modelTitle: String { model ?? "VGG-6(\(k ?? 16))" }

    public var dataset: String
    /// The model's title, e.g. "VGG-6(16)"; absent in older runs (then VGG-6 with `k`).
    public var model: String?
    /// VGG-6's width; absent for other models (the model's options are in the config, beside its id).
    public var k: Int?
    /// A classifier's class count (a model's build fact); absent in older runs and for restoration.
    public var classes: Int?
    public var inputShape: [Int]
    public var totalSteps: Int
    public var epochs: Int
    public var batchSize: Int
    /// The weighted layers no quantizer touches (VGG-6's FC layers, the restoration net's first and last convs);
    /// absent in older runs.
    public var fullPrecisionLayers: [LayerShape]?

    public struct LayerShape: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
    }

    /// What the run read (counts and file checksums); absent in older runs and for data made in code.
    public var data: DataIdentity?
    /// A classifier's class names in label order (`predict` prints them); absent in older runs and for restoration.
    public var classNames: [String]?
    /// Worker threads of the latest start or resume (the result does not depend on it); absent in older runs.
    public var threads: Int?

    enum CodingKeys: String, CodingKey {
        case dataset, k, epochs, model, data, threads, classes
        case classNames = "class_names"
        case inputShape = "input_shape", totalSteps = "total_steps", batchSize = "batch_size"
        case fullPrecisionLayers = "full_precision_layers"
    }

    public init(dataset: String, model: String? = nil, k: Int?, inputShape: [Int], totalSteps: Int, epochs: Int, batchSize: Int) {
        self.dataset = dataset; self.model = model; self.k = k; self.inputShape = inputShape; self.totalSteps = totalSteps
        self.epochs = epochs; self.batchSize = batchSize
    }
}

extension LayerRecord {
    /// Share of weights within `limit` first-scale units of a transition, read off the distance histogram
    /// (a bin straddling the limit counts in proportion). BWN's mean distance is always exactly 1 (its
    /// scale is mean|W| and its transition 0), so this is the number that shows its regularizer at work.
    public func nearTransitionShare(within limit: Float = 0.1) -> Float {
        let h = distanceHistogram
        let total = h.counts.reduce(0, +)
        guard total > 0, h.edges.count == h.counts.count + 1 else { return 0 }
        var n: Float = 0
        for (i, count) in h.counts.enumerated() {
            let a = h.edges[i], b = h.edges[i + 1]
            if b <= limit { n += Float(count) } else if a < limit, b > a { n += Float(count) * (limit - a) / (b - a) }
        }
        return n / Float(total)
    }
}
