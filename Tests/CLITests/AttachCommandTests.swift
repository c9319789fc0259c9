import Foundation
import XCTest

/// `btviz attach RUN --method ...` from another process: the running trainer takes the requests through the run
/// folder between steps and logs each change as an event; a run nobody trains is refused with one line.
final class AttachCommandTests: XCTestCase {
    private func events(_ run: String) -> [[String: Any]] {
        let log = (try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.contains("\"type\":\"event\"") }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Waits for an event of `kind` (the trainer takes requests every 200 ms; a busy machine may take longer).
    @discardableResult
    private func waitForEvent(_ run: String, _ kind: String, seconds: Double = 60) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let e = events(run).last(where: { $0["kind"] as? String == kind }) { return e }
            usleep(100_000)
        }
        XCTFail("no \(kind) event within \(seconds) s: \(events(run))")
        return nil
    }

    func testAttachSteersAHeadlessRunAndRefusesOneNobodyTrains() throws {
        let dir = temporaryDirectory(), run = dir + "/run"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["train", "--headless", "--dataset", "fashion", "--data-dir", fashionDir, "--method", "bt", "--k", "8",
                       "--epochs", "60", "--threads", "1", "--run-dir", run]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice; p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: run + "/requests") && Date() < deadline { usleep(100_000) }

        let sent = try btviz(["attach", run, "--method", "twn", "--lambda", "0.05", "--save"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertTrue(sent.stdout.contains("method TWN, λ 0.05, save"), sent.stdout)
        let method = waitForEvent(run, "method")
        XCTAssertEqual(method?["to"] as? String, "twn")
        XCTAssertEqual(waitForEvent(run, "lambda")?["to"] as? String, "0.05")
        XCTAssertEqual(waitForEvent(run, "lambda")?["step"] as? Int, method?["step"] as? Int, "taken together, applied at one step")
        waitForEvent(run, "checkpoint")

        XCTAssertEqual(try btviz(["attach", run, "--pause"]).status, 0)
        let paused = try XCTUnwrap(waitForEvent(run, "pause")?["step"] as? Int)
        usleep(600_000)  // paused for a while: the step count stays
        XCTAssertEqual(try btviz(["attach", run, "--unpause"]).status, 0)
        XCTAssertEqual(waitForEvent(run, "unpause")?["step"] as? Int, paused, "paused: no step was trained")

        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM)
        assertCleanFailure(try btviz(["attach", run, "--method", "bt"]), mentioning: "no trainer is running")
        assertCleanFailure(try btviz(["attach", dir, "--save"]), mentioning: "config.json")
        assertCleanFailure(try btviz(["attach", run, "--lambda", "-1"]), mentioning: "--lambda")
        assertCleanFailure(try btviz(["attach", run, "--pause", "--unpause"]), mentioning: "not both")
    }
}
