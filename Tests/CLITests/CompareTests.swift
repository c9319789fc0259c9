import Foundation
import XCTest

/// `btviz compare` on a mixed set of tiny runs: groups by whole configuration, flags what should not be averaged,
/// skips what is not a run, and prints the same as JSON and CSV.
final class CompareTests: XCTestCase {
    /// The runs, made once for the whole class (each training is a second or two).
    struct Runs {
        let root: String
        /// Seeds 0 and 1 of one configuration; one with 2 epochs; one stopped by SIGINT; a copy of seed 1 that
        /// switched method; a copy of seed 0 with another lr; a directory that is not a run; a damaged config.
        var a0: String { root + "/a0" }
        var a1: String { root + "/a1" }
        var twoEpochs: String { root + "/b" }
        var stopped: String { root + "/stopped" }
        var switched: String { root + "/switched" }
        var otherLR: String { root + "/lr" }
        var empty: String { root + "/empty" }
        var damaged: String { root + "/damaged" }
    }

    nonisolated(unsafe) static var made: Runs?
    static let tiny = ["--k", "4", "--train-limit", "256", "--test-limit", "128", "--headless"]

    func runs() throws -> Runs {
        if let r = Self.made { return r }
        let r = Runs(root: temporaryDirectory())
        for (dir, extra) in [(r.a0, ["--seed", "0", "--epochs", "1"]), (r.a1, ["--seed", "1", "--epochs", "1"]),
                             (r.twoEpochs, ["--seed", "0", "--epochs", "2"])] {
            let o = try btviz(["train", "--run-dir", dir] + Self.tiny + extra)
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        try stopBySIGINT(r.stopped)
        let fm = FileManager.default
        // A run that switched method mid-run: the explorer's `m` key logs this event.
        try fm.copyItem(atPath: r.a1, toPath: r.switched)
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: r.switched + "/metrics.jsonl"))
        try fh.seekToEnd()
        try fh.write(contentsOf: Data(#"{"epoch":0,"from":"bt","kind":"method","message":"method BT -> TWN","step":1,"to":"twn","type":"event"}"#.utf8 + [10]))
        try fh.close()
        try setOption(r.switched, "seed", 2)  // another seed: a copy under a1's would be a repeat of a1
        // The same run under another lr: a config option compare does not name must still split the groups.
        try fm.copyItem(atPath: r.a0, toPath: r.otherLR)
        try setOption(r.otherLR, "lr", 0.001)
        try fm.createDirectory(atPath: r.empty, withIntermediateDirectories: true)
        try fm.copyItem(atPath: r.a0, toPath: r.damaged)
        try Data("{\"config\": [".utf8).write(to: URL(fileURLWithPath: r.damaged + "/config.json"))
        Self.made = r
        return r
    }

    /// Changes one option in a run's config.json.
    func setOption(_ run: String, _ key: String, _ value: Any) throws {
        let configURL = URL(fileURLWithPath: run + "/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var options = config["config"] as! [String: Any]
        options[key] = value
        config["config"] = options
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    }

    /// A headless run stopped by SIGINT after a few logged steps (it exits 130 after saving).
    func stopBySIGINT(_ dir: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["train", "--run-dir", dir, "--epochs", "200", "--log-every", "1"] + Self.tiny
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let log = try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8),
               log.components(separatedBy: "\"type\":\"epoch\"").count > 2 { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGINT)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
    }

    func json(_ o: Output) throws -> [String: Any] {
        XCTAssertEqual(o.status, 0, o.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any], o.stdout)
    }

    /// The last epoch record's test_metric of a run, read straight from its metrics.jsonl.
    func finalTestMetric(_ dir: String) throws -> Double {
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let last = try XCTUnwrap(lines.last { $0.contains("\"type\":\"epoch\"") })
        let record = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
        return try XCTUnwrap((record["test_metric"] as? NSNumber)?.doubleValue)
    }

    func testGroupsFlagsAndSkips() throws {
        let r = try runs()
        let root = URL(fileURLWithPath: r.root)
        try? FileManager.default.createSymbolicLink(atPath: r.root + "/link-a0", withDestinationPath: r.a0)
        let paths = [r.a0, r.a1, r.twoEpochs, r.stopped, r.switched, r.otherLR, r.empty, r.damaged, root.path + "/missing",
                     r.a0, r.root + "/link-a0", "a0/"]
        let o = try btviz(["compare", "--json"] + paths, currentDirectory: r.root)
        let report = try json(o)
        // Three paths are not runs: one warning line each, and the command goes on.
        let warnings = o.stderr.split(separator: "\n")
        XCTAssertEqual(warnings.count, 3, o.stderr)
        XCTAssertTrue(warnings.allSatisfy { $0.hasPrefix("btviz: warning: ") && $0.hasSuffix("; skipped") }, o.stderr)
        XCTAssertTrue(o.stderr.contains("no config.json") && o.stderr.contains("damaged"), o.stderr)

        let rows = report["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["run"] as! String }, [r.a0, r.a1, r.twoEpochs, r.stopped, r.switched, r.otherLR,
                                                           r.a0, r.root + "/link-a0", "a0/"])
        func row(_ i: Int) -> [String: Any] { rows[i] }
        XCTAssertEqual(row(0)["status"] as? String, "finished")
        XCTAssertEqual(row(0)["flags"] as? [String], [])
        XCTAssertEqual(row(0)["counted"] as? Bool, true)
        XCTAssertEqual(row(0)["epochs"] as? Int, 1)
        XCTAssertEqual(row(0)["k"] as? Int, 4)
        XCTAssertEqual(row(0)["dataset"] as? String, "synthetic (256/128 of 6,000/2,000)")
        XCTAssertEqual(row(0)["metric"] as? String, "accuracy")
        XCTAssertEqual((row(0)["test_metric"] as? NSNumber)?.doubleValue ?? -1, try finalTestMetric(r.a0), accuracy: 1e-6)
        XCTAssertEqual(row(3)["status"] as? String, "stopped")
        XCTAssertEqual(row(3)["flags"] as? [String], ["unfinished"])
        XCTAssertEqual(row(3)["counted"] as? Bool, false)
        XCTAssertLessThan(row(3)["step"] as! Int, row(3)["total_steps"] as! Int)
        XCTAssertEqual(row(4)["flags"] as? [String], ["switched_method"])
        XCTAssertTrue((row(4)["reasons"] as! [String]).contains("switched method bt -> twn at step 1"), "\(row(4))")
        XCTAssertEqual(row(4)["counted"] as? Bool, false)
        // The same folder again, through a symlink and a relative path: flagged, never counted twice.
        for i in 6...8 {
            XCTAssertEqual(row(i)["flags"] as? [String], ["duplicate"], "\(row(i))")
            XCTAssertEqual(row(i)["counted"] as? Bool, false)
            XCTAssertEqual(row(i)["path"] as? String, row(0)["path"] as? String)
        }

        // Groups: seeds 0 and 1 (and the switched copy, excluded); 2 epochs; another lr; the stopped 200-epoch run.
        let groups = report["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.count, 4, "\(groups)")
        let a = try XCTUnwrap(groups.first { ($0["runs"] as! [String]).contains(r.a0) })
        XCTAssertEqual(a["n"] as? Int, 2)
        XCTAssertEqual(a["runs"] as? [String], [r.a0, r.a1])
        XCTAssertEqual(Set((a["excluded"] as! [[String: Any]]).map { $0["run"] as! String }),
                       [r.switched, r.a0, r.root + "/link-a0", "a0/"])
        let mean = (try finalTestMetric(r.a0) + finalTestMetric(r.a1)) / 2
        let test = a["test_metric"] as! [String: Any]
        XCTAssertEqual((test["mean"] as! NSNumber).doubleValue, mean, accuracy: 1e-6)
        XCTAssertNil((a["config"] as! [String: Any])["seed"], "the seed is what a group averages over")
        XCTAssertEqual((a["config"] as! [String: Any])["epochs"] as? Int, 1)
        let lr = try XCTUnwrap(groups.first { ($0["runs"] as! [String]) == [r.otherLR] }, "another lr is another group")
        XCTAssertEqual(lr["n"] as? Int, 1)
        let stoppedGroup = try XCTUnwrap(groups.first { $0["epochs"] as? Int == 200 })
        XCTAssertEqual(stoppedGroup["n"] as? Int, 0)
        XCTAssertTrue(stoppedGroup["test_metric"] is NSNull)
        let reasons = (stoppedGroup["excluded"] as! [[String: Any]])[0]["reasons"] as! [String]
        XCTAssertTrue(reasons[0].hasPrefix("stopped at step "), "\(reasons)")
        XCTAssertEqual(groups.filter { $0["epochs"] as? Int == 2 }.first?["n"] as? Int, 1)
    }

    /// --include-flagged counts switched and unfinished runs, still never a duplicate.
    func testIncludeFlagged() throws {
        let r = try runs()
        let report = try json(try btviz(["compare", "--json", "--include-flagged", r.a0, r.a1, r.switched, r.stopped, r.a0]))
        let groups = report["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.first { ($0["runs"] as! [String]).contains(r.a0) }?["n"] as? Int, 3)
        XCTAssertEqual(groups.first { $0["epochs"] as? Int == 200 }?["n"] as? Int, 1)
        XCTAssertEqual((report["rows"] as! [[String: Any]]).last?["counted"] as? Bool, false)
    }

    /// The table names every column the issue asks for, and says which runs it left out and why.
    func testTextSaysWhatItExcluded() throws {
        let r = try runs()
        let o = try btviz(["compare", r.a0, r.a1, r.twoEpochs, r.stopped, r.switched, r.a0, r.otherLR])
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = o.stdout.split(separator: "\n").map(String.init)
        for column in ["dataset", "K", "epochs", "method", "lambda", "status", "test", "flip share", "dist/a", "<0.1a", "flags"] {
            XCTAssertTrue(lines[0].contains(column), lines[0])
        }
        XCTAssertTrue(o.stdout.contains("test (mean ± sd)"), o.stdout)
        XCTAssertTrue(o.stdout.contains("stopped at step "), o.stdout)
        XCTAssertTrue(o.stdout.contains("other options"), o.stdout)
        XCTAssertTrue(o.stdout.contains("lr=0.001"), "the option that splits the groups is shown: \(o.stdout)")
        let notCounted = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("not in the means") }, o.stdout)
        let excluded = lines[(notCounted + 1)...].prefix { $0.hasPrefix("  ") }
        XCTAssertEqual(excluded.count, 3, o.stdout)
        XCTAssertTrue(excluded.contains { $0.contains(r.switched) && $0.contains("switched method bt -> twn") }, o.stdout)
        XCTAssertTrue(excluded.contains { $0.contains(r.stopped) && $0.contains("stopped at step") }, o.stdout)
        XCTAssertTrue(excluded.contains { $0.contains("the same run as \(r.a0)") }, o.stdout)
        // The seeds group shows "2 of 4": two counted of the four rows in it.
        XCTAssertTrue(lines.contains { $0.contains("2 of 4") }, o.stdout)
        // The old --within-epochs option still works and says what it measured.
        let w = try btviz(["compare", "--within-epochs", "1", r.twoEpochs])
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertTrue(w.stdout.contains("the first 1 epoch(s)"), w.stdout)
    }

    /// One CSV table: a header, a line per row, a line per group, fields quoted where they must be.
    func testCSV() throws {
        let r = try runs()
        let o = try btviz(["compare", "--csv", r.a0, r.a1, r.switched, r.twoEpochs])
        XCTAssertEqual(o.status, 0, o.stderr)
        let table = parseCSV(o.stdout)
        let header = table[0]
        XCTAssertEqual(header.first, "kind")
        XCTAssertTrue(["run", "dataset", "k", "epochs", "method", "lambda", "status", "test_metric", "test_metric_sd",
                       "flip_share", "n", "counted", "flags", "reasons"].allSatisfy(header.contains), "\(header)")
        XCTAssertTrue(table.allSatisfy { $0.count == header.count }, o.stdout)
        let col = { (name: String) in header.firstIndex(of: name)! }
        let rows = table.dropFirst().filter { $0[0] == "row" }, groups = table.dropFirst().filter { $0[0] == "group" }
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(groups.count, 2)
        XCTAssertEqual(rows.first { $0[col("run")] == r.switched }?[col("flags")], "switched_method")
        let seeds = try XCTUnwrap(groups.first { $0[col("n")] == "2" })
        XCTAssertEqual(Double(seeds[col("test_metric")]) ?? -1, (try finalTestMetric(r.a0) + finalTestMetric(r.a1)) / 2, accuracy: 1e-6)
        XCTAssertTrue(seeds[col("reasons")].contains(r.switched), "the group says what it left out: \(seeds)")
    }

    /// Runs written before metrics were named (test_acc) read as accuracy; a stopped old run is flagged.
    func testOlderRunReadsTestAcc() throws {
        let legacy = repoRoot.appendingPathComponent("Tests/Fixtures/run-before-quantizer-state").path
        let row = try XCTUnwrap((try json(try btviz(["compare", "--json", legacy]))["rows"] as! [[String: Any]]).first)
        XCTAssertEqual((row["test_metric"] as? NSNumber)?.doubleValue ?? -1, 0.1015625, accuracy: 1e-7)
        XCTAssertEqual(row["status"] as? String, "stopped")
        XCTAssertEqual(row["step"] as? Int, 15)
        XCTAssertEqual(row["total_steps"] as? Int, 30)
    }

    /// Nothing left to compare: one clear line and a non-zero exit. --json with --csv is refused.
    func testNoRunLeftFails() throws {
        let d = temporaryDirectory()
        assertCleanFailure(try btviz(["compare", d, d + "/missing"]), mentioning: "no run to compare")
        assertCleanFailure(try btviz(["compare", "--json", "--csv", d]), mentioning: "--csv")
        assertCleanFailure(try btviz(["compare", "--within-epochs", "0", d]), mentioning: "--within-epochs")
    }

    /// Comma-separated fields, a field in double quotes when it holds a comma, a quote or a newline.
    func parseCSV(_ text: String) -> [[String]] {
        var table: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" { if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false } }
                else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); table.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        return table
    }

    /// The issue's cases: two identical seed-0 runs in two folders are one run (not two seeds), a group of one run
    /// prints its mean with n and no "± 0.00", and full precision shows no λ, flips or distances.
    func testRepeatsSingleRunsAndFullPrecision() throws {
        let r = try runs()
        let copy = r.root + "/a0-again"
        if !FileManager.default.fileExists(atPath: copy) { try FileManager.default.copyItem(atPath: r.a0, toPath: copy) }
        let report = try json(try btviz(["compare", "--json", r.a0, copy, r.a1]))
        let rows = report["rows"] as! [[String: Any]]
        XCTAssertEqual(rows[1]["flags"] as? [String], ["duplicate"])
        XCTAssertTrue((rows[1]["reasons"] as! [String])[0].contains("the same configuration and seed (0) as \(r.a0)"), "\(rows[1])")
        let group = (report["groups"] as! [[String: Any]])[0]
        XCTAssertEqual(group["n"] as? Int, 2, "a repeat is not another seed")
        XCTAssertEqual((group["test_metric"] as! [String: Any])["n"] as? Int, 2)

        let single = try btviz(["compare", r.otherLR])
        XCTAssertEqual(single.status, 0, single.stderr)
        let groupLine = try XCTUnwrap(single.stdout.split(separator: "\n").first { $0.hasPrefix("    1") }.map(String.init), single.stdout)
        XCTAssertFalse(groupLine.contains("±"), "one run has no spread to print: \(groupLine)")
        XCTAssertTrue(single.stdout.contains("  n  "), single.stdout)
        let one = (try json(try btviz(["compare", "--json", r.otherLR]))["groups"] as! [[String: Any]])[0]
        XCTAssertTrue((one["test_metric"] as! [String: Any])["sd"] is NSNull)

        let full = r.root + "/full"
        if !FileManager.default.fileExists(atPath: full) {
            XCTAssertEqual(try btviz(["train", "--run-dir", full, "--method", "full", "--epochs", "1"] + Self.tiny).status, 0)
        }
        let f = try btviz(["compare", full])
        let rowLine = String(f.stdout.split(separator: "\n")[1])
        XCTAssertTrue(rowLine.contains(" full  ") && rowLine.contains("–"), rowLine)
        XCTAssertFalse(rowLine.contains("0.0003"), "no λ for a method without transitions: \(rowLine)")
        let fr = (try json(try btviz(["compare", "--json", full]))["rows"] as! [[String: Any]])[0]
        XCTAssertTrue(fr["lambda"] is NSNull && fr["mean_transition_distance"] is NSNull, "\(fr)")
    }
}

/// Runs on different data never share a group, and a dataset name is checked against the files (issue 24, 1-2).
final class DataIdentityTests: XCTestCase {
    let fullFashion = sharedData.appendingPathComponent("fashion").path
    let quick = ["--k", "4", "--train-limit", "256", "--test-limit", "128", "--headless", "--epochs", "1", "--method", "bwn"]

    func testFullSetAndSubsetAreNotAveragedTogether() throws {
        let root = temporaryDirectory()
        let full = root + "/full", subset = root + "/subset"
        let a = try btviz(["train", "--dataset", "fashion", "--data-dir", fullFashion, "--run-dir", full] + quick)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertFalse(a.stderr.contains("not the official"), a.stderr)
        let b = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--run-dir", subset] + quick)
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("is not the official fashion release") && b.stderr.contains("2557 training and 4443 test images"), b.stderr)
        let o = try btviz(["compare", "--json", full, subset])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any], o.stderr)
        let groups = report["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.count, 2, "the full set and the subset are different data: \(groups)")
        XCTAssertEqual(Set(groups.map { $0["dataset"] as! String }), ["fashion (256/128 of 60,000/10,000, the official release)", "fashion (256/128 of 2,557/4,443, not the official release)"])
        // As `sweep table` spells it (DataIdentity.label), with what "of" means below the table.
        let text = try btviz(["compare", full, subset])
        XCTAssertTrue(text.stdout.contains("fashion (256/128 of 2,557/4,443, not the official release)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("trained on the first A and tested on the first B"), text.stdout)
    }

    func testADatasetNameIsCheckedAgainstTheFiles() throws {
        assertCleanFailure(try btviz(["train", "--dataset", "mnist", "--data-dir", fullFashion, "--run-dir", temporaryDirectory() + "/r"] + quick),
                           mentioning: "holds fashion's official files (by their md5), not mnist's; use --dataset fashion")
        let listing = try btviz(["datasets", "--data-dir", fullFashion])
        XCTAssertTrue(listing.stdout.contains("not found (\(fullFashion) holds fashion's official files)"), listing.stdout)
    }
}
