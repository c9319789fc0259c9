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
    /// Why a run's recorded options are not its spec's (run folder, train arguments), or nil: the command line
    /// knows train's options, the explorer does not. Asked again only when the run's config.json changes.
    public typealias Staleness = (_ runDir: String, _ args: [String]) -> String?
    private let staleness: Staleness?
    private var staleCache: [String: (configTime: timespec, reason: String?)] = [:]
    private var search: SearchProgress?

    /// Throws BTError if DIR is not a sweep folder (no readable sweep.json).
    public init(dir: String, staleness: Staleness? = nil) throws {
        self.dir = dir
        self.staleness = staleness
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
        // A successive-halving search: each run's rung, read through one SearchProgress kept across polls.
        if sweep.search?.earlyTerminate != nil, search?.plan != sweep { search = try? SearchProgress(folder: folder, plan: sweep) }
        if sweep.search?.earlyTerminate == nil { search = nil }
        let views = search?.views() ?? []
        let over = search.map { $0.isOver(views) } ?? false
        for (i, run) in sweep.runs.enumerated() {
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
            var state = RunStatus.state(of: runDir)
            if let reason = staleReason(run, runDir: runDir), !state.isLive { state = .stale(reason: reason) }
            var row = SweepRunRow(name: run.name, values: sweep.varying.map { run.options[$0] ?? "" },
                                  state: SlurmQueue.merge(state, slurmTasks[run.name]), digest: digest)
            if let search, views.indices.contains(i) { row.rung = search.shortStanding(views[i], searchOver: over) }
            rows.append(row)
        }
        board = SweepBoard(name: sweep.name, varying: sweep.varying, rows: rows, showsLoss: sweep.metric?.figure == .testLoss)
        board.isSearch = search != nil
        board.plot = SearchPlotData(plan: sweep, rows: rows, loss: board.showsLoss)
    }

    private mutating func staleReason(_ run: SweepPlan.Run, runDir: String) -> String? {
        guard let staleness else { return nil }
        var st = stat()
        guard lstat(runDir + "/" + RunFiles.config, &st) == 0 else { return nil }
        if let c = staleCache[run.name], c.configTime.tv_sec == st.st_mtim.tv_sec, c.configTime.tv_nsec == st.st_mtim.tv_nsec {
            return c.reason
        }
        let reason = staleness(runDir, run.args)
        staleCache[run.name] = (st.st_mtim, reason)
        return reason
    }

    /// True while some run's metrics file holds bytes not read yet (poll again soon).
    public var behind: Bool { tails.values.contains { $0.behind } }
}
