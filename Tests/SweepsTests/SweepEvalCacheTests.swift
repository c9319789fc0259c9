import BTCore
import Foundation
import XCTest
import Sweeps

/// RUN/eval.json read back with bounds and checks, and the table's two figures: which one the cells hold, runs
/// without an evaluation named and not counted, and the note for a cell whose figures differ by more than its spread.
final class SweepEvalCacheTests: XCTestCase {
    let sha = String(repeating: "ab", count: 32)

    func evaluation(_ recalibrated: Double, stored: Double = 0.5) -> RunEvaluation {
        RunEvaluation(checkpointSHA256: sha, step: 10, method: "bt", calibrationImages: 512, calibrationUsed: 512,
                      metric: "accuracy", testImages: 100, testMetric: recalibrated, testLoss: 0.7,
                      storedTestMetric: stored, storedTestLoss: 0.9, evaluatedAt: "2026-12-07T02:00:00Z")
    }

    func folder() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-evalcache-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func testWrittenCacheReadsBackAndHostileOnesAreUnusable() throws {
        let dir = folder()
        XCTAssertEqual(RunEvaluation.read(runDir: dir), .missing)
        let e = evaluation(0.7281)
        try e.write(runDir: dir)
        XCTAssertEqual(RunEvaluation.read(runDir: dir), .found(e))

        func unusable(_ body: (String) throws -> Void, _ expect: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let d = folder()
            try body(d + "/eval.json")
            guard case .unusable(let why) = RunEvaluation.read(runDir: d) else {
                return XCTFail("\(RunEvaluation.read(runDir: d))", file: file, line: line)
            }
            XCTAssertTrue(why.contains(expect), why, file: file, line: line)
        }
        try unusable({ try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: dir + "/eval.json") }, "symbolic link")
        try unusable({ XCTAssertEqual(mkfifo($0, 0o644), 0) }, "named pipe")
        try unusable({ try FileManager.default.createDirectory(atPath: $0, withIntermediateDirectories: false) }, "a folder")
        try unusable({ try Data(repeating: 0x20, count: RunEvaluation.maxBytes + 1).write(to: URL(fileURLWithPath: $0)) }, "more than an eval.json holds")
        try unusable({ try Data([0xff, 0x00, 0x7b]).write(to: URL(fileURLWithPath: $0)) }, "not an evaluation btviz wrote")
        // Well-formed JSON with implausible values is not a figure either.
        func with(_ change: @escaping (inout [String: Any]) -> Void) -> (String) throws -> Void {
            { path in
                var o = try JSONSerialization.jsonObject(with: JSONEncoder().encode(e)) as! [String: Any]
                change(&o)
                try JSONSerialization.data(withJSONObject: o).write(to: URL(fileURLWithPath: path))
            }
        }
        try unusable(with { $0["test_metric"] = 1.5 }, "outside 0...1")
        try unusable(with { $0["checkpoint_sha256"] = "../../etc" }, "not a SHA-256")
        try unusable(with { $0["calibration_used"] = 9999 }, "out of range")
        try unusable(with { $0["format"] = 2 }, "format 2")
        try unusable(with { $0["method"] = String(repeating: "x", count: 1000) }, "too long")
    }

    func testTheCacheMatchesOnlyItsCheckpoint() throws {
        let dir = folder()
        try Data("checkpoint A".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoint.bin"))
        // SHA-256("checkpoint A") as sha256sum prints it.
        let digest = try RunEvaluation.sha256(path: dir + "/checkpoint.bin")
        XCTAssertEqual(digest, "56ece1fb4ee56b87ff676a3e5aa84330940ac4f402f476b8daba2d213df4c379")
        var e = evaluation(0.6)
        e.checkpointSHA256 = digest
        try e.write(runDir: dir)
        XCTAssertEqual(RunEvaluation.current(runDir: dir, calibrationImages: 512).0, e)
        XCTAssertEqual(RunEvaluation.current(runDir: dir, calibrationImages: nil).0, e)
        XCTAssertEqual(RunEvaluation.current(runDir: dir, calibrationImages: 256).why, "evaluated with 512 calibration images, not 256")
        try Data("checkpoint B".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoint.bin"))
        let after = RunEvaluation.current(runDir: dir, calibrationImages: 512)
        XCTAssertNil(after.0)
        XCTAssertEqual(after.why, "evaluated for another checkpoint (resumed or retrained since)")
    }

    // MARK: the table

    func plan() throws -> SweepPlan {
        var runs: [[String: Any]] = []
        for m in ["bwn", "bt"] { for s in 0..<3 { runs.append(["name": "method=\(m),seed=\(s)", "options": ["method": m, "seed": "\(s)"], "args": []]) } }
        let object: [String: Any] = ["version": 1, "name": "x", "varying": ["method", "seed"], "runs": runs,
                                     "parameters": [["key": "method", "values": ["bwn", "bt"]], ["key": "seed", "values": ["0", "1", "2"]]]]
        return try SweepPlan.decode(JSONSerialization.data(withJSONObject: object), path: "sweep.json")
    }

    func result(_ m: String, _ s: Int, stored: Double, recalibrated: Double?) -> SweepTable.RunResult {
        var p = RunProgress()
        p.finished = true; p.metric = "accuracy"; p.testMetric = stored
        return .init(name: "method=\(m),seed=\(s)", options: ["method": m, "seed": "\(s)"], state: .done, progress: p,
                     evaluation: recalibrated.map { evaluation($0, stored: stored) },
                     notEvaluated: recalibrated == nil ? "run btviz sweep eval DIR" : nil)
    }

    /// BWN: stored {69, 70, 71} (70 ± 1), re-estimated {69.5, 70, 70.5} (70 ± 0.5): the same.
    /// BT: stored {60, 65, 70} (65 ± 5), re-estimated {72.5, 72.8, 73.1} (72.8 ± 0.3): 7.8 apart, more than 5.
    func results(btSeed2Evaluated: Bool = true) -> [SweepTable.RunResult] {
        [result("bwn", 0, stored: 0.69, recalibrated: 0.695), result("bwn", 1, stored: 0.70, recalibrated: 0.70),
         result("bwn", 2, stored: 0.71, recalibrated: 0.705),
         result("bt", 0, stored: 0.60, recalibrated: 0.725), result("bt", 1, stored: 0.65, recalibrated: 0.728),
         result("bt", 2, stored: 0.70, recalibrated: btSeed2Evaluated ? 0.731 : nil)]
    }

    func testTheCellsHoldTheChosenFigureAndTheNoteNamesCellsWhoseFiguresDiffer() throws {
        let stored = try SweepTable(plan: plan(), results: results(), rows: [], columns: ["method"], paper: nil, statistics: .stored)
        let recal = try SweepTable(plan: plan(), results: results(), rows: [], columns: ["method"], paper: nil, statistics: .recalibrated)
        XCTAssertEqual(stored.cell([], ["bt"])!.stats!.mean, 65, accuracy: 1e-9)
        XCTAssertEqual(recal.cell([], ["bt"])!.stats!.mean, 72.8, accuracy: 1e-9)
        XCTAssertEqual(recal.cell([], ["bt"])!.stats!.sd!, 0.3, accuracy: 1e-9)
        // Both tables carry both figures, and the same verdict per cell.
        for t in [stored, recal] {
            XCTAssertTrue(t.cell([], ["bt"])!.figuresDiffer)
            XCTAssertFalse(t.cell([], ["bwn"])!.figuresDiffer, "the same mean")
        }
        // With re-estimated statistics BT goes from worst to best, and is bold (Welch: p < 0.05).
        XCTAssertTrue(recal.cell([], ["bt"])!.best)
        XCTAssertFalse(stored.cell([], ["bt"])!.best)

        let md = try SweepTableFormat.md.render(recal)
        XCTAssertTrue(md.contains("| **72.80 ± 0.30 (n=3)** |"), md)
        XCTAssertTrue(md.contains("re-estimated under each run's method on 512 training images"), md)
        XCTAssertTrue(md.contains("Stored and re-estimated batch-norm statistics disagree by more than the cell's sd in bt: stored 65.00 ± 5.00 (n=3), re-estimated 72.80 ± 0.30 (n=3)."), md)
        XCTAssertFalse(md.contains("in bwn"), md)
        let latex = try SweepTableFormat.latex.render(stored)
        XCTAssertTrue(latex.contains("\\toprule") && latex.contains("\\midrule") && latex.contains("\\bottomrule"), latex)
        XCTAssertTrue(latex.contains("% Stored and re-estimated batch-norm statistics disagree by more than the cell's sd in bt"), latex)
        XCTAssertTrue(latex.contains("with the batch-norm statistics each checkpoint stored"), latex)
        let csv = try SweepTableFormat.csv.render(recal).split(separator: "\n").map(String.init)
        XCTAssertEqual(csv[0], "method,mean,sd,n,best,paper,delta,not_counted,stored_mean,stored_sd,stored_n,recalibrated_mean,recalibrated_sd,recalibrated_n,figures_differ")
        XCTAssertTrue(csv[2].hasPrefix("bt,72.8") && csv[2].hasSuffix(",3,true"), csv[2])
        XCTAssertTrue(csv[1].hasSuffix(",3,false"), csv[1])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(SweepTableFormat.json.render(recal).utf8)) as? [String: Any])
        XCTAssertEqual(json["statistics"] as? String, "recalibrated")
        let bt = try XCTUnwrap((json["cells"] as? [[String: Any]])?.first { ($0["column"] as? [String: String])?["method"] == "bt" })
        XCTAssertEqual(try XCTUnwrap((bt["stored"] as? [String: Any])?["mean"] as? Double), 65, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap((bt["recalibrated"] as? [String: Any])?["mean"] as? Double), 72.8, accuracy: 1e-9)
        XCTAssertEqual(bt["figures_differ"] as? Bool, true)
    }

    func testARunWithoutAnEvaluationIsNamedNotCountedAndNotCompared() throws {
        let t = try SweepTable(plan: plan(), results: results(btSeed2Evaluated: false), rows: [], columns: ["method"], paper: nil, statistics: .recalibrated)
        let bt = t.cell([], ["bt"])!
        XCTAssertEqual(bt.stats?.n, 2)
        XCTAssertEqual(bt.left.map(\.name), ["method=bt,seed=2"])
        XCTAssertEqual(bt.left.first?.state, "not evaluated")
        // Stored over 3 runs, re-estimated over 2: not the same runs, so no verdict.
        XCTAssertFalse(bt.figuresDiffer)
        let md = try SweepTableFormat.md.render(t)
        XCTAssertTrue(md.contains("72.65 ± 0.21 (n=2) + 1 not evaluated"), md)
        XCTAssertTrue(md.contains("Not counted: method=bt,seed=2 (not evaluated: run btviz sweep eval DIR)"), md)
        // Stored: every finished run counts, whatever its evaluation.
        let s = try SweepTable(plan: plan(), results: results(btSeed2Evaluated: false), rows: [], columns: ["method"], paper: nil, statistics: .stored)
        XCTAssertEqual(s.cell([], ["bt"])!.stats?.n, 3)
        XCTAssertTrue(s.cell([], ["bt"])!.left.isEmpty)
    }

    func testOneRunHasNoSpreadSoAnyPrintedDifferenceIsNoted() {
        let one = MeanSD.of([70])
        XCTAssertTrue(SweepTable.differ(one, MeanSD.of([70.01]), spread: .sd))
        XCTAssertFalse(SweepTable.differ(one, MeanSD.of([70.004]), spread: .sd))
        // The larger spread is the yardstick: 70 ± 2.58 (se 1.29) against 71.5 ± 0.41, 1.5 apart: within the sd,
        // beyond the standard error.
        let a = MeanSD.of([67, 69, 71, 73]), b = MeanSD.of([71, 71.5, 71.5, 72])
        XCTAssertFalse(SweepTable.differ(a, b, spread: .sd))
        XCTAssertTrue(SweepTable.differ(a, b, spread: .se))
        XCTAssertFalse(SweepTable.differ(a, MeanSD.of([89, 90, 91]), spread: .sd), "different runs")
    }
}
