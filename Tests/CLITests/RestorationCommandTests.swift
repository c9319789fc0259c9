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
        XCTAssertTrue(o.stdout.contains("test PSNR"), o.stdout)
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
        // Every method per set, the trained one's also as "psnr"; progress on stderr, one line per set and method.
        let methods = try XCTUnwrap(sets[0]["methods"] as? [String: Double])
        XCTAssertEqual(Set(methods.keys), ["full", "bwn", "twn", "ttq", "lq", "bt", "lsq"])
        XCTAssertEqual(methods["bt"], sets[0]["psnr"] as? Double)
        XCTAssertTrue(e.stderr.contains("btviz: set14 bt ") && e.stderr.contains("dB (14 images"), e.stderr)
        let text = try btviz(["eval", run, "--sets", "set5", "--methods", "bt,full"], timeout: 300)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("bt*") && text.stdout.contains("full"), text.stdout)
        assertCleanFailure(try btviz(["eval", run, "--methods", "bt,xnor"]), mentioning: "xnor")

        // summary: the restoration net's convs, the first and last full precision.
        let s = try btviz(["summary", run, "--json"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [String: Any])
        let layers = try XCTUnwrap(summary["layers"] as? [[String: Any]])
        XCTAssertTrue(layers.contains { ($0["layer"] as? String ?? "").hasPrefix("conv_first") && $0["method"] as? String == "full" }, s.stdout)
        XCTAssertTrue(layers.contains { ($0["layer"] as? String ?? "").hasPrefix("body") && $0["method"] as? String == "BT" }, s.stdout)
        XCTAssertGreaterThan(summary["compression"] as? Double ?? 0, 1.5)
        // predict is for classifiers.
        assertCleanFailure(try btviz(["predict", "--run", run, sr + "/Set5/bird_GT.bmp"]), mentioning: "not a classification run")

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

    /// Colour noise: the default denoises Cb and Cr with the same net, --luma-only leaves them as they were.
    func testDenoiseChroma() throws {
        let run = try trainedRun("denoise", ["--sigma", "0.1", "--epoch-steps", "60", "--patch", "32"])
        let dir = temporaryDirectory(), w = 96, h = 96
        var clean = [UInt8](repeating: 0, count: w * h * 3), noisy = clean
        var rng = SystemRandomNumberGenerator.Seeded(seed: 7)
        for y in 0..<h {
            for x in 0..<w {
                let fx = Double(x) / Double(w), fy = Double(y) / Double(h)
                let rgb = [0.2 + 0.6 * fx, 0.3 + 0.4 * fy, 0.5 + 0.3 * sin(3 * fx + 2 * fy)]
                for c in 0..<3 {
                    let i = 3 * (y * w + x) + c
                    clean[i] = UInt8((rgb[c] * 255).rounded())
                    noisy[i] = UInt8(min(max((rgb[c] + 0.1 * rng.gaussian()) * 255, 0), 255).rounded())
                }
            }
        }
        try Data(bmp(noisy, w, h)).write(to: URL(fileURLWithPath: dir + "/noisy.bmp"))
        let d = try btviz(["denoise", "--run", run, dir + "/noisy.bmp", dir + "/all.bmp"])
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertTrue(d.stdout.contains("Y, Cb and Cr"), d.stdout)
        let l = try btviz(["denoise", "--run", run, dir + "/noisy.bmp", dir + "/luma.bmp", "--luma-only"])
        XCTAssertEqual(l.status, 0, l.stderr)
        XCTAssertTrue(l.stdout.contains("Y only"), l.stdout)
        let before = ycbcrRMSE(noisy, clean)
        let all = ycbcrRMSE(try readBMP(dir + "/all.bmp"), clean), luma = ycbcrRMSE(try readBMP(dir + "/luma.bmp"), clean)
        for c in 1...2 {
            XCTAssertLessThan(all[c], 0.9 * before[c], "chroma \(c): \(before) -> \(all)")
            XCTAssertEqual(luma[c], before[c], accuracy: 0.05 * before[c], "--luma-only keeps chroma: \(before) -> \(luma)")
        }
        XCTAssertLessThan(luma[0], before[0], "Y: \(before) -> \(luma)")
    }

    /// RMSE of Y, Cb and Cr (BT.601, 0-255) between two RGB images.
    func ycbcrRMSE(_ a: [UInt8], _ b: [UInt8]) -> [Double] {
        func ycc(_ p: [UInt8], _ i: Int) -> [Double] {
            let r = Double(p[i]), g = Double(p[i + 1]), b = Double(p[i + 2])
            return [(65.481 * r + 128.553 * g + 24.966 * b) / 255, (-37.797 * r - 74.203 * g + 112 * b) / 255,
                    (112 * r - 93.786 * g - 18.214 * b) / 255]
        }
        var se = [0.0, 0.0, 0.0]
        for i in stride(from: 0, to: a.count, by: 3) {
            let u = ycc(a, i), v = ycc(b, i)
            for c in 0..<3 { se[c] += (u[c] - v[c]) * (u[c] - v[c]) }
        }
        return se.map { ($0 / Double(a.count / 3)).squareRoot() }
    }

    /// A 24-bit bottom-up BMP of RGB bytes, and its reading back.
    func bmp(_ rgb: [UInt8], _ w: Int, _ h: Int) -> [UInt8] {
        let stride = (3 * w + 3) / 4 * 4
        var b = [UInt8](repeating: 0, count: 54 + stride * h)
        func put32(_ o: Int, _ v: Int) { for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        b[0] = 0x42; b[1] = 0x4D; put32(2, b.count); put32(10, 54); put32(14, 40); put32(18, w); put32(22, h); b[26] = 1; b[28] = 24
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { b[54 + (h - 1 - y) * stride + 3 * x + c] = rgb[3 * (y * w + x) + 2 - c] } } }
        return b
    }

    func readBMP(_ path: String) throws -> [UInt8] {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func get32(_ o: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) } }
        let w = get32(18), h = get32(22), off = get32(10), stride = (3 * w + 3) / 4 * 4
        XCTAssertEqual(b[28], 24)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[3 * (y * w + x) + 2 - c] = b[off + (h - 1 - y) * stride + 3 * x + c] } } }
        return rgb
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

extension SystemRandomNumberGenerator {
    /// A small seeded generator (SplitMix64) with Box-Muller normals, so the test's noise is the same every run.
    struct Seeded {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        mutating func gaussian() -> Double {
            let u = (Double(next() >> 11) + 1) / 9007199254740992, v = Double(next() >> 11) / 9007199254740992
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
    }
}
