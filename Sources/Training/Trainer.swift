import Records
import BTCore
import Datasets
import Foundation
import Kernels
import Layers
import Models
import Quantizers

/// The training loop: data order, augmentation, steps, evaluation, checkpoints, and the records that
/// observers receive. Runs on whatever thread calls `run()`; front ends steer it only through
/// `TrainerControl`, which it polls between steps.
public final class Trainer {
    public let config: TrainConfig
    public let header: RunHeader
    public let engine: StepEngine
    public private(set) var method: QuantMethod
    public private(set) var lambda: Float
    public private(set) var step: Int

    public let task: any TrainingTask
    private let control: TrainerControl
    private let sinks: [RunSink]
    private let runDir: String?
    private let stats: LayerStatsTracker
    private let stepsPerEpoch: Int
    private let x: FloatBuffer
    private var lastCheckpointStep = -1
    /// A read error of a streamed split during `evaluate` or `recalibrateBatchNorm` (which return numbers, not
    /// errors); `run` throws it.
    public private(set) var readFailure: Error?
    /// A test's fault: the loss becomes NaN at this step. Not an option of the run, so never saved with it.
    public var injectNaNAtStep: Int?
    /// Save and stop once this many epochs are done (`--stop-after-epoch`): the learning rate keeps the schedule of
    /// all `epochs`, so a run resumed from here ends bit-identical to one never paused (successive halving's rungs).
    /// Not an option of the run, so never saved with it.
    public var stopAfterEpoch: Int?
    /// The epoch in progress's training sums; saved with a checkpoint taken part-way through it.
    private var epochSums = Checkpoint.EpochSums()
    /// The other ranks of a data-parallel run (set before `run`): each step this rank trains on its share of the
    /// batch, and the ranks agree on stops and requests before it. Only rank 0 should be given sinks and a run
    /// folder; every rank computes the same weights.
    public var peers: (any StepPeers)?

    public enum Outcome: Sendable, Equatable {
        case finished, stopped
        /// Stopped by `stopAfterEpoch` with this many epochs done; the checkpoint is saved.
        case paused(epochs: Int)
    }

    /// A dataset held in memory, with the recipe's augmentation for its image size.
    public convenience init(config: TrainConfig, dataset: Dataset, runDir: String?, control: TrainerControl,
                            sinks: [RunSink], resume: Checkpoint? = nil) throws {
        try self.init(config: config, data: TrainingData(dataset), runDir: runDir, control: control, sinks: sinks, resume: resume)
    }

    /// Classification of `data`.
    public convenience init(config: TrainConfig, data: TrainingData, runDir: String?, control: TrainerControl,
                            sinks: [RunSink], resume: Checkpoint? = nil) throws {
        let validated = try ValidatedConfig(config)  // before the task sizes a network from it
        let task = try ClassificationTask(config: config, data: data, resume: resume)
        try self.init(config: validated, task: task, runDir: runDir, control: control, sinks: sinks, resume: resume)
    }

    public init(config validated: ValidatedConfig, task: any TrainingTask, runDir: String?, control: TrainerControl,
                sinks: [RunSink], resume: Checkpoint? = nil) throws {
        let config = validated.config
        self.task = task
        self.config = config
        self.control = control
        self.sinks = sinks
        self.runDir = runDir
        stepsPerEpoch = task.stepsPerEpoch
        let model = task.model
        engine = StepEngine(model: model, spec: resume?.header.spec ?? config.spec, seed: config.seed,
                            noiseRatio: config.noiseRatio, regReduction: config.regReduction)
        method = config.method
        lambda = config.lambda
        step = 0
        if let resume {
            guard resume.header.step <= config.epochs * stepsPerEpoch else {
                throw BTError("the checkpoint's step \(resume.header.step) is beyond this run's \(config.epochs * stepsPerEpoch) steps")
            }
            try resume.restore(into: engine, optimizer: true)
            method = resume.header.method
            lambda = resume.header.lambda
            step = resume.header.step
            lastCheckpointStep = step
            epochSums = resume.header.epochSums ?? Checkpoint.EpochSums()
        }
        stats = LayerStatsTracker(layerCount: model.quantizedLayers.count, bins: config.histogramBins)
        x = FloatBuffer(count: config.batchSize * model.inputSize)
        // The model's options are in the config beside its id; `k` is kept only where the model has one.
        let hasK = config.modelDefinition?.options.contains { $0.key == "k" } ?? false
        var header = RunHeader(dataset: task.dataName, model: model.title, k: hasK ? config.k : nil, inputShape: task.inputShape,
                               totalSteps: config.epochs * stepsPerEpoch, epochs: config.epochs, batchSize: config.batchSize)
        header.data = task.dataIdentity
        if task.classes > 0 { header.classes = task.classes }
        if let c = task as? ClassificationTask, !c.classNames.isEmpty { header.classNames = c.classNames }
        header.threads = Workers.count
        header.fullPrecisionLayers = model.params.filter { !$0.quantized && $0.shape.count > 1 }.map {
            RunHeader.LayerShape(name: $0.name, shape: $0.shape)
        }
        self.header = header
    }

    public var totalSteps: Int { header.totalSteps }
    public var testCount: Int { task.testCount }
    private var epoch: Int { min(step / stepsPerEpoch, config.epochs - 1) }

    /// Every sink gets the record with the same wall time (metrics.jsonl keeps it; TensorBoard's events carry it).
    private func emit(_ r: RunRecord) {
        let stamped = r.stamped(Date().timeIntervalSince1970)
        for s in sinks { s.receive(stamped) }
    }

    private func event(_ kind: EventKind, from: String? = nil, to: String? = nil, _ message: String) {
        emit(.event(EventRecord(step: step, epoch: epoch, kind: kind, from: from, to: to, message: message)))
    }

    /// Trains to the end or until a stop is requested. Throws on a NaN loss (after keeping the last
    /// good checkpoint) or when the run directory cannot be written.
    public func run() throws -> Outcome {
        let resumed = step > 0
        event(resumed ? .resume : .start, to: method.rawValue,
              resumed ? "resumed at step \(step)" : "training \(header.dataset) \(header.modelTitle)\(peers.map { " on \($0.size) ranks" } ?? "") with \(method.label), lambda \(lambda), R the \(config.regReduction.rawValue) over each layer's weights")
        if !resumed {
            try saveCheckpoint(announce: false)
            emit(.step(try initialRecord()))
        }

        var epochStart = Date()
        var secondsPerStep: Double = 0
        var lastEvalSeconds: Double = 0

        while step < totalSteps {
            if let n = stopAfterEpoch, step % stepsPerEpoch == 0, step / stepsPerEpoch >= n {
                // At an epoch's end its checkpoint is already saved (a resume starts from one).
                if lastCheckpointStep != step { try saveCheckpoint(announce: false) }
                event(.stop, "paused after epoch \(step / stepsPerEpoch) (--stop-after-epoch \(n)); checkpoint saved")
                return .paused(epochs: step / stepsPerEpoch)
            }
            let requests = agreedRequests()
            if requests.stop {
                try saveCheckpoint(announce: true)
                event(.stop, "stopped at step \(step); checkpoint saved")
                return .stopped
            }
            apply(requests)
            if requests.paused {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }

            let e = step / stepsPerEpoch
            let started = Date()
            // A rank reads, normalizes and augments only its share of the batch (`trainStep` trains on it).
            let (n, targets) = try task.batch(step: step, into: x.ptr, share: peers.map { p in { p.images(ofBatch: $0) } })
            let logThis = (step + 1) % config.logEvery == 0 || step + 1 == totalSteps
            let result = trainStep(n: n, targets: targets, lr: cosineLearningRate(base: config.lr, step: step, total: totalSteps),
                                   measure: logThis)
            let taskLoss = step == injectNaNAtStep ? Float.nan : result.taskLoss
            guard taskLoss.isFinite, result.regLoss.isFinite else {
                event(.nan, "loss is \(taskLoss) at step \(step); stopped, last good checkpoint kept (step \(lastCheckpointStep))")
                throw BTError("loss became NaN at step \(step); training stopped, the last good checkpoint (step \(lastCheckpointStep)) is kept")
            }
            var ratios: [Float] = []
            for (i, layer) in engine.model.quantizedLayers.enumerated() where writesRecords {
                ratios.append(stats.flipRatio(layer: i, fit: result.fits[i], weights: UnsafeBufferPointer(layer.weight.value.buffer)))
            }
            let elapsed = Date().timeIntervalSince(started)
            secondsPerStep = secondsPerStep == 0 ? elapsed : 0.9 * secondsPerStep + 0.1 * elapsed
            epochSums.metric += result.metricSum; epochSums.seen += n; epochSums.loss += Double(taskLoss) * Double(n)
            step += 1

            if logThis && writesRecords {
                let remainingEvals = Double(config.epochs - e - (step % stepsPerEpoch == 0 ? 1 : 0))
                let eta = Double(totalSteps - step) * secondsPerStep + remainingEvals * lastEvalSeconds
                emit(.step(stepRecord(result, epoch: e, taskLoss: taskLoss, n: n, ratios: ratios,
                                      samplesPerS: Float(Double(config.batchSize) / max(secondsPerStep, 1e-9)), eta: Float(eta))))
            }
            if step % stepsPerEpoch == 0 || step == totalSteps {
                let evalStart = Date()
                // Only the rank that writes the record evaluates: evaluation changes nothing the run trains with
                // (eval-mode batch norm, the quantizers' fits as they stand), so the others go straight on.
                let (metric, loss) = writesRecords ? evaluate(method: method) : (0, 0)
                if let readFailure { throw readFailure }
                lastEvalSeconds = Date().timeIntervalSince(evalStart)
                emit(.epoch(EpochRecord(epoch: e, step: step, method: method.rawValue, metric: engine.model.objective.metric.name,
                                        trainMetric: Float(epochSums.metric / Double(max(epochSums.seen, 1))),
                                        trainLoss: Float(epochSums.loss / Double(max(epochSums.seen, 1))),
                                        testMetric: metric, testLoss: loss, seconds: Float(Date().timeIntervalSince(epochStart)))))
                epochSums = Checkpoint.EpochSums(); epochStart = Date()
                try saveCheckpoint(announce: false)
            }
            try checkSinks()
        }
        event(.done, "finished \(totalSteps) steps")
        return .finished
    }

    /// One step on this process's images of the batch: all of them, or this rank's share with the ranks' sums.
    private func trainStep(n: Int, targets: Targets, lr: Float, measure: Bool) -> StepEngine.Result {
        guard let peers else {
            return engine.step(x: x.ptr, targets: targets, n: n, method: method, lambda: lambda, lr: lr, stepIndex: step, measure: measure)
        }
        let (share, sums) = peers.share(ofBatch: n)
        BatchSums.current = sums
        defer { BatchSums.current = OneProcessBatchSums.shared }
        guard case .labels(let labels) = targets else { preconditionFailure("ranks train classification only") }
        return engine.step(x: x.ptr + share.lowerBound * engine.model.inputSize, targets: .labels(labels + share.lowerBound),
                           n: share.count, method: method, lambda: lambda, lr: lr, stepIndex: step, measure: measure)
    }

    /// Rank 0 (or a single process) writes the records; the other ranks only compute.
    private var writesRecords: Bool { (peers?.rank ?? 0) == 0 }

    /// What the front ends asked for since the last step. With peers: a stop asked of any rank, and the rest as
    /// rank 0 was asked (it alone has the front end), agreed by every rank so each applies it at the same step.
    struct Requests: Equatable {
        var stop = false, paused = false, save = false
        var method: QuantMethod?
        var lambda: Float?

        /// 12 bytes: stop, paused, save, method (index + 1, 0 for none), a lambda flag, 3 spare, lambda's bits.
        var bytes: [UInt8] {
            let m = method.flatMap { QuantMethod.allCases.firstIndex(of: $0) }.map { UInt8($0 + 1) } ?? 0
            let bits = (lambda ?? 0).bitPattern
            return [stop ? 1 : 0, paused ? 1 : 0, save ? 1 : 0, m, lambda == nil ? 0 : 1, 0, 0, 0,
                    UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
        }

        init(stop: Bool = false, paused: Bool = false, save: Bool = false, method: QuantMethod? = nil, lambda: Float? = nil) {
            (self.stop, self.paused, self.save, self.method, self.lambda) = (stop, paused, save, method, lambda)
        }

        init(bytes b: [UInt8]) {
            stop = b[0] != 0; paused = b[1] != 0; save = b[2] != 0
            let cases = Array(QuantMethod.allCases)
            method = b[3] > 0 && Int(b[3]) <= cases.count ? cases[Int(b[3]) - 1] : nil
            let bits = UInt32(b[8]) | UInt32(b[9]) << 8 | UInt32(b[10]) << 16 | UInt32(b[11]) << 24
            lambda = b[4] != 0 ? Float(bitPattern: bits) : nil
        }
    }

    private func agreedRequests() -> Requests {
        let mine = Requests(stop: control.stopRequested, paused: control.isPaused, save: control.takeSaveRequest(),
                            method: control.takeMethodRequest().flatMap(QuantMethod.init(rawValue:)),
                            lambda: control.takeLambdaRequest())
        guard let peers else { return mine }
        let all = peers.exchange(mine.bytes).map(Requests.init(bytes:))
        var agreed = all[0]
        agreed.stop = all.contains { $0.stop }
        return agreed
    }

    /// Applies front-end requests between steps; each change is an auditable event.
    private func apply(_ requests: Requests) {
        if let m = requests.method, m != method {
            event(.method, from: method.rawValue, to: m.rawValue, "method \(method.label) -> \(m.label)")
            method = m
        }
        if let l = requests.lambda, l != lambda {
            event(.lambda, from: EventRecord.lambdaText(lambda), to: EventRecord.lambdaText(l), "lambda \(lambda) -> \(l)")
            lambda = l
        }
        if requests.save { try? saveCheckpoint(announce: true) }
        let paused = requests.paused
        if paused != pausedAnnounced {
            event(paused ? .pause : .unpause, paused ? "paused at step \(step)" : "resumed at step \(step)")
            pausedAnnounced = paused
        }
    }
    private var pausedAnnounced = false

    private func checkSinks() throws {
        for s in sinks { if let f = s.failure { throw BTError(f) } }
    }

    private func stepRecord(_ r: StepEngine.Result, epoch: Int, taskLoss: Float, n: Int, ratios: [Float],
                            samplesPerS: Float, eta: Float) -> StepRecord {
        let others = engine.whatIf(except: method)
        let layers = engine.model.quantizedLayers.enumerated().map { i, layer in
            stats.record(name: layer.weight.name, shape: layer.weight.shape, fit: r.fits[i],
                         weights: UnsafeBufferPointer(layer.weight.value.buffer), measure: r.measures[i],
                         flipRatio: ratios[i], whatIf: others.map { ($0.method, $0.fits[i]) })
        }
        let reg = r.regLoss
        return StepRecord(step: step, epoch: epoch, totalSteps: totalSteps, method: method.rawValue, lambda: lambda,
                          loss: taskLoss - lambda * reg, taskLoss: taskLoss, regLoss: reg,
                          regReduction: config.regReduction.rawValue,
                          metric: engine.model.objective.metric.name, batchMetric: Float(r.metricSum / Double(max(n, 1))),
                          lr: cosineLearningRate(base: config.lr, step: step - 1, total: totalSteps),
                          samplesPerS: samplesPerS, etaS: eta, layers: layers)
    }

    /// Step 0: the untrained network on the first batch, so a replay starts where training did.
    private func initialRecord() throws -> StepRecord {
        let (n, targets) = try task.firstBatch(into: x.ptr)
        let r = engine.probe(x: x.ptr, targets: targets, n: n, method: method, stepIndex: 0)
        let ratios = engine.model.quantizedLayers.enumerated().map { i, layer in
            stats.flipRatio(layer: i, fit: r.fits[i], weights: UnsafeBufferPointer(layer.weight.value.buffer))
        }
        return stepRecord(r, epoch: 0, taskLoss: r.taskLoss, n: n, ratios: ratios, samplesPerS: 0, eta: -1)
    }

    /// The test metric and loss under `method`. A read failure leaves zeros and the error in `readFailure`.
    public func evaluate(method: QuantMethod) -> (metric: Float, loss: Float) {
        do { return try task.evaluate(engine, method: method, x: x.ptr) } catch {
            readFailure = readFailure ?? error
            return (0, 0)
        }
    }

    /// Re-estimates the batch norms' running statistics under `method` on `images` training images (a fixed
    /// draw from the seed, no augmentation). Returns how many images it used.
    @discardableResult
    public func recalibrateBatchNorm(method: QuantMethod, images: Int) -> Int {
        do { return try task.recalibrateBatchNorm(engine, method: method, images: images, x: x.ptr) } catch {
            readFailure = readFailure ?? error
            return 0
        }
    }

    private func saveCheckpoint(announce: Bool) throws {
        guard let runDir else { return }
        try Checkpoint.save(path: RunFolder(runDir).checkpointPath, engine: engine, step: step, method: method, lambda: lambda,
                            normalizer: task.normalization, config: config, inputShape: task.inputShape, classes: task.classes,
                            epochSums: epochSums.seen > 0 ? epochSums : nil)
        lastCheckpointStep = step
        if announce { event(.checkpoint, "checkpoint saved at step \(step)") }
    }
}
