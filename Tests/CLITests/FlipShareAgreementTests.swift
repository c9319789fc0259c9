import Explorer
import Foundation
import Records
import XCTest

/// One trained run's flip share, as the sweep board, `compare`, TensorBoard (live and exported) and `sweep table
/// --figure flip_share` print it: one number (Records' `FlipShare`); and `sweep table --paper` on a real sweep of the
/// Fashion subset says what it read and how it differs from the paper.
final class FlipShareAgreementTests: XCTestCase {
    func testBoardCompareAndTensorBoardPrintOneFlipShare() throws {
        let root = temporaryDirectory(), dir = root + "/run", live = root + "/tb-live", after = root + "/tb-after"
        let t = try btviz(["train", "--method", "bt", "--k", "4", "--epochs", "2", "--train-limit", "128", "--test-limit", "64",
                           "--batch-size", "64", "--log-every", "1", "--headless", "--run-dir", dir, "--tensorboard", live], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try btviz(["export", dir, "--format", "tensorboard", "--out", after]).status, 0)

        // The board: SweepBoard's digest fed the run's metrics.jsonl.
        let (records, bad) = RunRecordCoding.decodeLines(try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8))
        XCTAssertEqual(bad, 0)
        let board = try XCTUnwrap(RunDigest(records: records).flipShare)
        XCTAssertGreaterThan(board, 0)

        // compare --json: the row's flip_share, and the group's mean of one run.
        let o = try btviz(["compare", "--json", dir])
        XCTAssertEqual(o.status, 0, o.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any])
        let row = try XCTUnwrap((report["rows"] as? [[String: Any]])?.first)
        XCTAssertNil(row["flip_fraction"], "the old name is gone: one name for one figure")
        XCTAssertEqual(Float(try XCTUnwrap(row["flip_share"] as? Double)), board)
        let group = try XCTUnwrap((report["groups"] as? [[String: Any]])?.first?["flip_share"] as? [String: Any])
        XCTAssertEqual(Float(try XCTUnwrap(group["mean"] as? Double)), board)
        // The text table prints the same share as a percentage.
        let text = try btviz(["compare", dir])
        XCTAssertTrue(text.stdout.contains(String(format: "%.2f%%", 100 * Double(board))), text.stdout)

        // --within-epochs 1: the last step record of epoch 0 (steps 1 and 2 at batch 64 of 128 images), as FlipShare says.
        let early = try XCTUnwrap(FlipShare(records: records, withinEpochs: 1).value)
        XCTAssertEqual(FlipShare(records: records, withinEpochs: 1).step, 2)
        let w = try btviz(["compare", "--json", "--within-epochs", "1", dir])
        let wrow = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(w.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])?.first)
        XCTAssertEqual(Float(try XCTUnwrap(wrow["flip_share"] as? Double)), early)

        // TensorBoard's own reader: train/flip_share from step 1 (step 0's record is no flip share), its last value
        // the board's.
        for folder in [live, after] {
            let r = try python(["tensorboard", folder])
            let scalars = try XCTUnwrap(r["scalars"] as? [String: [[Double]]])
            let series = try XCTUnwrap(scalars["train/flip_share"], "\(scalars.keys.sorted())")
            XCTAssertEqual(series.map { Int($0[0]) }, [1, 2, 3, 4])
            XCTAssertEqual(Float(try XCTUnwrap(series.last)[1]), board)
        }
    }

    /// A real 2-method sweep of the Fashion subset with --train-limit: the dataset line says what was read, the
    /// caption names BWN's and BT's λ against Table 1's none, the cells are marked; `--figure flip_share` tables the
    /// runs' flip shares, each the run's own.
    func testSweepTableOnTheFashionSubsetSaysWhatItReadAndHowItDiffersFromThePaper() throws {
        guard FileManager.default.fileExists(atPath: fashionDir) else { XCTFail("no shared data: ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data") }
        let dir = temporaryDirectory() + "/sweep"
        let run = try btviz(["sweep", "run", "--out", dir, "--dataset", "fashion", "--data-dir", fashionDir, "--method", "bwn,bt",
                             "--k", "16", "--epochs", "1", "--train-limit", "128", "--test-limit", "64", "--batch-size", "64"], timeout: 600)
        XCTAssertEqual(run.status, 0, run.stderr)
        let o = try btviz(["sweep", "table", dir, "--paper", "table1"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let data = "fashion (128/64 of 2,557/4,443, not the official release)"
        let lines = o.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[2].hasPrefix("| \(data) | 16 | "), o.stdout)
        XCTAssertEqual(lines[2].components(separatedBy: "(n=1) †").count, 3, "both cells are marked: \(lines[2])")
        // btviz's default λ per method (BWN 1e-4, BT 3e-4) against Table 1's none.
        XCTAssertTrue(lines.contains("  λ: 0.0001 (bwn); 0.0003 (bt); the paper: 0 (Table 1: no regularizer)"), o.stdout)
        XCTAssertTrue(lines.contains("  data: \(data); the paper: the full official release"), o.stdout)
        XCTAssertTrue(lines.contains("  batch_size: 64 (bwn, bt); the paper: 128"), o.stdout)
        XCTAssertTrue(lines.contains("epochs: 1; the paper's count is not transcribed (PaperTables.swift), so it is stated, not compared."), o.stdout)

        // --figure flip_share: each cell (one run) is that run's flip share as compare prints it, in %.
        let shares = try btviz(["sweep", "table", dir, "--figure", "flip_share", "--format", "json"])
        XCTAssertEqual(shares.status, 0, shares.stderr)
        let table = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(shares.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(table["figure"] as? String, "flip_share")
        for method in ["bwn", "bt"] {
            let cell = try XCTUnwrap((table["cells"] as? [[String: Any]])?.first { ($0["column"] as? [String: String])?["method"] == method })
            let c = try btviz(["compare", "--json", dir + "/method=" + method])
            let row = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])?.first)
            let share = try XCTUnwrap(row["flip_share"] as? Double)
            XCTAssertGreaterThan(share, 0)
            XCTAssertEqual(try XCTUnwrap(cell["mean"] as? Double), 100 * share, accuracy: 1e-9, method)
        }
        assertCleanFailure(try btviz(["sweep", "table", dir, "--figure", "flip_share", "--paper", "table1"]), mentioning: "publishes no flip shares")
    }

}
