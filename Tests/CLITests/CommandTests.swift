import Foundation
import XCTest

final class CommandTests: XCTestCase {
    /// With stdout piped, `btviz train` runs headless: progress lines, metrics.jsonl, config.json, checkpoint.
    func testHeadlessTrainWritesTheRun() throws {
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--epochs", "2", "--k", "4", "--train-limit", "512", "--test-limit", "256",
                           "--log-every", "2", "--run-dir", run])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("epoch 1/2  step 2/8"), o.stdout)
        XCTAssertTrue(o.stdout.contains("samples/s") && o.stdout.contains("ETA"), o.stdout)
        XCTAssertTrue(o.stdout.contains("epoch 2/2 done"), o.stdout)
        for f in ["metrics.jsonl", "config.json", "checkpoint.bin"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + f), f)
        }
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let steps = records.filter { $0["type"] as? String == "step" }
        let epochs = records.filter { $0["type"] as? String == "epoch" }
        XCTAssertEqual(steps.count, 5)  // step 0 (the untrained network), then every 2 of 8 steps
        XCTAssertEqual(steps[0]["step"] as? Int, 0)
        XCTAssertEqual(epochs.count, 2)
        for key in ["step", "epoch", "method", "lambda", "loss", "task_loss", "reg_loss", "lr", "samples_per_s", "layers"] {
            XCTAssertNotNil(steps[0][key], key)
        }
        let layer = (steps[0]["layers"] as! [[String: Any]])[1]
        for key in ["name", "shape", "scales", "thresholds", "transitions", "flip_fraction", "mean_transition_distance",
                    "quant_error", "level_counts", "histogram"] {
            XCTAssertNotNil(layer[key], key)
        }
        XCTAssertEqual((layer["scales"] as! [String: Any]).keys.sorted(), ["a1", "a2", "a_opt"])
        // Records carry a named metric.
        for key in ["train_metric", "test_metric", "test_loss"] { XCTAssertNotNil(epochs[0][key], key) }
        XCTAssertEqual(epochs[0]["metric"] as? String, "accuracy")
        XCTAssertEqual(steps[0]["metric"] as? String, "accuracy")
        XCTAssertNotNil(steps[0]["batch_metric"])
        // The regularizer's reduction is recorded, and the defaults are the paper's sum at BT's default λ.
        XCTAssertEqual(steps[0]["reg_reduction"] as? String, "sum")
        XCTAssertEqual((steps[0]["lambda"] as? NSNumber)?.floatValue ?? 0, 3e-4, accuracy: 1e-9)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
        let options = config["config"] as! [String: Any]
        XCTAssertEqual(options["reg_reduction"] as? String, "sum")
        XCTAssertEqual(options["init"] as? String, "pytorch")

        // eval: the same latent weights under each quantizer.
        let e = try btviz(["eval", run, "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        let methods = (report["results"] as! [[String: Any]]).map { $0["method"] as! String }
        XCTAssertEqual(methods, ["full", "bwn", "twn", "ttq", "lq", "bt", "lsq"])
        XCTAssertEqual(report["calibration_images"] as? Int, 512)
        for r in report["results"] as! [[String: Any]] {
            XCTAssertNotNil(r["test_acc"]); XCTAssertNotNil(r["stored_bn_test_acc"])
        }
        // The table says the statistics were re-estimated, and its columns line up.
        let table = try btviz(["eval", run])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("re-estimated for each method on 512 training images"), table.stdout)
        let rows = table.stdout.split(separator: "\n").filter { line in
            ["method", "full ", "bwn ", "twn ", "ttq ", "lq ", "bt ", "lsq "].contains { line.hasPrefix($0) }
        }
        XCTAssertEqual(rows.count, 8, table.stdout)
        let ends = rows.map { ($0.range(of: "%") ?? $0.range(of: "test acc")!).upperBound.utf16Offset(in: $0) }
        XCTAssertEqual(Set(ends).count, 1, "the test acc column is aligned:\n\(table.stdout)")
        let plain = try btviz(["eval", run, "--no-recalibrate"])
        XCTAssertFalse(plain.stdout.contains("re-estimated"), plain.stdout)

        // compare: one row for the run and one group line.
        let c = try btviz(["compare", run])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("bt") && c.stdout.contains("test (mean ± sd)"), c.stdout)

        // resume: the finished run has nothing left, and says so by finishing at once.
        let before = try btviz(["eval", run, "--json", "--no-recalibrate"]).stdout
        let r = try btviz(["train", "--resume", run, "--headless"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("finished"), r.stdout)
        let after = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(after.filter { $0.contains("\"type\":\"step\"") }.count, 5, "no step was trained again")
        XCTAssertTrue(after.contains { $0.contains("\"kind\":\"resume\"") }, "the resume is logged")
        XCTAssertEqual(try btviz(["eval", run, "--json", "--no-recalibrate"]).stdout, before, "the checkpoint is the same")
    }

    /// `quantize` on a numpy-written array: JSON report, and a float32 .npy of the same shape back.
    func testQuantizeNpy() throws {
        let d = temporaryDirectory()
        let input = d + "/w.npy", output = d + "/q.npy"
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = ["python3", "-c", "import numpy as np; np.save('\(input)', np.array([[0.5,-0.2,0.1],[-0.8,0.0,0.3]], dtype=np.float64))"]
        try made.run(); made.waitUntilExit()
        guard made.terminationStatus == 0 else { throw XCTSkip("numpy is not available") }
        let o = try btviz(["quantize", "--method", "twn", "--input", input, "--output", output])
        XCTAssertEqual(o.status, 0, o.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["method"] as? String, "twn")
        XCTAssertEqual(report["level_counts"] as? [Int], [1, 3, 2])
        XCTAssertEqual((report["transitions"] as! [Double]).count, 2)
        XCTAssertEqual((report["levels"] as! [Double]).count, 3)
        // numpy reads back what btviz wrote.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import numpy as np; q = np.load('\(output)'); assert q.shape == (2, 3) and q.dtype == np.float32, q; assert abs(q[0,0] - 1.6/3) < 1e-6 and q[0,1] == 0 and q[1,0] < 0"]
        try check.run(); check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0)
    }

    /// `fetch` from a loopback HTTP server: downloads, checks md5, and refuses a file whose md5 is wrong.
    func testFetchFromLoopbackServer() throws {
        guard FileManager.default.fileExists(atPath: fashionDir) else { XCTFail("no shared data: ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data") }
        let served = temporaryDirectory()
        // Official md5s are for the full files; serve the official label files (which are here whole).
        let full = sharedData.appendingPathComponent("fashion").path
        for n in ["train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: full + "/" + n, toPath: served + "/" + n)
        }
        // The image files are not in shared/: a subset file stands in and must be rejected by md5.
        for n in ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: fashionDir + "/" + n, toPath: served + "/" + n)
        }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let port = 18_000 + Int.random(in: 0..<2000)
        server.arguments = ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", served]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: children of the test runner inherit a signal mask that blocks SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        usleep(700_000)
        let dest = temporaryDirectory() + "/fashion"
        let o = try btviz(["fetch", "fashion", "--dir", dest, "--base-url", "http://127.0.0.1:\(port)/"], timeout: 60)
        assertCleanFailure(o, mentioning: "md5")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dest)) ?? []
        XCTAssertFalse(left.contains("train-images-idx3-ubyte.gz"), "a file with a wrong md5 must not be kept: \(left)")
        // The first file fetched is train-images, whose md5 is wrong: the fetch stops there, nothing is kept.
        XCTAssertEqual(left, [], "no file and no temporary is left behind")
    }
}
