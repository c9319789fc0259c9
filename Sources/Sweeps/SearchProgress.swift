import BTCore
import Foundation
import Records

/// Where a successive-halving search stands, read from its runs' folders: each run's epochs done, its figure at
/// each rung it reached (its epoch records), and whether it failed or is trained elsewhere. What the scheduler
/// decides from, and what `sweep status`, the table and the board show. A run's records are re-read only when its
/// metrics.jsonl changed size.
public final class SearchProgress {
    public let folder: SweepFolder
    public let plan: SweepPlan
    public let search: SearchSpace
    public let halving: SuccessiveHalving
    /// The runs' epochs: the last rung.
    public let epochs: Int
    public let metric: SweepMetric
    private var cache: [String: (size: UInt64, figures: [Int: Double], epochs: Int)] = [:]

    public init(folder: SweepFolder, plan: SweepPlan) throws {
        guard let search = plan.search, let halving = search.earlyTerminate, let epochs = search.epochs else {
            throw BTError("\(folder.path) is not a successive-halving search (no early_terminate in sweep.json)")
        }
        self.folder = folder; self.plan = plan; self.search = search; self.halving = halving; self.epochs = epochs
        self.metric = plan.metric ?? .testMetric
    }

    public var rungs: [Int] { halving.rungs(epochs: epochs) }
    public var better: (Double, Double) -> Bool { SearchSpace.better(metric) }

    /// Every run of the plan as the scheduler sees it. `busy`: runs this process is training; `unstartable`: runs
    /// whose task could not be started here (out of the search, as failed ones).
    public func views(busy: Set<String> = [], unstartable: Set<String> = []) -> [SuccessiveHalving.RunView] {
        plan.runs.enumerated().map { i, run in
            let dir = folder.runPath(run.name)
            let (figures, done) = epochFigures(dir)
            let state = RunStatus.state(of: dir)
            var failed = false, elsewhere = false
            switch state {
            case .failed, .stale: failed = true
            case .running: elsewhere = true
            default: break
            }
            let reached = rungs.prefix { $0 <= done }.compactMap { figures[$0] }
            return .init(index: SearchSpace.index(ofRun: run.name) ?? i, epochs: done, rungFigures: reached,
                         busy: busy.contains(run.name) || elsewhere, failed: failed || unstartable.contains(run.name))
        }
    }

    /// The run's ranking figure after each epoch, and the epochs done (re-read only when metrics.jsonl grew).
    public func epochFigures(_ dir: String) -> (figures: [Int: Double], epochs: Int) {
        let size = (try? RegularFile(RunFiles.metrics(in: dir)))?.size ?? 0
        if let c = cache[dir], c.size == UInt64(size) { return (c.figures, c.epochs) }
        let read = EpochFigures.read(runDir: dir, figure: metric.figure)
        cache[dir] = (UInt64(size), read.figures, read.epochs)
        return read
    }

    /// What `next` would do now: `busy` are the runs this process trains.
    public func next(busy: Set<String>, unstartable: Set<String> = []) -> (run: SweepPlan.Run, toEpoch: Int, why: SuccessiveHalving.Why)? {
        let views = views(busy: busy, unstartable: unstartable)
        guard case .train(let index, let to, let why)? = halving.next(views, cap: search.runCap, epochs: epochs, better: better),
              let run = plan.runs.first(where: { SearchSpace.index(ofRun: $0.name) == index }) else { return nil }
        return (run, to, why)
    }

    /// Epochs trained so far by every run (what the search has spent).
    public func epochsSpent() -> Int { views().reduce(0) { $0 + $1.epochs } }
}

/// A run's test figure after each epoch, from its epoch records: what rungs are judged by and plots draw.
public enum EpochFigures {
    /// Keyed by epochs done (1 is after the first epoch); `epochs` is the last. Later records of an epoch win (a
    /// resume drops what came after its checkpoint, so there are none in a run's own file).
    public static func read(runDir: String, figure: SweepMetric.Figure) -> (figures: [Int: Double], epochs: Int) {
        guard let f = try? RegularFile(RunFiles.metrics(in: runDir)), f.size > 0,
              let data = try? Data(contentsOf: URL(fileURLWithPath: f.path), options: .alwaysMapped) else { return ([:], 0) }
        var figures: [Int: Double] = [:], last = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let text = Substring(decoding: line, as: UTF8.self)
            guard text.contains("\"type\":\"epoch\""), case .epoch(let e)? = RunRecordCoding.decode(text) else { continue }
            let v = figure == .testLoss ? e.testLoss : e.testMetric
            figures[e.epoch + 1] = Double("\(v)") ?? Double(v)  // the text the record holds, as tables print it
            last = e.epoch + 1
        }
        return (figures, last)
    }
}
