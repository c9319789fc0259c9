import Records
import BTCore
import Foundation
import XCTest
import Training

/// metrics.jsonl never holds half a line: not after a crash, not after a full disk.
final class LineLogTests: XCTestCase {
    func testOpeningCutsATornLastLine() throws {
        let path = temporaryDirectory() + "/metrics.jsonl"
        try Data("{\"a\":1}\n{\"b\":2}\n{\"torn\":".utf8).write(to: URL(fileURLWithPath: path))
        let log = try LineLog(path: path)
        try log.append("{\"c\":3}")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
        // A file that is one torn line becomes empty; a whole file is left alone.
        try Data("no newline at all".utf8).write(to: URL(fileURLWithPath: path))
        _ = try LineLog(path: path)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, 0)
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: path))
        _ = try LineLog(path: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "x\n")
    }

    /// /dev/full (a device, as a planted metrics.jsonl could be) is refused when the log is opened, before any
    /// write; the cut-back of a short write is tested with a file-size limit (OutputPathsTests).
    func testADeviceIsRefusedAtOpen() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
        XCTAssertThrowsError(try LineLog(path: "/dev/full")) { error in
            XCTAssertEqual("\(error)", "cannot write /dev/full: it is a character device, not a regular file")
        }
    }
}

/// Headless progress lines: the task loss and λ·R apart, so a large λ·R never prints as a negative "loss".
final class ProgressLineTests: XCTestCase {
    func testTaskLossAndLambdaRArePrintedApart() {
        var lines: [String] = []
        let printer = ProgressPrinter(epochs: 3) { lines.append($0) }
        // loss = task − λ·R = 0.2 − 0.1 × 2.752 = −0.0752: the case the issue quotes.
        printer.receive(.step(StepRecord(step: 50, epoch: 0, totalSteps: 300, method: "bt", lambda: 0.1, loss: -0.0752, taskLoss: 0.2,
                                         regLoss: 2.752, batchMetric: 0.5, lr: 0.001, samplesPerS: 1000, etaS: 10, layers: [])))
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains("task loss 0.2000  λ·R 0.2752"), lines[0])
        XCTAssertFalse(lines[0].contains("-0.0752"), lines[0])
    }
}
