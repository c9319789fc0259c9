import ArgumentParser
import BTCore
import Datasets
import Foundation
import Kernels
import Layers
import Models
import Quantizers
import Training

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps and inference on random data (VGG-6(K), or with --task sr/denoise the restoration net); report samples/s, GFLOP/s, share of FMA peak and peak memory.")

    // The run bench times is made as train makes it, from train's own option groups and defaults (per task).
    @OptionGroup var taskOptions: TaskOptions
    @Option(parsing: .unconditional, help: "sr/denoise: inference times one image of this side (the input's: sr's output is --scale times it).")
    var inferSize = 512
    @OptionGroup(title: "Model") var network: ModelChoiceOptions
    @OptionGroup var step: StepOptions
    /// `--batch`, bench's name for --batch-size before it took train's options: Samples/pytorch/compare.py, its
    /// README and the CLI tests still pass it.
    @Option(name: .customLong("batch"), parsing: .unconditional, help: .hidden) var batchAlias: Int?
    @OptionGroup var quant: QuantizerOptions

    @Option(help: "Input shape CxHxW, e.g. 1x28x28 or 3x32x32.") var input = "1x28x28"
    @Option(parsing: .unconditional, help: "Classes of the last layer (1000 for ImageNet).") var classes = 10
    @Option(help: "Also time real batches of this dataset (loading, normalization, augmentation), alone and in training steps; its shape and classes replace --input and --classes.", completion: .list(DatasetCatalog.names))
    var dataset: String?
    @Option(help: "The dataset's folder (as for train).", completion: .directory) var dataDir: String?
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(help: .hidden) var regionCost = false
    /// The worker count, once `run` has applied the options.
    var threads: Int { Workers.count }
    @Option(parsing: .unconditional, help: "Untimed steps first.") var warmup = 3
    @Option(parsing: .unconditional, help: "Timed steps.") var steps = 20
    @Option(help: "train, infer or both.") var mode = "both"
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also time one training step layer by layer.") var profile = false
    @Flag(help: "Inference layer by layer, each batch norm its own pass (to measure what running it inside the conv saves).")
    var unfusedInference = false

    var task: TrainTask { taskOptions.task ?? .classify }

    /// What is timed: train's defaults for the task with the given options, applied as train applies them.
    var config: TrainConfig {
        var c = TrainConfig.defaults(for: task)
        taskOptions.apply(to: &c)
        network.apply(to: &c)
        step.apply(to: &c, base: c)
        if let batchAlias { c.batchSize = batchAlias }
        c.quantOptions = quant.applied(to: c.quantOptions)
        return c
    }

    func validate() throws {
        if batchAlias != nil && step.batchSize != nil { throw ValidationError("--batch is --batch-size: give one") }
        // Train's checks of the same values (K, the batch, λ, the quantizer's options, sr's scale and patch).
        do { try config.validate() } catch { throw ValidationError(Flags.report(error, parser: Bench.self)) }
        if task.isRestoration {
            guard (16...2048).contains(inferSize) else { throw ValidationError("--infer-size must be in 16...2048") }
            guard dataset == nil else { throw ValidationError("--dataset times classification data; it does not go with --task \(task.rawValue)") }
        }
        guard classes >= 2, classes <= 100_000 else { throw ValidationError("--classes must be in 2...100000") }
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be >= 1 and --warmup >= 0") }
        guard ["train", "infer", "both"].contains(mode) else { throw ValidationError("--mode must be train, infer or both") }
        _ = try shape()
    }

    func shape() throws -> [Int] {
        let parts = input.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 >= 1 }), parts[1] >= 8, parts[2] >= 8 else {
            throw ValidationError("--input must look like 1x28x28 (C x H x W, H and W at least 8)")
        }
        return parts
    }

    func run() throws {
        try threadOptions.apply()
        if regionCost { return RegionCost.run() }
        if task.isRestoration { return try runRestoration() }
        // Read once: the timed closures below use them every step.
        let c = config
        let (batch, method, lambda, spec) = (c.batchSize, c.method, c.lambda, c.spec)
        // Real data, when asked for: the trainer's own batch pipeline, with the dataset's shape and classes.
        let data = try dataset.map { try loadTrainingData(name: $0, dataDir: dataDir, folder: TrainConfig().folderOptions) }
        let real = try data.map {
            TrainingBatches(source: $0.train, normalizer: try Normalizer(fitting: $0.train),
                            augmenter: Augmenter($0.augmentation), batchSize: batch, seed: 0)
        }
        let shape = try real?.source.shape ?? shape()
        let classes = data?.classes ?? self.classes
        // The run's model, as train builds it (validate() has checked the choice and its options).
        guard let definition = c.modelDefinition else { throw ValidationError("unknown --model \(c.model)") }
        let model = try definition.build(ModelBuild(options: c.modelOptions, inputShape: shape, classes: classes, maxBatch: batch))
        model.initialize(seed: 0, scheme: .pytorch)
        model.fusedInference = !unfusedInference
        let engine = StepEngine(model: model, spec: spec, seed: 0)
        var rng = RNG(seed: 1)
        let x = FloatBuffer(count: batch * model.inputSize)
        rng.fillGaussian(x.buffer, std: 1)
        let labels = (0..<batch).map { _ in Int32(rng.below(classes)) }
        let peak = FMAPeak.measure(threads: threads)
        let macs = Double(model.forwardMACs)
        var results: [(String, Double, Double)] = []  // (what, samples/s, GFLOP/s)

        func time(_ body: (Int) -> Void) -> Double { rate(samplesPerCall: batch, body) }
        func trainStep(_ i: Int) {
            labels.withUnsafeBufferPointer { lab in
                _ = engine.step(x: x.ptr, targets: .labels(lab.baseAddress!), n: batch, method: method, lambda: lambda,
                                lr: 1e-4, stepIndex: i, measure: false)
            }
        }
        if mode != "infer" {
            let sps = time(trainStep)
            results.append(("train", sps, sps * macs * 6 / 1e9))
        }
        if let real, mode != "infer" {
            // The pipeline alone, then steps on its batches (random data above): loading limits training only if
            // the second is well below the first's and the random-data rate.
            let realLabels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
            defer { realLabels.deallocate() }
            var failure: Error?
            func load(_ i: Int) { do { _ = try real.fill(step: i, into: x.ptr, labels: realLabels) } catch { failure = failure ?? error } }
            let loadRate = time(load)
            results.append(("load", loadRate, 0))
            let sps = time { i in
                load(i)
                _ = engine.step(x: x.ptr, targets: .labels(realLabels), n: batch, method: method, lambda: lambda,
                                lr: 1e-4, stepIndex: i, measure: false)
            }
            if let failure { throw failure }
            results.append(("train_real", sps, sps * macs * 6 / 1e9))
        }
        if mode != "train" {
            engine.quantize(method)
            let sps = time { _ in _ = model.forward(x.ptr, n: batch, training: false) }
            results.append(("infer", sps, sps * macs * 2 / 1e9))
        }
        if profile && !json {
            let profileSteps = max(steps, 5)
            if mode != "infer" {
                printProfile("one training step", StepProfile.run(steps: profileSteps, step: trainStep, on: model), profileSteps)
            }
            if mode != "train" {
                let rows = StepProfile.run(steps: profileSteps, step: { _ in _ = model.forward(x.ptr, n: batch, training: false) },
                                           on: model)
                printProfile("one inference batch", rows, profileSteps)
            }
        }
        let rssMB = peakResidentMB()
        if json {
            var fields: [String: Any] = ["model": definition.id, "title": model.title, "input": input, "classes": classes,
                                         "method": method.rawValue, "lambda": lambda, "batch": batch, "threads": threads,
                                         "fma_peak_gflops": JSONOutput.finite(r(peak)), "peak_rss_mb": JSONOutput.finite(r(rssMB))]
            for (key, value) in c.modelOptions.of(definition) { fields[key] = value.integer ?? (value.flag as Any) }
            print(try JSONOutput.string(object: fields.merging(resultFields(results, peak: peak)) { a, _ in a }))
            return
        }
        print("\(model.title) on \(shape.map(String.init).joined(separator: "x"))\(dataset.map { " (\($0) for the real-data rows)" } ?? ""), \(classes) classes, batch \(batch), \(method.label) lambda \(lambda), \(threads) threads")
        print(String(format: "measured FMA peak: %.0f GFLOP/s", peak))
        for (what, sps, gf) in results {
            if what == "load" { print(String(format: "load: %9.0f samples/s  (the batch pipeline alone)", sps)); continue }
            print(String(format: "%@: %8.0f samples/s  %6.1f GFLOP/s  %4.1f%% of peak", what, sps, gf, 100 * gf / peak))
        }
        print(String(format: "peak resident memory: %.0f MB", rssMB))
    }

    /// Samples per second over `steps` timed calls of `body`, after `warmup` untimed ones.
    func rate(samplesPerCall: Int, _ body: (Int) -> Void) -> Double {
        for i in 0..<warmup { body(i) }
        let t0 = Date()
        for i in 0..<steps { body(warmup + i) }
        return Double(steps * samplesPerCall) / Date().timeIntervalSince(t0)
    }

    /// The JSON fields of each (what, samples/s, GFLOP/s) result, samples/s to `digits` decimals.
    func resultFields(_ results: [(String, Double, Double)], peak: Double, digits: Int = 1) -> [String: Any] {
        results.reduce(into: [:]) { fields, result in
            let (what, sps, gf) = result
            fields[what + "_samples_per_s"] = JSONOutput.finite(r(sps, digits))
            fields[what + "_gflops"] = JSONOutput.finite(r(gf))
            fields[what + "_peak_fraction"] = JSONOutput.finite(r(gf / peak, 4))
        }
    }

    func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    func r(_ v: Double, _ digits: Int = 1) -> Double {
        let p = pow(10, Double(digits))
        return (v * p).rounded() / p
    }

    func printProfile(_ what: String, _ rows: [StepProfile.Row], _ steps: Int) {
        let total = rows.reduce(0) { $0 + $1.forward + $1.backward }
        print("profile of \(what) (ms, median of \(steps)):")
        print("  stage                            forward  backward   share")
        for r in rows {
            print("  " + r.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: " %7.2f  %8.2f  %5.1f%%", 1000 * r.forward, 1000 * r.backward,
                           100 * (r.forward + r.backward) / total))
        }
        print("  " + "total".padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: " %17.2f", 1000 * total))
    }
}
