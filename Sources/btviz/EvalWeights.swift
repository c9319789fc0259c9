import ArgumentParser
import BTCore
import Datasets
import Export
import Foundation
import Quantizers
import Records
import Training

/// `btviz eval --weights FILE`: a VGG-6 state_dict in a safetensors file (PyTorch's names, Samples/pytorch/vgg6.py),
/// evaluated on a dataset's test split with the file's batch-norm statistics; K and the classes come from its shapes.
struct WeightsEvalOptions: ParsableArguments {
    @Option(help: "Evaluate this safetensors file (a VGG-6 state_dict) instead of a run.", completion: .file(extensions: ["safetensors"])) var weights: String?
    @Option(help: "--weights: the dataset to test on (default synthetic).", completion: .list(DatasetCatalog.names)) var dataset: String?

    /// `methods`: comma-separated quantizers applied to the file's latent weights (default full). The input
    /// normalization is fitted to the training split, as a new btviz run's is.
    func evaluate(methods: String?, dataDir: String?) throws {
        guard let weights else { return }
        let reader = try Safetensors.Reader(path: weights)
        guard let conv1 = reader.entry("features.0.weight"), conv1.shape.count == 4, conv1.shape[0] >= 1 else {
            throw BTError("\(weights) has no tensor features.0.weight of shape [K, channels, 3, 3]: not a VGG-6 state_dict")
        }
        // K is the file's, not an option anyone gave: a K btviz cannot build is said of the file.
        let k = conv1.shape[0]
        guard k <= 512 else {
            throw BTError("\(weights): features.0.weight has \(k) filters (VGG-6 K=\(k)); btviz builds VGG-6 with K up to 512")
        }
        var config = TrainConfig()
        config.dataset = dataset ?? config.dataset
        config.dataDir = dataDir
        config.k = k
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
}
