import BTCore
import Foundation
import Sweeps
import Records

/// Follows a sweep folder as `sweep run` (or a Slurm array) writes it: sweep.json for the grid, each run's status,
/// and each run's metrics.jsonl read incrementally into a digest. `poll()` builds the board anew each time.
public struct SweepWatcher {
    public let dir: String
    public private(set) var board: SweepBoard
    private var tails: [String: MetricsTail] = [:]
    private var digests: [String: RunDigest] = [:]
    private var slurmTasks: [String: SlurmTask] = [:]
    private var lastQueueRead = ContinuousClock.now - .seconds(60)

    /// Throws BTError if DIR is not a sweep folder (no readable sweep.json).
    public init(dir: String) throws {
        self.dir = dir
        board = SweepBoard(name: "", varying: [], rows: [])
        try reload()
    }

    /// Reads what changed since the last call. A sweep.json that cannot be read now (being replaced, damaged later)
    /// keeps the last good grid and says so on the board.
    public mutating func poll() {
        do { try reload() } catch { board.notice = "\(error)" }
    }

    private mutating func reload() throws {
        let folder = SweepFolder(dir)
        let sweep = try folder.plan()
        // Runs sent to Slurm: their tasks' queue state (pending with the reason, requeued) beside the folders', as
        // `sweep status` shows them. squeue is asked at most every few seconds: a busy controller is shared.
        if FileManager.default.fileExists(atPath: folder.slurmPath), ContinuousClock.now - lastQueueRead >= .seconds(5) {
            slurmTasks = SlurmQueue.tasks(folder)
            lastQueueRead = ContinuousClock.now
        }
        var rows: [SweepRunRow] = []
        for run in sweep.runs {
            let runDir = dir + "/" + run.name
            // A quarter-megabyte a poll per run: a board of many long runs loads over a few frames, keys still work.
            var tail = tails[run.name] ?? MetricsTail(path: RunFiles.metrics(in: runDir), chunk: 1 << 18)
            var digest = digests[run.name] ?? RunDigest()
            if FileManager.default.fileExists(atPath: tail.path) {
                // A big file is read a chunk per poll; the board fills in over a few seconds.
                if let new = try? tail.poll() {
                    if tail.restarted { digest = RunDigest() }
                    digest.ingest(new)
                }
            }
            tails[run.name] = tail
            digests[run.name] = digest
            rows.append(SweepRunRow(name: run.name, values: sweep.varying.map { run.options[$0] ?? "" },
                                    state: SweepRunRow.State(RunStatus.state(of: runDir), slurm: slurmTasks[run.name]),
                                    digest: digest))
        }
        board = SweepBoard(name: sweep.name, varying: sweep.varying, rows: rows)
    }

    /// True while some run's metrics file holds bytes not read yet (poll again soon).
    public var behind: Bool { tails.values.contains { $0.behind } }
}
