import Foundation
import XCTest

/// TTQ and LQ-Nets from the command line, `summary`, and a run written before quantizers had state.
final class TrainedQuantizerCommandTests: XCTestCase {
    let legacy = repoRoot.appendingPathComponent("Tests/Fixtures/run-before-quantizer-state").path

    func json(_ s: String) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(s.utf8)) as! [String: Any] }

    func copyOfLegacyRun() throws -> String {
        let dir = temporaryDirectory() + "/run"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["checkpoint.bin", "config.json", "metrics.jsonl"] {
            try FileManager.default.copyItem(atPath: legacy + "/" + f, toPath: dir + "/" + f)
        }
        return dir
    }

    /// The fixture is a BT run made by the btviz of commit f1b1e80 (VGG-6(4), synthetic, stopped at step 15 of 30),
    /// before checkpoints held quantizer state or records named their metric; its expected files are what that
    /// btviz itself printed for `eval --json` and for the last epoch of its own `--resume`. Today's btviz
    /// evaluates it to the same figures, adds TTQ and LQ-Nets, and resuming it ends where that resume did (to the
    /// rounding of the F(4x4) forward convs it has since).
    func testRunFromBeforeQuantizerStateLoadsEvaluatesAndResumesAsBefore() throws {
        let run = try copyOfLegacyRun()
        let e = try btviz(["eval", run, "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let now = (try json(e.stdout)["results"] as! [[String: Any]])
        let then = (try json(String(contentsOfFile: legacy + "/expected-eval.json", encoding: .utf8))["results"] as! [[String: Any]])
        XCTAssertEqual(now.map { $0["method"] as! String }, ["full", "bwn", "twn", "ttq", "lq", "bt", "lsq"])
        for old in then {
            let new = try XCTUnwrap(now.first { $0["method"] as? String == old["method"] as? String })
            for key in ["test_acc", "test_loss", "stored_bn_test_acc", "stored_bn_test_loss"] {
                XCTAssertEqual((new[key] as! NSNumber).doubleValue, (old[key] as! NSNumber).doubleValue, accuracy: 1e-6,
                               "\(old["method"]!) \(key)")
            }
        }
        let s = try btviz(["summary", run])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("VGG-6(4)") && s.stdout.contains("2.32"), s.stdout)

        let r = try btviz(["train", "--resume", run, "--headless"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let last = try json(String(try XCTUnwrap(lines.last { $0.contains("\"type\":\"epoch\"") })))
        let expected = try json(String(contentsOfFile: legacy + "/expected-resumed-last-epoch.json", encoding: .utf8))
        XCTAssertEqual(last["step"] as? Int, 30)
        // Bit for bit until the forward convs moved to Winograd F(4x4) (other rounding): now to 1e-5 of the loss.
        XCTAssertEqual((last["test_loss"] as! NSNumber).floatValue, (expected["test_loss"] as! NSNumber).floatValue, accuracy: 2e-5)
        XCTAssertEqual((last["train_loss"] as! NSNumber).floatValue, (expected["train_loss"] as! NSNumber).floatValue, accuracy: 2e-5)
        XCTAssertEqual((last["test_metric"] as! NSNumber).floatValue, (expected["test_acc"] as! NSNumber).floatValue)
        // Replay and compare read the old records beside the new ones.
        let c = try btviz(["compare", run])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertFalse(c.stdout.contains("skipped"), c.stdout)
    }

    /// `summary` on the fixture's VGG-6(4) (28x28x1 input, 10 classes), worked by hand: BT's 5 levels are 2.32 bits
    /// of information but 4 stored bits (int4 codes two to a byte and one float32 scale), and every layer's
    /// multiply-accumulates per image are its output pixels x 9 x channels in x channels out (a conv) or in x out
    /// (a linear layer), the convs' counted as quantized and the FC layers' as float.
    func testSummaryShowsInformationAndStoredBitsAndMACs() throws {
        let run = try copyOfLegacyRun()
        let s = try btviz(["summary", run])
        XCTAssertEqual(s.status, 0, s.stderr)
        let head = try XCTUnwrap(s.stdout.split(separator: "\n").first { $0.hasPrefix("layer ") })
        for column in ["info bits/w", "stored bits/w", "info memory", "stored memory", "quant MACs", "float MACs"] {
            XCTAssertTrue(head.contains(column), String(head))
        }
        let conv2 = try XCTUnwrap(s.stdout.split(separator: "\n").first { $0.hasPrefix("conv2 ") }).split(separator: " ")
        XCTAssertEqual(Array(conv2[2...5]), ["BT", "5", "2.32", "4"], conv2.joined(separator: " "))
        XCTAssertTrue(s.stdout.contains("at the information bound") && s.stdout.contains("as stored"), s.stdout)
        XCTAssertTrue(s.stdout.contains("multiply-accumulates per 28x28 image: 484736, 479808 with quantized weights, 4928 with float32 weights"), s.stdout)

        let js = try json(try btviz(["summary", run, "--json"]).stdout)
        let layers = try XCTUnwrap(js["layers"] as? [[String: Any]])
        func layer(_ name: String) throws -> [String: Any] { try XCTUnwrap(layers.first { $0["layer"] as? String == name }) }
        let c2 = try layer("conv2")
        XCTAssertEqual((c2["information_bits_per_weight"] as! NSNumber).doubleValue, log2(5), accuracy: 1e-12)
        XCTAssertEqual(c2["stored_bits_per_weight"] as? Double, 4)
        // 144 weights: ceil(144 x 2.32 / 8) = 42 bytes + a_opt; stored: 72 bytes of packed codes + the scale.
        XCTAssertEqual(c2["information_bytes"] as? Double, 42 + 4)
        XCTAssertEqual(c2["stored_bytes"] as? Double, 72 + 4)
        let expected: [(String, Int, Int)] = [("conv1", 28 * 28 * 9 * 1 * 4, 0), ("conv2", 28 * 28 * 9 * 4 * 4, 0),
                                              ("conv3", 14 * 14 * 9 * 4 * 8, 0), ("conv4", 14 * 14 * 9 * 8 * 8, 0),
                                              ("conv5", 7 * 7 * 9 * 8 * 16, 0), ("conv6", 7 * 7 * 9 * 16 * 16, 0),
                                              ("fc1", 0, 3 * 3 * 16 * 32), ("bn7", 0, 0), ("fc2", 0, 32 * 10)]
        for (name, quantized, float) in expected {
            let l = try layer(name)
            XCTAssertEqual(l["quantized_macs"] as? Int, quantized, name)
            XCTAssertEqual(l["float_macs"] as? Int, float, name)
        }
        XCTAssertEqual(js["quantized_macs"] as? Int, 479808)
        XCTAssertEqual(js["float_macs"] as? Int, 4928)
        XCTAssertEqual(js["macs"] as? Int, 484736)
        XCTAssertEqual(js["macs_input"] as? String, "28x28")

        // Under TTQ the same convs' levels are off any int4 grid: stored as float32, 32 bits.
        let ttq = try json(try btviz(["summary", run, "--method", "ttq", "--json"]).stdout)
        let t2 = try XCTUnwrap((ttq["layers"] as? [[String: Any]])?.first { $0["layer"] as? String == "conv2" })
        XCTAssertEqual((t2["information_bits_per_weight"] as! NSNumber).doubleValue, log2(3), accuracy: 1e-12)
        XCTAssertEqual(t2["stored_bits_per_weight"] as? Double, 32)
        XCTAssertEqual(t2["quantized_macs"] as? Int, 112896)
    }

    /// `train --method ttq|lq` with their options, `eval` on the result, and `summary`'s bits and memory.
    func testTrainTTQAndLQThenSummarize() throws {
        for (method, extra, bits) in [("ttq", ["--ttq-t", "0.1"], "1.58"), ("lq", ["--lq-bits", "3"], "3.00")] {
            let run = temporaryDirectory() + "/run"
            let o = try btviz(["train", "--method", method, "--epochs", "1", "--k", "4", "--train-limit", "256",
                               "--test-limit", "128", "--run-dir", run] + extra)
            XCTAssertEqual(o.status, 0, o.stderr)
            let config = try json(String(contentsOfFile: run + "/config.json", encoding: .utf8))["config"] as! [String: Any]
            if method == "ttq" { XCTAssertEqual((config["ttq_t"] as! NSNumber).floatValue, 0.1) }
            else { XCTAssertEqual(config["lq_bits"] as? Int, 3) }
            let s = try btviz(["summary", run])
            XCTAssertEqual(s.status, 0, s.stderr)
            let conv = try XCTUnwrap(s.stdout.split(separator: "\n").first { $0.hasPrefix("conv2 ") })
            XCTAssertTrue(conv.contains(method == "ttq" ? "TTQ" : "LQ") && conv.contains(bits), String(conv))
            XCTAssertTrue(s.stdout.contains("compression"), s.stdout)
            let js = try json(try btviz(["summary", run, "--json"]).stdout)
            let layers = js["layers"] as! [[String: Any]]
            let c2 = try XCTUnwrap(layers.first { $0["layer"] as? String == "conv2" })
            // conv2 at K=4: 4x3x3x4 = 144 weights. TTQ: 144 * log2(3) bits -> 29 bytes + Wp, Wn; LQ: 54 bytes + 3 per channel.
            XCTAssertEqual((c2["information_bytes"] as! NSNumber).doubleValue, method == "ttq" ? 29 + 8 : 54 + 4 * 3 * 4)
            XCTAssertEqual((c2["float32_bytes"] as! NSNumber).doubleValue, 576)
            // Neither level set lies on one int4 grid: the ONNX export stores their float32 Q(W).
            XCTAssertEqual(c2["stored_bits_per_weight"] as? Double, 32)
            XCTAssertEqual((c2["stored_bytes"] as! NSNumber).doubleValue, 576)
            let e = try btviz(["eval", run, "--json", "--no-recalibrate"])
            XCTAssertEqual(e.status, 0, e.stderr)
        }
        let bad = try btviz(["train", "--method", "lq", "--lq-bits", "5", "--epochs", "1"])
        assertCleanFailure(bad, mentioning: "--lq-bits")
        let bad2 = try btviz(["train", "--method", "ttq", "--ttq-t", "1.5", "--epochs", "1"])
        assertCleanFailure(bad2, mentioning: "--ttq-t")
    }

    /// `quantize --method ttq` gives the least-squares Wp and Wn; `--method lq` one basis per output channel
    /// (the first axis), with the levels checked against numpy's own nearest-level error.
    func testQuantizeTTQAndLQ() throws {
        let d = temporaryDirectory()
        let input = d + "/w.npy"
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        made.arguments = ["python3", "-c", "import numpy as np; np.save('\(input)', np.array([[0.5,-0.2,0.1],[-0.8,0.0,0.3]], dtype=np.float32))"]
        try made.run(); made.waitUntilExit()
        guard made.terminationStatus == 0 else { throw XCTSkip("numpy is not available") }
        let t = try json(try btviz(["quantize", "--method", "ttq", "--input", input]).stdout)
        let scales = t["scales"] as! [String: Double]
        XCTAssertEqual(scales["wp"]!, 0.3, accuracy: 1e-6)
        XCTAssertEqual(scales["wn"]!, 0.5, accuracy: 1e-6)
        XCTAssertEqual((t["thresholds"] as! [String: Double])["delta"]!, 0.04, accuracy: 1e-7)
        let q = try btviz(["quantize", "--method", "lq", "--lq-bits", "1", "--input", input, "--output", d + "/q.npy"])
        XCTAssertEqual(q.status, 0, q.stderr)
        let l = try json(q.stdout)
        XCTAssertEqual(l["channels"] as? Int, 2)
        // One bit per channel is BWN per channel: levels ±mean|w| of each row.
        let rows = l["channel_levels"] as! [[Double]]
        XCTAssertEqual(rows[0][1], 0.8 / 3, accuracy: 1e-6)
        XCTAssertEqual(rows[1][1], 1.1 / 3, accuracy: 1e-6)
    }
}
