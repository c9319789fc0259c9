import Records
import Synchronization
import BTCore
import Foundation

/// RUN/metrics.jsonl: step records every `--log-every` steps, epoch and event records always.
public final class MetricsLogSink: RunSink {
    private let log: LineLog
    public private(set) var failure: String?

    public init(path: String) throws { log = try LineLog(path: path) }

    public func receive(_ record: RunRecord) {
        do { try log.append(RunRecordCoding.encode(record)) } catch { failure = "\(error)" }
    }
}

/// Posts records to the live explorer's board (whose status follows them).
public final class BoardSink: RunSink {
    public let board: RunBoard
    public init(board: RunBoard) { self.board = board }
    public func receive(_ record: RunRecord) { board.post(record) }
}

/// The headless progress line: one readable line per logged step and per epoch.
/// Progress lines that start when `start()` is called: an explorer run the user detached from goes on headless.
public final class DetachedProgress: RunSink, @unchecked Sendable {
    private let printer: ProgressPrinter
    private let on = Atomic<Bool>(false)
    public init(epochs: Int) { printer = ProgressPrinter(epochs: epochs) }
    public func start() { on.store(true, ordering: .relaxed) }
    public func receive(_ record: RunRecord) { if on.load(ordering: .relaxed) { printer.receive(record) } }
}

public final class ProgressPrinter: RunSink {
    private let epochs: Int
    private let write: (String) -> Void

    public init(epochs: Int, write: @escaping (String) -> Void = { print($0); fflush(stdout) }) {
        self.epochs = epochs
        self.write = write
    }

    public func receive(_ record: RunRecord) {
        switch record {
        case .step(let s):
            // The task loss and λ·R apart, as the explorer shows them: the objective is task − λ·R, which goes
            // negative once λ·R outgrows the task loss and then reads as a broken loss.
            write(String(format: "epoch %d/%d  step %d/%d  task loss %.4f  λ·R %.4g  %@ %@  %@  %.0f samples/s  ETA %@",
                         s.epoch + 1, epochs, s.step, s.totalSteps, s.taskLoss, s.lambda * s.regLoss, Metric.printing(s.metric).label,
                         Metric.printing(s.metric).format(s.batchMetric, decimals: 1), s.method, s.samplesPerS,
                         formatDuration(s.etaS)))
        case .epoch(let e):
            let m = Metric.printing(e.metric)
            write(String(format: "epoch %d/%d done  train %@ %@  test %@ %@  test loss %.4f  (%.1fs)",
                         e.epoch + 1, epochs, m.label, m.format(e.trainMetric), m.label,
                         m.format(e.testMetric), e.testLoss, e.seconds))
        case .event(let e):
            if e.kind != .start { write("[\(e.kind)] \(e.message)") }
        }
    }
}

public func formatDuration(_ seconds: Float) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
        : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}
