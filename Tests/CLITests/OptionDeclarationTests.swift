import Foundation
import XCTest

/// Each option is declared once: its help states the default TrainConfig declares (per task where they differ),
/// bench takes train's options, and errors from below the command line name flags when it reports them.
final class OptionDeclarationTests: XCTestCase {
    /// One option's help, its lines joined (ArgumentParser wraps them).
    func help(_ text: String, _ option: String) throws -> String {
        // An option's line is indented 2; its help's wrapped lines are indented further.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  " + option + " ") }, option)
        let rest = lines[(start + 1)...].prefix { $0.hasPrefix("    ") }
        return ([lines[start]] + rest).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    func testTrainHelpStatesEachTasksDefault() throws {
        let o = try btviz(["train", "--help"])
        XCTAssertEqual(o.status, 0, o.stderr)
        // TrainConfig's defaults and TrainConfig.restoration's, as declared there.
        for (option, text) in [("--batch-size", "(default 128; 16 for sr/denoise)"), ("--epochs", "(default 15; 10 for sr/denoise)"),
                               ("--lr", "(default 0.002; 0.001 for sr/denoise)"), ("--k", "(default 16)."),
                               ("--lambda", "otherwise; 0 for sr/denoise"), ("--bins", "(default 100)"),
                               ("--reg-reduction", "(default sum)"), ("--init", "(default pytorch)"),
                               ("--image-size", "(default 32)"), ("--fit", "(default resize)"), ("--val-set", "(default set5)")] {
            let line = try help(o.stdout, option)
            XCTAssertTrue(line.contains(text), "\(option): \(line)")
        }
    }

    func testBenchTakesTrainsOptionsAndDefaults() throws {
        let tiny = ["bench", "--k", "4", "--steps", "1", "--warmup", "0", "--mode", "infer", "--json", "--threads", "1"]
        for batch in [["--batch-size", "4"], ["--batch", "4"]] {
            let o = try btviz(tiny + batch)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.contains("\"batch\":4,"), o.stdout)
        }
        assertCleanFailure(try btviz(tiny + ["--batch-size", "4", "--batch", "8"]), mentioning: "--batch is --batch-size: give one")
        // Train's checks, naming train's flags.
        assertCleanFailure(try btviz(tiny + ["--batch-size", "1"]), mentioning: "--batch-size must be in 2...4096 (got 1)")
        assertCleanFailure(try btviz(tiny + ["--method", "ttq", "--ttq-t", "2"]), mentioning: "--ttq-t must be")
        // sr's own defaults, as train's: batch 16 and λ 0.
        let sr = try btviz(["bench", "--task", "sr", "--steps", "1", "--warmup", "0", "--mode", "train", "--json", "--threads", "1",
                            "--patch", "16"])
        XCTAssertEqual(sr.status, 0, sr.stderr)
        let fields = try JSONSerialization.jsonObject(with: Data(sr.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(fields?["batch"] as? Int, 16, sr.stdout)
        XCTAssertEqual((fields?["lambda"] as? NSNumber)?.doubleValue, 0, sr.stdout)
    }

    /// Errors thrown by the libraries name settings; the command line spells them as its flags.
    func testLibraryErrorsNameFlags() throws {
        let folder = temporaryDirectory()
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + c, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: folder + "/" + c + "/1.png"))  // refused before any is read
        }
        let o = try btviz(["train", "--headless", "--dataset", "folder", "--data-dir", folder, "--run-dir", temporaryDirectory() + "/r"])
        assertCleanFailure(o, mentioning: "--dataset folder needs a test split: --test-dir DIR (the same class folders) or --test-ratio R")
        XCTAssertFalse(o.stderr.contains("test_dir"), o.stderr)
    }
}
