import ArgumentParser
import BTCore
import Datasets
import Export
import Foundation
import Kernels
import Models
import Quantizers
import Records
import Restoration
import Training

struct ExportRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "A trained run as an ONNX model, a safetensors or NumPy .npz file (PyTorch's state_dict names), TensorBoard event files, or btviz's own outputs to check an export against.",
        discussion: """
        onnx: opset 21; BWN, TWN, BT (and LSQ within 4 bits) conv weights as INT4 codes with their scale through \
        DequantizeLinear, TTQ and LQ-Nets as the exact float32 Q(W); batch norm in eval mode with the checkpoint's \
        statistics. VGG-6 takes pixels in 0..1 (NCHW) and returns logits; the SR net takes the Y/255 image and its \
        bicubic upscaling (MATLAB's imresize) as a second input (--bicubic resize: a Resize node instead). \
        safetensors: every tensor under Samples/pytorch's state_dict names and layouts, plus btviz.<name>.q, .codes and \
        .scale or .levels for the quantized layers (--state-dict-only leaves those out, for load_state_dict(strict=True)). \
        npz: the same tensors under the same names as numpy.savez writes them (numpy.load(path)[name]). \
        tensorboard: the run's metrics.jsonl as event files in --out, each event at its record's time, with the \
        run's options (config.json) as TensorBoard's HParams session. \
        Without --out, export writes into the run folder: RUN/model-METHOD.onnx, RUN/model-METHOD.safetensors, RUN/model-METHOD.npz, \
        RUN/tensorboard/ and RUN/reference-METHOD/ (METHOD: --method or the one the run last trained with), and \
        prints the path it wrote. \
        reference: btviz's own inputs and outputs under --method into the folder --out (.npy): for classification \
        input.npy (NCHW pixels), logits.npy, labels.npy of the first --images test images; for sr/denoise one \
        <set>-<i>-input.npy, -bicubic.npy and -target.npy per image of --sets.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case onnx, safetensors, npz, tensorboard, reference
        /// One file (replaced atomically, or written to standard output), not a folder.
        var isFile: Bool { self == .onnx || self == .safetensors || self == .npz }
    }

    @Argument(help: "Run directory.", completion: .directory) var runDir: String
    @Option(help: "onnx, safetensors, npz, tensorboard or reference.") var format: Format
    @Option(help: "The file (onnx, safetensors, npz; - for standard output) or folder (tensorboard, reference) to write (default: in the run folder, RUN/model-METHOD.onnx, RUN/model-METHOD.safetensors, RUN/tensorboard, RUN/reference-METHOD).", completion: .file())
    var out: String?
    @Option(help: "The quantizer applied to the latent weights (default: the one the run last trained with).") var method: QuantMethod?
    @Flag(help: "safetensors, npz: only the state_dict tensors (no btviz.* extras).") var stateDictOnly = false
    @Option(parsing: .unconditional, help: "reference, classification: how many test images (default 256).") var images = 256
    @Option(help: "reference, sr/denoise: comma-separated benchmark sets (default set5).") var sets = "set5"
    @Option(help: "onnx, sr: the bicubic residual as a second input `bicubic` (btviz's imresize, exact; default) or a cubic Resize node (one input; borders differ).")
    var bicubic: ONNXExport.Bicubic = .input

    func run() throws {
        if out == "-" && !format.isFile {
            throw BTError("--out - (standard output) is for onnx, safetensors and npz; \(format.rawValue) writes a folder")
        }
        // Refused before the work: a link, device, FIFO or folder at --out is never replaced (docs/export.md).
        if format.isFile, let out, out != "-" { try OutputFile.checkReplaceable(out) }
        if format == .tensorboard { return try exportTensorBoard(to: out ?? Self.defaultOut(runDir, format: format, method: nil)) }
        let run = try RunFolder(runDir).open(maxBatch: format == .reference ? 64 : 2)
        let (ckpt, model, engine) = (run.checkpoint, run.model, run.engine)
        let m = method ?? ckpt.header.method
        let out: String
        if let given = self.out { out = given } else {
            out = Self.defaultOut(runDir, format: format, method: m)
            if format.isFile { try OutputFile.checkReplaceable(out) }
        }
        _ = engine.quantizers(for: m, toConvergence: true)  // a method the run never used: its best fit
        let fits = engine.quantize(m)
        if m != ckpt.header.method {
            note("batch-norm statistics are the checkpoint's, gathered under \(ckpt.header.method.rawValue), not \(m.rawValue)")
        }
        switch format {
        case .onnx:
            let normalizer = (ckpt.header.normalizerMean, ckpt.header.normalizerStd)
            let (data, layers) = try ONNXExport.build(model: model, fits: fits, normalizer: normalizer, method: m.rawValue,
                                                       bicubic: bicubic)
            try save(data, to: out)
            report(out, "wrote \(shown(out)): \(data.count) bytes, ONNX opset \(ONNXExport.opset), \(model.title) under \(m.rawValue)")
            let weights = layers.reduce(0) { $0 + $1.weights }, bytes = layers.reduce(0) { $0 + $1.bytes }
            for l in layers { report(out, "  \(l.name): \(l.weights) weights in \(l.bytes) bytes, \(l.form)") }
            if weights > 0 {
                report(out, String(format: "  quantized conv weights: %d in %d bytes, %.3f bytes per weight (the initializers' raw data only)",
                             weights, bytes, Double(bytes) / Double(weights)))
            }
        case .safetensors:
            let tensors = try StateDictFile.tensors(model: model, fits: fits, stateDictOnly: stateDictOnly)
            let data = try Safetensors.encode(tensors, metadata: try metadata(ckpt: ckpt, method: m, fits: fits, model: model))
            try save(data, to: out)
            report(out, "wrote \(shown(out)): \(tensors.count) tensors, \(data.count) bytes, \(model.title) under \(m.rawValue)")
        case .npz:
            let tensors = try StateDictFile.tensors(model: model, fits: fits, stateDictOnly: stateDictOnly)
            let data = try NumpyArchive.encode(tensors)
            try save(data, to: out)
            report(out, "wrote \(shown(out)): \(tensors.count) arrays, \(data.count) bytes, \(model.title) under \(m.rawValue)")
        case .reference:
            if let net = run.restorationNet {
                try referenceRestoration(net, config: ckpt.header.config, out: out)
            } else {
                let (shape, classes) = try run.folder.classifierInput(ckpt)
                try referenceClassification(model, inputShape: shape, classes: classes, config: ckpt.header.config, ckpt: ckpt, out: out)
            }
        case .tensorboard: break
        }
    }

    /// The method, each quantized layer's fit (levels and transitions per channel) and the run's config, as strings.
    private func metadata(ckpt: Checkpoint, method: QuantMethod, fits: [QuantFit], model: any Model) throws -> [String: String] {
        let layers = zip(model.quantizedLayers, fits).map { layer, fit -> [String: Any] in
            ["name": layer.weight.name, "channels": fit.channels, "levels": fit.levelTable.map(Double.init),
             "transitions": fit.transitionTable.map(Double.init)]
        }
        // Sorted keys (JSONOutput): the same run exports the same bytes (the quantizer options are a dictionary).
        return ["format": "pt", "producer": "btviz", "model": model.title, "method": method.rawValue,
                "step": String(ckpt.header.step), "fits": try JSONOutput.string(object: layers),
                "config": try JSONOutput.string(ckpt.header.config),
                "normalizer_mean": ckpt.header.normalizerMean.map { "\($0)" }.joined(separator: ","),
                "normalizer_std": ckpt.header.normalizerStd.map { "\($0)" }.joined(separator: ",")]
    }

    /// Where export writes without --out: into the run folder, named by what it holds.
    static func defaultOut(_ runDir: String, format: Format, method: QuantMethod?) -> String {
        let folder = runDir.hasSuffix("/") ? runDir : runDir + "/"
        let m = method?.rawValue ?? ""
        switch format {
        case .onnx: return folder + "model-\(m).onnx"
        case .safetensors: return folder + "model-\(m).safetensors"
        case .npz: return folder + "model-\(m).npz"
        case .tensorboard: return folder + "tensorboard"
        case .reference: return folder + "reference-\(m)"
        }
    }

    /// The run's records as events at their own wall times, after the HParams session start (the run's options
    /// from config.json, if it has one).
    private func exportTensorBoard(to out: String) throws {
        let folder = RunFolder(runDir)
        guard RegularFile.isRegular(folder.metricsPath) else { throw BTError("no metrics at \(folder.metricsPath)") }
        let records = try folder.readRecords().records
        // Events beside others of the same run (an earlier export, the run's own --tensorboard) would show every
        // point twice: TensorBoard reads every event file in a folder as one run.
        if let first = ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).sorted().first(where: { $0.contains("tfevents") }) {
            throw BTError("\(out) already holds TensorBoard event files (\(first)), which TensorBoard would show beside these; give --out a new folder, or remove them")
        }
        let config = RegularFile.isRegular(folder.configPath) ? try folder.readConfig().config : nil
        let session = try config.map { try ExchangeOptions.session($0, runDir: runDir) }
        let sink = try TensorBoardSink(folder: out, session: session,
                                       startTime: records.first?.time ?? Date().timeIntervalSince1970)
        for r in records { sink.receive(r) }
        if let f = sink.failure { throw BTError(f) }
        print("wrote \(sink.path): \(records.count) records")
        let untimed = records.filter { $0.time == nil }.count
        if untimed > 0 {
            note("\(untimed) of \(records.count) records hold no time (written before btviz recorded it): their events have the export's time")
        }
    }

    /// The first `images` test images as btviz reads them (NCHW, before normalization), its logits and the labels.
    private func referenceClassification(_ model: any Model, inputShape: [Int], classes: Int, config: TrainConfig,
                                         ckpt: Checkpoint, out: String) throws {
        guard images >= 1 else { throw BTError("--images must be at least 1") }
        let data = try loadTrainingData(name: config.dataset, dataDir: config.dataDir, folder: config.folderOptions)
        let test = data.test.prefix(min(images, data.test.count))
        let normalizer = try Normalizer(mean: ckpt.header.normalizerMean, std: ckpt.header.normalizerStd)
        let (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        let size = c * h * w, batch = model.maxBatch
        let x = FloatBuffer(count: batch * size)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batch)
        defer { labels.deallocate() }
        var nchw: [Float] = [], logits: [Float] = [], truth: [Float] = []
        let reader = try test.pass(.stored)
        while true {
            let n = try reader.read(batch, into: x.ptr, labels: labels)
            guard n > 0 else { break }
            for i in 0..<n { for ch in 0..<c { for p in 0..<h * w { nchw.append(x.ptr[i * size + p * c + ch]) } } }
            for i in 0..<n { truth.append(Float(labels[i])) }
            normalizer.apply(x.ptr, count: n * size)
            let y = model.forward(x.ptr, n: n, training: false)
            logits += UnsafeBufferPointer(start: y, count: n * classes)
        }
        try makeFolder(out)
        let n = truth.count
        try writeNpy(path: out + "/input.npy", shape: [n, c, h, w], values: nchw)
        try writeNpy(path: out + "/logits.npy", shape: [n, classes], values: logits)
        try writeNpy(path: out + "/labels.npy", shape: [n], values: truth)
        let right = (0..<n).filter { i in
            let row = logits[i * classes..<(i + 1) * classes]
            return row.firstIndex(of: row.max()!)! - i * classes == Int(truth[i])
        }.count
        print("wrote \(out): \(n) test images of \(config.dataset), btviz's logits; accuracy \(right)/\(n)")
    }

    /// Each benchmark image's network input (Y/255), btviz's bicubic upscaling of it and the 0-255 target.
    private func referenceRestoration(_ net: RestorationNet, config: TrainConfig, out: String) throws {
        try makeFolder(out)
        for name in sets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let set = RestorationSet(name: name) else { throw BTError("unknown set \(name); choose from \(RestorationSet.names)") }
            let pairs = try RestorationTraining.pairs(set: set, task: config.restorationTask, dataDir: config.dataDir)
            for (i, p) in pairs.enumerated() {
                let (h, w, s) = (p.input.height, p.input.width, net.scale)
                let base = out + "/\(name)-\(i)"
                try writeNpy(path: base + "-input.npy", shape: [1, 1, h, w], values: p.input.pixels)
                if s > 1 {
                    var up = [Float](repeating: 0, count: h * w * s * s)
                    let resize = BicubicResize(inH: h, inW: w, upscale: s)
                    p.input.pixels.withUnsafeBufferPointer { src in up.withUnsafeMutableBufferPointer { resize.apply(src.baseAddress!, into: $0.baseAddress!) } }
                    try writeNpy(path: base + "-bicubic.npy", shape: [1, 1, h * s, w * s], values: up)
                }
                try writeNpy(path: base + "-target.npy", shape: [1, 1, p.target.height, p.target.width],
                             values: p.target.pixels.map(Float.init))
            }
            print("wrote \(out): \(pairs.count) images of \(name) (shave \(pairs.first?.shave ?? 0))")
        }
    }

    private func makeFolder(_ path: String) throws {
        try OutputFolder.create(path, what: "the --out folder")
    }

    /// The model file: replaced atomically, or with `--out -` written to standard output.
    private func save(_ data: Data, to out: String) throws {
        guard out == "-" else { return try AtomicFile.write(data, to: out) }
        try OutputFile.writeAll(data, to: STDOUT_FILENO, what: "to standard output")
    }

    private func shown(_ out: String) -> String { out == "-" ? "standard output" : out }

    /// The summary goes to stderr when the model itself goes to stdout.
    private func report(_ out: String, _ line: String) {
        if out == "-" { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
    }

    private func note(_ s: String) { FileHandle.standardError.write(Data("btviz: note: \(s)\n".utf8)) }
}

extension ONNXExport.Bicubic: ExpressibleByArgument {}
