import Foundation
import XCTest

/// `btviz baseline` through the real binary: the published bicubic row on all four sets, denoising, bad options.
final class BaselineCommandTests: XCTestCase {
    var srDir: String { sharedData.appendingPathComponent("sr").path }

    func requireSR() throws {
        guard FileManager.default.fileExists(atPath: srDir + "/Urban100") else {
            XCTFail("no shared data: ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data")
        }
    }

    func json(_ o: Output) throws -> [String: Any] {
        XCTAssertEqual(o.stdout.split(separator: "\n").count, 1, "one JSON object: \(o.stdout)")
        return try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as! [String: Any]
    }

    /// Table 3's bicubic x2 row: Set5 33.66, Set14 30.24, BSD100 29.56 (the paper prints 29.48), Urban100 26.88.
    func testBicubicX2OnAllFourSets() throws {
        try requireSR()
        let o = try btviz(["baseline", "--task", "sr", "--scale", "2", "--data-dir", srDir, "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let j = try json(o)
        XCTAssertEqual(j["task"] as? String, "sr")
        XCTAssertEqual(j["scale"] as? Int, 2)
        let sets = j["sets"] as! [[String: Any]]
        XCTAssertEqual(sets.map { $0["set"] as! String }, ["set5", "set14", "bsd100", "urban100"])
        XCTAssertEqual(sets.map { $0["images"] as! Int }, [5, 14, 100, 100])
        for (row, want) in zip(sets, [33.66, 30.24, 29.56, 26.88]) {
            XCTAssertEqual(row["psnr"] as! Double, want, accuracy: 0.02, "\(row)")
        }
    }

    func testDenoiseAndTextOutput() throws {
        try requireSR()
        let o = try btviz(["baseline", "--task", "denoise", "--sigma", "0.1", "--data-dir", srDir, "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let j = try json(o)
        XCTAssertEqual(j["task"] as? String, "denoise")
        XCTAssertEqual(j["sigma"] as? Double, 0.1)
        let sets = j["sets"] as! [[String: Any]]
        XCTAssertEqual(sets.map { $0["set"] as! String }, ["set5", "set14"])
        XCTAssertEqual(sets[0]["psnr"] as! Double, 20.26, accuracy: 0.05)  // the paper's Noisy row, Set5
        // The same numbers as a table; set names in any case, repeated once.
        let t = try btviz(["baseline", "--scale", "3", "--sets", "SET5,set5", "--data-dir", srDir])
        XCTAssertEqual(t.status, 0, t.stderr)
        let lines = t.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, t.stdout)
        XCTAssertTrue(lines[0].contains("bicubic x3"), t.stdout)
        XCTAssertEqual(lines[2].split(separator: " "), ["Set5", "5", "30.39"])
    }

    func testBadOptionsAreOneLine() throws {
        try requireSR()
        for (args, mention) in [(["--scale", "5"], "--scale"), (["--scale", "1"], "--scale"),
                                (["--task", "denoise", "--sigma", "0"], "--sigma"), (["--task", "denoise", "--sigma", "1.5"], "--sigma"),
                                (["--task", "denoise", "--sigma", "nan"], "--sigma"), (["--sets", "set5,set6"], "set6"),
                                (["--sets", ","], "--sets"), (["--task", "deblur"], "deblur"), (["--task", "denoise", "--scale", "2"], "--scale")] {
            assertCleanFailure(try btviz(["baseline", "--data-dir", srDir] + args), mentioning: mention)
        }
        let empty = temporaryDirectory()
        let o = try btviz(["baseline", "--sets", "urban100", "--data-dir", empty])
        assertCleanFailure(o, mentioning: "Urban100 not found")
        XCTAssertTrue(o.stderr.contains(empty + "/Urban100"), o.stderr)
        // Without --data-dir, the environment is honoured.
        let env = try btviz(["baseline", "--sets", "set5", "--json"], environment: ["BTVIZ_SR_DATA": srDir])
        XCTAssertEqual(env.status, 0, env.stderr)
        XCTAssertEqual((try json(env)["sets"] as! [[String: Any]])[0]["psnr"] as! Double, 33.66, accuracy: 0.02)
    }
}
