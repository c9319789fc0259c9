import Foundation
import XCTest

/// `btviz sweep eval` on a real sweep: each finished run's evaluation of record is `btviz eval`'s figure for its
/// method, cached in RUN/eval.json keyed to the checkpoint (a second pass evaluates nothing, a changed checkpoint
/// is evaluated again), and `sweep table --metric` and `compare --metric` show it; a hostile eval.json is refused
/// or redone, never followed or hung on.
final class SweepEvalTests: XCTestCase {
    /// 2 methods × 2 seeds, one epoch of VGG-6(4) on 256 synthetic images: each run takes about a second.
    func trainedSweep() throws -> String {
        let spec = temporaryDirectory() + "/spec.yaml"
        try ("name: evals\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {values: [0, 1]}\n"
             + "  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let dir = temporaryDirectory() + "/sweep"
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "2", "--threads", "2"], timeout: 600)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        return dir
    }

    let runs = ["method=bwn,seed=0", "method=bwn,seed=1", "method=bt,seed=0", "method=bt,seed=1"]

    func evalJSON(_ run: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: run + "/eval.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// `btviz eval RUN --json`'s row for `method`.
    func evalRow(_ run: String, method: String) throws -> [String: Any] {
        let o = try btviz(["eval", run, "--json", "--threads", "1"], timeout: 300)
        XCTAssertEqual(o.status, 0, o.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(obj["results"] as? [[String: Any]])
        return try XCTUnwrap(rows.first { $0["method"] as? String == method })
    }

    func testSweepEvalCachesEvalsFigurePerCheckpointAndTheTableShowsIt() throws {
        let dir = try trainedSweep()
        let first = try btviz(["sweep", "eval", dir, "--jobs", "2", "--threads", "2"], timeout: 600)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("0 evaluated already, 4 to evaluate"), first.stdout)
        XCTAssertTrue(first.stdout.contains("finished: 4 evaluated, 0 failed"), first.stdout)

        // The cache holds eval's own figures for the trained method: re-estimated and stored statistics.
        var recalibrated: [String: Double] = [:]
        for name in runs {
            let run = dir + "/" + name
            let cache = try evalJSON(run)
            let method = String(name.split(separator: ",")[0].dropFirst("method=".count))
            let row = try evalRow(run, method: method)
            XCTAssertEqual(cache["method"] as? String, method)
            XCTAssertEqual(cache["test_metric"] as? Double, row["test_acc"] as? Double, name)
            XCTAssertEqual(cache["stored_test_metric"] as? Double, row["stored_bn_test_acc"] as? Double, name)
            XCTAssertEqual(cache["calibration_images"] as? Int, 512)
            XCTAssertEqual((cache["checkpoint_sha256"] as? String)?.count, 64)
            recalibrated[name] = try XCTUnwrap(cache["test_metric"] as? Double)
        }

        // A second pass evaluates nothing.
        let again = try btviz(["sweep", "eval", dir])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("4 evaluated already, 0 to evaluate"), again.stdout)
        XCTAssertTrue(again.stdout.contains("nothing to evaluate"), again.stdout)

        // Every run evaluated: the table shows the figure of record by default, and says so.
        let table = try btviz(["sweep", "table", dir, "--format", "json"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(table.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["statistics"] as? String, "recalibrated")
        let cells = try XCTUnwrap(obj["cells"] as? [[String: Any]])
        let bt = try XCTUnwrap(cells.first { ($0["column"] as? [String: String])?["method"] == "bt" })
        let btMean = 100 * (recalibrated["method=bt,seed=0"]! + recalibrated["method=bt,seed=1"]!) / 2
        XCTAssertEqual(try XCTUnwrap(bt["mean"] as? Double), btMean, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap((bt["recalibrated"] as? [String: Any])?["mean"] as? Double), btMean, accuracy: 1e-9)
        XCTAssertNotNil(bt["stored"] as? [String: Any])
        let md = try btviz(["sweep", "table", dir, "--metric", "recalibrated"])
        XCTAssertTrue(md.stdout.contains(String(format: "%.2f", btMean)), md.stdout)
        XCTAssertTrue(md.stdout.contains("re-estimated under each run's method on 512 training images"), md.stdout)
        let stored = try btviz(["sweep", "table", dir, "--metric", "stored"])
        XCTAssertTrue(stored.stdout.contains("with the batch-norm statistics each checkpoint stored"), stored.stdout)

        // compare --metric recalibrated reads the same cache.
        let cmp = try btviz(["compare", dir + "/method=bt,seed=0", "--metric", "recalibrated", "--json"])
        XCTAssertEqual(cmp.status, 0, cmp.stderr)
        let cmpRows = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(cmp.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])
        XCTAssertEqual(try XCTUnwrap(cmpRows.first?["test_metric"] as? Double), recalibrated["method=bt,seed=0"]!, accuracy: 1e-6)

        // A changed checkpoint (one weight rewritten, still a valid checkpoint) no longer matches its cache: the
        // table leaves the run out under --metric recalibrated, naming why, and sweep eval evaluates it again.
        let changed = dir + "/method=bt,seed=1"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: changed + "/checkpoint.bin"))
        bytes[bytes.count - 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: changed + "/checkpoint.bin"))
        let stale = try btviz(["sweep", "table", dir, "--metric", "recalibrated"])
        XCTAssertEqual(stale.status, 0, stale.stderr)
        XCTAssertTrue(stale.stdout.contains("method=bt,seed=1 (not evaluated: evaluated for another checkpoint (resumed or retrained since); run btviz sweep eval DIR)"), stale.stdout)
        let defaulted = try btviz(["sweep", "table", dir])
        XCTAssertTrue(defaulted.stdout.contains("Not the figure of record: 3 of 4 finished runs have been evaluated"), defaulted.stdout)
        let redo = try btviz(["sweep", "eval", dir], timeout: 300)
        XCTAssertEqual(redo.status, 0, redo.stderr)
        XCTAssertTrue(redo.stdout.contains("3 evaluated already, 1 to evaluate"), redo.stdout)
        XCTAssertTrue(redo.stdout.contains("evaluated method=bt,seed=1 in"), redo.stdout)
        let sha = try XCTUnwrap(try evalJSON(changed)["checkpoint_sha256"] as? String)
        XCTAssertNotEqual(sha, try XCTUnwrap(try evalJSON(dir + "/method=bt,seed=0")["checkpoint_sha256"] as? String))
        XCTAssertEqual(try btviz(["sweep", "eval", dir]).stdout.contains("nothing to evaluate"), true)
    }

    func testHostileEvalJSONIsRefusedOrRedoneNeverFollowed() throws {
        let dir = try trainedSweep()
        let outside = temporaryDirectory() + "/victim.json"
        try "keep me\n".write(toFile: outside, atomically: true, encoding: .utf8)
        let link = dir + "/method=bwn,seed=0", fifo = dir + "/method=bwn,seed=1"
        let huge = dir + "/method=bt,seed=0", garbage = dir + "/method=bt,seed=1"
        try FileManager.default.createSymbolicLink(atPath: link + "/eval.json", withDestinationPath: outside)
        XCTAssertEqual(mkfifo(fifo + "/eval.json", 0o644), 0)
        try Data(repeating: 0x7b, count: 1 << 20).write(to: URL(fileURLWithPath: huge + "/eval.json"))
        try "{\"format\":1,\"checkpoint_sha256\":\"\u{1b}[2J\",\"test_metric\":1e999}".write(toFile: garbage + "/eval.json", atomically: true, encoding: .utf8)

        // The table reads none of them as a figure, and neither hangs nor crashes.
        let table = try btviz(["sweep", "table", dir, "--metric", "recalibrated"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("its eval.json is unusable (it is a symbolic link)"), table.stdout)
        XCTAssertTrue(table.stdout.contains("its eval.json is unusable (it is a named pipe, not a file)"), table.stdout)
        XCTAssertTrue(table.stdout.contains("more than an eval.json holds"), table.stdout)
        XCTAssertFalse(table.stdout.contains("\u{1b}"), table.stdout)

        // sweep eval redoes the damaged regular files (with a note) and refuses to write through the link or FIFO.
        let o = try btviz(["sweep", "eval", dir, "--jobs", "2", "--threads", "2"], timeout: 600)
        XCTAssertEqual(o.status, 1, o.stdout + o.stderr)
        XCTAssertTrue(o.stdout.contains("note: method=bt,seed=0: its eval.json is unusable"), o.stdout)
        XCTAssertTrue(o.stdout.contains("finished: 2 evaluated, 2 failed"), o.stdout)
        XCTAssertTrue(o.stdout.contains("failed method=bwn,seed=0 after"), o.stdout)
        XCTAssertTrue(o.stdout.contains("symbolic link"), o.stdout)
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "keep me\n")
        XCTAssertEqual(SweepFolderType.of(link + "/eval.json"), S_IFLNK)
        XCTAssertEqual(SweepFolderType.of(fifo + "/eval.json"), S_IFIFO)
        for run in [huge, garbage] { XCTAssertNotNil(try evalJSON(run)["test_metric"] as? Double, run) }
    }
}

extension SweepEvalTests {
    /// A finished super-resolution sweep (records written by hand): sweep eval refuses it in one line, and so does
    /// the table under --metric recalibrated; its stored figure is tabled as before.
    func testRestorationRunsAreRefusedClearly() throws {
        let dir = temporaryDirectory()
        let run = dir + "/seed=0"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try [#"{"type":"epoch","epoch":0,"step":10,"method":"bt","metric":"psnr","train_metric":30,"train_loss":1,"test_metric":31.5,"test_loss":0.7,"seconds":1}"#,
             #"{"type":"event","step":10,"epoch":0,"kind":"done","message":""}"#].joined(separator: "\n").appending("\n")
            .write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let plan: [String: Any] = ["version": 1, "name": "sr", "varying": ["seed"], "parameters": [["key": "seed", "values": ["0", "1"]]],
                                   "runs": [["name": "seed=0", "options": ["seed": "0"], "args": [String]()]]]
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: dir + "/sweep.json"))
        assertCleanFailure(try btviz(["sweep", "eval", dir]), mentioning: "report PSNR (seed=0): sweep eval re-estimates batch-norm statistics for classification runs only")
        assertCleanFailure(try btviz(["sweep", "table", dir, "--metric", "recalibrated"]), mentioning: "--metric recalibrated is for classification runs")
        let stored = try btviz(["sweep", "table", dir])
        XCTAssertEqual(stored.status, 0, stored.stderr)
        XCTAssertTrue(stored.stdout.contains("31.50 (n=1)") && !stored.stdout.contains("Not the figure of record"), stored.stdout)
    }
}

/// What is at a path itself (a link not followed).
enum SweepFolderType {
    static func of(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }
}
