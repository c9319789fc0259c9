import Foundation
import XCTest

/// The small promises of the command line: a version, help that says what is accepted, a failed start that
/// leaves nothing behind, and a finished run that says how it did and what to do next.
final class HygieneTests: XCTestCase {
    let tiny = ["--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "128", "--headless"]

    func testVersion() throws {
        let o = try btviz(["--version"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout, "0.3.0\n")
        XCTAssertEqual(o.stderr, "")
    }

    func testHelpSaysWhatIsAccepted() throws {
        let train = try btviz(["train", "--help"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertFalse(train.stdout.contains("0.1·a"), "the noise is --noise-ratio × the scale, whatever the ratio")
        XCTAssertTrue(train.stdout.contains("--noise-ratio ×"), train.stdout)
        let quantize = try btviz(["quantize", "--help"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        let flat = quantize.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(flat.contains("(values: bwn, twn, ttq, lq, bt, lsq)"), quantize.stdout)
        XCTAssertFalse(flat.contains("full"), "quantize refuses full, so its help must not offer it")
        assertCleanFailure(try btviz(["quantize", "--method", "full", "--input", "w.npy"]), mentioning: "'bwn'")
    }

    /// A start that fails before training removes the folders it made, and nothing else.
    func testFailedStartLeavesNoRunDirectory() throws {
        let root = temporaryDirectory(), empty = temporaryDirectory()
        let fm = FileManager.default
        // A missing dataset, in a new nested folder: both levels go.
        var o = try btviz(["train", "--dataset", "fashion", "--data-dir", empty, "--run-dir", root + "/new/run"] + tiny)
        assertCleanFailure(o, mentioning: "fetch")
        XCTAssertFalse(fm.fileExists(atPath: root + "/new"), "no empty folder left behind")
        XCTAssertTrue(fm.fileExists(atPath: root), "the folder that was there stays")
        // Too few images is caught by the trainer, after metrics.jsonl was opened: that goes too.
        o = try btviz(["train", "--run-dir", root + "/few"] + tiny.filter { $0 != "256" && $0 != "--train-limit" } + ["--train-limit", "1"])
        assertCleanFailure(o, mentioning: "too few images")
        XCTAssertFalse(fm.fileExists(atPath: root + "/few"))
        // A folder that was there, with a file of the user's: both stay, and no run file is left in it.
        let mine = root + "/mine"
        try fm.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: mine + "/notes.txt"))
        o = try btviz(["train", "--run-dir", mine] + tiny.filter { $0 != "256" && $0 != "--train-limit" } + ["--train-limit", "1"])
        assertCleanFailure(o, mentioning: "too few images")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: mine), ["notes.txt"])
        // A folder that holds a run, with --replace and a bad dataset: the old run is kept as it was.
        let run = root + "/run"
        XCTAssertEqual(try btviz(["train", "--run-dir", run] + tiny).status, 0)
        let before = try fm.contentsOfDirectory(atPath: run).sorted()
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin"))
        o = try btviz(["train", "--dataset", "fashion", "--data-dir", empty, "--run-dir", run, "--replace"] + tiny)
        assertCleanFailure(o, mentioning: "fetch")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: run).sorted(), before)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin")), checkpoint)
    }

    /// The last lines of a finished run: its final test accuracy, where the files are, and what to run next.
    func testFinishedRunSaysHowItDidAndWhatNext() throws {
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--run-dir", run] + tiny)
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let epoch = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(lines.last { $0.contains("\"type\":\"epoch\"") }).utf8)) as! [String: Any]
        let acc = String(format: "%.2f%%", 100 * (epoch["test_metric"] as! NSNumber).doubleValue)
        XCTAssertTrue(o.stdout.contains("finished: test accuracy \(acc) (epoch 1); checkpoint in \(run)/checkpoint.bin, metrics in \(run)/metrics.jsonl\n"), o.stdout)
        XCTAssertTrue(o.stdout.hasSuffix("next: btviz eval \(run), btviz replay \(run), btviz summary \(run)\n"), o.stdout)
        // A path with a space is quoted so the commands can be pasted.
        let spaced = temporaryDirectory() + "/my run"
        let s = try btviz(["train", "--run-dir", spaced] + tiny)
        XCTAssertTrue(s.stdout.contains("next: btviz eval '\(spaced)',"), s.stdout)
    }
}
