import BTCore
import Foundation
import Records

/// How a run's training process ended, written by `sweep task` as RUN/outcome.json. Absent while the run trains
/// or before it ever started.
public struct Outcome: Codable, Equatable, Sendable {
    public var exitCode: Int32
    /// The signal that killed the training process, or nil if it exited.
    public var signal: Int32?
    /// The last "btviz: ..." line it printed, or "killed by signal 9"; empty for a run that finished.
    public var reason: String
    public var endedAt: String
    public var host: String
    /// "123_4" for a task of a Slurm array job.
    public var slurmJob: String?

    enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code", signal, reason, endedAt = "ended_at", host, slurmJob = "slurm_job"
    }

    /// signal and slurm_job are written as null when absent (readers of the contract expect the keys).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encode(reason, forKey: .reason)
        try c.encode(endedAt, forKey: .endedAt)
        try c.encode(host, forKey: .host)
        try c.encode(slurmJob, forKey: .slurmJob)
    }

    public init(exitCode: Int32, signal: Int32?, reason: String, endedAt: String, host: String, slurmJob: String?) {
        self.exitCode = exitCode; self.signal = signal; self.reason = reason
        self.endedAt = endedAt; self.host = host; self.slurmJob = slurmJob
    }

    /// The signals a training saves and stops on (Ctrl-C, SIGTERM from a time limit or preemption, SIGHUP).
    public static let stopSignals: Set<Int32> = [SIGINT, SIGTERM, SIGHUP]

    /// A stop by one of those (btviz exits 128 + the signal after saving) is an interruption, not a failure.
    public var isInterruption: Bool {
        if let signal { return Outcome.stopSignals.contains(signal) }
        return exitCode > 128 && Outcome.stopSignals.contains(exitCode - 128)
    }

    public static let fileName = "outcome.json"

    public static func read(runDir: String) -> Outcome? {
        let path = runDir + "/" + fileName
        guard let f = try? RegularFile(path), let bytes = try? f.readAll(limit: 1 << 20, what: fileName) else { return nil }
        return try? JSONDecoder().decode(Outcome.self, from: Data(bytes))
    }

    public func write(runDir: String) throws {
        try AtomicFile.write(JSONOutput.data(self), to: runDir + "/" + Outcome.fileName)
    }
}

/// What a run's metrics.jsonl says at its end: read backwards from the end of the file, so a long run costs no
/// more than its last epoch's records.
public struct RunProgress: Equatable, Sendable {
    public var step = 0, totalSteps = 0
    /// Epochs finished (the last epoch record's epoch + 1).
    public var epochs = 0
    /// The last epoch record's metric, as records name it.
    public var metric: String?
    /// That metric as a type: nil before the first epoch record, or for a name this build does not know.
    public var reportedMetric: Metric? { metric.flatMap { Metric(named: $0) } }
    public var testMetric: Double?, testLoss: Double?
    /// The run's flip share (`FlipShare`: of the last step record, nil for step 0's or full precision's).
    public var flipShare: Double?
    /// The loss of the last step record (task loss − λ·R as logged).
    public var loss: Double?
    public var etaSeconds: Double?
    /// Where the records of the tail put the run (`RunState.phase`): done, interrupted or failed once it ended.
    public var ended: RunPhase?
    /// A "done" event: the training ran to its last step.
    public var finished: Bool {
        get { ended == .done }
        set { ended = newValue ? .done : nil }
    }

    public init() {}

    /// Reads RUN/metrics.jsonl's tail (nothing when there is none yet).
    public static func read(runDir: String) -> RunProgress {
        var p = RunProgress()
        guard let f = try? RegularFile(RunFiles.metrics(in: runDir)), f.size > 0,
              let data = try? Data(contentsOf: URL(fileURLWithPath: f.path), options: .alwaysMapped) else { return p }
        var end = data.endIndex, sawStep = false, sawEpoch = false
        // The events after the last step and epoch records, newest first: the newest of them decide how the run
        // ended; past a thousand (a damaged or hostile file, never a run's own) the older ones are not kept.
        var events: [RunRecord] = []
        while end > data.startIndex && !(sawStep && sawEpoch) {
            let start = data[..<end].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex
            defer { end = max(start - 1, data.startIndex) }
            // Records' own decoder and checks: a damaged or implausible line is skipped, as every reader does.
            guard start < end, let record = RunRecordCoding.decode(Substring(decoding: data[start..<end], as: UTF8.self)) else { continue }
            switch record {
            case .event(let e):
                if events.count < 1000 { events.append(record) }
                p.step = max(p.step, e.step)
            case .step(let s) where !sawStep:
                sawStep = true
                p.step = max(p.step, s.step)
                p.totalSteps = s.totalSteps
                p.loss = decimal(s.loss)
                p.etaSeconds = decimal(s.etaS)
                p.flipShare = FlipShare.of(s).map(decimal)
            case .epoch(let e) where !sawEpoch:
                sawEpoch = true
                p.epochs = e.epoch + 1
                p.metric = e.metric
                p.testMetric = decimal(e.testMetric)
                p.testLoss = decimal(e.testLoss)
                p.step = max(p.step, e.step)
            default:
                continue
            }
        }
        // Folded in file order, as every reader folds them.
        p.ended = RunState(records: events.reversed()).phase
        return p
    }

    /// A logged Float as the Double its text in metrics.jsonl reads as (0.8506, not 0.85060000419...), so tables
    /// print the figures the records hold.
    private static func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
}

/// Run status: the one function `sweep status`, `sweep table`, `sweep watch` and the launchers use to put a run of a
/// sweep in its `RunPhase` (Records' one status type), from its records, its locks and outcome.json.
public enum RunStatus {
    /// `sweep task` holds this lock in the run folder for as long as it runs, around the training's own .lock.
    public static let taskLockFile = ".task.lock"

    public static func state(of runDir: String) -> RunPhase {
        state(of: runDir, progress: RunProgress.read(runDir: runDir))
    }

    /// The same, from a progress already read. `ownTaskLock`: the caller is the sweep task holding the run.
    public static func state(of runDir: String, progress: RunProgress, ownTaskLock: Bool = false) -> RunPhase {
        var st = stat()
        guard stat(runDir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return .notStarted }
        if let h = RunLock.holder(of: runDir) ?? (ownTaskLock ? nil : RunLock.holder(of: runDir, file: taskLockFile)) {
            return .running(holder: h)
        }
        // What the records say once the run ended; a stop is told apart from a crash below, by outcome.json.
        if let ended = progress.ended, ended != .interrupted { return ended }
        if let o = Outcome.read(runDir: runDir), o.exitCode != 0 || o.signal != nil, !o.isInterruption {
            return .failed(reason: o.reason.isEmpty ? "exit code \(o.exitCode)" : o.reason)
        }
        let started = [RunFiles.checkpoint, RunFiles.metrics].contains { FileManager.default.fileExists(atPath: runDir + "/" + $0) }
        return started ? .interrupted : .notStarted
    }
}
