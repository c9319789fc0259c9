import Records
import BTCore
import Datasets
import Foundation
import Kernels
import Quantizers
import Training
import XCTest

/// TTQ and LQ-Nets inside the engine: they learn, their state survives checkpoints and method switches.
final class TrainedQuantizerTrainingTests: XCTestCase {
    func config(_ method: QuantMethod, epochs: Int, trainLimit: Int = 0) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = method; c.k = 16; c.epochs = epochs
        c.logEvery = 1; c.testLimit = 512; c.trainLimit = trainLimit
        return c
    }

    /// Real learning on real data, and the records carry each method's own parameters.
    func testTTQAndLQLearnFashionSubset() throws {
        let data = try fashionSubset()
        for m in [QuantMethod.ttq, .lq] {
            let sink = RecordingSink()
            var c = config(m, epochs: 3)
            c.logEvery = 10
            XCTAssertEqual(try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [sink]).run(), .finished)
            let last = try XCTUnwrap(sink.epochs.last)
            XCTAssertGreaterThan(last.testMetric, 0.65, "\(m): test accuracy \(last.testMetric)")
            let layer = try XCTUnwrap(sink.steps.last?.layers[3])
            switch m {
            case .ttq:
                XCTAssertEqual(Set(layer.scales.keys), ["wp", "wn"])
                XCTAssertEqual(layer.transitions.count, 2)
                XCTAssertNil(layer.transitionBands)
            default:
                XCTAssertEqual(Set(layer.scales.keys), ["v1", "v2"])
                XCTAssertEqual(layer.levels.count, 4)
                XCTAssertEqual(layer.transitionBands?.count, 3)
            }
            XCTAssertGreaterThan(layer.flipFraction, 0, "\(m)")
        }
    }

    /// BT -> TTQ -> LQ -> BT -> TTQ: every loss finite, each switch on the step it was asked for, and TTQ finds
    /// its trained Wp and Wn again (they are not touched while another method trains).
    func testSwitchingToAndFromTTQAndLQKeepsTrainingFiniteAndState() throws {
        let data = try fashionSubset()
        let c = config(.bt, epochs: 1, trainLimit: 2048)  // 16 steps
        let control = TrainerControl()
        final class Switcher: RunSink {
            let control: TrainerControl
            var trainer: Trainer?
            var wpLeaving: Float?, wpReturning: Float?
            init(_ c: TrainerControl) { control = c }
            func wp() -> Float? {
                guard let bank = trainer?.engine.quantizers, bank.has(.ttq) else { return nil }
                return bank.parameters.first { $0.name == "quant.ttq.conv3.wp" }?.value[0]
            }
            func receive(_ r: RunRecord) {
                guard case .step(let s) = r else { return }
                switch s.step {
                case 2: control.requestMethod(.ttq)
                case 5: control.requestMethod(.lq); wpLeaving = wp()
                case 8: control.requestMethod(.bt)
                case 11: control.requestMethod(.ttq); wpReturning = wp()
                default: break
                }
            }
        }
        let switcher = Switcher(control)
        let sink = RecordingSink()
        let trainer = try Trainer(config: c, dataset: data, runDir: nil, control: control, sinks: [sink, switcher])
        switcher.trainer = trainer
        XCTAssertEqual(try trainer.run(), .finished)
        // Step 0 (before training), then steps 1...16: a switch asked at step s applies from step s + 1.
        XCTAssertEqual(sink.steps.map(\.method), ["bt", "bt", "bt", "ttq", "ttq", "ttq", "lq", "lq", "lq", "bt", "bt", "bt",
                                                  "ttq", "ttq", "ttq", "ttq", "ttq"])
        XCTAssertTrue(sink.steps.allSatisfy { $0.loss.isFinite && $0.taskLoss.isFinite && $0.regLoss.isFinite })
        XCTAssertTrue(sink.epochs.allSatisfy { $0.testMetric.isFinite && $0.testLoss.isFinite })
        let left = try XCTUnwrap(switcher.wpLeaving), back = try XCTUnwrap(switcher.wpReturning)
        XCTAssertEqual(left, back, "TTQ's Wp must wait unchanged while LQ and BT train")
        XCTAssertNotEqual(sink.steps[3].layers[2].scales["wp"], sink.steps[5].layers[2].scales["wp"], "Wp trains")
        XCTAssertEqual(trainer.engine.quantizers.methods, [.bt, .ttq, .lq])
    }

    /// Stopping and resuming reproduces the uninterrupted run exactly: the checkpoint holds TTQ's Wp and Wn and LSQ's
    /// step with their Adam moments, and LQ-Nets' basis with its moving average.
    func testTTQAndLQResumeExactly() throws {
        let data = try fashionSubset()
        final class StopAfter: RunSink {
            let control: TrainerControl; let step: Int
            init(_ c: TrainerControl, _ s: Int) { control = c; step = s }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == step { control.requestStop() } }
        }
        for m in [QuantMethod.ttq, .lq, .lsq] {  // the methods with trained parameters or state
            let c = config(m, epochs: 2, trainLimit: 512)
            let straight = RecordingSink()
            _ = try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [straight]).run()
            let dir = temporaryDirectory()
            let control = TrainerControl(), first = RecordingSink()
            XCTAssertEqual(try Trainer(config: c, dataset: data, runDir: dir, control: control,
                                       sinks: [first, StopAfter(control, 5)]).run(), .stopped)
            let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
            XCTAssertEqual(ckpt.header.quantizers, [m])
            XCTAssertEqual(ckpt.header.spec?.method, m)
            let second = RecordingSink()
            XCTAssertEqual(try Trainer(config: c, dataset: data, runDir: dir, control: TrainerControl(),
                                       sinks: [second], resume: ckpt).run(), .finished)
            XCTAssertEqual(first.steps.map(\.loss) + second.steps.map(\.loss), straight.steps.map(\.loss), "\(m)")
            XCTAssertEqual(second.steps.last?.layers[5].scales, straight.steps.last?.layers[5].scales, "\(m)")
        }
    }
}
