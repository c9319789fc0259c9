import ArgumentParser
import BTCore
import Foundation
import Records
import Sweeps

/// `btviz sweep status DIR`: every run's state, progress and latest test figure, read from its folder.
struct SweepStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every run of a sweep: pending, running (by whom), interrupted, done, failed (with the reason) or stale (trained with other options than the spec's), its step and latest test figure.",
        discussion: "--json prints {name, dir, counts: {state: n}, runs: [{name, options, state, note, rung (a successive-halving search: its standing, else null), slurm: {job, state, reason, restarts} or null, holder, reason, step, total_steps, epochs, metric, test_metric, loss}]}.")

    @Argument(help: "The sweep folder.", completion: .directory) var dir: String
    @Flag(help: "Print JSON (fields above).") var json = false

    func run() throws {
        let folder = SweepFolder(dir)
        let plan = try folder.plan()
        var rows: [[String: Any]] = [], counts: [String: Int] = [:]
        // A random search: its sampled values beside each run, and with successive halving each run's rung.
        let sampled = plan.search?.sampledKeys ?? []
        let halving = plan.search?.earlyTerminate == nil ? nil : try SearchProgress(folder: folder, plan: plan)
        let views = halving?.views() ?? []
        let over = halving.map { $0.isOver(views) } ?? false
        var lines = [["run"] + sampled + ["state"] + (halving == nil ? [] : ["rung"]) + ["step", "test", "note"]]
        // Runs sent to Slurm: their tasks' queue state (pending with the reason, requeued) beside the folders'.
        let slurm = FileManager.default.fileExists(atPath: folder.slurmPath) ? SlurmQueue.tasks(folder) : [:]
        for (i, r) in plan.runs.enumerated() {
            let dir = folder.runPath(r.name)
            let p = RunProgress.read(runDir: dir)
            let state = SweepStaleness.state(of: dir, args: r.args, progress: p)
            let task = slurm[r.name]
            let merged = SlurmQueue.merge(state, task)
            var word = merged.word
            var note = merged.note
            if case .interrupted = merged, note.isEmpty { note = "resumes on the next sweep run" }
            // Successive halving pauses runs at their rungs: waiting to be promoted, or stopped once the search is over.
            if let h = halving, case .interrupted = merged, case .paused(let k) = h.halving.standing(views[i], epochs: h.epochs) {
                word = over ? "stopped" : "paused"
                note = over ? "not in the top 1/\(h.halving.eta) at epoch \(h.rungs[k])" : "promoted if it ranks in the top 1/\(h.halving.eta) at epoch \(h.rungs[k])"
            }
            counts[word, default: 0] += 1
            let test = p.testMetric.map { Metric.printing(p.metric ?? Metric.accuracy.name).format($0) } ?? "-"
            let standing = halving.map { $0.standingText(views[i], searchOver: over) }
            lines.append([r.name] + sampled.map { r.options[$0] ?? "" } + [word] + (standing.map { [$0] } ?? [])
                         + [p.totalSteps > 0 ? "\(p.step)/\(p.totalSteps)" : "-", test, note])
            rows.append(["name": r.name, "options": r.options, "state": word, "note": note, "rung": standing ?? NSNull(),
                         "slurm": task.map { ["job": $0.job, "state": $0.state, "reason": $0.reason ?? NSNull(), "restarts": $0.restarts] as [String: Any] } ?? NSNull(),
                         "holder": { if case .running(let h) = state { return h } else { return NSNull() } }() as Any,
                         "reason": { switch state { case .failed(let why), .stale(let why): return why; default: return NSNull() } }() as Any,
                         "step": p.step, "total_steps": p.totalSteps, "epochs": p.epochs, "metric": p.metric ?? NSNull(),
                         "test_metric": p.testMetric ?? NSNull(), "loss": p.loss.flatMap { $0.isFinite ? $0 : nil } ?? NSNull()])
        }
        if json {
            let out: [String: Any] = ["name": plan.name, "dir": folder.path, "counts": counts, "runs": rows]
            print(try JSONOutput.string(object: out, .pretty))
            return
        }
        let words = ["done", "running", "paused", "stopped", "interrupted", "failed", "stale", "requeued", "pending"].compactMap { w in counts[w].map { "\($0) \(w)" } }
        print(TerminalText.escape("sweep \(plan.name): \(plan.runs.count) runs (\(words.joined(separator: ", ")))"))
        if let search = plan.search {
            let space = search.parameters.filter { $0.distribution.isSampled }.map { "\($0.key) \($0.distribution.summary)" }
            print(TerminalText.escape("random search, seed \(search.seed), run_cap \(search.runCap): \(space.joined(separator: "; "))"))
        }
        if let halving {
            let spent = views.reduce(0) { $0 + $1.epochs }, full = plan.runs.count * halving.epochs
            print("successive halving, \(halving.rungSummary): \(spent) of the \(full) epochs of every run trained to the end\(over ? "; the search is over" : "")")
        }
        let first = 1 + sampled.count + 1 + (halving == nil ? 0 : 1)
        Compare.table(lines, right: [first, first + 1]).forEach { print($0) }
    }
}
