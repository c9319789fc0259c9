import Records
import BTCore
import Datasets
import Foundation
import Quantizers
import Training
import XCTest

/// LSQ inside the engine: it learns on real data, and its trained step survives a checkpoint exactly.
final class LSQTrainingTests: XCTestCase {
    func config(epochs: Int, trainLimit: Int = 0) -> TrainConfig {
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = .lsq; c.lambda = TrainConfig.defaultLambda(for: .lsq); c.k = 8; c.epochs = epochs
        c.logEvery = 10; c.testLimit = 512; c.trainLimit = trainLimit
        return c
    }

    /// VGG-6(8), 3 epochs of the Fashion subset: well above chance (10%), at the bar TTQ and LQ-Nets meet.
    func testLSQLearnsFashionSubset() throws {
        let data = try fashionSubset()
        let sink = RecordingSink()
        XCTAssertEqual(try Trainer(config: config(epochs: 3), dataset: data, runDir: nil, control: TrainerControl(),
                                   sinks: [sink]).run(), .finished)
        let last = try XCTUnwrap(sink.epochs.last)
        XCTAssertGreaterThan(last.testMetric, 0.65, "test accuracy \(last.testMetric)")
        let first = try XCTUnwrap(sink.steps.first?.layers[3]), layer = try XCTUnwrap(sink.steps.last?.layers[3])
        XCTAssertEqual(Array(layer.scales.keys), ["s"])
        XCTAssertNotEqual(layer.scales["s"], first.scales["s"], "the step is trained")
        XCTAssertEqual(layer.levels.count, 4)
        XCTAssertEqual(layer.transitions.count, 3)
        XCTAssertEqual(layer.fit?.scaleTitle, "s")
        XCTAssertEqual(layer.fit?.transitions.prefix(2), ["±0.5s", "±1.5s"])
    }
}
