import ArgumentParser
import BTCore
import Datasets
import Dispatch
import Explorer
import Foundation
import Layers
import Quantizers
import Ranks
import Records
import Synchronization
import Training

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train VGG-6(K), or the super-resolution/denoising net, with a weight quantizer; opens the live explorer in a terminal.",
        discussion: """
        The explorer's keys (? lists them while it runs): \(QuantMethod.allCases.enumerated().map { "\($0.offset + 1) \($0.element.label)" }.joined(separator: ", ")) \
        switch the quantizer; m the next one; + and - move λ in 1-3-10 steps, 0 sets it to 0; left/right or Tab pick a \
        layer; space pauses; s saves a checkpoint; t time-lapse, g all layers, w what-if; , and . smoothing, l log \
        loss; d detaches (training goes on; btviz attach RUN steers it again); q or Ctrl-C stops and saves.
        """)

    @Option(help: "Run directory (metrics.jsonl, config.json, checkpoint.bin).", completion: .directory) var runDir: String?
    @Option(help: "Continue the run in this directory from its checkpoint.", completion: .directory) var resume: String?
    @Flag(help: "Start over in a --run-dir that already holds a run, deleting its checkpoint and metrics.") var replace = false
    @Flag(help: "Print progress lines instead of opening the explorer.") var headless = false
    @OptionGroup var screen: ScreenOptions
    @OptionGroup var threads: ThreadOptions
    @OptionGroup(title: "Training") var core: TrainCoreOptions
    @OptionGroup(title: "Model") var network: ModelChoiceOptions
    @OptionGroup(title: "Quantizer") var quant: QuantizerOptions
    @OptionGroup(title: "Regularizer and initial weights") var regularizer: RegularizerOptions
    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Super-resolution and denoising") var restoration: RestorationOptions
    @OptionGroup(title: "Logging") var logging: LoggingOptions
    @OptionGroup(title: "Import and export") var exchange: ExchangeOptions
    @Option(parsing: .unconditional, help: "Save and stop after epoch N, the learning rate still scheduled over all --epochs; --resume continues exactly (what successive halving's pauses are).")
    var stopAfterEpoch: Int?
    @Option(parsing: .unconditional, help: .hidden) var injectNanAt: Int?

    func validate() throws {
        if let n = stopAfterEpoch, n < 1 { throw ValidationError("--stop-after-epoch must be at least 1") }
    }

    /// `base` with every option that was given applied, group by group (the task first: λ's default depends on
    /// it). A relative --data-dir is stored resolved, so `eval` and `--resume` work from any folder.
    func makeConfig(over base: TrainConfig) -> TrainConfig {
        var c = base
        restoration.apply(to: &c)
        data.apply(to: &c)
        network.apply(to: &c)
        core.apply(to: &c, base: base)
        c.quantOptions = quant.applied(to: c.quantOptions)
        regularizer.apply(to: &c)
        logging.apply(to: &c)
        return c
    }

    /// The config of a new run with these options (restoration tasks start from their own defaults).
    var newConfig: TrainConfig {
        makeConfig(over: TrainConfig.defaults(for: restoration.task ?? .classify))
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path
    }

    /// On --resume, the first given option that changes the run's identity (the data folder may move, logging
    /// may change: `RunIdentity.bookkeepingKeys`).
    func contradiction(with saved: TrainConfig) throws -> String? {
        try RunIdentity(makeConfig(over: saved)).firstDifference(from: RunIdentity(saved)).map {
            "\(Flags.name($0.key)) \($0.mine ?? "none") (the run has \($0.theirs ?? "none"))"
        }
    }

    func run() async throws {
        let control = TrainerControl()
        // Under mpirun or srun: one run, data-parallel over the launch's ranks (docs/scaling.md).
        let comm = try Communicator.join(ProcessInfo.processInfo.environment)
        defer { comm?.finish() }
        let rankSignals = comm.map { _ in RankSignalStop(control: control) }
        defer { rankSignals?.cancel() }
        let peers = comm.map(RankBatchSums.init)
        if let peers, peers.rank != 0 { return try runFollower(peers, control: control) }
        // Rank 0 tells the others whether it started; they would otherwise wait for it forever.
        var startAgreed = false
        defer { if let peers, !startAgreed { _ = RankStart.agree(peers, ok: false) } }
        // Before any layer is made: layers size their per-worker scratch for it. Not part of the run's identity:
        // a run resumed on another count continues exactly.
        try threads.apply()
        try exchange.validate(resuming: resume != nil)
        var checkpoint: Checkpoint?
        var config = newConfig
        let validated: ValidatedConfig  // the one check of the config the run trains with
        let folder: RunFolder
        let lock: RunLock
        var created: [String] = []
        if let resume {
            folder = RunFolder(resume)
            if replace { throw BTError("--replace starts a run over; it cannot go with --resume") }
            // Locked before the checkpoint is read: no other process may be writing the run meanwhile.
            lock = try folder.lockExisting(purpose: "train --resume")
            let saved = try folder.loadCheckpoint()
            if let c = try contradiction(with: saved.header.config) {
                throw BTError("--resume continues \(resume) as it was made: \(c); start a new run to change it")
            }
            checkpoint = saved
            config = makeConfig(over: saved.header.config)
            validated = try ValidatedConfig(config)  // the given options over the checkpoint's (checked as it was read)
            // A run killed between checkpoints logged steps the checkpoint never saw; they are trained again.
            let dropped = try folder.dropRecords(after: saved.header.step)
            if dropped > 0 {
                FileHandle.standardError.write(Data("btviz: note: \(dropped) records logged after the checkpoint (step \(saved.header.step)) were dropped from \(folder.metricsPath); the resumed run logs those steps again\n".utf8))
            }
        } else {
            folder = RunFolder(runDir ?? defaultRunDirectory(config))
            validated = try ValidatedConfig(config)  // before the folder is made
            (lock, created) = try folder.startNew(replace: replace, purpose: "train")
        }
        let dir = folder.path
        defer { withExtendedLifetime(lock) {} }  // held until training has stopped and the run is saved
        // Ranks run headless: mpirun's and srun's terminal is no place for the explorer (`btviz attach` is).
        let interactive = !headless && peers == nil && Terminal.canRunExplorer()
        let board = RunBoard(method: (checkpoint?.header.method ?? config.method).rawValue,
                             lambda: checkpoint?.header.lambda ?? config.lambda)
        let trainer: Trainer
        var requests: RequestWatcher?
        defer { requests?.cancel() }
        var history: [RunRecord] = []
        let detached = DetachedProgress(epochs: config.epochs)
        var ownRunFiles = false  // from the replace on, the run files in dir are this attempt's
        do {
            if let peers { try RankStart.check(validated.config, ranks: peers.size) }
            let task = try makeTrainingTask(config: validated, resume: checkpoint)
            if let peers { try RankStart.check(lastBatch: task.lastBatchImages, ranks: peers.size) }
            for note in task.notes { FileHandle.standardError.write(Data("btviz: \(note)\n".utf8)) }
            try exchange.loadInitialWeights(into: task.model)
            if checkpoint == nil {
                if replace { try folder.removeRunFiles() }
                ownRunFiles = true
            }
            // On --resume the screen starts with the run's whole history, read before the trainer appends to it.
            if checkpoint != nil && interactive {
                history = (try? folder.readRecords().records) ?? []
            }
            var sinks: [RunSink] = [try folder.metricsLog()]
            sinks += interactive ? [BoardSink(board: board), detached] : [ProgressPrinter(epochs: config.epochs)]
            sinks += try exchange.sinks(config: config, runDir: dir)
            trainer = try Trainer(config: validated, task: task, runDir: dir, control: control, sinks: sinks,
                                  resume: checkpoint)
            trainer.injectNaNAtStep = injectNanAt
            trainer.stopAfterEpoch = stopAfterEpoch
            trainer.peers = peers
            try folder.writeConfig(config, header: trainer.header)
            // `btviz attach` steers the run through RUN/requests (rank 0 takes them; the agreement carries them on).
            requests = try RequestWatcher(runDir: dir, control: control, applyWaiting: checkpoint != nil)
        } catch {
            // Nothing was trained: a new run leaves no half-made folder (a resumed one is left as it was).
            if checkpoint == nil { folder.undoFailedStart(created: created, ownRunFiles: ownRunFiles, lock: lock) }
            throw error
        }
        if let peers {
            startAgreed = true
            guard RankStart.agree(peers, ok: true) else { throw BTError("another rank could not start (its message is above); nothing was trained") }
        }
        if !interactive {
            print("run directory: \(dir)" + (peers.map { " (\($0.size) ranks)" } ?? ""))
        }

        let outcome: Trainer.Outcome
        if interactive {
            outcome = try runWithExplorer(trainer: trainer, board: board, control: control, history: history,
                                          detached: detached, dir: dir)
        } else {
            let signals = rankSignals == nil ? SignalStop(control: control) : nil
            defer { signals?.cancel() }
            outcome = try trainer.run()
        }
        switch outcome {
        case .finished:
            print("finished: \(Self.finalResult(folder))checkpoint in \(folder.checkpointPath), metrics in \(folder.metricsPath)")
            let run = Self.shellWord(dir)
            print("next: btviz eval \(run), btviz replay \(run), btviz summary \(run)")
        case .paused(let epochs):
            print("paused after epoch \(epochs) of \(config.epochs) (--stop-after-epoch): \(Self.finalResult(folder))checkpoint saved; continue with --resume \(Self.shellWord(dir))")
        case .stopped:
            let sig = control.stopSignal
            let by = sig != 0 ? " by \(SignalStop.name(sig))" : ""
            print("stopped\(by) at step \(trainer.step): checkpoint saved in \(folder.checkpointPath); continue with --resume \(dir)")
            // A signal exits as the shell expects (128 + its number); q in the explorer is a normal exit.
            if sig != 0 { throw ExitCode(128 + sig) }
        }
    }

    /// A rank other than 0 of a data-parallel run: the same steps on its share of every batch, writing nothing
    /// (rank 0 keeps the run folder). It reads the checkpoint of a resumed run, as rank 0 does.
    private func runFollower(_ peers: RankBatchSums, control: TrainerControl) throws {
        let trainer: Trainer
        do {
            try threads.apply()
            var checkpoint: Checkpoint?
            var config = newConfig
            if let resume {
                let saved = try RunFolder(resume).loadCheckpoint()
                checkpoint = saved
                config = makeConfig(over: saved.header.config)
            }
            let validated = try ValidatedConfig(config)
            try RankStart.check(config, ranks: peers.size)
            let task = try makeTrainingTask(config: validated, resume: checkpoint)
            try RankStart.check(lastBatch: task.lastBatchImages, ranks: peers.size)
            try exchange.loadInitialWeights(into: task.model)
            trainer = try Trainer(config: validated, task: task, runDir: nil, control: control, sinks: [], resume: checkpoint)
            trainer.stopAfterEpoch = stopAfterEpoch
            trainer.peers = peers
        } catch {
            _ = RankStart.agree(peers, ok: false)
            // Rank 0 says what was wrong with the options; another rank's own failure is its line.
            throw error
        }
        guard RankStart.agree(peers, ok: true) else { throw ExitCode(1) }
        if case .stopped = try trainer.run(), control.stopSignal != 0 { throw ExitCode(128 + control.stopSignal) }
    }

    /// "test accuracy 86.40% (epoch 15); " from the run's last epoch record, or nothing if it has none.
    static func finalResult(_ folder: RunFolder) -> String {
        // Read from the end: the last epoch record is a few lines before it, and a long run's file is large.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: folder.metricsPath), options: .alwaysMapped) else { return "" }
        var end = data.endIndex
        while end > data.startIndex {
            let start = data[..<end].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex
            let line = String(decoding: data[start..<end], as: UTF8.self)
            if line.contains("\"type\":\"epoch\""), case .epoch(let last)? = RunRecordCoding.decode(line[...]) {
                let metric = Metric.printing(last.metric)
                return "test \(metric.title) \(metric.format(last.testMetric)) (epoch \(last.epoch + 1)); "
            }
            end = max(start - 1, data.startIndex)
        }
        return ""
    }

    /// A path as one shell word, quoted only when it needs to be.
    static func shellWord(_ s: String) -> String {
        let plain = s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "/._-+:,@%=".unicodeScalars.contains($0) }
        return plain && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Trainer on its own thread, explorer on the main thread; the trainer never waits for the screen.
    private func runWithExplorer(trainer: Trainer, board: RunBoard, control: TrainerControl, history: [RunRecord],
                                 detached: DetachedProgress, dir: String) throws -> Trainer.Outcome {
        let box = TrainerThreadResult()
        let t = UncheckedBox(trainer)
        let thread = Thread {
            let r = Result { try t.value.run() }
            board.trainerEnded(failure: { if case .failure(let e) = r { "\(e)" } else { nil } }(), stopped: { if case .success(let o) = r { o != .finished } else { false } }())
            box.set(r)
        }
        thread.stackSize = 16 << 20
        thread.start()
        let signals = SignalStop(control: control)
        defer { signals.cancel() }
        let exit: LiveExit
        do {
            exit = try Explorer.runLive(header: trainer.header, board: board, control: control,
                                        options: ExplorerOptions(ascii: screen.ascii, noColor: false), history: history,
                                        trainerDone: { box.isDone })
        } catch {
            control.requestStop()
            _ = box.wait()
            throw error
        }
        if exit == .detached && !box.isDone {
            // d: the screen closes, training goes on here as a headless run would, and says how to watch it again.
            print("detached: training continues in \(dir) (Ctrl-C stops and saves); steer it again with: btviz attach \(Self.shellWord(dir))")
            detached.start()
            return try box.wait().get()
        }
        control.requestStop()
        return try box.wait().get()
    }
}

/// Where a run without --run-dir goes.
func defaultRunDirectory(_ c: TrainConfig) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyyMMdd-HHmmss"
    let what = c.task == .classify ? c.dataset : c.task == .sr ? "sr\(c.scale)" : "denoise"
    return "runs/\(f.string(from: Date()))-\(what)-\(c.method.rawValue)"
}

/// The trainer thread's result, handed to the main thread.
final class TrainerThreadResult: Sendable {
    private let state = Mutex<Result<Trainer.Outcome, Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)
    func set(_ r: Result<Trainer.Outcome, Error>) { state.withLock { $0 = r }; done.signal() }
    var isDone: Bool { state.withLock { $0 != nil } }
    func wait() -> Result<Trainer.Outcome, Error> {
        done.wait()
        done.signal()
        return state.withLock { $0! }
    }
}

struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ v: T) { value = v } }

/// SIGINT (Ctrl-C), SIGTERM and SIGHUP (an SSH disconnect) ask the trainer to stop after the current step and
/// save a checkpoint; the process then exits with 128 + the signal, once the trainer has stopped.
/// Signals within `sameRequest` of the first are that request delivered again: `timeout` sends its signal twice,
/// and Slurm and process managers signal a whole process group. A request well after the first (a person's
/// second Ctrl-C) exits at once without the save, by _exit: exit() would run library destructors (OpenBLAS's)
/// under the trainer's feet.
final class SignalStop {
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    static let sameRequest: UInt64 = 500_000_000  // ns
    private let sources: [DispatchSourceSignal]

    init(control: TrainerControl) {
        // A parent may have blocked them (test runners do); a blocked signal would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        for s in Self.handled { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        let first = Atomic<UInt64>(0)  // uptime of the first request, in ns
        sources = Self.handled.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let now = max(DispatchTime.now().uptimeNanoseconds, 1)
                let (isFirst, then) = first.compareExchange(expected: 0, desired: now, ordering: .relaxed)
                if isFirst {
                    control.requestStop(signal: sig)
                } else if now - then > Self.sameRequest {
                    Explorer.restoreTerminalBeforeExit()
                    let note = "btviz: \(Self.name(sig)) again: exiting without saving\n"
                    _ = note.withCString { write(2, $0, strlen($0)) }
                    _exit(128 + sig)
                }
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
        for s in Self.handled { signal(s, SIG_DFL) }
    }

    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(sig)"
        }
    }
}

extension ImageFit: ExpressibleByArgument {}

/// Train's options in the groups its help shows; each group applies what was given to a config in one place.
/// Options that define a run are optional: unset ones take TrainConfig's defaults for a new run and the
/// checkpoint's values on --resume, where a given one that differs is refused. Each help states its default from
/// TrainConfig's declaration (`TrainDefaults`), per task where they differ.
struct TrainCoreOptions: ParsableArguments {
    @OptionGroup var step: StepOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("Training epochs (\(TrainDefaults.text(\.epochs))).")) var epochs: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Peak Adam learning rate, cosine decay to 0 (\(TrainDefaults.text(\.lr))).")) var lr: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("Seed of the initial weights, the data order and augmentation (\(TrainDefaults.text(\.seed))).")) var seed: UInt64?

    func apply(to c: inout TrainConfig, base: TrainConfig) {
        step.apply(to: &c, base: base)
        if let epochs { c.epochs = epochs }
        if let lr { c.lr = lr }
        if let seed { c.seed = seed }
    }
}

/// What one training step is: the quantizer, λ, the network's width and the batch. Train and bench take it.
struct StepOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Weight quantizer: \(QuantMethod.list()) (\(TrainDefaults.text(\.method))).")) var method: QuantMethod?
    @Option(parsing: .unconditional, help: ArgumentHelp("Transition regularizer weight (0 turns it off). Default: \(QuantMethod.lambdaDefaults)\(TrainDefaults.otherTasks(\.lambda, { $0 == 0 ? "0" : "\($0)" }).map { "; " + $0 } ?? ""). R sums over each layer's weights, as the paper's Eq. 7; the paper's 0.1 then takes over training (docs/methods.md)."))
    var lambda: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("VGG-6 width K (\(TrainDefaults.text(\.k))).")) var k: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Images (sr/denoise: patches) per step (\(TrainDefaults.text(\.batchSize))).")) var batchSize: Int?

    /// λ follows a changed method unless given: the method's default, or the task's where it has its own.
    func apply(to c: inout TrainConfig, base: TrainConfig) {
        if let method {
            c.method = method
            if lambda == nil && base.method != method {
                c.lambda = c.task.isRestoration ? TrainConfig.restoration(c.task).lambda : TrainConfig.defaultLambda(for: method)
            }
        }
        if let lambda { c.lambda = lambda }
        if let k { c.k = k }
        if let batchSize { c.batchSize = batchSize }
    }
}

struct RegularizerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("The regularizer's noise std: --noise-ratio × each layer's first scale (a for BWN and TWN, a1 for BT, mean|W| for TTQ and LQ-Nets; \(TrainDefaults.text(\.noiseRatio)))."))
    var noiseRatio: Float?
    @Option(help: ArgumentHelp("R over a layer's weights: sum (the paper's L1 norm) or mean (\(TrainDefaults.text(\.regReduction) { $0.rawValue })).")) var regReduction: RegReduction?
    @Option(name: .customLong("init"), help: ArgumentHelp("Initial weights: pytorch (PyTorch's default, uniform within ±1/sqrt(fan_in)) or he (He-normal) (\(TrainDefaults.text(\.initScheme) { $0.rawValue }))."))
    var initScheme: InitScheme?

    func apply(to c: inout TrainConfig) {
        if let noiseRatio { c.noiseRatio = noiseRatio }
        if let regReduction { c.regReduction = regReduction }
        if let initScheme { c.initScheme = initScheme }
    }
}

struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("\(DatasetCatalog.names.joined(separator: ", ")) (\(TrainDefaults.text(\.dataset)); `btviz datasets` lists them).",
                               valueName: "name"), completion: .list(DatasetCatalog.names)) var dataset: String?
    @Option(help: "Folder with the dataset's files (default: $BTVIZ_DATA, then ~/.cache/btviz/<name>, then where a system package puts it, e.g. /usr/share/datasets/fashion-mnist). For --dataset folder: one subfolder of PNG/JPEG images per class.", completion: .directory)
    var dataDir: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("--dataset folder: images are fitted to N x N (\(TrainDefaults.text(\.folderOptions.side))).")) var imageSize: Int?
    @Option(help: ArgumentHelp("--dataset folder: resize (the whole image, aspect not kept) or center-crop (shorter side to N, then the centre) (\(TrainDefaults.text(\.folderOptions.fit) { $0.rawValue }))."))
    var fit: ImageFit?
    @Option(help: "--dataset folder: the test split, a folder with the same class subfolders.", completion: .directory) var testDir: String?
    @Option(parsing: .unconditional, help: "--dataset folder: hold out this share of each class for testing (a fixed split, the same for every seed).")
    var testRatio: Double?
    @Flag(help: "Turn off the random crop.") var noCrop = false
    @Flag(help: "Turn off cutout.") var noCutout = false
    @Flag(help: "Turn off horizontal flips (on by default where the dataset allows them: CIFAR-10, ImageNet, image folders; never SVHN or the digit and clothing sets).")
    var noFlip = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N training images (0 = all; \(TrainDefaults.text(\.trainLimit))).")) var trainLimit: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N test images (0 = all; \(TrainDefaults.text(\.testLimit))).")) var testLimit: Int?

    func apply(to c: inout TrainConfig) {
        if let dataset { c.dataset = dataset }
        if let dataDir { c.dataDir = Train.absolute(dataDir) }
        if let imageSize { c.imageSize = imageSize }
        if let fit { c.fit = fit }
        if let testDir { c.testDir = Train.absolute(testDir) }
        if let testRatio { c.testRatio = testRatio }
        if noCrop { c.crop = false }
        if noCutout { c.cutout = false }
        if noFlip { c.flip = false }
        if let trainLimit { c.trainLimit = trainLimit }
        if let testLimit { c.testLimit = testLimit }
    }
}

struct RestorationOptions: ParsableArguments {
    @OptionGroup var net: TaskOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("denoise: noise std on intensities in [0, 1] (\(TrainDefaults.text(\.sigma))).")) var sigma: Float?
    @Option(help: "sr/denoise: folder of training images, PNG/JPEG/BMP (default T91, found as the benchmark sets are).", completion: .directory)
    var trainData: String?
    @Option(help: ArgumentHelp("sr/denoise: the set validated on after each epoch (\(TrainDefaults.text(\.valSet))).")) var valSet: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("sr/denoise: steps per epoch (\(TrainDefaults.text(\.epochSteps))).")) var epochSteps: Int?
    @Flag(help: "sr/denoise: batch norm after the first and body convs instead of biases (off by default: measured worse).")
    var batchNorm = false
    @Flag(help: "sr/denoise: a learned gain per output channel on each quantized conv's weights.")
    var channelGain = false

    /// The task given, else nil (a new run then classifies; a resumed one keeps its own).
    var task: TrainTask? { net.task }

    func apply(to c: inout TrainConfig) {
        net.apply(to: &c)
        if let sigma { c.sigma = sigma }
        if let trainData { c.trainData = Train.absolute(trainData) }
        if let valSet { c.valSet = valSet.lowercased() }
        if let epochSteps { c.epochSteps = epochSteps }
        if batchNorm { c.batchNorm = true }
        if channelGain { c.channelGain = true }
    }
}

/// The task and the restoration net's shape: train's and bench's.
struct TaskOptions: ParsableArguments {
    @Option(help: ArgumentHelp("classify (VGG-6 on --dataset), sr (super-resolution by --scale) or denoise (Gaussian noise of std --sigma), the last two on the Y channel (default \(TrainConfig().task.rawValue))."))
    var task: TrainTask?
    @Option(parsing: .unconditional, help: ArgumentHelp("sr: upscaling factor 2, 3 or 4 (\(TrainDefaults.text(\.scale))).")) var scale: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("sr/denoise: high-resolution training patch side (\(TrainDefaults.text(\.patch))).")) var patch: Int?

    func apply(to c: inout TrainConfig) {
        if let task { c.task = task }
        if let scale { c.scale = scale }
        if let patch { c.patch = patch }
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Write a step record every N steps (\(TrainDefaults.text(\.logEvery))).")) var logEvery: Int?
    @Option(name: .customLong(Flags.long("histogram_bins")), parsing: .unconditional,
            help: ArgumentHelp("Latent-weight histogram bins (\(TrainDefaults.text(\.histogramBins))).")) var histogramBins: Int?

    func apply(to c: inout TrainConfig) {
        if let logEvery { c.logEvery = logEvery }
        if let histogramBins { c.histogramBins = histogramBins }
    }
}

/// The start of a data-parallel run: what it can train, and every rank's word that it is ready.
enum RankStart {
    /// One line for what ranks cannot train yet: restoration (its batches are patches of whole images), and
    /// batches with fewer groups than ranks (a rank holds whole groups of every batch, the last one included).
    static func check(_ config: TrainConfig, ranks: Int) throws {
        guard config.task == .classify else {
            throw BTError("\(config.task.rawValue) does not train on several ranks yet; only classification does: run it as one process")
        }
        guard ranks <= BatchGroups.maxGroups else {
            throw BTError("a run takes at most \(BatchGroups.maxGroups) ranks (the groups of a batch); this launch has \(ranks)")
        }
        try requireGroups(images: config.batchSize, ranks: ranks, what: "--batch-size \(config.batchSize)",
                          fix: "use a batch of at least \(ranks) images")
    }

    static func check(lastBatch images: Int, ranks: Int) throws {
        try requireGroups(images: images, ranks: ranks, what: "an epoch's last batch of \(images) images",
                          fix: "pick a --batch-size that leaves a larger last batch")
    }

    /// A batch of `images` must have a group for every rank.
    private static func requireGroups(images: Int, ranks: Int, what: String, fix: String) throws {
        let groups = RankBatchSums.groups(images: images)
        guard groups >= ranks else { throw BTError("\(what) has \(groups) groups of images, fewer than the \(ranks) ranks; \(fix)") }
    }

    /// Every rank's readiness; true when all are ready.
    static func agree(_ peers: RankBatchSums, ok: Bool) -> Bool {
        peers.exchange([ok ? 1 : 0]).allSatisfy { $0 == [1] }
    }
}

/// SIGINT, SIGTERM and SIGHUP for a rank of an MPI launch: a plain handler that notes the signal, whichever
/// thread takes it, and a watcher that turns the note into a stop request (the ranks then agree to stop at the
/// same step). Why not SignalStop's dispatch sources: MPI starts threads of its own, with these signals
/// unblocked, and installs handlers of its own at MPI_Init; a signal taken there never reached the source.
/// Made after MPI_Init, so these handlers are the ones in place.
final class RankSignalStop {
    nonisolated(unsafe) static var pending: sig_atomic_t = 0
    private let watcher: Thread
    /// Set by `cancel`: the watcher ends.
    private final class Flag: @unchecked Sendable { let value = Atomic<Bool>(false) }
    private let done = Flag()

    init(control: TrainerControl) {
        for sig in SignalStop.handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { RankSignalStop.pending = $0 }
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        var set = sigset_t()
        sigemptyset(&set)
        for s in SignalStop.handled { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let box = UncheckedBox((control, done))
        watcher = Thread {
            while !box.value.1.value.load(ordering: .relaxed) {
                let sig = RankSignalStop.pending
                if sig != 0 { box.value.0.requestStop(signal: sig); return }
                usleep(20_000)
            }
        }
        watcher.start()
    }

    func cancel() {
        done.value.store(true, ordering: .relaxed)
        for s in SignalStop.handled { signal(s, SIG_DFL) }
    }
}
