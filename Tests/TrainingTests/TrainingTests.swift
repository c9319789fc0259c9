import Records
import BTCore
import Datasets
import Foundation
import Quantizers
import Training
import XCTest

final class TrainingTests: XCTestCase {
    func quickConfig(_ method: QuantMethod, epochs: Int = 2) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = method; c.k = 8; c.epochs = epochs
        c.logEvery = 5; c.testLimit = 1000
        return c
    }

    /// Real learning on real data: a short BT run on the Fashion-MNIST subset is far above chance (10%).
    func testBTLearnsFashionSubset() throws {
        let data = try fashionSubset()
        let sink = RecordingSink()
        let trainer = try Trainer(config: quickConfig(.bt, epochs: 3), dataset: data, runDir: nil,
                                  control: TrainerControl(), sinks: [sink])
        XCTAssertEqual(try trainer.run(), .finished)
        let last = try XCTUnwrap(sink.epochs.last)
        XCTAssertGreaterThan(last.testMetric, 0.65, "test accuracy \(last.testMetric)")
        XCTAssertEqual(sink.epochs.count, 3)
        // Step records carry the quantizer's view of every conv layer.
        let step = try XCTUnwrap(sink.steps.last)
        XCTAssertEqual(step.layers.count, 6)
        XCTAssertEqual(step.layers[0].transitions.count, 4)  // BT: ±(a1 - d1), ±(a1 + d1)
        XCTAssertEqual(step.layers[0].levels.count, 5)
        XCTAssertEqual(step.layers[0].histogram.counts.reduce(0, +), 8 * 9)
        XCTAssertGreaterThan(step.layers[3].flipFraction, 0)
    }

    /// Running statistics belong to the quantizer they were gathered under. A BT-trained net evaluated at full
    /// precision with BT's statistics is far off; re-estimated on a few hundred training images, it is not.
    func testRecalibratedBatchNormMakesWhatIfEvaluationMeaningful() throws {
        let data = try fashionSubset()
        let trainer = try Trainer(config: quickConfig(.bt, epochs: 3), dataset: data, runDir: nil,
                                  control: TrainerControl(), sinks: [])
        XCTAssertEqual(try trainer.run(), .finished)
        let btStored = trainer.evaluate(method: .bt).metric
        let fullStored = trainer.evaluate(method: .full).metric
        XCTAssertEqual(trainer.recalibrateBatchNorm(method: .full, images: 512), 512)
        let fullRecalibrated = trainer.evaluate(method: .full).metric
        XCTAssertGreaterThan(fullRecalibrated, fullStored + 0.05, "full: \(fullStored) stored -> \(fullRecalibrated) recalibrated")
        XCTAssertGreaterThan(fullRecalibrated, btStored - 0.05, "the latent weights at full precision are a working net")
        // For the quantizer it was trained with, recalibration changes little.
        trainer.recalibrateBatchNorm(method: .bt, images: 512)
        XCTAssertEqual(trainer.evaluate(method: .bt).metric, btStored, accuracy: 0.03)
    }

    /// A run written before the reduction and the initialization were options resumes as it was made: with a
    /// mean regularizer and He-normal weights. A new run gets the paper's sum and PyTorch's initialization.
    func testOlderConfigsKeepTheirRegularizerAndInitialization() throws {
        let old = #"{"dataset":"fashion","method":"bt","lambda":0.1,"k":16,"epochs":15,"lr":0.002,"seed":0}"#
        let c = try JSONDecoder().decode(TrainConfig.self, from: Data(old.utf8))
        XCTAssertEqual(c.regReduction, .mean)
        XCTAssertEqual(c.initScheme, .he)
        XCTAssertEqual(c.lambda, 0.1)
        XCTAssertEqual(c.batchSize, 128)
        let now = try JSONDecoder().decode(TrainConfig.self, from: JSONEncoder().encode(TrainConfig()))
        XCTAssertEqual(now.regReduction, .sum)
        XCTAssertEqual(now.initScheme, .pytorch)
        XCTAssertEqual(TrainConfig.defaultLambda(for: .bwn), 1e-4)
        XCTAssertEqual(TrainConfig.defaultLambda(for: .bt), 3e-4)
    }

    /// Same seed, same run: every logged number is identical.
    func testSameSeedSameRun() throws {
        let data = try fashionSubset()
        var c = quickConfig(.twn, epochs: 1)
        c.trainLimit = 512; c.testLimit = 256
        func losses() throws -> [Float] {
            let sink = RecordingSink()
            _ = try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [sink]).run()
            return sink.steps.map(\.loss) + sink.epochs.map(\.testMetric)
        }
        XCTAssertEqual(try losses(), try losses())
    }

    /// Stopping and resuming from the checkpoint reproduces the uninterrupted run exactly.
    func testResumeContinuesExactly() throws {
        let data = try fashionSubset()
        var c = quickConfig(.bt, epochs: 2)
        c.trainLimit = 512; c.testLimit = 256; c.logEvery = 1
        let straight = RecordingSink()
        _ = try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [straight]).run()

        let dir = temporaryDirectory()
        let control = TrainerControl()
        final class StopAfter: RunSink {
            let control: TrainerControl; let step: Int
            init(_ c: TrainerControl, _ s: Int) { control = c; step = s }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == step { control.requestStop() } }
        }
        let first = RecordingSink()
        let outcome = try Trainer(config: c, dataset: data, runDir: dir, control: control,
                                  sinks: [first, StopAfter(control, 5)]).run()
        XCTAssertEqual(outcome, .stopped)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 5)
        let second = RecordingSink()
        XCTAssertEqual(try Trainer(config: c, dataset: data, runDir: dir, control: TrainerControl(),
                                   sinks: [second], resume: ckpt).run(), .finished)
        let resumed = first.steps.map(\.loss) + second.steps.map(\.loss)
        XCTAssertEqual(resumed, straight.steps.map(\.loss))
        XCTAssertEqual(second.epochs.last?.testMetric, straight.epochs.last?.testMetric)
        // The epoch cut at step 5 reports its train loss and metric over all its batches, not only those after
        // the resume: the checkpoint carried the epoch's sums.
        XCTAssertEqual(ckpt.header.epochSums?.seen, 128)
        func figures(_ epochs: [EpochRecord]) -> [Float] { epochs.flatMap { [$0.trainLoss, $0.trainMetric, $0.testMetric, $0.testLoss] } }
        XCTAssertEqual(figures(first.epochs + second.epochs), figures(straight.epochs))
    }

    /// A NaN loss stops the run with an error and leaves the last good checkpoint in place.
    func testNaNStopsAndKeepsCheckpoint() throws {
        let data = try fashionSubset()
        var c = quickConfig(.bwn, epochs: 2)
        c.trainLimit = 512; c.testLimit = 128
        let dir = temporaryDirectory()
        let sink = RecordingSink()
        let trainer = try Trainer(config: c, dataset: data, runDir: dir, control: TrainerControl(), sinks: [sink])
        trainer.injectNaNAtStep = 6
        XCTAssertThrowsError(try trainer.run()) {
            XCTAssertTrue("\($0)".contains("NaN"), "\($0)")
        }
        XCTAssertEqual(sink.events.last?.kind, .nan)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 4)  // end of epoch 1 (512 / 128 = 4 steps)
    }

    /// Switching the quantizer mid-run takes effect on the next step, keeps Adam's state, and is logged.
    func testMethodAndLambdaSwitchMidRun() throws {
        let data = try fashionSubset()
        var c = quickConfig(.bwn, epochs: 1)
        c.trainLimit = 1024; c.testLimit = 128; c.logEvery = 1
        let control = TrainerControl()
        final class Switcher: RunSink {
            let control: TrainerControl
            init(_ c: TrainerControl) { control = c }
            func receive(_ r: RunRecord) {
                if case .step(let s) = r, s.step == 3 { control.requestMethod(.bt); control.requestLambda(0.4) }
            }
        }
        let sink = RecordingSink()
        let trainer = try Trainer(config: c, dataset: data, runDir: nil, control: control, sinks: [sink, Switcher(control)])
        _ = try trainer.run()
        // Records: step 0 (before training), then steps 1, 2, 3, ...; the switch asked at step 3 applies to step 4.
        XCTAssertEqual(sink.steps[0].step, 0)
        XCTAssertEqual(sink.steps[3].method, "bwn")
        XCTAssertEqual(sink.steps[4].method, "bt")
        XCTAssertEqual(sink.steps[4].lambda, 0.4)
        XCTAssertEqual(sink.steps[4].layers[0].transitions.count, 4)
        let kinds = sink.events.map(\.kind)
        XCTAssertTrue(kinds.contains(.method) && kinds.contains(.lambda), "\(kinds)")
        XCTAssertEqual(trainer.engine.optimizer.t, 8)  // one Adam clock across the switch
    }
}

/// config.json keeps its shape: every quantizer option at the top level under its key, and a round trip is exact.
final class ConfigCodingTests: XCTestCase {
    func testConfigRoundTripAndQuantizerKeys() throws {
        var c = TrainConfig()
        c.method = .lq; c.k = 4; c.dataDir = "/x"; c.imageSize = 32
        c.quantOptions["lq_bits"] = .integer(3); c.quantOptions["ttq_t"] = .real(0.1)
        let data = try JSONEncoder().encode(c)
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(json["lq_bits"] as? Int, 3)
        XCTAssertEqual(json["bt_scale"] as? String, "paper")
        XCTAssertEqual(json["delta_ratio"] as? Double ?? 0, 0.66, accuracy: 1e-6)
        XCTAssertNil(json["test_dir"])
        let back = try JSONDecoder().decode(TrainConfig.self, from: data)
        XCTAssertEqual(back.spec, c.spec)
        let again = try JSONSerialization.jsonObject(with: JSONEncoder().encode(back)) as! NSDictionary
        XCTAssertEqual(again, json as NSDictionary)
        XCTAssertEqual(TrainConfig.defaultLambda(for: .ttq), 0)
    }
}
