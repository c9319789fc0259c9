import BTCore
import Datasets
import Foundation
import Models
import Quantizers
import Records
import Training
import XCTest

/// ResNet-20 through the trainer on real CIFAR-10 images (../shared/data/cifar10-subset): the same bits on any
/// number of threads, a resume on another count that ends where the uninterrupted run does, and a checkpoint that
/// names its model and rebuilds it.
final class ResNetTrainingTests: XCTestCase {
    private var saved = Workers.count
    override func setUp() { saved = Workers.count }
    override func tearDown() { Workers.count = saved }

    func cifarSubset() throws -> TrainingData {
        let dir = sharedData.appendingPathComponent("cifar10-subset").path
        guard FileManager.default.fileExists(atPath: dir) else { XCTFail("no shared data at \(dir)"); throw XCTSkip("no data") }
        return try loadTrainingData(name: "cifar10", dataDir: dir, folder: TrainConfig().folderOptions)
    }

    func config(method: QuantMethod = .bt, steps: Int = 4) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = "cifar10"; c.model = "resnet"; c.method = method; c.lambda = 1e-3
        c.batchSize = 32; c.logEvery = 1; c.testLimit = 64; c.epochs = 2
        c.trainLimit = c.batchSize * steps / c.epochs
        return c
    }

    func state(_ t: Trainer) -> [[Float]] {
        let m = t.engine.model
        return m.params.map(\.value.array) + m.batchNorms.flatMap { [$0.runningMean.array, $0.runningVar.array] }
            + t.engine.quantizers(for: t.method).flatMap(\.parameters).map(\.value.array)
    }

    func run(_ c: TrainConfig, threads: Int, data: TrainingData, sinks: [RunSink] = [], runDir: String? = nil,
             control: TrainerControl = TrainerControl(), resume: Checkpoint? = nil) throws -> (state: [[Float]], losses: [Float], trainer: Trainer) {
        Workers.count = threads
        let sink = RecordingSink()
        let t = try Trainer(config: c, data: data, runDir: runDir, control: control, sinks: [sink] + sinks, resume: resume)
        _ = try t.run()
        return (state(t), sink.steps.map(\.loss), t)
    }

    func testResNet20IsTheSameOnOneTwoAndThreeThreads() throws {
        let data = try cifarSubset()
        let one = try run(config(), threads: 1, data: data)
        XCTAssertEqual(one.trainer.engine.model.title, "ResNet-20")
        XCTAssertEqual(one.trainer.engine.model.quantizedLayers.count, 18)
        for n in [2, 3] {
            let other = try run(config(), threads: n, data: data)
            XCTAssertEqual(other.losses, one.losses, "losses at \(n) threads")
            XCTAssertTrue(other.state == one.state, "weights at \(n) threads differ from 1 thread's")
        }
    }

    /// Started on 2 threads, stopped after step 2, resumed on 3: the uninterrupted 2-thread run's bits. The checkpoint
    /// names the model (config's model and options, the input shape and class count) and `RunFolder.open` rebuilds it.
    func testResNet20ResumesOnAnotherThreadCount() throws {
        let data = try cifarSubset()
        let straight = try run(config(), threads: 2, data: data)
        final class StopAfter: RunSink {
            let control: TrainerControl
            init(_ c: TrainerControl) { control = c }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == 2 { control.requestStop() } }
        }
        let dir = temporaryDirectory(), control = TrainerControl()
        let first = try run(config(), threads: 2, data: data, sinks: [StopAfter(control)], runDir: dir, control: control)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 2)
        XCTAssertEqual(ckpt.header.config.model, "resnet")
        XCTAssertEqual(ckpt.header.config.modelOptions["depth"], .integer(20))
        XCTAssertEqual(ckpt.header.inputShape, [3, 32, 32])
        XCTAssertEqual(ckpt.header.classes, 10)
        XCTAssertNotNil(ckpt.data["layer3.2.conv2"])
        let second = try run(config(), threads: 3, data: data, runDir: dir, resume: ckpt)
        XCTAssertEqual(first.losses + second.losses, straight.losses)
        XCTAssertTrue(second.state == straight.state, "the resumed run's weights differ from the uninterrupted run's")

        let opened = try RunFolder(dir).open()
        XCTAssertEqual(opened.model.title, "ResNet-20")
        XCTAssertEqual(opened.definition.id, "resnet")
        XCTAssertEqual(first.trainer.header.classes, 10)
        XCTAssertNil(first.trainer.header.k, "k is VGG-6's option, not written for a ResNet")
    }

    /// ResNet-20 learns: 60 steps of full precision at batch 64 on CIFAR-10 images lift training accuracy well above
    /// chance (10%), and the test split is scored.
    func testResNet20LearnsOnCIFAR() throws {
        let data = try cifarSubset()
        var c = config(method: .full, steps: 60)
        c.batchSize = 64; c.trainLimit = 64 * 30; c.testLimit = 500; c.lambda = 0; c.lr = 2e-3
        let sink = RecordingSink()
        Workers.count = saved
        let t = try Trainer(config: c, data: data, runDir: nil, control: TrainerControl(), sinks: [sink])
        _ = try t.run()
        let last = try XCTUnwrap(sink.epochs.last)
        XCTAssertGreaterThan(last.trainMetric, 0.25, "train accuracy after 60 steps")
        XCTAssertGreaterThan(last.testMetric, 0.2, "test accuracy after 60 steps")
    }
}
