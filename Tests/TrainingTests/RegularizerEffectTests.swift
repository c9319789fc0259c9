import Records
import Datasets
import Quantizers
import Training
import XCTest

/// The regularizer does what it is for: at the same seed, training at the default lambda leaves more weights
/// within the noise's reach of a transition (a higher flip fraction) and weights closer to transitions,
/// over 100 steps (5 epochs of the Fashion subset at K=8). docs/results.md's λ study shows the same over 15 epochs and 3 seeds.
final class RegularizerEffectTests: XCTestCase {
    struct Summary { var flip: Float; var distance: Float; var near: Float }

    func run(_ method: QuantMethod, lambda: Float, data: Dataset) throws -> Summary {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = method; c.lambda = lambda; c.k = 16; c.epochs = 5
        c.testLimit = 128; c.logEvery = 5
        let sink = RecordingSink()
        _ = try Trainer(config: c, dataset: data, runDir: nil, control: TrainerControl(), sinks: [sink]).run()
        // Average the last six logged steps and all layers: one noise sample per step is itself noisy.
        let tail = sink.steps.suffix(6).flatMap(\.layers)
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
            let on = try run(method, lambda: TrainConfig.defaultLambda(for: method), data: data)
            print("\(method): flip fraction \(off.flip) -> \(on.flip), near \(off.near) -> \(on.near), distance \(off.distance) -> \(on.distance)")
            XCTAssertGreaterThan(on.flip, off.flip * 1.05, "\(method): flip fraction \(off.flip) -> \(on.flip)")
            XCTAssertGreaterThan(on.near, off.near * 1.1, "\(method): share near a transition \(off.near) -> \(on.near)")
            if method == .bwn {
                // BWN's one transition is 0 and its scale is mean|W|: the mean distance is 1, always (up to the
                // step's Adam update: the record pairs the fit the step used with the updated weights).
                XCTAssertEqual(on.distance, 1, accuracy: 2e-3)
                XCTAssertEqual(off.distance, 1, accuracy: 2e-3)
            } else {
                XCTAssertLessThan(on.distance, off.distance, "\(method): mean distance \(off.distance) -> \(on.distance)")
            }
        }
    }
}
