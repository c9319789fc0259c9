import Records
import BTCore
import Foundation
import Models
import Quantizers
import Training
import XCTest

/// The same seed gives the same run on any number of threads: every sum over workers (weight and bias gradients,
/// batch-norm statistics) is taken per block of a partition fixed by the batch and added in block order. 3 and 4
/// threads oversubscribe a 2-core machine, which changes the timing and not the result.
final class ThreadCountTests: XCTestCase {
    private var saved = Workers.count
    override func setUp() { saved = Workers.count }
    override func tearDown() { Workers.count = saved }

    /// VGG-6(16) (direct, F(2x2) and F(4x4) convolutions) on the Fashion-MNIST subset, BT with its regularizer.
    func vggConfig(steps: Int) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = .bt; c.k = 16; c.lambda = 1e-3
        c.logEvery = 1; c.testLimit = 256
        c.epochs = steps >= 15 ? 2 : 1
        c.trainLimit = c.batchSize * steps / c.epochs
        return c
    }

    /// Everything the run carries forward: parameters, batch-norm running statistics, quantizer parameters.
    func state(_ t: Trainer) -> [[Float]] {
        let m = t.engine.model
        return m.params.map(\.value.array) + m.batchNorms.flatMap { [$0.runningMean.array, $0.runningVar.array] }
            + t.engine.quantizers(for: t.method).flatMap(\.parameters).map(\.value.array)
    }

    func vggRun(threads: Int, steps: Int, sinks: [RunSink] = [], runDir: String? = nil, control: TrainerControl = TrainerControl(),
                resume: Checkpoint? = nil) throws -> (state: [[Float]], losses: [Float], trainer: Trainer) {
        Workers.count = threads
        let sink = RecordingSink()
        let t = try Trainer(config: vggConfig(steps: steps), dataset: try fashionSubset(), runDir: runDir,
                            control: control, sinks: [sink] + sinks, resume: resume)
        _ = try t.run()
        return (state(t), sink.steps.map(\.loss), t)
    }

    func assertSameOnEveryThreadCount(steps: Int) throws {
        let one = try vggRun(threads: 1, steps: steps)
        XCTAssertEqual(one.losses.count, steps + 1)  // and the probe before the first step
        for n in [2, 3, 4] {
            let other = try vggRun(threads: n, steps: steps)
            XCTAssertEqual(other.losses, one.losses, "losses at \(n) threads")
            XCTAssertTrue(other.state == one.state, "weights at \(n) threads differ from 1 thread's")
        }
    }

    func testOneStepIsTheSameOnOneToFourThreads() throws { try assertSameOnEveryThreadCount(steps: 1) }

    func testThirtyStepsAreTheSameOnOneToFourThreads() throws { try assertSameOnEveryThreadCount(steps: 30) }

    /// The SR network (F(4x4) weight gradients split by tiles, the narrow last conv, pixel shuffle) likewise.
    func testRestorationStepsAreTheSameOnOneToFourThreads() throws {
        let srData = sharedData.appendingPathComponent("sr").path
        guard FileManager.default.fileExists(atPath: srData) else { XCTFail("no shared data at \(srData)"); return }
        var c = TrainConfig.restoration(.sr)
        c.dataDir = srData; c.method = .bt; c.epochs = 1; c.epochSteps = 4; c.logEvery = 1; c.lambda = 1e-6
        func run(_ n: Int) throws -> ([[Float]], [Float]) {
            Workers.count = n
            let sink = RecordingSink()
            let v = try ValidatedConfig(c)
            let t = try Trainer(config: v, task: makeTrainingTask(config: v, resume: nil), runDir: nil,
                                control: TrainerControl(), sinks: [sink])
            _ = try t.run()
            return (state(t), sink.steps.map(\.loss) + sink.epochs.map(\.testMetric))
        }
        let one = try run(1)
        for n in [2, 3, 4] {
            let other = try run(n)
            XCTAssertEqual(other.1, one.1, "losses at \(n) threads")
            XCTAssertTrue(other.0 == one.0, "weights at \(n) threads differ from 1 thread's")
        }
    }

    /// A run started on 2 threads, stopped, and resumed on 1 ends exactly where the uninterrupted 2-thread run does;
    /// the run records the count of its latest start.
    func testRunStartedOnTwoThreadsResumesOnOne() throws {
        let straight = try vggRun(threads: 2, steps: 30)
        final class StopAfter: RunSink {
            let control: TrainerControl
            init(_ c: TrainerControl) { control = c }
            func receive(_ r: RunRecord) { if case .step(let s) = r, s.step == 12 { control.requestStop() } }
        }
        let dir = temporaryDirectory(), control = TrainerControl()
        let first = try vggRun(threads: 2, steps: 30, sinks: [StopAfter(control)], runDir: dir, control: control)
        XCTAssertEqual(first.trainer.header.threads, 2)
        let ckpt = try Checkpoint.load(path: dir + "/checkpoint.bin")
        XCTAssertEqual(ckpt.header.step, 12)
        let second = try vggRun(threads: 1, steps: 30, runDir: dir, resume: ckpt)
        XCTAssertEqual(second.trainer.header.threads, 1)
        XCTAssertEqual(first.losses + second.losses, straight.losses)
        XCTAssertTrue(second.state == straight.state, "the resumed run's weights differ from the uninterrupted run's")
    }
}
