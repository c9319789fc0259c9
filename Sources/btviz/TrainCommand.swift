import ArgumentParser
import BTCore
import Datasets
import Dispatch
import Explorer
import Foundation
import Layers
import Quantizers
import Synchronization
import Training

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train VGG-6(K) with a weight quantizer; opens the live explorer in a terminal.")

    @Option(help: "synthetic (built in), fashion or mnist.") var dataset = "synthetic"
    @Option(help: "Folder with the dataset's IDX files (default: $BTVIZ_DATA, then ~/.cache/btviz/<name>).")
    var dataDir: String?
    @Option(help: "Weight quantizer: full, bwn, twn or bt.") var method: QuantMethod = .bt
    @Option(help: "Transition regularizer weight (0 turns it off). Default: 1e-4 for bwn, 3e-4 otherwise. R sums over each layer's weights, as the paper's Eq. 7; the paper's 0.1 then takes over training (README).")
    var lambda: Float?
    @Option(help: "VGG-6 width K.") var k = 16
    @Option var epochs = 15
    @Option var batchSize = 128
    @Option(help: "Peak Adam learning rate (cosine decay to 0).") var lr: Float = 2e-3
    @Option var seed: UInt64 = 0
    @Option(help: "TWN/BT threshold ratio.") var deltaRatio: Float = 0.66
    @Option(help: "Regularizer noise std as a fraction of the first scale.") var noiseRatio: Float = 0.1
    @Option(help: "R over a layer's weights: sum (the paper's L1 norm) or mean.") var regReduction: RegReduction = .sum
    @Option(name: .customLong("init"), help: "Initial weights: pytorch (PyTorch's default, uniform within ±1/sqrt(fan_in)) or he (He-normal).")
    var initScheme: InitScheme = .pytorch
    @Flag(help: "Turn off the random crop.") var noCrop = false
    @Flag(help: "Turn off cutout.") var noCutout = false
    @Option(help: "Write a step record every N steps.") var logEvery = 10
    @Option(help: "Latent-weight histogram bins.") var bins = 100
    @Option(help: "Use only the first N training images (0 = all).") var trainLimit = 0
    @Option(help: "Use only the first N test images (0 = all).") var testLimit = 0
    @Option(help: "Run directory (metrics.jsonl, config.json, checkpoint.bin).") var runDir: String?
    @Option(help: "Continue the run in this directory from its checkpoint.") var resume: String?
    @Flag(help: "Print progress lines instead of opening the explorer.") var headless = false
    @OptionGroup var screen: ScreenOptions
    @Option(help: .hidden) var injectNanAt = -1

    func makeConfig() -> TrainConfig {
        var c = TrainConfig()
        c.dataset = dataset; c.dataDir = dataDir; c.method = method; c.lambda = lambda ?? TrainConfig.defaultLambda(for: method); c.k = k
        c.epochs = epochs; c.batchSize = batchSize; c.lr = lr; c.seed = seed; c.deltaRatio = deltaRatio
        c.noiseRatio = noiseRatio; c.regReduction = regReduction; c.initScheme = initScheme; c.crop = !noCrop; c.cutout = !noCutout; c.logEvery = logEvery
        c.histogramBins = bins; c.trainLimit = trainLimit; c.testLimit = testLimit; c.injectNaNAtStep = injectNanAt
        return c
    }

    func run() async throws {
        var checkpoint: Checkpoint?
        var config = makeConfig()
        let dir: String
        if let resume {
            dir = resume
            checkpoint = try Checkpoint.load(path: resume + "/checkpoint.bin")
            config = checkpoint!.header.config
            if let dataDir { config.dataDir = dataDir }
        } else {
            dir = runDir ?? defaultRunDirectory(config)
        }
        try config.validate()
        try RunDirectory.prepare(dir)
        let data = try loadDataset(name: config.dataset, dataDir: config.dataDir)

        let control = TrainerControl()
        let interactive = !headless && Terminal.canRunExplorer()
        let board = RunBoard(method: (checkpoint?.header.method ?? config.method).rawValue,
                             lambda: checkpoint?.header.lambda ?? config.lambda)
        var sinks: [RunSink] = [try MetricsLogSink(path: dir + "/metrics.jsonl")]
        sinks.append(interactive ? BoardSink(board: board) : ProgressPrinter(epochs: config.epochs))
        let trainer = try Trainer(config: config, dataset: data, runDir: dir, control: control, sinks: sinks,
                                  resume: checkpoint)
        try RunDirectory.writeConfig(dir, config: config, header: trainer.header)
        if !interactive {
            print("run directory: \(dir)")
        }

        let outcome: Trainer.Outcome
        if interactive {
            outcome = try runWithExplorer(trainer: trainer, board: board, control: control)
        } else {
            let signals = SignalStop(control: control)
            defer { signals.cancel() }
            outcome = try trainer.run()
        }
        switch outcome {
        case .finished:
            print("finished: checkpoint in \(dir)/checkpoint.bin, metrics in \(dir)/metrics.jsonl")
        case .stopped:
            let sig = control.stopSignal
            let by = sig != 0 ? " by \(SignalStop.name(sig))" : ""
            print("stopped\(by) at step \(trainer.step): checkpoint saved in \(dir)/checkpoint.bin; continue with --resume \(dir)")
            // A signal exits as the shell expects (128 + its number); q in the explorer is a normal exit.
            if sig != 0 { throw ExitCode(128 + sig) }
        }
    }

    /// Trainer on its own thread, explorer on the main thread; the trainer never waits for the screen.
    private func runWithExplorer(trainer: Trainer, board: RunBoard, control: TrainerControl) throws -> Trainer.Outcome {
        let box = TrainerThreadResult()
        let t = UncheckedBox(trainer)
        let thread = Thread {
            let r = Result { try t.value.run() }
            if case .failure(let e) = r { board.update { $0.failure = "\(e)" } }
            board.update { $0.finished = true; $0.stopped = (try? r.get()) == .stopped }
            box.set(r)
        }
        thread.stackSize = 16 << 20
        thread.start()
        let signals = SignalStop(control: control)
        defer { signals.cancel() }
        do {
            try Explorer.runLive(header: trainer.header, board: board, control: control,
                                 options: ExplorerOptions(ascii: screen.ascii, noColor: false),
                                 trainerDone: { box.isDone })
        } catch {
            control.requestStop()
            _ = box.wait()
            throw error
        }
        control.requestStop()
        return try box.wait().get()
    }
}

/// Where a run without --run-dir goes.
func defaultRunDirectory(_ c: TrainConfig) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyyMMdd-HHmmss"
    return "runs/\(f.string(from: Date()))-\(c.dataset)-\(c.method.rawValue)"
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
/// save a checkpoint; the process then exits with 128 + the signal. A second signal exits at once.
final class SignalStop {
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private let sources: [DispatchSourceSignal]

    init(control: TrainerControl) {
        // A parent may have blocked them (test runners do); a blocked signal would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        for s in Self.handled { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        let count = Atomic<Int>(0)
        sources = Self.handled.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if count.add(1, ordering: .relaxed).newValue > 1 { Explorer.restoreTerminalBeforeExit(); exit(128 + sig) }
                control.requestStop(signal: sig)
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
