import Explorer
import Foundation
import Records
import XCTest

/// Replay reads a metrics file a chunk at a time, so a big file draws its first frame at once, and a tail of
/// NUL bytes (a preallocated or damaged file) is skipped once, not re-read every second.
final class MetricsTailTests: XCTestCase {
    func line(_ step: Int) -> String {
        RunRecordCoding.encode(.event(EventRecord(step: step, epoch: 0, kind: .pause, message: "m"))) + "\n"
    }

    func testBigFilesLoadAChunkAtATime() throws {
        let path = NSTemporaryDirectory() + "tail-\(UUID().uuidString).jsonl"
        try (0..<20).map(line).joined().write(toFile: path, atomically: true, encoding: .utf8)
        var tail = MetricsTail(path: path, chunk: 3 * line(0).utf8.count + 10)
        var got = 0, polls = 0
        repeat { got += try tail.poll().count; polls += 1 } while tail.behind && polls < 100
        XCTAssertEqual(got, 20)
        XCTAssertEqual(polls, 7, "three records a chunk")
        XCTAssertEqual(try tail.poll().count, 0)
    }

    func testNULTailIsSkippedOnceAndNewRecordsStillArrive() throws {
        let path = NSTemporaryDirectory() + "tail-\(UUID().uuidString).jsonl"
        var data = Data((0..<3).map(line).joined().utf8)
        data.append(Data(count: 1 << 20))
        try data.write(to: URL(fileURLWithPath: path))
        var tail = MetricsTail(path: path, chunk: 64 << 10)
        var got = 0, polls = 0
        repeat { got += try tail.poll().count; polls += 1 } while tail.behind && polls < 1000
        XCTAssertEqual(got, 3)
        XCTAssertFalse(tail.behind)
        XCTAssertEqual(tail.skipped, 1, "one stretch of garbage, counted once")
        // Nothing new: nothing is read again. A record appended after the garbage still arrives.
        XCTAssertEqual(try tail.poll().count, 0)
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try fh.seekToEnd(); try fh.write(contentsOf: Data(line(99).utf8)); try fh.close()
        XCTAssertEqual(try tail.poll().count, 1)
    }
}
