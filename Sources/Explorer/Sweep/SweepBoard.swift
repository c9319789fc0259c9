import Foundation
import Sweeps
import Records

/// What the sweep board shows of one run: its varying options, its state, and a digest of its metrics.
/// Built by SweepWatcher from the sweep folder; the renderer draws only this.
public struct SweepRunRow: Sendable, Equatable {
    /// The run's phase (Records' one status type): the sweep's own, merged with the Slurm queue's view where there
    /// is one (`SlurmQueue.merge`, as `sweep status` merges them).
    public typealias State = RunPhase

    public var name: String
    /// The varying options' values, in the board's column order.
    public var values: [String]
    public var state: State
    public var digest: RunDigest
    /// In a successive-halving search: where the run stands among the rungs ("paused 1/3", "stopped 1/3",
    /// "to rung 2/3"), shown instead of the state's word; nil otherwise.
    public var rung: String?

    public init(name: String, values: [String], state: State, digest: RunDigest = RunDigest()) {
        self.name = name; self.values = values; self.state = state; self.digest = digest
    }

    /// The share of the run done: 1 when done, else its last step record's step over the run's steps.
    public var progress: Float {
        if state == .done { return 1 }
        guard let s = digest.step, let t = digest.totalSteps, t > 0 else { return 0 }
        return min(1, max(0, Float(s) / Float(t)))
    }
}

extension RunPhase {
    /// A run folder's phase merged with its Slurm task (nil: not submitted), as `SlurmQueue.merge` merges them.
    public init(_ folder: RunPhase, slurm: SlurmTask?) { self = SlurmQueue.merge(folder, slurm) }

    /// What the board's detail line says beside the word: who trains it, why it failed, where it waits.
    var detail: String {
        if case .interrupted = self {
            let resumes = "stopped with a checkpoint; the next sweep run resumes it"
            return note.isEmpty ? resumes : resumes + " (" + note + ")"
        }
        return note
    }

    var style: Style {
        switch self {
        case .done: return .good
        case .failed: return .bad
        case .running: return .accent
        case .interrupted, .requeued, .stale: return .warn
        case .notStarted, .queued: return .dim
        }
    }
}

/// A run's metrics.jsonl boiled down to what one board row draws. Fed record by record (a live run's file grows),
/// so it never holds a histogram.
public struct RunDigest: Sendable, Equatable {
    public private(set) var step: Int?
    public private(set) var totalSteps: Int?
    /// The last step record's estimate of the time left (seconds; negative or absent before one is known).
    public private(set) var etaS: Float?
    public private(set) var metricName = Metric.accuracy.name
    /// Test metric per epoch, epochs in order (a resumed run's repeated epochs replace the earlier ones).
    public private(set) var testMetrics: [Float] = []
    /// Test loss per epoch, beside `testMetrics`.
    public private(set) var testLosses: [Float] = []
    /// Wall seconds per epoch (training and evaluation), as the epoch records say.
    public private(set) var epochSeconds: [Float] = []
    /// The run's flip share (`FlipShare`, the one definition `compare` and TensorBoard use too): the board's figure.
    public var flipShare: Float? { flip.value }
    private var flip = FlipShare()
    /// Per step record after step 0, its flip share (`FlipShare.of`): the figure's sparkline.
    public private(set) var flipShares: [Float] = []
    private var epochNumbers: [Int] = []
    private var flipSteps: [Int] = []
    /// Only this many flip shares are kept (a sparkline never shows more).
    static let flipCap = 512

    public init() {}

    public init(records: [RunRecord]) { ingest(records) }

    public mutating func ingest(_ records: [RunRecord]) { for r in records { ingest(r) } }

    public mutating func ingest(_ record: RunRecord) {
        switch record {
        case .step(let s):
            step = s.step
            if s.totalSteps > 0 { totalSteps = s.totalSteps }
            etaS = s.etaS >= 0 ? s.etaS : nil
            metricName = s.metric
            // A resumed run restarts from its checkpoint: records after it are replaced.
            while let last = flipSteps.last, last >= s.step { flipSteps.removeLast(); flipShares.removeLast() }
            flip.apply(record)
            if let share = FlipShare.of(s) {
                flipSteps.append(s.step); flipShares.append(share)
                if flipShares.count > 2 * Self.flipCap {
                    flipShares.removeFirst(Self.flipCap); flipSteps.removeFirst(Self.flipCap)
                }
            }
        case .epoch(let e):
            while let last = epochNumbers.last, last >= e.epoch {
                epochNumbers.removeLast(); testMetrics.removeLast(); testLosses.removeLast(); epochSeconds.removeLast()
            }
            epochNumbers.append(e.epoch); testMetrics.append(e.testMetric); testLosses.append(e.testLoss); epochSeconds.append(e.seconds)
            metricName = e.metric
        case .event:
            break
        }
    }

    /// The test metric (or with `loss` the test loss) after each epoch, keyed by epochs done (1 is after the first
    /// epoch) as `EpochFigures` keys them, each the text its record holds; and the epochs done.
    public func epochFigures(loss: Bool) -> (figures: [Int: Double], epochs: Int) {
        let values = loss ? testLosses : testMetrics
        var figures: [Int: Double] = [:]
        for (e, v) in zip(epochNumbers, values) { figures[e + 1] = Double("\(v)") ?? Double(v) }
        return (figures, (epochNumbers.last ?? -1) + 1)
    }

    /// The run's wall time so far, from its epoch records.
    public var seconds: Float { epochSeconds.reduce(0, +) }
}

/// The whole grid as the board shows it.
public struct SweepBoard: Sendable, Equatable {
    public var name: String
    /// The options that vary over the grid: the board's columns, in spec order.
    public var varying: [String]
    public var rows: [SweepRunRow]
    /// A line about the folder itself (a sweep.json that could not be read again keeps the last good one).
    public var notice: String?
    /// The spec's `metric: {name: test_loss}`: the board's test column shows the test loss instead of the metric.
    public var showsLoss = false
    /// A successive-halving search: how much is left depends on promotions not made yet, so no ETA is given.
    public var isSearch = false
    /// What the search plot draws (`p`): every run's figure at each rung it reached against its parameters.
    public var plot = SearchPlotData()

    public init(name: String, varying: [String], rows: [SweepRunRow], notice: String? = nil, showsLoss: Bool = false) {
        self.name = name; self.varying = varying; self.rows = rows; self.notice = notice; self.showsLoss = showsLoss
    }

    /// The figure the test column and the search plot show: the loss under the spec's `metric: test_loss`, else
    /// the runs' metric (accuracy until a run says otherwise).
    public var shownMetric: Metric {
        if showsLoss { return .loss }
        return Metric.printing(rows.first { !$0.digest.testMetrics.isEmpty }?.digest.metricName ?? Metric.accuracy.name)
    }

    /// How many runs there are of each word, in the order the header lists them, each with the phase of its first run
    /// (the word and its style).
    public var counts: [(phase: RunPhase, count: Int)] {
        RunPhase.countOrder.compactMap { w in
            let these = rows.filter { $0.state.word == w }
            return these.first.map { ($0.state, these.count) }
        }
    }

    /// The grid's share done: the mean of the runs' shares (a run not started counts 0, a done one 1).
    public var progress: Float {
        rows.isEmpty ? 0 : rows.map(\.progress).reduce(0, +) / Float(rows.count)
    }

    /// The grid's ETA and what it was computed on, or nil with the reason.
    public var eta: GridETA {
        isSearch ? GridETA(seconds: nil, basis: "none: a search's length depends on its promotions")
            : GridETA(rows)
    }
}

/// When the grid ends if it goes on as it runs now: the running runs' own ETAs, plus every run still to do
/// (not started, queued, interrupted, requeued) at the mean wall time of the finished runs, all shared among as
/// many runs at once as are running now. A failed run is not waited for.
public struct GridETA: Sendable, Equatable {
    /// Seconds left, or nil when it cannot be estimated (see `why`).
    public var seconds: Float?
    /// One line saying what the figure rests on, or why there is none.
    public var basis: String

    init(seconds: Float?, basis: String) { self.seconds = seconds; self.basis = basis }

    init(_ rows: [SweepRunRow]) {
        let running = rows.filter(\.state.isLive)
        let toDo = rows.filter(\.state.isToDo)
        if toDo.isEmpty && running.isEmpty {
            seconds = 0
            basis = "nothing left to run"
            return
        }
        guard !running.isEmpty else {
            seconds = nil
            basis = "no run is running: \(toDo.count) left (sweep run starts or resumes them)"
            return
        }
        // A run's wall time: the mean over finished runs; else what the running ones will take in all.
        let finished = rows.filter { $0.state == .done && $0.digest.seconds > 0 }.map(\.digest.seconds)
        var perRun: Float?
        var from: String
        if !finished.isEmpty {
            perRun = finished.reduce(0, +) / Float(finished.count)
            from = "mean of \(finished.count) done"
        } else {
            let totals = running.compactMap { r -> Float? in
                guard let eta = r.digest.etaS, r.progress < 1 else { return nil }
                return eta / (1 - r.progress)
            }
            perRun = totals.isEmpty ? nil : totals.reduce(0, +) / Float(totals.count)
            from = "from the running runs' ETAs"
        }
        let runningLeft = running.map { $0.digest.etaS }
        guard let per = perRun, runningLeft.allSatisfy({ $0 != nil }) else {
            seconds = nil
            basis = "waiting for the running runs' first ETA"
            return
        }
        let work = runningLeft.compactMap { $0 }.reduce(0, +) + toDo.map { (1 - $0.progress) * per }.reduce(0, +)
        seconds = work / Float(running.count)
        basis = "\(running.count) running + \(toDo.count) to do at \(Fmt.duration(per))/run (\(from)), \(running.count) at a time"
    }
}
