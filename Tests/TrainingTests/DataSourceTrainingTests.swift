import Records
import BTCore
import Datasets
import Foundation
import Quantizers
import Training
import XCTest

/// The trainer on the new data sources: CIFAR-10 (RGB, flips), and a streamed .npz set (ImageNet 64x64's layout),
/// whose resume must continue exactly as an uninterrupted run.
final class DataSourceTrainingTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/datasets").path

    func config(_ dataset: String, epochs: Int = 2) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = dataset; c.method = .bt; c.k = 4; c.epochs = epochs; c.batchSize = 4; c.logEvery = 1
        return c
    }

    func stream() throws -> TrainingData {
        let dir = fixtures + "/imagenet64"
        let train = try NpzImageStream(paths: [dir + "/train_data_batch_1.npz", dir + "/train_data_batch_2.npz"],
                                       channels: 3, height: 64, width: 64, classes: 1000, shuffleBuffer: 3)
        let test = try NpzImageStream(paths: [dir + "/val_data.npz"], channels: 3, height: 64, width: 64, classes: 1000)
        return TrainingData(name: "imagenet64", train: train, test: test, classes: 1000, classNames: [],
                            augmentation: .standard(height: 64, width: 64, flip: true))
    }

    func testStreamedTrainingResumesExactly() throws {
        let data = try stream()
        let c = config("imagenet64", epochs: 3)  // 9 images, batches of 4: 3 steps an epoch
        let straight = RecordingSink()
        XCTAssertEqual(try Trainer(config: c, data: data, runDir: nil, control: TrainerControl(), sinks: [straight]).run(), .finished)
        XCTAssertEqual(straight.steps.count, 10)  // step 0, then 9 steps
        XCTAssertEqual(straight.epochs.count, 3)

        // Stop mid-epoch (step 4 of 9: epoch 1, one batch in), resume: the stream skips that batch and goes on.
        final class StopAt: RunSink {
            let control: TrainerControl
            init(_ c: TrainerControl) { control = c }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == 4 { control.requestStop() } }
        }
        let dir = temporaryDirectory(), control = TrainerControl(), first = RecordingSink()
        XCTAssertEqual(try Trainer(config: c, data: data, runDir: dir, control: control, sinks: [first, StopAt(control)]).run(), .stopped)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 4)
        let second = RecordingSink()
        XCTAssertEqual(try Trainer(config: c, data: data, runDir: dir, control: TrainerControl(), sinks: [second], resume: ckpt).run(), .finished)
        XCTAssertEqual(first.steps.map(\.loss) + second.steps.map(\.loss), straight.steps.map(\.loss))
        XCTAssertEqual(second.epochs.last?.testMetric, straight.epochs.last?.testMetric)
    }

    /// The trainer takes its augmentation from the data; --no-flip (config.flip) turns flips off, which changes
    /// the run (flips draw from the augmentation stream), and a dataset that forbids flips ignores the option.
    func testFlipsFollowTheCatalog() throws {
        let dir = sharedData.appendingPathComponent("cifar10-subset").path
        guard FileManager.default.fileExists(atPath: dir) else { XCTFail("no shared data"); return }
        let data = try loadTrainingData(name: "cifar10", dataDir: dir)
        XCTAssertTrue(data.augmentation.flip)
        func losses(_ d: TrainingData, flip: Bool) throws -> [Float] {
            var c = config("cifar10", epochs: 1)
            c.trainLimit = 64; c.testLimit = 32; c.batchSize = 16; c.flip = flip
            let sink = RecordingSink()
            _ = try Trainer(config: c, data: d, runDir: nil, control: TrainerControl(), sinks: [sink]).run()
            return sink.steps.map(\.loss)
        }
        let on = try losses(data, flip: true), off = try losses(data, flip: false)
        XCTAssertEqual(on.first, off.first, "step 0 is before any augmentation")
        XCTAssertNotEqual(on, off)
        var noFlips = data
        noFlips.augmentation.flip = false
        XCTAssertEqual(try losses(noFlips, flip: true), off, "the option cannot turn on what the dataset forbids")
    }

    /// A streamed split that fails mid-pass stops training with its one-line error.
    func testReadErrorDuringTrainingIsAnError() throws {
        let tmp = temporaryDirectory()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/imagenet64/train_data_batch_1.npz")))
        bytes[bytes.count / 2] ^= 0xFF  // inside the stored data: the CRC catches it at the end of the part
        try Data(bytes).write(to: URL(fileURLWithPath: tmp + "/train_data_batch_1.npz"))
        let train = try NpzImageStream(paths: [tmp + "/train_data_batch_1.npz"], channels: 3, height: 64, width: 64, classes: 1000)
        var data = try stream()
        data.train = train
        XCTAssertThrowsError(try Trainer(config: config("imagenet64"), data: data, runDir: nil, control: TrainerControl(), sinks: []).run()) {
            XCTAssertTrue("\($0)".contains("CRC"), "\($0)")
        }
    }
}
