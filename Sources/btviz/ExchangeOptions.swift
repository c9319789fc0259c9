import ArgumentParser
import BTCore
import Export
import Models
import Records
import Training

/// `train`'s options that bring weights in from elsewhere and send curves out to TensorBoard.
struct ExchangeOptions: ParsableArguments {
    @Option(help: "Start from the weights in this safetensors file (a PyTorch state_dict of Samples/pytorch/vgg6.py or srnet.py, or a btviz export), then quantize and train as usual.", completion: .file(extensions: ["safetensors"]))
    var initFrom: String?
    @Option(help: "Also write TensorBoard event files into this folder (scalars, latent-weight histograms, events as text, the HParams plugin's session: the run's options and status).", completion: .directory)
    var tensorboard: String?

    /// Refuses what cannot go with --resume: a resumed run continues from its own checkpoint.
    func validate(resuming: Bool) throws {
        if resuming && initFrom != nil { throw BTError("--init-from starts a new run from a file; it cannot go with --resume") }
    }

    /// Overwrites the freshly initialized model's weights with the file's (all checked before any is changed).
    func loadInitialWeights(into model: any Model) throws {
        guard let initFrom else { return }
        try StateDictFile.load(try Safetensors.Reader(path: initFrom), into: model)
    }

    /// The TensorBoard sink, in --tensorboard made absolute (as --data-dir is), its session the run's options.
    func sinks(config: TrainConfig, runDir: String) throws -> [RunSink] {
        guard let tensorboard else { return [] }
        let session = try Self.session(config, runDir: runDir)
        // An empty path stays empty, for OutputFolder's one-line refusal (made absolute, it would be this folder).
        return [try TensorBoardSink(folder: tensorboard.isEmpty ? tensorboard : Train.absolute(tensorboard), session: session)]
    }

    /// A run's HParams session: every option of its identity (config.json's keys, less where the data is and what
    /// gets logged: `RunIdentity.bookkeepingKeys`), so two sessions differ exactly where two runs do.
    static func session(_ config: TrainConfig, runDir: String) throws -> HParamsSession {
        HParamsSession(options: try RunIdentity(config).fields.compactMapValues(HParamsSession.Value.init(json:)),
                       runDir: Train.absolute(runDir))
    }
}
