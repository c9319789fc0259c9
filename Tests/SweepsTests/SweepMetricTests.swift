import Foundation
import Sweeps
import XCTest

/// W&B's `metric: {name, goal}`: read from the spec, kept in sweep.json, and absent from a plan written before it.
final class SweepMetricTests: XCTestCase {
    func spec(_ metric: String) throws -> SweepSpec {
        try SweepSpec.parse(yaml: "name: m\nmethod: grid\nmetric: \(metric)\nparameters:\n  seed: {values: [0, 1]}\n",
                            source: "spec.yaml", defaultName: "m")
    }

    func testMetricIsReadAndKeptInThePlan() throws {
        let loss = try spec("{name: test_loss, goal: minimize, target: 0.1}")
        XCTAssertEqual(loss.metric, SweepMetric(name: "test_loss", goal: .minimize, figure: .testLoss))
        // Without a goal, the figure's own direction.
        XCTAssertEqual(try spec("{name: test/accuracy}").metric?.goal, .maximize)
        let plan = try SweepPlan.expand(loss, flags: [], paths: .resolve(against: "/"))
        let back = try SweepPlan.decode(try plan.encoded(), path: "sweep.json")
        XCTAssertEqual(back.metric, loss.metric)
        XCTAssertEqual(back, plan)
    }

    func testAPlanWithoutMetricReadsAsBeforeAndWritesNoKey() throws {
        let plain = try SweepSpec.parse(yaml: "name: p\nparameters:\n  seed: {value: 0}\n", source: "s", defaultName: "p")
        XCTAssertNil(plain.metric)
        let text = String(decoding: try SweepPlan.expand(plain, flags: [], paths: .resolve(against: "/")).encoded(), as: UTF8.self)
        XCTAssertFalse(text.contains("metric"), text)
        XCTAssertNil(try SweepPlan.decode(Data(text.utf8), path: "sweep.json").metric)
    }

    func testPathValuesNameRunsByTheirLastComponentWhenUnique() throws {
        let s = try SweepSpec.parse(yaml: "name: p\nparameters:\n  data_dir: {values: [/d/fashion, /d/fashion-subset, x/fashion-subset2]}\n",
                                    source: "s", defaultName: "p")
        let plan = try SweepPlan.expand(s, flags: [], paths: .resolve(against: "/w"))
        XCTAssertEqual(plan.runs.map(\.name), ["data_dir=fashion", "data_dir=fashion-subset", "data_dir=fashion-subset2"])
        XCTAssertEqual(plan.runs.map { $0.args.last }, ["/d/fashion", "/d/fashion-subset", "/w/x/fashion-subset2"])
        // Not a path option: the whole value, escaped.
        let k = try SweepSpec.parse(yaml: "name: p\nparameters:\n  val_set: {values: [a/b, c/b]}\n", source: "s", defaultName: "p")
        XCTAssertEqual(try SweepPlan.expand(k, flags: [], paths: .resolve(against: "/")).runs.map(\.name), ["val_set=a%2Fb", "val_set=c%2Fb"])
    }
}
