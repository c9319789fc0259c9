import Foundation
import XCTest

/// The super-resolution and denoising commands end to end: train headless, eval per set, upscale and denoise a
/// user's image, bench --task sr; and the clean one-line failures around them.
final class RestorationCommandTests: XCTestCase {
    let sr = sharedData.appendingPathComponent("sr").path

    /// One short x2 run serves eval and upscale (each test class instance is fresh; the run is cheap).
    func trainedRun(_ task: String, _ extra: [String] = []) throws -> String {
        let dir = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--task", task, "--data-dir", sr, "--method", "bt", "--epochs", "1", "--epoch-steps", "20",
                           "--headless", "--run-dir", dir] + extra, timeout: 300)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("test psnr"), o.stdout)
        return dir
    }

    func testTrainEvalAndUpscale() throws {
        let run = try trainedRun("sr")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains("\"task\" : \"sr\"") || config.contains("\"task\":\"sr\""), config)
        let e = try btviz(["eval", run, "--sets", "set5,set14", "--json"], timeout: 300)
        XCTAssertEqual(e.status, 0, e.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let sets = try XCTUnwrap(json["sets"] as? [[String: Any]])
        XCTAssertEqual(sets.map { $0["set"] as? String }, ["set5", "set14"])
        XCTAssertEqual(sets.map { $0["images"] as? Int }, [5, 14])
        XCTAssertEqual(sets[0]["bicubic"] as? Double ?? 0, 33.66, accuracy: 0.02)
        XCTAssertEqual(sets[1]["bicubic"] as? Double ?? 0, 30.24, accuracy: 0.02)
        XCTAssertGreaterThan(sets[0]["psnr"] as? Double ?? 0, 20)

        // compare names what an SR run learned from and its metric, not the unused classification defaults.
        let c = try btviz(["compare", run])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("sr x2 T91") && c.stdout.contains(" dB"), c.stdout)
        XCTAssertFalse(c.stdout.contains("synthetic"), c.stdout)

        let out = temporaryDirectory() + "/bird.png"
        let u = try btviz(["upscale", "--run", run, sr + "/Set5/bird_GT.bmp", out])
        XCTAssertEqual(u.status, 0, u.stderr)
        XCTAssertTrue(u.stdout.contains("576x576"), u.stdout)  // 288x288 in
        let png = try Data(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        // A super-resolution run cannot denoise; outputs other than PNG/BMP are refused.
        assertCleanFailure(try btviz(["denoise", "--run", run, sr + "/Set5/bird_GT.bmp", out]), mentioning: "sr run")
        assertCleanFailure(try btviz(["upscale", "--run", run, sr + "/Set5/bird_GT.bmp", out + ".jpg"]), mentioning: ".png or .bmp")
    }

    func testDenoiseRunAndImage() throws {
        let run = try trainedRun("denoise", ["--sigma", "0.1"])
        let out = temporaryDirectory() + "/baby.bmp"
        let d = try btviz(["denoise", "--run", run, sr + "/Set5/baby_GT.bmp", out])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertTrue(d.stdout.contains("512x512"), d.stdout)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: out)).prefix(2)), [0x42, 0x4D])
    }

    func testBadRestorationOptions() throws {
        assertCleanFailure(try btviz(["train", "--task", "sr", "--scale", "5", "--data-dir", sr, "--headless"]), mentioning: "--scale")
        assertCleanFailure(try btviz(["train", "--task", "sr", "--patch", "47", "--data-dir", sr, "--headless"]), mentioning: "--patch")
        assertCleanFailure(try btviz(["train", "--task", "denoise", "--sigma", "0", "--data-dir", sr, "--headless"]), mentioning: "--sigma")
        assertCleanFailure(try btviz(["train", "--task", "sr", "--val-set", "set7", "--data-dir", sr, "--headless",
                                      "--run-dir", temporaryDirectory() + "/r"]), mentioning: "set7")
        let empty = temporaryDirectory()
        assertCleanFailure(try btviz(["train", "--task", "sr", "--train-data", empty, "--data-dir", sr, "--headless",
                                      "--run-dir", empty + "/r"]), mentioning: "no PNG, JPEG or BMP")
        assertCleanFailure(try btviz(["bench", "--task", "sr", "--scale", "2", "--patch", "47"]), mentioning: "--patch")
    }

    func testBenchSuperResolutionJSON() throws {
        let o = try btviz(["bench", "--task", "sr", "--scale", "2", "--batch", "4", "--infer-size", "64", "--steps", "2",
                           "--warmup", "1", "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(json["train_samples_per_s"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(json["infer_samples_per_s"] as? Double ?? 0, 0)
        XCTAssertEqual(json["task"] as? String, "sr")
    }
}
