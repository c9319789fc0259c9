import Foundation
import XCTest

/// `tensorboard:` in a sweep (issue 32): each run writes its own events (ROOT/<run name>, or RUN/tensorboard for
/// `true`) with TensorBoard's HParams session, read back by TensorBoard's own reader and HParams plugin handlers in
/// the Python scripts/pyenv makes (BTVIZ_TEST_PYTHON); exported events keep their records' wall times; nothing is
/// written through a link planted under a run's name.
final class SweepTensorBoardTests: XCTestCase {
    /// One epoch of VGG-6(4) on 256 images of the built-in synthetic set.
    let quick = "  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n"
    let head = "name: tb\nmethod: grid\nparameters:\n"

    func write(_ text: String, in dir: String = temporaryDirectory()) -> String {
        let path = dir + "/spec.yaml"
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The folder as the kernel names it (the temporary folder may be reached through a link).
    func real(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }

    func plan(_ dir: String) throws -> [String: [String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/sweep.json"))
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["runs"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: runs.map { ($0["name"] as! String, $0["args"] as! [String]) })
    }

    func records(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func eventFiles(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains("tfevents") }
    }

    /// A 2 × 2 sweep (method × λ) with a relative root: four runs in TensorBoard, each only its own λ, and the HParams
    /// plugin lists four sessions with their options typed and their final test figures and flip fractions.
    func testAFourRunSweepIsFourRunsAndFourHParamsSessions() throws {
        let cwd = real(temporaryDirectory()), dir = cwd + "/sweep", root = cwd + "/tb"
        let spec = write(head + "  method: {values: [bwn, bt]}\n  lambda: {values: [0, 3e-4]}\n" + quick + "  tensorboard: {value: tb}\n")
        let o = try btviz(["sweep", "run", spec, "--out", "sweep"], timeout: 600, currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        let names = ["method=bwn,lambda=0", "method=bwn,lambda=3e-4", "method=bt,lambda=0", "method=bt,lambda=3e-4"]
        // On record: each run's own absolute folder under the root the spec named relative to the working folder.
        let args = try plan(dir)
        for n in names {
            let a = try XCTUnwrap(args[n])
            XCTAssertEqual(a.firstIndex(of: "--tensorboard").map { a[$0 + 1] }, root + "/" + n, n)
        }
        // Each run's events hold its own λ only (one folder for all used to interleave them).
        for n in names {
            let r = try python(["tensorboard", root + "/" + n])
            let lambdas = Set(try XCTUnwrap((r["scalars"] as? [String: [[Double]]])?["train/lambda"]).map { Float($0[1]) })
            XCTAssertEqual(lambdas, [n.hasSuffix("3e-4") ? Float(3e-4) : 0], n)
        }
        let h = try python(["hparams", root])
        XCTAssertEqual(h["runs"] as? [String], names.sorted())
        let groups = try XCTUnwrap((h["session_groups"] as? [String: Any])?["sessionGroups"] as? [[String: Any]])
        XCTAssertEqual(groups.count, 4)
        for g in groups {
            let name = try XCTUnwrap(g["name"] as? String)
            let hp = try XCTUnwrap(g["hparams"] as? [String: Any])
            // Typed: a string, numbers, a boolean.
            XCTAssertEqual(hp["method"] as? String, name.contains("bwn") ? "bwn" : "bt", name)
            XCTAssertEqual(try XCTUnwrap(hp["lambda"] as? Double, name), name.hasSuffix("3e-4") ? 3e-4 : 0, accuracy: 1e-12)
            XCTAssertEqual(hp["k"] as? Double, 4)
            XCTAssertEqual(hp["epochs"] as? Double, 1)
            XCTAssertEqual(hp["dataset"] as? String, "synthetic")
            XCTAssertEqual(hp["crop"] as? Bool, true)
            XCTAssertNil(hp["data_dir"], "where the data is does not tell runs apart")
            let session = try XCTUnwrap((g["sessions"] as? [[String: Any]])?.first)
            XCTAssertEqual(session["status"] as? String, "STATUS_SUCCESS", name)
            XCTAssertEqual(session["modelUri"] as? String, dir + "/" + name)
            // The final metrics are the run's last records, as metrics.jsonl holds them.
            var metrics: [String: Double] = [:]
            for m in try XCTUnwrap(session["metricValues"] as? [[String: Any]]) {
                if let tag = (m["name"] as? [String: Any])?["tag"] as? String, let v = m["value"] as? Double { metrics[tag] = v }
            }
            let recs = try records(dir + "/" + name)
            let epoch = try XCTUnwrap(recs.last { $0["type"] as? String == "epoch" })
            let step = try XCTUnwrap(recs.last { $0["type"] as? String == "step" })
            let conv3 = try XCTUnwrap((step["layers"] as? [[String: Any]])?.first { $0["name"] as? String == "conv3" })
            XCTAssertEqual(metrics["test/accuracy"].map(Float.init), (epoch["test_metric"] as? Double).map(Float.init), name)
            XCTAssertEqual(metrics["test/loss"].map(Float.init), (epoch["test_loss"] as? Double).map(Float.init), name)
            XCTAssertEqual(metrics["layers/conv3/flip_fraction"].map(Float.init), (conv3["flip_fraction"] as? Double).map(Float.init), name)
        }
        XCTAssertEqual(Set(groups.compactMap { $0["name"] as? String }), Set(names))
        // The dashboard's columns, built from the sessions: method a string with both values, λ a range.
        let infos = try XCTUnwrap((h["experiment"] as? [String: Any])?["hparamInfos"] as? [[String: Any]])
        let method = try XCTUnwrap(infos.first { $0["name"] as? String == "method" })
        XCTAssertEqual(method["type"] as? String, "DATA_TYPE_STRING")
        XCTAssertEqual(Set(method["domainDiscrete"] as? [String] ?? []), ["bwn", "bt"])
        let lambda = try XCTUnwrap(infos.first { $0["name"] as? String == "lambda" })
        XCTAssertEqual(lambda["type"] as? String, "DATA_TYPE_FLOAT64")
        XCTAssertEqual((lambda["domainInterval"] as? [String: Any])?["maxValue"] as? Double ?? 0, 3e-4, accuracy: 1e-12)
        let metricTags = ((h["experiment"] as? [String: Any])?["metricInfos"] as? [[String: Any]])?
            .compactMap { ($0["name"] as? [String: Any])?["tag"] as? String } ?? []
        XCTAssertTrue(Set(metricTags).isSuperset(of: ["test/accuracy", "test/loss", "layers/conv3/flip_fraction"]), "\(metricTags)")

        // The same spec again: nothing is stale (where the events go is not what a run is), nothing trains.
        let again = try btviz(["sweep", "run", spec, "--out", "sweep"], currentDirectory: cwd)
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertTrue(again.stdout.contains("(4 done); 0 to train"), again.stdout)
    }

    /// `true` puts each run's events in its own folder, RUN/tensorboard; `false` writes none.
    func testTrueWritesIntoEachRunFolder() throws {
        let cwd = real(temporaryDirectory()), dir = cwd + "/sweep"
        let spec = write(head + "  seed: {values: [0, 1]}\n" + quick + "  tensorboard: {value: true}\n")
        let o = try btviz(["sweep", "run", spec, "--out", "sweep"], timeout: 600, currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        for n in ["seed=0", "seed=1"] {
            let a = try XCTUnwrap(try plan(dir)[n])
            XCTAssertEqual(a.firstIndex(of: "--tensorboard").map { a[$0 + 1] }, dir + "/" + n + "/tensorboard")
            XCTAssertEqual(eventFiles(dir + "/" + n + "/tensorboard").count, 1, n)
        }
        let h = try python(["hparams", dir])
        XCTAssertEqual(h["runs"] as? [String], ["seed=0/tensorboard", "seed=1/tensorboard"])
        let groups = try XCTUnwrap((h["session_groups"] as? [String: Any])?["sessionGroups"] as? [[String: Any]])
        XCTAssertEqual(groups.compactMap { ($0["hparams"] as? [String: Any])?["seed"] as? Double }.sorted(), [0, 1])

        let off = try btviz(["sweep", "run", "--out", "off", "--dry-run", "--seed", "0,1", "--tensorboard", "false"],
                            currentDirectory: cwd)
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(off.stdout.contains("--tensorboard"), off.stdout)
    }

    /// A sweep stopped mid-run resumes with the same --tensorboard: the spec is not stale, the run's folder gets a
    /// second event file (the resumed part) and the session ends as a success.
    func testAnInterruptedRunResumesIntoItsOwnFolder() throws {
        let cwd = real(temporaryDirectory()), dir = cwd + "/sweep", root = cwd + "/tb"
        let spec = write(head + "  method: {value: bt}\n  epochs: {value: 2}\n  k: {value: 16}\n  train_limit: {value: 3072}\n"
                         + "  test_limit: {value: 128}\n  batch_size: {value: 64}\n  tensorboard: {value: " + root + "}\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["sweep", "run", spec, "--out", dir]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var deadline = Date().addingTimeInterval(120)
        func steps() -> Int {
            let text = (try? String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }.count
        }
        while Date() < deadline && steps() <= 2 { usleep(20_000) }
        kill(p.processIdentifier, SIGTERM)
        deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(eventFiles(root + "/run").count, 1)

        let resumed = try btviz(["sweep", "run", spec, "--out", dir], timeout: 600)
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        let log = try String(contentsOfFile: dir + "/run/task.log", encoding: .utf8)
        XCTAssertTrue(log.contains("--resume \(dir)/run") && log.contains("--tensorboard \(root)/run"), log)
        XCTAssertEqual(eventFiles(root + "/run").count, 2)
        let h = try python(["hparams", root])
        let groups = try XCTUnwrap((h["session_groups"] as? [String: Any])?["sessionGroups"] as? [[String: Any]])
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual((groups.first?["sessions"] as? [[String: Any]])?.first?["status"] as? String, "STATUS_SUCCESS")
    }

    /// `export --format tensorboard`: every event at its record's wall time (hand-set here), the file's first event
    /// at the first record's; a record without a time (an older run) is said on stderr. The export's HParams session
    /// is the run's config.json.
    func testExportedEventsKeepTheirRecordsWallTimes() throws {
        let dir = temporaryDirectory() + "/run", out = temporaryDirectory() + "/tb"
        let t = try btviz(["train", "--k", "4", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--batch-size", "64",
                           "--log-every", "1", "--headless", "--run-dir", dir], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        // Training stamped every record with a time.
        var recs = try records(dir)
        XCTAssertTrue(recs.allSatisfy { ($0["time"] as? Double ?? 0) > 1.7e9 }, "\(recs.map { $0["time"] ?? "none" })")
        // Hand-set times, a day apart from anything the export could stamp: 1e9 + 10 × the line's index.
        for i in recs.indices { recs[i]["time"] = 1_000_000_000.25 + Double(10 * i) }
        let text = try recs.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (text.joined(separator: "\n") + "\n").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let e = try btviz(["export", dir, "--format", "tensorboard", "--out", out])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertEqual(e.stderr, "")
        let steps = recs.enumerated().filter { $0.element["type"] as? String == "step" }
        let w = try python(["wall-times", out, "train/loss"])
        XCTAssertEqual((w["events"] as? [[Double]])?.map { $0[1] }, steps.map { 1_000_000_000.25 + Double(10 * $0.offset) })
        XCTAssertEqual((w["events"] as? [[Double]])?.map { Int($0[0]) }, steps.map { $0.element["step"] as? Int ?? -1 })
        XCTAssertEqual(w["first"] as? Double, 1_000_000_000.25)
        let epochAt = try XCTUnwrap(recs.firstIndex { $0["type"] as? String == "epoch" })
        XCTAssertEqual((try python(["wall-times", out, "test/accuracy"])["events"] as? [[Double]])?.map { $0[1] },
                       [1_000_000_000.25 + Double(10 * epochAt)])
        let h = try python(["hparams", out])
        let session = ((h["session_groups"] as? [String: Any])?["sessionGroups"] as? [[String: Any]])?.first
        XCTAssertEqual((session?["hparams"] as? [String: Any])?["method"] as? String, "bt")
        XCTAssertEqual((session?["sessions"] as? [[String: Any]])?.first?["status"] as? String, "STATUS_SUCCESS")

        // An older run's records hold no time: exported at the export's time, and said so.
        let old = recs.map { r -> String in
            var r = r
            r["time"] = nil
            return String(decoding: try! JSONSerialization.data(withJSONObject: r, options: [.sortedKeys]), as: UTF8.self)
        }
        try (old.joined(separator: "\n") + "\n").write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let e2 = try btviz(["export", dir, "--format", "tensorboard", "--out", out + "-old"])
        XCTAssertEqual(e2.status, 0, e2.stderr)
        XCTAssertEqual(e2.stderr, "btviz: note: \(recs.count) of \(recs.count) records hold no time (written before btviz recorded it): their events have the export's time\n")
        // A folder that already holds event files is refused: TensorBoard would show every point twice.
        assertCleanFailure(try btviz(["export", dir, "--format", "tensorboard", "--out", out]), mentioning: "already holds TensorBoard event files")
        XCTAssertEqual(eventFiles(out).count, 1)
    }

    /// A relative root is made absolute against the working folder (local); `..` is taken as written, not through
    /// a link: `link/../tb` is ./tb, whatever `link` points to.
    func testARelativeRootIsMadeAbsoluteAndDotDotIsTakenAsWritten() throws {
        let cwd = real(temporaryDirectory()), outside = real(temporaryDirectory())
        try FileManager.default.createDirectory(atPath: outside + "/deep", withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside + "/deep", cwd + "/link"), 0)
        let spec = write(head + "  seed: {values: [0, 1]}\n" + quick + "  tensorboard: {value: link/../tb}\n")
        let o = try btviz(["sweep", "run", spec, "--out", "sweep"], timeout: 600, currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        XCTAssertEqual(try plan(cwd + "/sweep")["seed=1"].map { $0[$0.firstIndex(of: "--tensorboard")! + 1] }, cwd + "/tb/seed=1")
        for n in ["seed=0", "seed=1"] { XCTAssertEqual(eventFiles(cwd + "/tb/" + n).count, 1, n) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["deep"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside + "/deep"), [])
        // The sweep folder itself is no root: its entries are the runs' own folders.
        let own = try btviz(["sweep", "run", spec, "--out", "tb", "--dry-run"], currentDirectory: cwd)
        assertCleanFailure(own, mentioning: "is the sweep folder, where the runs' own folders are")
    }

    /// A link planted under a run's name in the root (or as RUN/tensorboard) is not written through: that run fails
    /// with the reason in `sweep status`, the other trains, and the link's target stays empty.
    func testALinkUnderARunsNameIsRefusedAndNothingIsWrittenThroughIt() throws {
        let cwd = real(temporaryDirectory()), outside = real(temporaryDirectory()), root = cwd + "/tb"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside, root + "/seed=1"), 0)
        let spec = write(head + "  seed: {values: [0, 1]}\n" + quick + "  tensorboard: {value: tb}\n")
        let o = try btviz(["sweep", "run", spec, "--out", "sweep"], timeout: 600, currentDirectory: cwd)
        XCTAssertEqual(o.status, 1, o.stdout + o.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [])
        XCTAssertEqual(eventFiles(root + "/seed=0").count, 1)
        let status = try btviz(["sweep", "status", cwd + "/sweep", "--json"])
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        let failed = try XCTUnwrap(runs.first { $0["name"] as? String == "seed=1" })
        XCTAssertEqual(failed["state"] as? String, "failed")
        XCTAssertEqual(failed["reason"] as? String, "\(root)/seed=1 is a symbolic link, not this run's TensorBoard folder; remove it and run the sweep again")

        // The same for RUN/tensorboard under `true`; the run renamed by the grid's growth (run -> seed=0) keeps its
        // folder and is not trained again, though its --tensorboard moved with its name.
        let dir = cwd + "/sweep2"
        let one = try btviz(["sweep", "run", write(head + "  seed: {values: [0]}\n" + quick + "  tensorboard: {value: true}\n"), "--out", dir],
                            timeout: 600)
        XCTAssertEqual(one.status, 0, one.stdout + one.stderr)
        try FileManager.default.createDirectory(atPath: dir + "/seed=1", withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside, dir + "/seed=1/tensorboard"), 0)
        let two = try btviz(["sweep", "run", write(head + "  seed: {values: [0, 1]}\n" + quick + "  tensorboard: {value: true}\n"),
                             "--out", dir], timeout: 600)
        XCTAssertEqual(two.status, 1, two.stdout + two.stderr)
        XCTAssertTrue(two.stdout.contains("1 to train"), two.stdout)
        XCTAssertEqual(eventFiles(dir + "/seed=0/tensorboard").count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [])
    }

    /// Outside a sweep, a relative --tensorboard is the working folder's, and the session names the run folder by
    /// its absolute path; an empty one is refused in one line and leaves no run behind.
    func testTrainsRelativeFolderIsMadeAbsolute() throws {
        let cwd = real(temporaryDirectory())
        let t = try btviz(["train", "--k", "4", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--headless",
                           "--run-dir", "run", "--tensorboard", "events/../tb"], timeout: 300, currentDirectory: cwd)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(eventFiles(cwd + "/tb").count, 1)
        let h = try python(["hparams", cwd + "/tb"])
        let session = ((h["session_groups"] as? [String: Any])?["sessionGroups"] as? [[String: Any]])?.first?["sessions"] as? [[String: Any]]
        XCTAssertEqual(session?.first?["modelUri"] as? String, cwd + "/run")
        assertCleanFailure(try btviz(["train", "--k", "4", "--epochs", "1", "--headless", "--run-dir", "empty", "--tensorboard", ""],
                                     currentDirectory: cwd), mentioning: "the TensorBoard folder is an empty path")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd + "/empty"))
        XCTAssertEqual(eventFiles(cwd).count, 0)
    }

    // MARK: helpers

}
