import Foundation
import XCTest

/// Run folders under races, signals and hand-edited files: one writer at a time (RUN/.lock), a stop that always
/// saves, and one-line errors where a folder's files disagree.
final class RunFolderSafetyTests: XCTestCase {
    let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/datasets").path
    let subset = ["--dataset", "fashion", "--data-dir", fashionDir, "--k", "4", "--headless"]

    /// A training in the background that runs until stopped; returns once it has written its first checkpoint.
    func startLongTraining(_ run: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["train"] + subset + ["--epochs", "50", "--run-dir", run]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        // The first checkpoint comes at the end of epoch 1: the metrics file shows the run is under way sooner.
        while Date() < deadline && !FileManager.default.fileExists(atPath: run + "/metrics.jsonl") { usleep(50_000) }
        XCTAssertTrue(p.isRunning, "the background training ended early")
        return p
    }

    func testOneLetterRelativeRunFolder() throws {
        let cwd = temporaryDirectory()
        for name in ["r", "s/"] {
            let o = try btviz(["train"] + subset + ["--epochs", "1", "--train-limit", "64", "--test-limit", "16", "--run-dir", name],
                              currentDirectory: cwd)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: cwd + "/" + name + "/checkpoint.bin"))
        }
    }

    func testRunFolderBelowAFile() throws {
        let dir = temporaryDirectory()
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/f", contents: Data("x".utf8)))
        assertCleanFailure(try btviz(["train"] + subset + ["--epochs", "1", "--run-dir", dir + "/f/run"]),
                           mentioning: "/f is a file, not a folder")
        assertCleanFailure(try btviz(["train"] + subset + ["--epochs", "1", "--run-dir", dir + "/f"]),
                           mentioning: "is a file, not a folder")
    }

    /// The lost run of the issue: a --replace (or a second --resume) while a training writes the folder is refused,
    /// eval reads it and says so, and the first run's records stay its own.
    func testALockedRunIsNotReplacedOrResumedTwice() throws {
        let run = temporaryDirectory() + "/R"
        let p = try startLongTraining(run)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let replace = try btviz(["train"] + subset + ["--epochs", "2", "--seed", "2", "--replace", "--run-dir", run])
        assertCleanFailure(replace, mentioning: "is in use by btviz train (pid \(p.processIdentifier)")
        assertCleanFailure(try btviz(["train", "--resume", run, "--headless"]), mentioning: "in use by")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains("\"seed\" : 0"), "the running run's config survived")

        // Both signals of `timeout` (or a process group's) at once are one request: it saves and exits 143.
        kill(p.processIdentifier, SIGTERM)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoint.bin"), "the stop saved a checkpoint")
        let records = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(records.contains("\"kind\":\"stop\"") || records.contains("stopped"), "a stop record: \(records.suffix(300))")

        // Released with the process: a resume gets past the lock (to the check of its options, taken under it).
        assertCleanFailure(try btviz(["train", "--resume", run, "--headless", "--epochs", "2"]), mentioning: "as it was made: --epochs 2")
    }

    func testEvalOfARunInUseSaysSo() throws {
        let run = temporaryDirectory() + "/R"
        let p = try startLongTraining(run)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !FileManager.default.fileExists(atPath: run + "/checkpoint.bin") { usleep(50_000) }
        let e = try btviz(["eval", run, "--no-recalibrate", "--json"])
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stderr.contains("is in use by btviz train (pid \(p.processIdentifier)"), e.stderr)
        XCTAssertTrue(e.stdout.contains("\"results\""), e.stdout)
    }

    func testDamagedConfigSizesAreOneLineErrors() throws {
        let run = temporaryDirectory() + "/run"
        XCTAssertEqual(try btviz(["train"] + subset + ["--epochs", "1", "--train-limit", "64", "--test-limit", "16", "--run-dir", run]).status, 0)
        let original = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        for (from, to, says) in [("\"k\" : 4", "\"k\" : 0", "k is 0"), ("\"k\" : 4", "\"k\" : -3", "k is -3"),
                                 ("\"input_shape\" : [\n      1,\n      28,\n      28\n    ]", "\"input_shape\" : [\n\n    ]", "input_shape")] {
            XCTAssertTrue(original.contains(from), "fixture text: \(from)")
            try original.replacingOccurrences(of: from, with: to).write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
            assertCleanFailure(try btviz(["summary", run]), mentioning: says)
        }
    }

    /// A classification run whose checkpoint.bin was replaced by an SR run's is refused, not resumed under the
    /// classification run's history.
    func testCheckpointFromAnotherRunIsRefusedOnResume() throws {
        let dir = temporaryDirectory()
        let cls = dir + "/cls", sr = dir + "/sr"
        XCTAssertEqual(try btviz(["train"] + subset + ["--epochs", "1", "--train-limit", "64", "--test-limit", "16", "--run-dir", cls]).status, 0)
        let s = try btviz(["train", "--task", "sr", "--data-dir", sharedData.appendingPathComponent("sr").path, "--epochs", "1",
                           "--epoch-steps", "2", "--headless", "--run-dir", sr], timeout: 300)
        XCTAssertEqual(s.status, 0, s.stderr)
        try FileManager.default.removeItem(atPath: cls + "/checkpoint.bin")
        try FileManager.default.copyItem(atPath: sr + "/checkpoint.bin", toPath: cls + "/checkpoint.bin")
        assertCleanFailure(try btviz(["train", "--resume", cls, "--headless"]), mentioning: "belong to different runs (task sr in the checkpoint, classify in config.json)")
    }

    func testNegativeNumbersAreValuesNotFlags() throws {
        assertCleanFailure(try btviz(["compare", temporaryDirectory(), "--within-epochs", "-3"]), mentioning: "--within-epochs must be at least 1")
        assertCleanFailure(try btviz(["eval", temporaryDirectory(), "--calibration-images", "-5"]), mentioning: "--calibration-images must be at least 2")
        let w = temporaryDirectory() + "/w.npy"
        var npy = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        npy.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        npy.append(Data(header.utf8))
        for v: Float in [0.5, -0.25, 0.125, -1] { withUnsafeBytes(of: v) { npy.append(contentsOf: $0) } }
        try npy.write(to: URL(fileURLWithPath: w))
        assertCleanFailure(try btviz(["quantize", "--method", "ttq", "--ttq-t", "-1", "--input", w, "--output", w + ".out.npy"]),
                           mentioning: "ttq")
    }

    /// Text from a run's files never reaches the terminal as a control sequence.
    func testEscapeSequencesInRecordsArePrintedEscaped() throws {
        let run = temporaryDirectory() + "/run"
        XCTAssertEqual(try btviz(["train"] + subset + ["--epochs", "1", "--train-limit", "64", "--test-limit", "16", "--run-dir", run]).status, 0)
        let evil = #"{"type":"event","step":1,"epoch":0,"kind":"method","from":"bt\u001b[2J","to":"bwn\u001b]0;owned\u0007","message":"x\u001b[31m"}"#
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: run + "/metrics.jsonl"))
        h.seekToEndOfFile(); h.write(Data((evil + "\n").utf8)); try h.close()
        for format in [[], ["--csv"]] {
            let o = try btviz(["compare", run] + format)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertFalse(o.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, o.stdout)
            XCTAssertTrue(o.stdout.contains(#"bt\x1B[2J"#), o.stdout)
        }
    }

    /// A data folder that gained a class since training is said to be the data's change, not a damaged checkpoint.
    func testDataThatGainedAClassIsNamedAsTheCause() throws {
        let root = temporaryDirectory()
        func addClass(_ name: String) throws {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            for (i, f) in ["rgb.png", "rgb.jpg", "palette.png", "rgba.png"].enumerated() {
                try FileManager.default.copyItem(atPath: fixtures + "/images/" + f, toPath: root + "/\(name)/\(i)-\(f)")
            }
        }
        try addClass("one"); try addClass("two")
        let run = temporaryDirectory() + "/run"
        let t = try btviz(["train", "--dataset", "folder", "--data-dir", root, "--test-ratio", "0.25", "--image-size", "16",
                           "--batch-size", "2", "--k", "4", "--epochs", "2", "--headless", "--run-dir", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        try addClass("three")
        assertCleanFailure(try btviz(["eval", run, "--no-recalibrate"]), mentioning: "now has 3 classes, but the run was trained on 2")
        assertCleanFailure(try btviz(["train", "--resume", run, "--headless"]), mentioning: "now has 3 classes")
    }
}

/// First-time user's rough edges (issue 24) that are one command each.
final class FirstRunTests: XCTestCase {
    func testBareBtvizPrintsHelpAndStartsNothing() throws {
        let cwd = temporaryDirectory()
        let o = try btviz([], currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("USAGE: btviz") && o.stdout.contains("SUBCOMMANDS"), o.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd), [], "no runs/ folder made")
    }

    /// Replay of a classification run beside an SR run would draw PSNR on the accuracy axis (3365%): refused.
    func testReplayOfRunsJudgedByDifferentMetricsIsRefused() throws {
        let dir = temporaryDirectory()
        let cls = dir + "/cls", sr = dir + "/sr"
        XCTAssertEqual(try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--k", "4", "--headless", "--epochs", "1",
                                  "--train-limit", "64", "--test-limit", "16", "--run-dir", cls]).status, 0)
        XCTAssertEqual(try btviz(["train", "--task", "sr", "--data-dir", sharedData.appendingPathComponent("sr").path, "--epochs", "1",
                                  "--epoch-steps", "2", "--headless", "--run-dir", sr], timeout: 300).status, 0)
        assertCleanFailure(try btviz(["replay", cls, sr]), mentioning: "is classification (accuracy)")
    }
}

extension FirstRunTests {
    /// train --help in groups, the common ones first, with the explorer's keys.
    func testTrainHelpIsGrouped() throws {
        let o = try btviz(["train", "--help"])
        let sections = o.stdout.split(separator: "\n").filter { $0.first?.isUppercase == true && $0.hasSuffix(":") }.map(String.init)
        XCTAssertEqual(Array(sections.prefix(7)), ["TRAINING:", "MODEL:", "QUANTIZER:", "REGULARIZER AND INITIAL WEIGHTS:", "DATA:",
                                                   "SUPER-RESOLUTION AND DENOISING:", "LOGGING:"], o.stdout)
        XCTAssertTrue(o.stdout.contains("The explorer's keys") && o.stdout.contains("6 BT"), o.stdout)
        let method = try XCTUnwrap(o.stdout.range(of: "--method")), scale = try XCTUnwrap(o.stdout.range(of: "--scale"))
        XCTAssertLessThan(method.lowerBound, scale.lowerBound, "the common options come before the SR-only ones")
    }
}
