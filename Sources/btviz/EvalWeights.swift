import ArgumentParser
import BTCore
import Datasets
import Export
import Foundation
import Models
import Quantizers
import Records
import Training

/// `btviz eval --weights FILE`: a VGG-6 or ResNet state_dict in a safetensors file (PyTorch's names,
/// Samples/pytorch/vgg6.py and resnet.py), evaluated on a dataset's test split with the file's batch-norm statistics;
/// the model and its size come from the file's names and shapes.
struct WeightsEvalOptions: ParsableArguments {
    @Option(help: "Evaluate this safetensors file (a VGG-6 or ResNet state_dict) instead of a run.", completion: .file(extensions: ["safetensors"])) var weights: String?
    @Option(help: "--weights: the dataset to test on (default synthetic).", completion: .list(DatasetCatalog.names)) var dataset: String?

    /// `methods`: comma-separated quantizers applied to the file's latent weights (default full). The input
    /// normalization is fitted to the training split, as a new btviz run's is.
    func evaluate(methods: String?, dataDir: String?) throws {
        guard let weights else { return }
        let reader = try Safetensors.Reader(path: weights)
        var config = TrainConfig()
        config.dataset = dataset ?? config.dataset
        config.dataDir = dataDir
        try Self.recognize(reader, path: weights, into: &config)
        let list = try (methods ?? "full").split(separator: ",").map { name -> QuantMethod in
            guard let m = QuantMethod(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw BTError("unknown method \(name); choose from \(QuantMethod.list())")
            }
            return m
        }
        let data = try loadTrainingData(name: config.dataset, dataDir: config.dataDir, folder: config.folderOptions)
        let trainer = try Trainer(config: config, data: data, runDir: nil, control: TrainerControl(), sinks: [])
        try StateDictFile.load(reader, into: trainer.engine.model)
        print("\(weights): \(trainer.engine.model.title) on the \(config.dataset) test split (\(trainer.testCount) images), the file's batch-norm statistics")
        var rows = [["method", "test \(Metric.accuracy.label)", "test loss"]]
        for m in list {
            _ = trainer.engine.quantizers(for: m, toConvergence: true)
            let r = trainer.evaluate(method: m)
            if let e = trainer.readFailure { throw e }
            rows.append([m.rawValue, Metric.accuracy.format(r.metric), Metric.loss.format(r.loss)])
        }
        printAligned(rows)
    }

    /// The model a state_dict file holds, from its names and shapes: VGG-6's `features.0.weight` gives K; a ResNet's
    /// `layerS.B.conv1.weight` blocks give its depth (6 x blocks per stage + 2).
    static func recognize(_ reader: Safetensors.Reader, path: String, into config: inout TrainConfig) throws {
        if let conv1 = reader.entry("features.0.weight") {
            guard conv1.shape.count == 4, conv1.shape[0] >= 1 else {
                throw BTError("\(path): features.0.weight has shape \(conv1.shape), not [K, channels, 3, 3]")
            }
            // K is the file's, not an option anyone gave: a K btviz cannot build is said of the file.
            guard conv1.shape[0] <= 512 else {
                throw BTError("\(path): features.0.weight has \(conv1.shape[0]) filters (VGG-6 K=\(conv1.shape[0])); btviz builds VGG-6 with K up to 512")
            }
            config.model = ModelDefinition.vgg6.id
            config.k = conv1.shape[0]
            return
        }
        if reader.entry("layer1.0.conv1.weight") != nil {
            let blocks = (0..<1000).prefix { reader.entry("layer1.\($0).conv1.weight") != nil }.count
            config.model = ModelDefinition.resnet.id
            config.modelOptions["depth"] = .integer(6 * blocks + 2)
            if let problem = config.modelOptions.problem(for: .resnet) {
                throw BTError("\(path) holds a ResNet with \(blocks) blocks per stage: \(problem)")
            }
            return
        }
        throw BTError("\(path) has neither features.0.weight (VGG-6) nor layer1.0.conv1.weight (ResNet): not a state_dict btviz builds")
    }
}
