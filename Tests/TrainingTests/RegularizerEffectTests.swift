import Datasets
import Quantizers
import Training
import XCTest

/// The regularizer does what it is for: at the same seed, training with lambda > 0 leaves more weights
/// within the noise's reach of a transition (a higher flip fraction) and weights closer to transitions.
/// A strong lambda keeps this test short; the README's figures show lambda = 0.1 over full runs.
final class RegularizerEffectTests: XCTestCase {
    struct Summary { var flip: Float; var distance: Float; var near: Float }

    func run(_ method: QuantMethod, lambda: Float, data: Dataset) throws -> Summary {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = method; c.lambda = lambda; c.k = 8; c.epochs = 2
        c.trainLimit = 1024; c.testLimit = 128; c.logEvery = 1
        let sink = RecordingSink()
        _ = try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [sink]).run()
        // Average the last five steps and all layers: one noise sample per step is itself noisy.
        let tail = sink.steps.suffix(5).flatMap(\.layers)
        let n = Float(tail.count)
        let near = tail.map { $0.nearTransitionShare() }
        return Summary(flip: tail.map(\.flipFraction).reduce(0, +) / n,
                       distance: tail.map(\.meanTransitionDistance).reduce(0, +) / n,
                       near: near.reduce(0, +) / n)
    }

    func testLambdaRaisesFlipsAndLowersDistance() throws {
        let data = try fashionSubset()
        for method in [QuantMethod.bwn, .twn, .bt] {
            let off = try run(method, lambda: 0, data: data)
            let on = try run(method, lambda: 10, data: data)
            XCTAssertGreaterThan(on.flip, off.flip * 1.2, "\(method): flip fraction \(off.flip) -> \(on.flip)")
            XCTAssertGreaterThan(on.near, off.near, "\(method): share near a transition \(off.near) -> \(on.near)")
            if method == .bwn {
                // BWN's one transition is 0 and its scale is mean|W|: the mean distance is exactly 1, always.
                XCTAssertEqual(on.distance, 1, accuracy: 1e-4)
                XCTAssertEqual(off.distance, 1, accuracy: 1e-4)
            } else {
                XCTAssertLessThan(on.distance, off.distance, "\(method): mean distance \(off.distance) -> \(on.distance)")
            }
        }
    }
}
