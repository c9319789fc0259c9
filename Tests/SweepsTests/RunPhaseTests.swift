import BTCore
import Foundation
import Records
import Sweeps
import XCTest

/// `RunPhase`, Records' one run status: what the records say (`RunState.phase`), what a sweep's run folder adds
/// (`RunStatus.state`), and what the Slurm queue adds (`SlurmQueue.merge`), each a typed value.
final class RunPhaseTests: XCTestCase {
    func ev(_ step: Int, _ kind: EventKind, _ message: String = "") -> RunRecord {
        .event(EventRecord(step: step, epoch: 0, kind: kind, message: message))
    }

    func testRecordsPutARunInItsPhase() {
        XCTAssertNil(RunState(records: [ev(0, .start)]).phase, "going on, or cut off: the records cannot tell")
        XCTAssertEqual(RunState(records: [ev(0, .start), ev(10, .done)]).phase, .done)
        XCTAssertEqual(RunState(records: [ev(0, .start), ev(4, .stop)]).phase, .interrupted)
        XCTAssertNil(RunState(records: [ev(0, .start), ev(4, .stop), ev(4, .resume)]).phase)
        XCTAssertEqual(RunState(records: [ev(5, .nan, "loss is nan at step 5")]).phase, .failed(reason: "loss is nan at step 5"))
        XCTAssertEqual(RunState(records: [ev(5, .nan)]).phase, .failed(reason: "the loss became NaN at step 5"))
    }

    func testEveryPhaseHasOneWordAndItsNote() {
        let phases: [RunPhase] = [.notStarted, .queued("q"), .running(holder: "h"), .requeued("r"), .interrupted, .done,
                                  .failed(reason: "f"), .stale(reason: "s")]
        XCTAssertEqual(phases.map(\.word), ["pending", "pending", "running", "requeued", "interrupted", "done", "failed", "stale"])
        XCTAssertEqual(phases.map(\.note), ["", "q", "h", "r", "", "", "f", "s"])
        XCTAssertEqual(phases.map(\.isToDo), [true, true, false, true, true, false, false, false])
        XCTAssertEqual(phases.map(\.isLive), [false, false, true, false, false, false, false, false])
        XCTAssertEqual(Set(phases.map(\.word)).subtracting(RunPhase.countOrder), ["stale"])
    }

    /// A task that left the queue without finishing the run says how it ended beside the folder's phase, which stands.
    func testAnEndedTaskAddsItsNoteToTheFolderPhase() {
        let cancelled = SlurmQueue.merge(.notStarted, SlurmTask(job: "12_3", state: "CANCELLED", reason: nil, restarts: 0))
        XCTAssertEqual(cancelled, .notStarted(note: "Slurm job 12_3 cancelled"))
        XCTAssertEqual(cancelled.word, "pending")
        let timedOut = SlurmQueue.merge(.interrupted, SlurmTask(job: "12_4", state: "TIMEOUT", reason: nil, restarts: 0))
        XCTAssertEqual(timedOut, .interrupted(note: "Slurm job 12_4 timeout"))
        if case .interrupted = timedOut {} else { XCTFail("\(timedOut)") }
        XCTAssertEqual(SlurmQueue.merge(.stale(reason: "x"), SlurmTask(job: "1_0", state: "PENDING", reason: nil, restarts: 0)), .stale(reason: "x"))
    }

    /// A sweep's run folder: the records' end decides done and failed (the trainer's own words for a NaN), a stop or
    /// a crash with a checkpoint is interrupted, and a live lock is running whatever the records say.
    func testRunStatusReadsTheFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-phase-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(RunStatus.state(of: dir), .notStarted)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        XCTAssertEqual(RunStatus.state(of: dir), .notStarted)
        func write(_ records: [RunRecord]) throws {
            try (records.map(RunRecordCoding.encode).joined(separator: "\n") + "\n")
                .write(toFile: RunFiles.metrics(in: dir), atomically: true, encoding: .utf8)
        }
        let epoch = RunRecord.epoch(EpochRecord(epoch: 0, step: 10, method: "bt", trainMetric: 0.5, trainLoss: 1, testMetric: 0.8, testLoss: 0.6, seconds: 1))
        try write([ev(0, .start), epoch])
        XCTAssertEqual(RunStatus.state(of: dir), .interrupted, "cut off with records and no lock")
        try write([ev(0, .start), epoch, ev(12, .nan, "loss is nan at step 12; stopped, last good checkpoint kept (step 10)")])
        XCTAssertEqual(RunStatus.state(of: dir), .failed(reason: "loss is nan at step 12; stopped, last good checkpoint kept (step 10)"))
        try write([ev(0, .start), epoch, ev(10, .stop), ev(10, .resume), ev(20, .done)])
        XCTAssertEqual(RunStatus.state(of: dir), .done)
        XCTAssertTrue(RunProgress.read(runDir: dir).finished)
        try write([ev(0, .start), epoch, ev(10, .stop)])
        XCTAssertEqual(RunStatus.state(of: dir), .interrupted)
        let lock = try RunLock(dir: dir, purpose: "test")
        defer { lock.release() }
        guard case .running(let holder) = RunStatus.state(of: dir) else { return XCTFail("a held lock is a running run") }
        XCTAssertTrue(holder.contains("test"), holder)
    }
}
