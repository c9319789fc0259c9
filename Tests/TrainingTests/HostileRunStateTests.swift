import BTCore
import Foundation
import Quantizers
import Records
import Training
import XCTest

/// What a run's own state can hold after a hostile or interrupted history: weights at Float's limits, and
/// records logged after the last checkpoint.
final class HostileRunStateTests: XCTestCase {
    /// Weights near Float's limit (3e38: the histogram's range overflowed Float and a NaN bin index trapped) are
    /// counted, every one in a bin; a NaN lands in the first.
    func testHistogramsTakeWeightsAtFloatsLimits() {
        let tracker = LayerStatsTracker(layerCount: 1, bins: 10)
        for values: [Float] in [[3e38, -3e38, 0, 1], [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-30, 2], [0, 0, 0, 0], [.nan, 1, -1, 0]] {
            values.withUnsafeBufferPointer { w in
                for fit in values.contains(where: \.isNaN) ? [FullPrecision().fit(w)] : [BWN().fit(w), FullPrecision().fit(w)] {
                    let r = tracker.record(name: "conv1.weight", shape: [4], fit: fit, weights: w,
                                           measure: .init(reg: 0, flipFraction: 0), flipRatio: 0)
                    XCTAssertEqual(r.histogram.counts.reduce(0, +), 4, "\(values)")
                    XCTAssertEqual(r.histogram.counts.count, 10)
                    XCTAssertEqual(r.histogram.edges.count, 11)
                }
            }
        }
        // Ordinary weights fall where hand-counting puts them: range ±2, bins of 0.4.
        [Float(-2), -1.9, -0.1, 0.1, 0.5, 1.99, 2].withUnsafeBufferPointer { w in
            let r = tracker.record(name: "conv1.weight", shape: [7], fit: FullPrecision().fit(w), weights: w,
                                   measure: .init(reg: 0, flipFraction: 0), flipRatio: 0)
            XCTAssertEqual(r.histogram.counts, [2, 0, 0, 0, 1, 1, 1, 0, 0, 2])
        }
    }

    /// A run killed between checkpoints: the records after the checkpoint's step are cut, those at or before it and
    /// everything before stay byte for byte; a file with none after it is not touched.
    func testRecordsAfterTheCheckpointAreDroppedOnResume() throws {
        let dir = temporaryDirectory()
        let folder = RunFolder(dir)
        func event(_ step: Int, _ message: String) -> String {
            RunRecordCoding.encode(.event(EventRecord(step: step, epoch: 0, kind: .checkpoint, message: message)))
        }
        let kept = [event(0, "start"), event(5, "five"), "not a record", event(10, "checkpoint at ten")]
        let after = [event(11, "eleven"), event(15, "fifteen"), "", event(19, "nineteen")]
        let text = (kept + after).joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder.metricsPath))
        XCTAssertEqual(try folder.dropRecords(after: 10), 3)
        XCTAssertEqual(try String(contentsOfFile: folder.metricsPath, encoding: .utf8), kept.joined(separator: "\n") + "\n")
        XCTAssertEqual(try folder.dropRecords(after: 10), 0)
        XCTAssertEqual(try String(contentsOfFile: folder.metricsPath, encoding: .utf8), kept.joined(separator: "\n") + "\n")
        // Every record after step 0 goes when the checkpoint is the first one; none when there is no file.
        XCTAssertEqual(try folder.dropRecords(after: 0), 2)
        XCTAssertEqual(try String(contentsOfFile: folder.metricsPath, encoding: .utf8), event(0, "start") + "\n")
        XCTAssertEqual(try RunFolder(temporaryDirectory()).dropRecords(after: 3), 0)
    }

    /// Records dropped across several of the backwards walk's 64 KB chunks are cut at their line starts.
    func testDroppingWalksBackAcrossChunks() throws {
        let folder = RunFolder(temporaryDirectory())
        let long = String(repeating: "x", count: 9_000)
        let lines = (0..<40).map { RunRecordCoding.encode(.event(EventRecord(step: $0, epoch: 0, kind: .checkpoint, message: long))) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.metricsPath))
        XCTAssertEqual(try folder.dropRecords(after: 2), 37)
        let left = try String(contentsOfFile: folder.metricsPath, encoding: .utf8)
        XCTAssertTrue(left == lines[0...2].joined(separator: "\n") + "\n", "\(left.utf8.count) bytes left")
    }

    /// metrics.jsonl that is a FIFO or a symlink is refused with one line, never opened for reading or cut.
    func testDroppingRefusesWhatIsNotARegularFile() throws {
        let folder = RunFolder(temporaryDirectory())
        XCTAssertEqual(mkfifo(folder.metricsPath, 0o644), 0)
        XCTAssertThrowsError(try folder.dropRecords(after: 1)) { XCTAssertTrue("\($0)".contains("is not a regular file"), "\($0)") }
        XCTAssertThrowsError(try folder.readRecords()) { XCTAssertTrue("\($0)".contains("FIFO"), "\($0)") }
        let other = RunFolder(temporaryDirectory()), victim = temporaryDirectory() + "/victim"
        try Data((RunRecordCoding.encode(.event(EventRecord(step: 9, epoch: 0, kind: .checkpoint, message: "m"))) + "\n").utf8)
            .write(to: URL(fileURLWithPath: victim))
        XCTAssertEqual(symlink(victim, other.metricsPath), 0)
        XCTAssertThrowsError(try other.dropRecords(after: 1))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: victim)).count > 0, true)
    }
}
