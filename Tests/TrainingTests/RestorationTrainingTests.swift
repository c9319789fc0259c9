import Records
import BTCore
import Foundation
import Models
import Quantizers
import Restoration
import Training
import XCTest

/// Super-resolution and denoising through the trainer, on real images (T91 patches, Set5 validation).
final class RestorationTrainingTests: XCTestCase {
    var srData: String { sharedData.appendingPathComponent("sr").path }

    func config(_ task: TrainTask, method: QuantMethod, steps: Int, epochs: Int = 1) -> TrainConfig {
        var c = TrainConfig.restoration(task)
        c.dataDir = srData; c.method = method; c.epochs = epochs; c.epochSteps = steps; c.logEvery = 5
        return c
    }

    func train(_ c: TrainConfig, runDir: String? = nil, sinks: [RunSink] = [], control: TrainerControl = TrainerControl(),
               resume: Checkpoint? = nil) throws -> (Trainer, RecordingSink) {
        let sink = RecordingSink()
        let v = try ValidatedConfig(c)
        let trainer = try Trainer(config: v, task: makeTrainingTask(config: v, resume: resume), runDir: runDir,
                                  control: control, sinks: [sink] + sinks, resume: resume)
        _ = try trainer.run()
        return (trainer, sink)
    }

    /// x2 on T91: 250 steps lift Set5 clearly above bicubic (33.67 dB) in full precision (34.16 after 150 steps,
    /// 35.6 after 400); BT, slower to start (33.65 after 150 steps, 34.10 after 300), must at least not fall below it.
    func testSuperResolutionLearnsOnT91() throws {
        guard FileManager.default.fileExists(atPath: srData) else { XCTFail("no shared data at \(srData)"); return }
        let bicubic = try RestorationTraining.pairs(set: .set5, task: .superResolution(scale: 2), dataDir: srData)
            .map(\.baselinePSNR).reduce(0, +) / 5
        XCTAssertEqual(bicubic, 33.66, accuracy: 0.02)
        for (method, margin) in [(QuantMethod.full, 0.5), (.bt, -0.05)] {
            let (_, sink) = try train(config(.sr, method: method, steps: 250))
            let e = try XCTUnwrap(sink.epochs.last)
            XCTAssertEqual(e.metric, "psnr")
            XCTAssertGreaterThan(Double(e.testMetric), bicubic + margin, "\(method): Set5 \(e.testMetric) dB vs bicubic \(bicubic)")
            XCTAssertTrue(sink.steps.allSatisfy { $0.metric == "psnr" && $0.layers.count == 5 })
        }
    }

    /// sigma 0.1: the noisy Set5 is at 20.24 dB; 100 steps of the denoiser add more than 6 dB.
    func testDenoisingLearns() throws {
        guard FileManager.default.fileExists(atPath: srData) else { XCTFail("no shared data at \(srData)"); return }
        let noisy = try RestorationTraining.pairs(set: .set5, task: .denoise(sigma: 0.1), dataDir: srData)
            .map(\.baselinePSNR).reduce(0, +) / 5
        let (trainer, sink) = try train(config(.denoise, method: .full, steps: 100))
        XCTAssertEqual(trainer.engine.model.quantizedLayers.count, 4)  // no upsampler
        XCTAssertGreaterThan(Double(try XCTUnwrap(sink.epochs.last).testMetric), noisy + 6)
    }

    /// A run stopped mid-epoch and resumed ends exactly where an uninterrupted one does (with the channel gains,
    /// which train and are checkpointed like any parameter).
    func testResumeContinuesExactly() throws {
        guard FileManager.default.fileExists(atPath: srData) else { XCTFail("no shared data at \(srData)"); return }
        var c = config(.sr, method: .bt, steps: 6, epochs: 2)
        c.lambda = 1e-7; c.logEvery = 1; c.channelGain = true
        let (trainer, straight) = try train(c)
        let gains = try XCTUnwrap((trainer.engine.model as? RestorationNet)?.body.first?.gain).value.array
        XCTAssertTrue(gains.contains { $0 != 1 }, "the gains never moved")
        final class StopAt: RunSink {
            let control: TrainerControl
            init(_ c: TrainerControl) { control = c }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == 8 { control.requestStop() } }
        }
        let dir = temporaryDirectory(), control = TrainerControl()
        let (_, first) = try train(c, runDir: dir, sinks: [StopAt(control)], control: control)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 8)
        let (_, second) = try train(c, runDir: dir, resume: ckpt)
        XCTAssertEqual(first.steps.map(\.loss) + second.steps.map(\.loss), straight.steps.map(\.loss))
        XCTAssertEqual(second.epochs.last?.testMetric, straight.epochs.last?.testMetric)
    }
}
