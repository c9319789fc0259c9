import ArgumentParser
import BTCore
import Datasets
import Foundation
import Quantizers
import Training

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test accuracy of a run's checkpoint under every quantizer, applied to the same latent weights.")

    @Argument(help: "Run directory.") var runDir: String
    @Option(help: "Folder with the dataset's files, if it moved since training.") var dataDir: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let ckpt = try Checkpoint.load(path: runDir + "/checkpoint.bin")
        var config = ckpt.header.config
        if let dataDir { config.dataDir = dataDir }
        let data = try loadDataset(name: config.dataset, dataDir: config.dataDir)
        let trainer = try Trainer(config: config, dataset: data, runDir: nil, control: TrainerControl(),
                                  sinks: [], resume: ckpt)
        var rows: [(QuantMethod, Float, Float)] = []
        for m in QuantMethod.allCases {
            let (acc, loss) = trainer.evaluate(method: m)
            rows.append((m, acc, loss))
        }
        if json {
            let items = rows.map { "{\"method\":\"\($0.0.rawValue)\",\"test_acc\":\($0.1),\"test_loss\":\($0.2)}" }
            print("{\"step\":\(ckpt.header.step),\"trained_with\":\"\(ckpt.header.method.rawValue)\",\"results\":[\(items.joined(separator: ","))]}")
            return
        }
        print("\(runDir)/checkpoint.bin: step \(ckpt.header.step), trained with \(ckpt.header.method.label), lambda \(ckpt.header.lambda), \(config.dataset) test split")
        print("method  test acc  test loss")
        for (m, acc, loss) in rows {
            print(String(format: "%-6@  %7.2f%%  %9.4f%@", m.rawValue, 100 * acc, loss,
                         m == ckpt.header.method ? "   (trained)" : ""))
        }
    }
}
