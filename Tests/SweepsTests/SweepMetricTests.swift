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

/// A spec's `metric: {name: test_loss}` tables the test loss and bolds the lowest: BWN's losses {0.50, 0.51, 0.52}
/// against BT's {0.80, 0.81, 0.82} (sd 0.01 each, t = 36.7 on 4 df: p < 0.001), though BT's accuracy (90-92% against
/// 70-72%) is higher.
final class SweepMetricTableTests: XCTestCase {
    func testTheLossIsTabledAndTheLowestIsBold() throws {
        let spec = try SweepSpec.parse(yaml: "name: l\nmetric: {name: test_loss, goal: minimize}\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {values: [0, 1, 2]}\n",
                                       source: "s", defaultName: "l")
        let plan = try SweepPlan.expand(spec, flags: [], paths: .resolve(against: "/"))
        let results = plan.runs.map { r -> SweepTable.RunResult in
            var p = RunProgress()
            p.finished = true; p.metric = "accuracy"
            let seed = Double(r.options["seed"]!)!
            let bt = r.options["method"] == "bt"
            p.testLoss = (bt ? 0.80 : 0.50) + seed / 100
            p.testMetric = (bt ? 0.9 : 0.7) + seed / 100
            return .init(name: r.name, options: r.options, state: .done, progress: p)
        }
        let loss = try SweepTable(plan: plan, results: results, rows: [], columns: ["method"], paper: nil, figure: .loss)
        XCTAssertEqual(loss.cells.map { $0.stats!.mean }, [0.51, 0.81].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(loss.cells.map(\.best), [true, false])
        let md = try SweepTableFormat.md.render(loss)
        XCTAssertTrue(md.contains("**0.5100 ± 0.0100 (n=3)**"), md)
        XCTAssertTrue(md.contains("of the test loss") && md.contains("mean is lower than every other"), md)
        XCTAssertTrue(md.contains("The sweep's metric (spec.yaml's metric:): test_loss, minimize."), md)
        // The accuracy table of the same runs bolds BT.
        let accuracy = try SweepTable(plan: plan, results: results, rows: [], columns: ["method"], paper: nil, figure: .metric)
        XCTAssertEqual(accuracy.cells.map(\.best), [false, true])
        XCTAssertThrowsError(try SweepTable(plan: plan, results: results, rows: [], columns: ["method"], paper: "table1", figure: .loss))
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
