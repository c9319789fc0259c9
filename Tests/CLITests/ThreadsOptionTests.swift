import Foundation
import XCTest

/// `--threads` and BTVIZ_THREADS: validated with a one-line error, recorded by `train`, and the run is the same.
final class ThreadsOptionTests: XCTestCase {
    func testBadCountsAreOneLineErrors() throws {
        assertCleanFailure(try btviz(["bench", "--threads", "0", "--steps", "1"]), mentioning: "--threads must be in 1...256")
        assertCleanFailure(try btviz(["train", "--threads", "300", "--headless"]), mentioning: "--threads must be in 1...256")
        assertCleanFailure(try btviz(["bench", "--steps", "1"], environment: ["BTVIZ_THREADS": "two"]),
                           mentioning: "BTVIZ_THREADS must be a whole number in 1...256")
    }

    /// train records the count it used (--threads over BTVIZ_THREADS), and bench reports it.
    func testTrainRecordsItsThreadCount() throws {
        func train(_ args: [String], env: [String: String]) throws -> (Int?, String) {
            let run = temporaryDirectory() + "/run"
            let o = try btviz(["train", "--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "128",
                               "--log-every", "1", "--run-dir", run] + args, environment: env)
            XCTAssertEqual(o.status, 0, o.stderr)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
            let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
            let losses = metrics.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }
                .map { String($0.split(separator: ",").first { $0.contains("\"loss\"") } ?? "") }
            return ((config["header"] as? [String: Any])?["threads"] as? Int, losses.joined(separator: ";"))
        }
        let a = try train(["--threads", "3"], env: ["BTVIZ_THREADS": "1"])
        let b = try train([], env: ["BTVIZ_THREADS": "1"])
        XCTAssertEqual(a.0, 3)
        XCTAssertEqual(b.0, 1)
        XCTAssertFalse(a.1.isEmpty)
        XCTAssertEqual(a.1, b.1, "the same losses on 3 threads and 1")
        let o = try btviz(["bench", "--k", "4", "--steps", "1", "--warmup", "0", "--mode", "infer", "--json"],
                          environment: ["BTVIZ_THREADS": "3"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("\"threads\":3"), o.stdout)
    }
}
