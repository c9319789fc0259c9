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
        guard FileManager.default.fileExists(atPath: fashionDir) else { XCTFail("no shared data: ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data") }
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

    /// A damaged checkpoint header, each way a fuzzer found to trap: one clear line and a non-zero exit from
    /// both `eval` and `train --resume`, never a crash.
    func testDamagedCheckpointHeadersAreRefused() throws {
        let run = temporaryDirectory() + "/run"
        let made = try btviz(["train", "--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "64", "--run-dir", run])
        XCTAssertEqual(made.status, 0, made.stderr)
        let original = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin"))
        let len = Int(original[8]) | Int(original[9]) << 8 | Int(original[10]) << 16 | Int(original[11]) << 24
        let header = try JSONSerialization.jsonObject(with: original.subdata(in: 12..<12 + len)) as! [String: Any]
        let damages: [(String, (inout [String: Any]) -> Void)] = [
            ("tensor count 2^62", { h in var t = h["tensors"] as! [[String: Any]]; t[0]["count"] = 1 << 62; h["tensors"] = t }),
            ("negative tensor count", { h in var t = h["tensors"] as! [[String: Any]]; t[1]["count"] = -5; h["tensors"] = t }),
            ("step -1", { h in h["step"] = -1 }),
            ("empty normalizer_std", { h in h["normalizer_std"] = [Float]() }),
            ("zero normalizer_std", { h in h["normalizer_std"] = [0] }),
            ("epochs 2^62", { h in var c = h["config"] as! [String: Any]; c["epochs"] = 1 << 62; h["config"] = c }),
            ("k 0", { h in var c = h["config"] as! [String: Any]; c["k"] = 0; h["config"] = c }),
            ("step beyond the run", { h in h["step"] = 1 << 40 }),
            // An epoch's running sums: a mean beyond any Float (printed as inf), more samples than the steps saw,
            // sums over no samples.
            ("epoch loss 1e300", { h in h["epoch_sums"] = ["metric": 1.0, "loss": 1e300, "seen": 4] }),
            ("epoch seen beyond the steps", { h in h["epoch_sums"] = ["metric": 1.0, "loss": 1.0, "seen": 1 << 40] }),
            ("epoch sums over nothing", { h in h["epoch_sums"] = ["metric": -3.0, "loss": 2.0, "seen": 0] }),
        ]
        for (what, damage) in damages {
            var h = header
            damage(&h)
            let json = try JSONSerialization.data(withJSONObject: h)
            var bytes = Data(original.prefix(8))
            withUnsafeBytes(of: UInt32(json.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(json)
            bytes.append(original.suffix(from: 12 + len))
            try bytes.write(to: URL(fileURLWithPath: run + "/checkpoint.bin"))
            let e = try btviz(["eval", run])
            assertCleanFailure(e, mentioning: "damaged")
            XCTAssertTrue(e.stderr.contains("checkpoint"), "\(what): \(e.stderr)")
            assertCleanFailure(try btviz(["train", "--resume", run, "--headless"]), mentioning: "damaged")
        }
    }

    /// A finished run is never overwritten by accident; --replace starts over; --resume refuses options that
    /// contradict the run; the data folder is stored resolved; a killed writer's temporary file is cleaned up.
    func testExistingRunsAreProtected() throws {
        let root = temporaryDirectory(), run = root + "/run"
        // A relative --data-dir is stored resolved.
        try FileManager.default.createSymbolicLink(atPath: root + "/data", withDestinationPath: fashionDir)
        let made = try btviz(["train", "--dataset", "fashion", "--data-dir", "data", "--epochs", "1", "--k", "4",
                              "--train-limit", "256", "--test-limit", "64", "--run-dir", run], currentDirectory: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
        XCTAssertEqual((config["config"] as! [String: Any])["data_dir"] as? String, root + "/data")
        XCTAssertEqual(try btviz(["eval", run, "--no-recalibrate"]).status, 0, "eval finds the data from another folder")

        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin"))
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        assertCleanFailure(try btviz(["train", "--k", "8", "--epochs", "1", "--run-dir", run, "--headless"]), mentioning: "--resume")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin")), before, "checkpoint untouched")
        XCTAssertEqual(try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8), metrics, "metrics untouched")

        for conflict in [["--k", "8"], ["--dataset", "synthetic"], ["--method", "twn"], ["--epochs", "3"]] {
            assertCleanFailure(try btviz(["train", "--resume", run, "--headless"] + conflict), mentioning: conflict[0])
        }
        XCTAssertEqual(try btviz(["train", "--resume", run, "--headless", "--k", "4"]).status, 0, "an agreeing option is fine")
        assertCleanFailure(try btviz(["train", "--resume", run, "--replace"]), mentioning: "--replace")

        // A temporary file of a writer that was killed (its pid is gone) is removed at the next start: AtomicFile's
        // name for it, .<name>.tmp-<pid>-<16 hex digits>.
        let stale = run + "/.checkpoint.bin.tmp-999999-0123456789abcdef"
        XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data(count: 100)))
        let again = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--epochs", "1", "--k", "4",
                               "--train-limit", "256", "--test-limit", "64", "--run-dir", run, "--replace", "--headless"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        let fresh = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        XCTAssertEqual(fresh.components(separatedBy: "\"kind\":\"start\"").count, 2, "one start: the old metrics were replaced")
    }

    /// Options and paths that used to give a misleading message.
    func testMisleadingMessagesAreClear() throws {
        let d = temporaryDirectory()
        assertCleanFailure(try btviz(["train", "--seed", "-1", "--headless", "--run-dir", d + "/a"]), mentioning: "'-1' is invalid for '--seed")
        assertCleanFailure(try btviz(["train", "--lambda", "-1", "--headless", "--run-dir", d + "/b"]), mentioning: "--lambda must be")
        assertCleanFailure(try btviz(["train", "--k", "-3", "--headless", "--run-dir", d + "/c"]), mentioning: "--k must be")
        // Training names the option by its config key (histogram_bins); the command line by its flag.
        assertCleanFailure(try btviz(["train", "--bins", "2", "--headless", "--run-dir", d + "/c"]), mentioning: "--bins must be in 4...1000")
        assertCleanFailure(try btviz(["train", "--channel-gain", "--headless", "--run-dir", d + "/g"]), mentioning: "--channel-gain must be left unset: it is an option of srnet, not of vgg6")
        assertCleanFailure(try btviz(["train", "--headless", "--run-dir", ""]), mentioning: "empty path")
        assertCleanFailure(try btviz(["train", "--headless", "--run-dir", d + "/" + String(repeating: "x", count: 300)]),
                           mentioning: "over the 255")
        // quantize: a threshold ratio out of range, and weights so large the fit overflows float32.
        let w = d + "/w.npy", huge = d + "/huge.npy", ctl = d + "/ctl.npy"
        try writeNpyFile(w, [0.5, -0.2, 0.1])
        try writeNpyFile(huge, [3e38, -3e38, 2e38])
        for ratio in ["-1", "nan", "2"] {
            assertCleanFailure(try btviz(["quantize", "--method", "twn", "--input", w, "--delta-ratio", ratio]), mentioning: "--delta-ratio")
        }
        assertCleanFailure(try btviz(["quantize", "--method", "bt", "--input", huge]), mentioning: "too large")
        // A header with control characters: the error shows them escaped, on one line, with no escape codes.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: w)))
        bytes[12] = 0x1B; bytes[13] = 0x07
        try Data(bytes).write(to: URL(fileURLWithPath: ctl))
        let o = try btviz(["quantize", "--method", "bt", "--input", ctl])
        assertCleanFailure(o, mentioning: ".npy")
        XCTAssertFalse(o.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, o.stderr.debugDescription)
    }

    /// A float32 C-order .npy of a 1-D array, written by hand (no numpy needed).
    func writeNpyFile(_ path: String, _ values: [Float]) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(values.count),), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(Data(header.utf8))
        values.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        try out.write(to: URL(fileURLWithPath: path))
    }

    /// Sizes that would exhaust memory are refused before anything is allocated, naming the figure.
    func testRunsThatCannotFitInMemoryAreRefused() throws {
        let d = temporaryDirectory()
        assertCleanFailure(try btviz(["train", "--k", "512", "--batch-size", "4096", "--headless", "--run-dir", d + "/a"]),
                           mentioning: "GB of memory")
        assertCleanFailure(try btviz(["bench", "--k", "512", "--batch", "4096"]), mentioning: "GB of memory")
        // Three valid-looking 2000x2000 images (IDX, raw): the message names the image size.
        func idx(_ magic: UInt8, _ dims: [UInt32], _ payload: Int) -> Data {
            var data = Data([0, 0, 8, magic])
            for v in dims { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
            data.append(Data(count: payload))
            return data
        }
        let dir = d + "/big"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try idx(3, [3, 2000, 2000], 3 * 2000 * 2000).write(to: URL(fileURLWithPath: dir + "/train-images-idx3-ubyte"))
        try idx(1, [3], 3).write(to: URL(fileURLWithPath: dir + "/train-labels-idx1-ubyte"))
        try idx(3, [1, 2000, 2000], 2000 * 2000).write(to: URL(fileURLWithPath: dir + "/t10k-images-idx3-ubyte"))
        try idx(1, [1], 1).write(to: URL(fileURLWithPath: dir + "/t10k-labels-idx1-ubyte"))
        // K=64: three images make a batch of 3, and at K=16 that fits in 24 GB when nothing else runs.
        let o = try btviz(["train", "--dataset", "fashion", "--data-dir", dir, "--k", "64", "--headless", "--run-dir", d + "/b"])
        assertCleanFailure(o, mentioning: "1x2000x2000")
    }

    /// A disk that fills during training (a 256 KB tmpfs; needs root): one clear line, no torn metrics line, and
    /// the checkpoint on disk is a whole one that still loads.
    func testFullDiskStopsCleanlyWithoutTornFiles() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root") }
        let mountPoint = temporaryDirectory()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint]
        try mount.run(); mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("cannot mount a tmpfs here (a container without CAP_SYS_ADMIN)") }
        defer {
            let u = Process(); u.executableURL = URL(fileURLWithPath: "/bin/umount"); u.arguments = [mountPoint]
            try? u.run(); u.waitUntilExit()
        }
        let run = mountPoint + "/run"
        let o = try btviz(["train", "--k", "2", "--epochs", "50", "--train-limit", "512", "--test-limit", "64",
                           "--log-every", "1", "--headless", "--run-dir", run])
        assertCleanFailure(o, mentioning: "no space left on device")
        let metrics = try Data(contentsOf: URL(fileURLWithPath: run + "/metrics.jsonl"))
        XCTAssertGreaterThan(metrics.count, 0)
        XCTAssertEqual(metrics.last, UInt8(ascii: "\n"), "the last line is whole")
        for line in String(decoding: metrics, as: UTF8.self).split(separator: "\n") {
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line.prefix(80)))
        }
        let e = try btviz(["eval", run, "--no-recalibrate", "--json"])
        XCTAssertEqual(e.status, 0, "the checkpoint left on the full disk loads: \(e.stderr)")
    }

    func testHugeEpochCountIsRefused() throws {
        assertCleanFailure(try btviz(["train", "--epochs", "9223372036854775807", "--headless", "--run-dir", temporaryDirectory() + "/r"]),
                           mentioning: "--epochs")
    }

    func testResumeOfMissingRun() throws {
        assertCleanFailure(try btviz(["train", "--resume", temporaryDirectory() + "/nope", "--headless"]), mentioning: "checkpoint")
    }

    func testReplayWithoutTerminalOrRun() throws {
        assertCleanFailure(try btviz(["replay", temporaryDirectory()]), mentioning: "config.json")
    }
}
