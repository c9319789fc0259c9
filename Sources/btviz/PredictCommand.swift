import Records
import ArgumentParser
import BTCore
import Datasets
import Foundation
import Models
import Training

/// `predict`: a trained classifier applied to a user's images. Each image is read and fitted to the run's input
/// size as its image-folder data was (grey for a 1-channel run), normalized with the checkpoint's statistics and
/// passed forward in inference mode under the method the run was trained with; no training data is loaded.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a trained classification run (btviz predict --run RUN image.png|DIR).",
        discussion: """
        Prints per image its class and the softmax probability (--top K: the K most likely). A folder stands for \
        every PNG and JPEG in it, sorted by name. Images are fitted to the run's input size as an image-folder \
        run fits them (--fit and --image-size of the run), colour images become grey for a 1-channel run.
        """)

    @Option(name: .customLong("run"), help: "The run directory of a trained classification run.", completion: .directory) var runDir: String
    @Argument(help: "Images (PNG or JPEG) or folders of them.", completion: .file()) var inputs: [String]
    @Option(parsing: .unconditional, help: "Print the K most likely classes.") var top = 1
    @Flag(help: "Print JSON: an array of {path, class, index, probability, top}.") var json = false

    struct Guess: Encodable { var `class`: String; var index: Int; var probability: Double }
    struct Result: Encodable {
        var path: String, `class`: String, index: Int, probability: Double, top: [Guess]
    }

    func run() throws {
        let folder = RunFolder(runDir)
        let ckpt = try folder.loadCheckpoint()
        let config = ckpt.header.config
        guard !config.task.isRestoration else {
            throw BTError("\(runDir) is a \(config.task.rawValue) run, not a classification run; use btviz \(config.task == .sr ? "upscale" : "denoise")")
        }
        let header = try folder.readConfig().header
        let shape = header.inputShape, channels = shape[0], side = shape[1]
        guard shape[1] == shape[2], channels == 1 || channels == 3, ckpt.header.normalizerMean.count == channels else {
            throw BTError("\(runDir) has input shape \(shape) and \(ckpt.header.normalizerMean.count) normalizer channels; predict needs square 1- or 3-channel input")
        }
        let paths = try Self.imagePaths(inputs)
        let classes = try ckpt.classCount()
        let (names, note) = Self.classNames(config: config, header: header, classes: classes)
        guard top >= 1 else { throw BTError("--top must be at least 1 (got \(top))") }

        // Images are read and classified a batch at a time, so memory holds one batch of inputs whatever the
        // number of images; the results are printed only at the end, so a bad image stops the command with one
        // line before anything is printed.
        let size = channels * side * side
        let batch = try Self.batchSize(config: config, inputShape: shape, classes: classes, images: paths.count)
        let model = try folder.open(checkpoint: ckpt, maxBatch: batch).model
        let normalizer = try Normalizer(mean: ckpt.header.normalizerMean, std: ckpt.header.normalizerStd)
        let k = min(top, classes)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: batch * size)
        defer { x.deallocate() }
        let rgb = UnsafeMutablePointer<Float>.allocate(capacity: side * side * 3)
        defer { rgb.deallocate() }
        var results: [Result] = []
        for start in stride(from: 0, to: paths.count, by: batch) {
            let n = min(batch, paths.count - start)
            for j in 0..<n {
                let image = try RGBImage.read(path: paths[start + j])
                let fit = config.fit ?? .resize
                if channels == 3 {
                    image.fitted(side: side, fit: fit, into: x + j * size)
                } else {
                    image.fitted(side: side, fit: fit, into: rgb)
                    for p in 0..<side * side {  // ITU-R BT.601 luma, as a grey conversion gives it (equal channels stay)
                        x[j * size + p] = 0.299 * rgb[3 * p] + 0.587 * rgb[3 * p + 1] + 0.114 * rgb[3 * p + 2]
                    }
                }
            }
            normalizer.apply(x, count: n * size)
            let logits = model.forward(x, n: n, training: false)
            for j in 0..<n {
                let z = (0..<classes).map { Double(logits[j * classes + $0]) }
                let m = z.max() ?? 0
                let e = z.map { exp($0 - m) }, sum = e.reduce(0, +)
                let ranked = e.indices.sorted { e[$0] > e[$1] || (e[$0] == e[$1] && $0 < $1) }.prefix(k)
                let guesses = ranked.map { Guess(class: names?[$0] ?? String($0), index: $0, probability: e[$0] / sum) }
                results.append(Result(path: paths[start + j], class: guesses[0].class, index: guesses[0].index,
                                      probability: guesses[0].probability, top: guesses))
            }
        }
        if let note { FileHandle.standardError.write(Data("btviz: note: \(note)\n".utf8)) }
        if json {
            print(try JSONOutput.string(results))
            return
        }
        var table: [[String]] = []
        for r in results {
            // Class and file names come from files: printed escaped, so they cannot drive the terminal.
            let rest = r.top.dropFirst().map { "\(TerminalText.escape($0.class)) \(Self.percent($0.probability))" }.joined(separator: ", ")
            table.append([TerminalText.escape(r.path), TerminalText.escape(r.class), Self.percent(r.probability),
                          rest.isEmpty ? "" : "(\(rest))"])
        }
        printAligned(table)
    }

    /// The largest batch up to 64 (no more than there are images) whose network and inputs fit in half the memory
    /// this process may use; a one-line error when not even one image fits in all of it.
    static func batchSize(config: TrainConfig, inputShape: [Int], classes: Int, images: Int) throws -> Int {
        let available = MemoryBudget.current()?.bytes
        let definition = config.modelDefinition ?? .vgg6
        func build(_ batch: Int) -> ModelBuild {
            ModelBuild(options: config.modelOptions, inputShape: inputShape, classes: classes, maxBatch: batch)
        }
        func need(_ batch: Int) -> Int? {
            definition.memoryBytes(build(batch))
                .flatMap { net in checkedProduct([batch] + inputShape + [4]).map { net + $0 } }
        }
        // Half the room for the batch: the estimate counts the network's buffers, not the allocator's slack or
        // the threads' stacks, and a bigger batch only saves a little time.
        var batch = max(1, min(64, images))
        while batch > 1, !(need(batch).map { n in available.map { n <= $0 / 2 } ?? true } ?? false) { batch /= 2 }
        let one = need(batch)
        if one == nil || available.map({ one! > $0 }) == true {
            let shape = inputShape.map(String.init).joined(separator: "x")
            throw BTError("this run's \(definition.title(build(1))) on \(shape) images needs \(one.map(MemoryBudget.describe) ?? "more than can be counted") for one image; this process may use \(available.map(MemoryBudget.describe) ?? "?")")
        }
        return batch
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f%%", 100 * p) }

    /// The files to classify: files as given, each folder's PNGs and JPEGs (by extension) sorted by name.
    static func imagePaths(_ inputs: [String]) throws -> [String] {
        var paths: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw BTError("no such file or folder: \(input)") }
            guard isDir.boolValue else { paths.append(input); continue }
            // Listed as an image folder's class is: by raw bytes, so a name that is not UTF-8 is reported, not lost.
            let listing = ImageFolder.files(in: input)
            if let bad = listing.undecodable.first { throw BTError("cannot read image \(bad): its name is not UTF-8") }
            guard !listing.paths.isEmpty else { throw BTError("\(input) holds no PNG or JPEG images") }
            paths += listing.paths
        }
        return paths
    }

    /// The run's class names, in label order: recorded in config.json (runs since predict), the dataset's catalog
    /// entry, or an image folder's subfolders if the folder is still there with as many. Nil: indices, and a note why.
    static func classNames(config: TrainConfig, header: RunHeader, classes: Int) -> (names: [String]?, note: String?) {
        if let n = header.classNames, n.count == classes { return (n, nil) }
        if let n = DatasetCatalog.entry(config.dataset)?.classNames, n.count == classes, !n.isEmpty { return (n, nil) }
        if let dir = config.dataDir, let n = try? ImageFolder.classes(in: dir), n.count == classes {
            return (n, "class names read from \(dir)'s subfolders (the run does not record them)")
        }
        return (nil, "the run does not record its class names; printing class indices")
    }
}
