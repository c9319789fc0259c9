import Foundation
import XCTest

/// Two identical runs write identical files, so `md5sum` can show that two runs are the same (issue 32).
final class ReproducibleRunTests: XCTestCase {
    /// The same tiny run trained twice into two folders: checkpoint.bin and config.json are byte for byte equal
    /// (the checkpoint's JSON header has sorted keys; nothing in either file depends on the clock).
    func testIdenticalRunsWriteIdenticalCheckpointsAndConfigs() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for name in ["a", "b"] {
            let o = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--train-limit", "256",
                               "--test-limit", "64", "--epochs", "1", "--k", "4", "--headless", "--run-dir", root + "/" + name],
                              timeout: 600)
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        for file in ["checkpoint.bin", "config.json"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: root + "/a/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: root + "/b/" + file))
            XCTAssertFalse(a.isEmpty, file)
            XCTAssertTrue(a == b, "\(file) differs between two identical runs")
        }
        // The nested dictionary whose order used to change with every process is there to be ordered.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/a/checkpoint.bin"))
        let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 12..<12 + length)) as! [String: Any]
        XCTAssertGreaterThan((header["adam_steps"] as! [String: Any]).count, 2)
    }
}
