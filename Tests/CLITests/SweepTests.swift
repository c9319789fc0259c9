import Foundation
import XCTest

/// `btviz sweep run|status|task`: a grid from a spec or the shorthand, run by the local backend, rerun
/// idempotently, interrupted and resumed exactly, with a crashing run reported and the others finished.
final class SweepTests: XCTestCase {
    /// One epoch of VGG-6(4) on 256 images of the built-in synthetic set: a run takes about a second in release.
    let quick = "  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n"

    func write(_ text: String, _ name: String = "spec.yaml") -> String {
        let path = temporaryDirectory() + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func json(_ o: Output) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any], o.stdout + o.stderr)
    }

    /// The status JSON's runs by name.
    func runs(_ dir: String) throws -> [String: [String: Any]] {
        let o = try btviz(["sweep", "status", dir, "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let list = try XCTUnwrap(try json(o)["runs"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
    }

    func testSpecExpandsToNamedRunsAndTheShorthandIsTheSameGrid() throws {
        let spec = write("name: grid-a\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {values: [0, 1, 2]}\n"
                         + "  data_dir: {value: data/plain}\n  k: {value: 16}\n")
        let dir = temporaryDirectory() + "/out"
        let cwd = temporaryDirectory()
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--dry-run"], currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = o.stdout.split(separator: "\n").map(String.init)
        // 2 methods × 3 seeds, the last parameter fastest; only varying options name a run.
        XCTAssertEqual(lines.map { $0.split(separator: " ")[1] },
                       ["method=bwn,seed=0", "method=bwn,seed=1", "method=bwn,seed=2",
                        "method=bt,seed=0", "method=bt,seed=1", "method=bt,seed=2"])
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("pending  ") })
        // Train's arguments in spec order, with the relative data folder made absolute against the working folder.
        XCTAssertEqual(lines[4].components(separatedBy: "btviz train ")[1],
                       "--method bt --seed 1 --data-dir \(URL(fileURLWithPath: cwd).standardizedFileURL.path)/data/plain --k 16")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "--dry-run writes nothing")

        let short = try btviz(["sweep", "run", "--out", dir, "--dry-run", "--method", "bwn,bt", "--seed", "0-2",
                               "--data-dir", "data/plain", "--k", "16"], currentDirectory: cwd)
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertEqual(short.stdout.split(separator: "\n").map(String.init), lines)

        // A path names its run by its last component when that tells it apart; sweep.json keeps the whole path.
        let paths = try btviz(["sweep", "run", "--out", dir, "--dry-run", "--data-dir", "/a/fashion-subset,/c"])
        XCTAssertEqual(paths.stdout.split(separator: "\n").map { String($0.split(separator: " ")[1]) },
                       ["data-dir=fashion-subset", "data-dir=c"])
        XCTAssertTrue(paths.stdout.contains("--data-dir /a/fashion-subset"), paths.stdout)
        // Otherwise the whole value, its "/" and "," percent-escaped so they cannot break a name.
        let same = try btviz(["sweep", "run", "--out", dir, "--dry-run", "--data-dir", "/a/data,/b/data,/x/y"])
        XCTAssertEqual(same.stdout.split(separator: "\n").map { String($0.split(separator: " ")[1]) },
                       ["data-dir=%2Fa%2Fdata", "data-dir=%2Fb%2Fdata", "data-dir=y"])
    }

    func testBadSpecsAreOneLineErrorsAndStartNothing() throws {
        let head = "name: bad\nmethod: grid\nparameters:\n"
        let cases: [(String, String)] = [
            (head + "  k: {values: [16, 32]\n", "YAML syntax error: line 5"),
            (head + "  widht: {values: [16, 32]}\n", "'widht' is not a btviz train option (btviz help train lists them)"),
            (head + "  lamda: {values: [0, 1e-4]}\n", "'lamda' is not a btviz train option; did you mean 'lambda'?"),
            (head + "  batch_sise: {value: 64}\n", "did you mean 'batch_size'?"),
            (head + "  tran-limit: {value: 64}\n", "did you mean 'train-limit'?"),
            (head + "  histogram_bins: {value: 8}\n", "parameter 'histogram_bins' is config.json's name; the train option is 'bins'"),
            (head + "  k: {values: [16, abc]}\n", "'abc' is invalid for '--k"),
            (head + "  no_crop: {values: [true, 3]}\n", "'no_crop' is a switch"),
            (head + "  seed: {values: []}\n", "'seed' has no values: the grid is empty"),
            ("name: bad\nmethod: grid\n", "no 'parameters': the grid is empty"),
            (head + "  seed: {values: [\((0..<1001).map(String.init).joined(separator: ","))]}\n  k: {values: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}\n",
             "10010 runs, over 10000: add --yes"),
            ("name: bad\nmethod: bayes\nparameters:\n  k: {value: 4}\n", "method 'bayes' is not offered"),
            (head + "  method: {values: [bwn, ttq]}\n  ttq_t: {value: 2}\n", "--ttq-t must be in (0, 1)"),
            (head + "  threads: {values: [1, 2]}\n", "'threads' cannot be swept"),
            (head + "  lr: {min: 0.1, max: 1}\n", "'min' is not supported"),
            (head + "  k: {value: [4]}\n", "not a list"),
            (head + "  k: {value: 4}\nmetric: {name: val_acc, goal: maximize}\n", "metric 'val_acc' is not a figure btviz records"),
            (head + "  k: {value: 4}\nmetric: {name: test_accuracy, goal: minimize}\n", "its goal is maximize, not minimize"),
            (head + "  k: {value: 4}\nmetric: {goal: maximize}\n", "metric has no 'name'"),
            (head + "  k: {value: 4}\nmetric: test_accuracy\n", "'metric' must be a mapping"),
        ]
        for (text, message) in cases {
            let dir = temporaryDirectory() + "/out"
            let o = try btviz(["sweep", "run", write(text), "--out", dir])
            assertCleanFailure(o, mentioning: message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing is written for: \(message)")
        }
        // Slurm's options on the local backend would be ignored: refused, naming the flag.
        for flag in [["--ntasks-per-node", "2"], ["--nodes", "2"], ["--time", "01:00:00"]] {
            let dir = temporaryDirectory() + "/out"
            let o = try btviz(["sweep", "run", write(head + "  k: {value: 4}\n"), "--out", dir] + flag)
            assertCleanFailure(o, mentioning: "\(flag[0]) is an option of --backend slurm")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing is written for \(flag)")
        }
        // A folder that holds something else is refused and left as it was.
        let other = temporaryDirectory()
        try "mine".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
        let o = try btviz(["sweep", "run", write(head + "  k: {value: 4}\n"), "--out", other])
        assertCleanFailure(o, mentioning: "holds something that is not a sweep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), ["notes.txt"])
        // So is a sweep of another name.
        let first = temporaryDirectory() + "/s"
        XCTAssertEqual(try btviz(["sweep", "run", "--out", first, "--name", "one", "--k", "4", "--epochs", "1", "--train-limit", "64",
                                  "--test-limit", "32"]).status, 0)
        assertCleanFailure(try btviz(["sweep", "run", "--out", first, "--name", "two", "--k", "4"]), mentioning: "holds the sweep 'one', not 'two'")
        // --dry-run refuses what the real run refuses, and writes nothing.
        assertCleanFailure(try btviz(["sweep", "run", "--out", first, "--name", "two", "--k", "4", "--dry-run"]), mentioning: "holds the sweep 'one', not 'two'")
        assertCleanFailure(try btviz(["sweep", "run", write(head + "  k: {value: 4}\n"), "--out", other, "--dry-run"]),
                           mentioning: "holds something that is not a sweep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), ["notes.txt"])
        // Slurm runs on other nodes: a data folder relative to this shell is refused before anything is submitted.
        assertCleanFailure(try btviz(["sweep", "run", "--out", temporaryDirectory() + "/x", "--backend", "slurm", "--data-dir", "data", "--k", "4,8"]),
                           mentioning: "relative to this shell")
    }

    func testRerunSkipsFinishedRunsAndAddingValuesTrainsOnlyTheNewRuns() throws {
        let dir = temporaryDirectory() + "/sweep"
        let v1 = write("name: grow\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {value: 0}\n" + quick)
        let a = try btviz(["sweep", "run", v1, "--out", dir], timeout: 600)
        XCTAssertEqual(a.status, 0, a.stdout + a.stderr)
        XCTAssertTrue(a.stdout.contains("2 runs in \(dir) (2 pending); 2 to train"), a.stdout)
        let stamp = try FileManager.default.attributesOfItem(atPath: dir + "/method=bt/checkpoint.bin")[.modificationDate] as? Date

        let again = try btviz(["sweep", "run", v1, "--out", dir])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("(2 done); 0 to train"), again.stdout)
        XCTAssertFalse(again.stdout.contains("start "), again.stdout)

        // The seed now varies: the runs made keep their training (their folders take the new names), and only
        // the two new runs train.
        let v2 = write("name: grow\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {values: [0, 1]}\n" + quick)
        let b = try btviz(["sweep", "run", v2, "--out", dir], timeout: 600)
        XCTAssertEqual(b.status, 0, b.stdout + b.stderr)
        XCTAssertEqual(b.stdout.split(separator: "\n").filter { $0.hasPrefix("start ") }.map { String($0.split(separator: " ")[1]) },
                       ["method=bwn,seed=1", "method=bt,seed=1"])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: dir + "/method=bt,seed=0/checkpoint.bin")[.modificationDate] as? Date, stamp)
        let status = try runs(dir)
        XCTAssertEqual(Set(status.keys), ["method=bwn,seed=0", "method=bwn,seed=1", "method=bt,seed=0", "method=bt,seed=1"])
        XCTAssertTrue(status.values.allSatisfy { $0["state"] as? String == "done" }, "\(status)")
        // spec.yaml is the spec as given; sweep.json its expansion.
        XCTAssertEqual(try String(contentsOfFile: dir + "/spec.yaml", encoding: .utf8), try String(contentsOfFile: v2, encoding: .utf8))
        let plan = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/sweep.json"))) as? [String: Any])
        XCTAssertEqual(plan["varying"] as? [String], ["method", "seed"])
        XCTAssertEqual((plan["runs"] as? [[String: Any]])?.count, 4)

        // compare takes the sweep folder for its runs: one group per method, two seeds each, nothing skipped.
        let c = try btviz(["compare", "--json", dir])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.stderr, "")
        let report = try json(c)
        XCTAssertEqual((report["rows"] as? [[String: Any]])?.compactMap { $0["run"] as? String },
                       ["method=bwn,seed=0", "method=bwn,seed=1", "method=bt,seed=0", "method=bt,seed=1"].map { dir + "/" + $0 })
        XCTAssertEqual((report["groups"] as? [[String: Any]])?.map { $0["n"] as? Int }, [2, 2])
    }

    /// A sweep stopped by SIGTERM saves the runs under way, starts no more and exits; the same command again
    /// finishes them, and they end exactly as an uninterrupted sweep's runs (same final loss and test figure).
    /// A run under way is never started a second time.
    func testInterruptedSweepResumesToTheSameFinalLoss() throws {
        let fixed = "  epochs: {value: 2}\n  k: {value: 16}\n  train_limit: {value: 3072}\n  test_limit: {value: 128}\n"
            + "  batch_size: {value: 64}\n  log_every: {value: 10}\n"
        let spec = write("name: stop\nmethod: grid\nparameters:\n  method: {values: [bwn, bt, twn]}\n" + fixed)
        let stopped = temporaryDirectory() + "/stopped", straight = temporaryDirectory() + "/straight"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        // Two at once: the third run waits in the queue when the stop comes.
        p.arguments = ["sweep", "run", spec, "--out", stopped, "--jobs", "2"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Under way: both runs have logged steps 0, 10 and 20.
        var deadline = Date().addingTimeInterval(60)
        func step(_ run: String) -> Int {
            let text = (try? String(contentsOfFile: stopped + "/" + run + "/metrics.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }.count
        }
        while Date() < deadline && !(step("method=bwn") > 2 && step("method=bt") > 2) { usleep(20_000) }
        let busy = try btviz(["sweep", "task", stopped, "method=bwn"])
        XCTAssertEqual(busy.status, 0, busy.stderr)
        XCTAssertTrue(busy.stdout.hasPrefix("method=bwn: in use by btviz sweep task (pid "), busy.stdout)
        kill(p.processIdentifier, SIGTERM)
        deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(p.isRunning, "sweep run did not exit after SIGTERM")
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM, said)
        XCTAssertTrue(said.contains("stopped by SIGTERM: 0 done, 0 failed, 2 interrupted, 1 not started"), said)
        let mid = try runs(stopped)
        XCTAssertEqual(mid.mapValues { $0["state"] as? String }, ["method=bwn": "interrupted", "method=bt": "interrupted", "method=twn": "pending"])

        let resumed = try btviz(["sweep", "run", spec, "--out", stopped, "--jobs", "2"], timeout: 600)
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        let twoRuns = write("name: stop\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n" + fixed)
        XCTAssertEqual(try btviz(["sweep", "run", twoRuns, "--out", straight, "--jobs", "2"], timeout: 600).status, 0)
        let a = try runs(stopped), b = try runs(straight)
        XCTAssertEqual(a["method=twn"]?["state"] as? String, "done")
        for name in ["method=bwn", "method=bt"] {
            XCTAssertEqual(a[name]?["state"] as? String, "done")
            XCTAssertEqual(a[name]?["step"] as? Int, b[name]?["step"] as? Int)
            XCTAssertEqual(a[name]?["loss"] as? Double, b[name]?["loss"] as? Double, name)
            XCTAssertEqual(a[name]?["test_metric"] as? Double, b[name]?["test_metric"] as? Double, name)
        }
        // The resume is in the run's own record.
        let log = try String(contentsOfFile: stopped + "/method=bt/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("\"kind\":\"resume\""))
    }

    /// A damaged data file for one value of the grid: that run fails with train's one-line reason in status and
    /// table, the other finishes, and sweep run exits 1.
    func testCrashingRunIsFailedWithItsReasonAndTheOthersFinish() throws {
        let damaged = temporaryDirectory()
        for f in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: fashionDir + "/" + f, toPath: damaged + "/" + f)
        }
        let images = try Data(contentsOf: URL(fileURLWithPath: damaged + "/train-images-idx3-ubyte.gz"))
        try images.prefix(3000).write(to: URL(fileURLWithPath: damaged + "/train-images-idx3-ubyte.gz"))
        let dir = temporaryDirectory() + "/sweep"
        let o = try btviz(["sweep", "run", "--out", dir, "--dataset", "fashion", "--data-dir", "\(fashionDir),\(damaged)", "--epochs", "1",
                           "--k", "4", "--train-limit", "256", "--test-limit", "128"], timeout: 600)
        XCTAssertEqual(o.status, 1, o.stdout + o.stderr)
        XCTAssertTrue(o.stdout.contains("finished: 1 done, 1 failed, 0 interrupted"), o.stdout)
        // Each run is named by its data folder's last component (the two differ there).
        let bad = "data-dir=" + (damaged as NSString).lastPathComponent
        let status = try runs(dir)
        XCTAssertEqual(status[bad]?["state"] as? String, "failed")
        let reason = try XCTUnwrap(status[bad]?["reason"] as? String)
        XCTAssertTrue(reason.hasPrefix("truncated gzip file \(damaged)/train-images-idx3-ubyte.gz"), reason)
        XCTAssertEqual(status.values.filter { $0["state"] as? String == "done" }.count, 1)
        let outcome = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/" + bad + "/outcome.json"))) as? [String: Any])
        XCTAssertEqual(outcome["exit_code"] as? Int, 1)
        XCTAssertEqual(outcome["reason"] as? String, reason)
        XCTAssertTrue(outcome["signal"] is NSNull)

        let text = try btviz(["sweep", "status", dir])
        XCTAssertTrue(text.stdout.contains("failed") && text.stdout.contains(reason), text.stdout)
        let table = try btviz(["sweep", "table", dir])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("| 1 failed |"), table.stdout)
        XCTAssertTrue(table.stdout.contains("Not counted: \(bad) (failed: \(reason))"), table.stdout)
    }

    func testATaskOfADoneRunStartsNothing() throws {
        let dir = temporaryDirectory() + "/sweep"
        XCTAssertEqual(try btviz(["sweep", "run", "--out", dir, "--k", "4", "--epochs", "1", "--train-limit", "64", "--test-limit", "32"]).status, 0)
        let before = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8)
        let o = try btviz(["sweep", "task", dir, "run"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout, "run: already done\n")
        XCTAssertEqual(try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8), before)
        assertCleanFailure(try btviz(["sweep", "task", dir, "nope"]), mentioning: "has no run named 'nope'")
        XCTAssertFalse(try btviz(["sweep", "--help"]).stdout.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("task ") },
                       "sweep task is hidden")
    }
}
