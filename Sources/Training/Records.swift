/// What a training run reports. These records are the only thing that flows from the engine
/// to its observers (metrics.jsonl, the headless progress line, the live explorer, replay),
/// so each one is Codable and a run can be rebuilt from its metrics.jsonl alone.

/// A histogram: `edges.count == counts.count + 1`.
public struct Histogram: Codable, Sendable, Equatable {
    public var edges: [Float]
    public var counts: [Int]
    public init(edges: [Float], counts: [Int]) { self.edges = edges; self.counts = counts }
}

/// One quantized layer at one step.
public struct LayerRecord: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Named scales: `a` (BWN, TWN) or `a1`, `a2`, `a_opt` (BT). Empty for full precision.
    public var scales: [String: Float]
    /// Named thresholds in latent-weight units: `delta` (TWN) or `d1` (BT, on the residual).
    public var thresholds: [String: Float]
    /// Transition points in latent-weight units, sorted.
    public var transitions: [Float]
    /// Quantized values, sorted, and how many weights sit at each.
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

    enum CodingKeys: String, CodingKey {
        case name, shape, scales, thresholds, transitions, levels, reg, histogram
        case levelCounts = "level_counts", flipFraction = "flip_fraction", flipRatio = "flip_ratio"
        case meanTransitionDistance = "mean_transition_distance", quantError = "quant_error"
        case distanceHistogram = "distance_histogram"
    }

    public init(name: String, shape: [Int], scales: [String: Float], thresholds: [String: Float],
                transitions: [Float], levels: [Float], levelCounts: [Int], flipFraction: Float,
                flipRatio: Float, meanTransitionDistance: Float, quantError: Float, reg: Float,
                histogram: Histogram, distanceHistogram: Histogram) {
        self.name = name; self.shape = shape; self.scales = scales; self.thresholds = thresholds
        self.transitions = transitions; self.levels = levels; self.levelCounts = levelCounts
        self.flipFraction = flipFraction; self.flipRatio = flipRatio
        self.meanTransitionDistance = meanTransitionDistance; self.quantError = quantError; self.reg = reg
        self.histogram = histogram; self.distanceHistogram = distanceHistogram
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
    /// Accuracy on this training batch.
    public var batchAcc: Float
    public var lr: Float
    public var samplesPerS: Float
    public var etaS: Float
    public var layers: [LayerRecord]

    enum CodingKeys: String, CodingKey {
        case type, step, epoch, method, lambda, loss, lr, layers
        case totalSteps = "total_steps", taskLoss = "task_loss", regLoss = "reg_loss", batchAcc = "batch_acc"
        case samplesPerS = "samples_per_s", etaS = "eta_s", regReduction = "reg_reduction"
    }

    public init(step: Int, epoch: Int, totalSteps: Int, method: String, lambda: Float, loss: Float,
                taskLoss: Float, regLoss: Float, regReduction: String? = nil, batchAcc: Float, lr: Float, samplesPerS: Float,
                etaS: Float, layers: [LayerRecord]) {
        self.step = step; self.epoch = epoch; self.totalSteps = totalSteps; self.method = method
        self.lambda = lambda; self.loss = loss; self.taskLoss = taskLoss; self.regLoss = regLoss
        self.regReduction = regReduction
        self.batchAcc = batchAcc; self.lr = lr; self.samplesPerS = samplesPerS; self.etaS = etaS
        self.layers = layers
    }
}

/// `{"type":"epoch", ...}`: after each epoch's evaluation on the test split.
public struct EpochRecord: Codable, Sendable {
    public var type = "epoch"
    public var epoch: Int
    public var step: Int
    public var method: String
    public var trainAcc: Float
    public var trainLoss: Float
    public var testAcc: Float
    public var testLoss: Float
    public var seconds: Float

    enum CodingKeys: String, CodingKey {
        case type, epoch, step, method, seconds
        case trainAcc = "train_acc", trainLoss = "train_loss", testAcc = "test_acc", testLoss = "test_loss"
    }

    public init(epoch: Int, step: Int, method: String, trainAcc: Float, trainLoss: Float, testAcc: Float,
                testLoss: Float, seconds: Float) {
        self.epoch = epoch; self.step = step; self.method = method; self.trainAcc = trainAcc
        self.trainLoss = trainLoss; self.testAcc = testAcc; self.testLoss = testLoss; self.seconds = seconds
    }
}

/// `{"type":"event", ...}`: anything that changes mid-run.
/// kinds: start, resume, method, lambda, pause, unpause, checkpoint, stop, nan, done.
public struct EventRecord: Codable, Sendable {
    public var type = "event"
    public var step: Int
    public var epoch: Int
    public var kind: String
    public var from: String?
    public var to: String?
    public var message: String

    public init(step: Int, epoch: Int, kind: String, from: String? = nil, to: String? = nil, message: String) {
        self.step = step; self.epoch = epoch; self.kind = kind; self.from = from; self.to = to
        self.message = message
    }
}

/// One line of metrics.jsonl.
public enum RunRecord: Sendable {
    case step(StepRecord)
    case epoch(EpochRecord)
    case event(EventRecord)
}

/// The run's fixed facts, shown in the explorer's header and written to RUN/config.json.
public struct RunHeader: Codable, Sendable {
    public var dataset: String
    public var k: Int
    public var inputShape: [Int]
    public var totalSteps: Int
    public var epochs: Int
    public var batchSize: Int

    enum CodingKeys: String, CodingKey {
        case dataset, k, epochs
        case inputShape = "input_shape", totalSteps = "total_steps", batchSize = "batch_size"
    }

    public init(dataset: String, k: Int, inputShape: [Int], totalSteps: Int, epochs: Int, batchSize: Int) {
        self.dataset = dataset; self.k = k; self.inputShape = inputShape; self.totalSteps = totalSteps
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
