import BTCore
import Foundation
import Records

/// `sweep table` of a random search: every run ranked by the search's metric, with its sampled values. Runs that
/// stopped at different rungs are never ranked against each other: the table is grouped by the epochs a run
/// trained (the last rung first), and each group ranked by the figure at that epoch. Nothing is averaged: every
/// row is one run.
public struct SearchTable {
    public struct Row {
        public var rank: Int
        public var name: String
        public var values: [String]
        public var epochs: Int
        public var figure: Double
        public var standing: String
    }

    public let keys: [String]
    public let metric: SweepMetric
    /// Groups of rows, the most epochs first, each ranked best first.
    public let groups: [(epochs: Int, rows: [Row])]
    /// Runs without a figure (pending, failed, stale, or before their first epoch), with their state.
    public let unranked: [(name: String, state: String)]
    public let title: String

    public init(plan: SweepPlan, folder: SweepFolder, states: [String: RunPhase]) throws {
        guard let search = plan.search else { throw BTError("\(folder.path) is a grid, not a random search") }
        keys = search.sampledKeys
        metric = plan.metric ?? .testMetric
        let halving = search.earlyTerminate == nil ? nil : try SearchProgress(folder: folder, plan: plan)
        let views = halving?.views() ?? []
        let over = halving.map { $0.isOver(views) } ?? false
        var byEpochs: [Int: [Row]] = [:], unranked: [(String, String)] = []
        var metricName: String?
        for (i, run) in plan.runs.enumerated() {
            let p = RunProgress.read(runDir: folder.runPath(run.name))
            let state = states[run.name] ?? RunStatus.state(of: folder.runPath(run.name), progress: p)
            let value = metric.figure == .testLoss ? p.testLoss : p.testMetric
            switch state {
            case .failed, .stale, .notStarted, .queued:
                unranked.append((run.name, state.word))
                continue
            default: break
            }
            guard let value, p.epochs > 0, value.isFinite else { unranked.append((run.name, state.word)); continue }
            metricName = metricName ?? p.metric
            let standing = halving.map { $0.standingText(views[i], searchOver: over) } ?? state.word
            byEpochs[p.epochs, default: []].append(Row(rank: 0, name: run.name, values: keys.map { run.options[$0] ?? "" },
                                                        epochs: p.epochs, figure: value, standing: standing))
        }
        let better = SearchSpace.better(metric)
        groups = byEpochs.keys.sorted(by: >).map { e in
            let sorted = byEpochs[e]!.sorted { a, b in better(a.figure, b.figure) || (!better(b.figure, a.figure) && a.name < b.name) }
            return (e, sorted.enumerated().map { i, r in var r = r; r.rank = i + 1; return r })
        }
        self.unranked = unranked
        let shown = metric.figure == .testLoss ? Metric.loss : Metric.printing(metricName ?? Metric.accuracy.name)
        title = "test \(shown.title)"
        printing = shown
    }

    private let printing: Metric

    /// The figure as the runs' records print it (accuracy in %, PSNR in dB, the loss as is).
    public func format(_ v: Double) -> String { printing.format(v) }

    /// Markdown: one table per group, a caption saying what the figure is and what was not ranked.
    public func markdown() -> [String] {
        var out: [String] = []
        for g in groups {
            out.append("Trained \(g.epochs) epoch\(g.epochs == 1 ? "" : "s") (\(g.rows.count) run\(g.rows.count == 1 ? "" : "s"), ranked by \(title) after epoch \(g.epochs), \(metric.goal == .maximize ? "highest" : "lowest") first):")
            out.append("")
            out.append("| rank | run | " + keys.map(TerminalText.escape).joined(separator: " | ") + " | \(title) | standing |")
            out.append("|---:|---|" + keys.map { _ in "---|" }.joined() + "---:|---|")
            for r in g.rows {
                out.append("| \(r.rank) | \(r.name) | " + r.values.map(TerminalText.escape).joined(separator: " | ") + " | \(format(r.figure)) | \(r.standing) |")
            }
            out.append("")
        }
        if groups.isEmpty { out.append("No run has finished an epoch yet.") }
        out.append("Each row is one run (nothing averaged): \(title) on the test split with the stored batch-norm statistics, at the run's last epoch; runs that trained different epochs are in different tables, never ranked against each other.")
        if !unranked.isEmpty {
            out.append("Not ranked: " + unranked.map { "\($0.name) (\($0.state))" }.joined(separator: ", ") + ".")
        }
        return out
    }

    /// {metric, goal, keys, groups: [{epochs, rows: [{rank, run, values: {key: value}, figure, standing}]}], unranked: [{run, state}]}.
    public func json() throws -> String {
        let object: [String: Any] = [
            "metric": title, "goal": metric.goal.rawValue, "keys": keys,
            "groups": groups.map { g in
                ["epochs": g.epochs, "rows": g.rows.map { r in
                    ["rank": r.rank, "run": r.name, "values": Dictionary(uniqueKeysWithValues: zip(keys, r.values)),
                     "figure": r.figure, "standing": r.standing] as [String: Any]
                }] as [String: Any]
            },
            "unranked": unranked.map { ["run": $0.name, "state": $0.state] },
        ]
        return try JSONOutput.string(object: object, .pretty)
    }

    /// CSV: one line per ranked run.
    public func csv() -> [String] {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var out = [(["epochs", "rank", "run"] + keys + ["figure", "standing"]).map(field).joined(separator: ",")]
        for g in groups {
            for r in g.rows {
                out.append(([String(g.epochs), String(r.rank), r.name] + r.values + ["\(r.figure)", r.standing]).map(field).joined(separator: ","))
            }
        }
        return out
    }
}
