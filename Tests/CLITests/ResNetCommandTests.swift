import Foundation
import XCTest

/// ResNet from the command line, on real CIFAR-10 images.
final class ResNetCommandTests: XCTestCase {
    let cifar = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10-subset").path

    func json(_ s: String) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(s.utf8)) as! [String: Any] }

    /// `--model resnet` end to end on real CIFAR-10 images: the run names its model, `summary` counts ResNet-20's
    /// MACs, `eval` re-estimates the statistics, a changed depth on --resume is refused, and bad model options are
    /// one line each.
    func testResNetTrainsSummarizesAndEvaluates() throws {
        let run = temporaryDirectory() + "/rn"
        let t = try btviz(["train", "--model", "resnet", "--dataset", "cifar10", "--data-dir", cifar, "--epochs", "1",
                           "--train-limit", "64", "--test-limit", "32", "--batch-size", "32", "--headless", "--run-dir", run],
                          timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        let config = try json(String(contentsOfFile: run + "/config.json", encoding: .utf8))
        let c = config["config"] as! [String: Any], h = config["header"] as! [String: Any]
        XCTAssertEqual(c["model"] as? String, "resnet")
        XCTAssertEqual(c["depth"] as? Int, 20)
        XCTAssertNil(c["k"], "VGG-6's option is not stored for a ResNet")
        XCTAssertEqual(h["model"] as? String, "ResNet-20")
        XCTAssertEqual(h["classes"] as? Int, 10)

        let s = try btviz(["summary", run])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("ResNet-20"), s.stdout)
        XCTAssertTrue(s.stdout.contains("layer3.2.conv2"), s.stdout)
        // 40,551,040 per 32x32 image (ResNetLayerTests works it out), of which conv1 (442,368) and the FC (640) are float.
        XCTAssertTrue(s.stdout.contains("multiply-accumulates per 32x32 image: 40551040, 40108032 with quantized weights, 443008 with float32 weights"), s.stdout)

        let e = try btviz(["eval", run, "--json", "--calibration-images", "64"], timeout: 300)
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertEqual((try json(e.stdout)["results"] as! [[String: Any]]).count, 7)

        let depth = try btviz(["train", "--resume", run, "--headless", "--depth", "32"])
        XCTAssertNotEqual(depth.status, 0)
        XCTAssertTrue(depth.stderr.contains("depth"), depth.stderr)

        for (args, words) in [(["--model", "resnet", "--depth", "21"], "--depth must be one of 20, 32, 44, 56, 110 (got 21)"),
                              (["--model", "alexnet"], "--model must be one of vgg6, resnet, srnet (got alexnet)"),
                              (["--depth", "32"], "--depth must be left unset: it is an option of resnet, not of vgg6"),
                              (["--model", "srnet"], "--model srnet is a restoration model; --task classify takes vgg6, resnet")] {
            let bad = try btviz(["train", "--headless", "--epochs", "1", "--run-dir", temporaryDirectory() + "/x"] + args)
            XCTAssertNotEqual(bad.status, 0, args.joined(separator: " "))
            XCTAssertTrue(bad.stderr.contains(words), "\(args): \(bad.stderr)")
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        }
    }

    /// A ResNet-20 on Fashion-MNIST (1x28x28: the stages run at 28, 14 and 7): it learns, `summary` counts its MACs
    /// per 28x28 image, and `predict` on PNGs of 50 test images gives exactly `eval`'s accuracy on those images.
    func testResNetOnFashionPredictsAsEvalDoes() throws {
        let tmp = temporaryDirectory(), run = tmp + "/run", images = tmp + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try writeFashionTestPNGs(50, to: images)
        let t = try btviz(["train", "--model", "resnet", "--dataset", "fashion", "--data-dir", fashionDir, "--epochs", "3",
                           "--train-limit", "1024", "--batch-size", "64", "--method", "full", "--test-limit", "50", "--headless", "--run-dir", run], timeout: 600)
        XCTAssertEqual(t.status, 0, t.stderr)
        let s = try btviz(["summary", run])
        XCTAssertEqual(s.status, 0, s.stderr)
        // conv1 28*28*9*16, stage 1 at 28x28, stage 2 at 14x14 (its first conv from 16 channels), stage 3 at 7x7, FC.
        let macs = 28 * 28 * 9 * 16 + 6 * 28 * 28 * 9 * 16 * 16 + 14 * 14 * 9 * (16 * 32 + 5 * 32 * 32)
            + 7 * 7 * 9 * (32 * 64 + 5 * 64 * 64) + 64 * 10
        XCTAssertTrue(s.stdout.contains("multiply-accumulates per 28x28 image: \(macs),"), s.stdout)

        let e = try btviz(["eval", run, "--no-recalibrate", "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let results = try XCTUnwrap(try json(e.stdout)["results"] as? [[String: Any]])
        let full = try XCTUnwrap(results.first { $0["method"] as? String == "full" })
        let evalAccuracy = try XCTUnwrap(full["stored_bn_test_acc"] as? Double)
        XCTAssertGreaterThan(evalAccuracy, 0.4, "48 steps on 1,024 images learn (chance 0.1)")

        let p = try btviz(["predict", "--run", run, images, "--json"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let predictions = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(predictions.count, 50)
        let correct = predictions.filter { r in
            let path = r["path"] as? String ?? ""
            return r["index"] as? Int == Int(String(path.split(separator: "_").last!.dropFirst("label".count).prefix(1)))
        }.count
        XCTAssertEqual(Double(correct) / 50, evalAccuracy, accuracy: 1e-9)
    }

    /// Header of a safetensors file: tensor name to shape.
    func shapes(_ path: String) throws -> [String: [Int]] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(d.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<8 + n)) as! [String: Any]
        return header.filter { $0.key != "__metadata__" }.mapValues { ($0 as! [String: Any])["shape"] as! [Int] }
    }

    /// A ResNet-20 exported as a safetensors state_dict has exactly the names and shapes of PyTorch's ResNet-20
    /// state_dict (Samples/pytorch/resnet.py, akamaster's layout; the list written by torch 2.13 is committed), and
    /// `--init-from` that file starts a new run from those weights: its first record (step 0, before any update) has
    /// the same loss as the same batch through the exporting run's weights.
    func testResNetSafetensorsIsPyTorchsStateDictAndInitializesARun() throws {
        let dir = temporaryDirectory()
        func train(_ run: String, _ extra: [String]) throws {
            let t = try btviz(["train", "--model", "resnet", "--dataset", "cifar10", "--data-dir", cifar, "--epochs", "1",
                               "--train-limit", "64", "--test-limit", "32", "--batch-size", "32", "--headless", "--method", "full",
                               "--run-dir", run] + extra, timeout: 300)
            XCTAssertEqual(t.status, 0, t.stderr)
        }
        try train(dir + "/a", [])
        let file = dir + "/a.safetensors"
        let e = try btviz(["export", dir + "/a", "--format", "safetensors", "--state-dict-only", "--out", file])
        XCTAssertEqual(e.status, 0, e.stderr)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: repoRoot.appendingPathComponent(
            "Tests/Fixtures/pytorch-resnet/resnet20-state-dict.json"))) as! [String: [Int]]
        XCTAssertEqual(try shapes(file), expected)

        // --init-from takes it (the exact round trip is ResNetStateDictTests'): the new run's first record, before any
        // update, is not the seed's untrained network.
        try train(dir + "/b", ["--init-from", file])
        func firstLoss(_ run: String) throws -> Double {
            let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            let step0 = try XCTUnwrap(lines.first { $0.contains("\"type\":\"step\"") })
            return try XCTUnwrap((try json(String(step0))["loss"] as? NSNumber)?.doubleValue)
        }
        XCTAssertNotEqual(try firstLoss(dir + "/b"), try firstLoss(dir + "/a"))
        // eval --weights recognizes the file's model and depth from its names.
        let w = try btviz(["eval", "--weights", file, "--dataset", "cifar10", "--data-dir", cifar, "--methods", "full,bt"], timeout: 300)
        XCTAssertEqual(w.status, 0, w.stderr)
        XCTAssertTrue(w.stdout.contains("ResNet-20 on the cifar10 test split (1000 images)"), w.stdout)
        XCTAssertTrue(w.stdout.split(separator: "\n").contains { $0.hasPrefix("bt ") }, w.stdout)
    }

    /// A trained ResNet-20 as ONNX (Add for the shortcuts, Slice + Pad for option A's) gives in onnxruntime btviz's
    /// logits within 1e-4 of the largest and the same prediction for each of 256 test images: BT with its 18 block
    /// convs as int4 codes, the same run under TTQ (its levels as float32 Q(W)), and BT with --quantize-ends (the
    /// first conv and the FC as int4 too: 20 layers). 32 steps on 1,024 CIFAR-10 images at λ 0, so the net is a
    /// trained one (well above chance) in seconds.
    func testResNetThroughONNXRuntimeGivesBtvizsPredictions() throws {
        let dir = temporaryDirectory()
        for (name, extra) in [("bt", [String]()), ("ends", ["--quantize-ends"])] {
            let t = try btviz(["train", "--model", "resnet", "--dataset", "cifar10", "--data-dir", cifar, "--epochs", "2",
                               "--train-limit", "1024", "--batch-size", "64", "--test-limit", "256", "--lambda", "0",
                               "--headless", "--method", "bt", "--run-dir", dir + "/" + name] + extra, timeout: 600)
            XCTAssertEqual(t.status, 0, t.stderr)
        }
        // The BT run under TTQ keeps BT's batch-norm statistics, so it is no trained TTQ net: only its equality is checked.
        for (name, run, method, int4, float, correct) in [("bt", "bt", "bt", 18, 0, 40), ("ttq", "bt", "ttq", 0, 18, 0),
                                                          ("ends", "ends", "bt", 20, 0, 40)] {
            let model = dir + "/\(name).onnx", ref = dir + "/\(name)-ref"
            let e = try btviz(["export", dir + "/" + run, "--format", "onnx", "--method", method, "--out", model])
            XCTAssertEqual(e.status, 0, e.stderr)
            XCTAssertEqual(e.stdout.components(separatedBy: "int4 codes × scale").count - 1, int4, e.stdout)
            XCTAssertEqual(e.stdout.components(separatedBy: "float32 Q(W)").count - 1, float, e.stdout)
            try assertONNXLogitsEqualBtviz(run: dir + "/" + run, method: method, model: model, reference: ref,
                                           atLeastCorrect: correct, name)  // chance: 25
        }
    }
}
