import Foundation
import XCTest

/// Every kind of bad input gets one clear line and a non-zero exit: never a crash, a trap or a hang.
final class BadInputTests: XCTestCase {
    let quick = ["--epochs", "1", "--k", "2", "--train-limit", "64", "--test-limit", "32", "--headless"]

    func testUnknownMethod() throws {
        assertCleanFailure(try btviz(["train", "--method", "xnor", "--headless"]), mentioning: "method")
        assertCleanFailure(try btviz(["quantize", "--method", "foo", "--input", "x.npy"]), mentioning: "method")
    }

    func testUnknownOption() throws {
        assertCleanFailure(try btviz(["train", "--frobnicate"]), mentioning: "frobnicate")
    }

    func testKBelowOne() throws {
        assertCleanFailure(try btviz(["train", "--k", "0", "--headless", "--run-dir", temporaryDirectory()]), mentioning: "k")
    }

    func testNegativeLambda() throws {
        assertCleanFailure(try btviz(["train", "--lambda", "-0.1", "--headless", "--run-dir", temporaryDirectory()]), mentioning: "lambda")
    }

    func testUnknownDataset() throws {
        assertCleanFailure(try btviz(["train", "--dataset", "cifar99", "--headless", "--run-dir", temporaryDirectory()]), mentioning: "cifar99")
    }

    func testMissingDatasetFiles() throws {
        let empty = temporaryDirectory()
        assertCleanFailure(try btviz(["train", "--dataset", "fashion", "--data-dir", empty, "--run-dir", temporaryDirectory()] + quick),
                           mentioning: "fetch")
    }

    /// Corrupt copies of the real files: wrong magic, truncated gzip, truncated payload, count mismatch.
    func testCorruptDatasetFiles() throws {
        let names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        func copyOfSubset() throws -> String {
            let d = temporaryDirectory()
            for n in names {
                try FileManager.default.copyItem(atPath: fashionDir + "/\(n).gz", toPath: d + "/\(n).gz")
            }
            return d
        }
        guard FileManager.default.fileExists(atPath: fashionDir) else { throw XCTSkip("no shared data") }
        func gunzip(_ path: String) throws -> Data {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-dc", path]
            let pipe = Pipe(); p.standardOutput = pipe
            try p.run()
            let d = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return d
        }
        // Wrong magic (raw file replaces the .gz).
        var d = try copyOfSubset()
        var raw = try gunzip(d + "/train-images-idx3-ubyte.gz")
        raw[3] = 0x99
        try FileManager.default.removeItem(atPath: d + "/train-images-idx3-ubyte.gz")
        try raw.write(to: URL(fileURLWithPath: d + "/train-images-idx3-ubyte"))
        assertCleanFailure(try btviz(["train", "--dataset", "fashion", "--data-dir", d, "--run-dir", temporaryDirectory()] + quick), mentioning: "magic")
        // Truncated gzip stream.
        d = try copyOfSubset()
        let gz = try Data(contentsOf: URL(fileURLWithPath: d + "/t10k-images-idx3-ubyte.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: d + "/t10k-images-idx3-ubyte.gz"))
        assertCleanFailure(try btviz(["train", "--dataset", "fashion", "--data-dir", d, "--run-dir", temporaryDirectory()] + quick), mentioning: "t10k-images")
        // Truncated payload inside a valid file.
        d = try copyOfSubset()
        raw = try gunzip(d + "/train-images-idx3-ubyte.gz")
        try FileManager.default.removeItem(atPath: d + "/train-images-idx3-ubyte.gz")
        try raw.prefix(raw.count - 1000).write(to: URL(fileURLWithPath: d + "/train-images-idx3-ubyte"))
        assertCleanFailure(try btviz(["train", "--dataset", "fashion", "--data-dir", d, "--run-dir", temporaryDirectory()] + quick), mentioning: "train-images")
        // Labels from the test split next to training images: counts disagree.
        d = try copyOfSubset()
        try FileManager.default.removeItem(atPath: d + "/train-labels-idx1-ubyte.gz")
        try FileManager.default.copyItem(atPath: fashionDir + "/t10k-labels-idx1-ubyte.gz", toPath: d + "/train-labels-idx1-ubyte.gz")
        assertCleanFailure(try btviz(["train", "--dataset", "fashion", "--data-dir", d, "--run-dir", temporaryDirectory()] + quick), mentioning: "labels")
    }

    func testMalformedNpy() throws {
        let d = temporaryDirectory()
        let bad = d + "/bad.npy"
        try Data("\u{93}NUMPY garbage".utf8).write(to: URL(fileURLWithPath: bad))
        assertCleanFailure(try btviz(["quantize", "--method", "bt", "--input", bad]), mentioning: "bad.npy")
        assertCleanFailure(try btviz(["quantize", "--method", "bt", "--input", d + "/missing.npy"]), mentioning: "missing.npy")
    }

    func testRunDirNotWritable() throws {
        // A path below a regular file can never be created, even by root.
        let d = temporaryDirectory()
        try Data().write(to: URL(fileURLWithPath: d + "/file"))
        assertCleanFailure(try btviz(["train", "--run-dir", d + "/file/run"] + quick), mentioning: "run directory")
    }

    func testNaNLossStopsAndKeepsCheckpoint() throws {
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--run-dir", run, "--inject-nan-at", "1", "--epochs", "3", "--k", "2",
                           "--train-limit", "64", "--test-limit", "32", "--headless"])
        assertCleanFailure(o, mentioning: "NaN")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoint.bin"))
        let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("\"kind\":\"nan\""))
        // The checkpoint is the one from the end of epoch 1 (step 1), not a damaged one.
        XCTAssertTrue(o.stderr.contains("(step 1)"), o.stderr)
    }

    /// SIGINT (Ctrl-C), SIGTERM and SIGHUP (an SSH disconnect) in a headless run: the current step finishes, a
    /// checkpoint of that step is saved, a stop event is logged, the exit code is 128 + the signal, and nothing
    /// is printed as an error.
    func testSignalsSaveAndExitWith128PlusTheSignal() throws {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let run = temporaryDirectory() + "/run"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: btvizPath)
            p.arguments = ["train", "--epochs", "20", "--k", "4", "--headless", "--log-every", "1", "--run-dir", run]
            let err = Pipe(), out = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let log = try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8),
                   log.components(separatedBy: "\"type\":\"step\"").count > 3 { break }
                usleep(50_000)
            }
            kill(p.processIdentifier, sig)
            while p.isRunning && Date() < deadline { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("did not stop after signal \(sig)") }
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 128 + sig, "signal \(sig)")
            XCTAssertEqual(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "")
            let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(said.contains("stopped by SIG"), said)
            let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
            let stop = try XCTUnwrap(log.split(separator: "\n").last { $0.contains("\"kind\":\"stop\"") }, "stop event")
            // The checkpoint holds the step the run stopped at, not the start or an epoch boundary.
            let step = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(stop.utf8)) as? [String: Any])?["step"] as? Int)
            XCTAssertGreaterThanOrEqual(step, 3)
            let e = try btviz(["eval", run, "--json", "--no-recalibrate"])
            XCTAssertTrue(e.stdout.contains("\"step\":\(step),"), e.stdout)
        }
    }

    func testResumeOfMissingRun() throws {
        assertCleanFailure(try btviz(["train", "--resume", temporaryDirectory() + "/nope", "--headless"]), mentioning: "checkpoint")
    }

    func testReplayWithoutTerminalOrRun() throws {
        assertCleanFailure(try btviz(["replay", temporaryDirectory()]), mentioning: "config.json")
    }
}
