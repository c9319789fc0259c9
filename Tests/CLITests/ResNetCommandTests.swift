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
}
