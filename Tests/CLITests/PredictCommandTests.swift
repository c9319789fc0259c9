import Foundation
import XCTest

/// `predict` end to end: a short Fashion run classifies PNGs written from its own test split exactly as `eval`'s
/// forward pass does; probabilities, folders, class names, and the one-line failures.
final class PredictCommandTests: XCTestCase {
    func testPredictMatchesEval() throws {
        guard FileManager.default.fileExists(atPath: fashionDir) else { XCTFail("no shared data"); throw XCTSkip("no shared data") }
        let tmp = temporaryDirectory(), run = tmp + "/run", images = tmp + "/images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try writeFashionTestPNGs(50, to: images)
        // Evaluated on the same 50 test images the PNGs hold.
        let t = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--epochs", "4", "--test-limit", "50",
                           "--headless", "--run-dir", run], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(try String(contentsOfFile: run + "/config.json", encoding: .utf8).contains("\"Ankle boot\""))

        let e = try btviz(["eval", run, "--no-recalibrate", "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let ev = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let bt = try XCTUnwrap((ev["results"] as? [[String: Any]])?.first { $0["method"] as? String == "bt" })
        let evalAccuracy = try XCTUnwrap(bt["stored_bn_test_acc"] as? Double)

        let p = try btviz(["predict", "--run", run, images, "--json", "--top", "10"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(results.count, 50)
        var correct = 0
        for r in results {
            let path = try XCTUnwrap(r["path"] as? String)
            let label = Int(String(path.split(separator: "_").last!.dropFirst("label".count).prefix(1)))
            if r["index"] as? Int == label { correct += 1 }
            let top = try XCTUnwrap(r["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 10)
            XCTAssertEqual(top.compactMap { $0["probability"] as? Double }.reduce(0, +), 1, accuracy: 1e-6)
            XCTAssertEqual(top[0]["class"] as? String, r["class"] as? String)
            XCTAssertEqual(top[0]["probability"] as? Double, r["probability"] as? Double)
        }
        let accuracy = Double(correct) / 50
        // The same images, normalization and forward pass as eval's: the same accuracy, not just a similar one.
        XCTAssertEqual(accuracy, evalAccuracy, accuracy: 1e-9, "predict \(accuracy), eval \(evalAccuracy)")
        XCTAssertGreaterThan(accuracy, 0.6)
        XCTAssertEqual(results.map { $0["path"] as? String }, results.map { $0["path"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") })

        // Text: one line per image with the class name and a percentage; a single file works too.
        let one = images + "/002_label1.png"
        let text = try btviz(["predict", "--run", run, one, "--top", "2"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertEqual(text.stdout.split(separator: "\n").count, 1, text.stdout)
        XCTAssertTrue(text.stdout.hasPrefix(one) && text.stdout.contains("%"), text.stdout)

        // One-line failures: an unreadable image, an empty folder, a restoration run's folder, no run.
        let bad = tmp + "/bad.png"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: bad))
        assertCleanFailure(try btviz(["predict", "--run", run, bad]), mentioning: "bad.png")
        let empty = tmp + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertCleanFailure(try btviz(["predict", "--run", run, empty]), mentioning: "no PNG or JPEG")
        assertCleanFailure(try btviz(["predict", "--run", run, tmp + "/missing.png"]), mentioning: "missing.png")
        assertCleanFailure(try btviz(["predict", "--run", tmp + "/norun", one]), mentioning: "checkpoint")
        assertCleanFailure(try btviz(["predict", "--run", run, one, "--top", "0"]), mentioning: "--top")
    }
}
