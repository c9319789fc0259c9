import BTCore
import Foundation
import Records
import Sweeps
import Training

/// A sweep's runs are what its spec says. A run's name holds only the options that vary, so a constant changed in
/// the spec (epochs 2 -> 3) maps onto the folders of runs trained with the old value; their config.json says what
/// they were trained with. A run whose recorded options differ from its arguments in sweep.json is stale: `sweep
/// run` refuses to go on, and `status`, `table` and `watch` show it as stale, never as the spec's result.
/// Compared as `train --resume` compares (RunIdentity, less where the data is and what gets logged).
enum SweepStaleness {
    /// The first option on which the run in `runDir` differs from what `args` would train, or nil (the same run,
    /// or nothing trained there yet).
    static func difference(runDir: String, args: [String]) -> (flag: String, spec: String, recorded: String)? {
        let folder = RunFolder(runDir)
        guard RegularFile.isRegular(folder.configPath), let recorded = try? folder.readConfig().config,
              let train = try? Train.parse(args),
              let d = try? RunIdentity(train.newConfig).firstDifference(from: RunIdentity(recorded)) else { return nil }
        return (Flags.name(d.key), d.mine ?? "none", d.theirs ?? "none")
    }

    /// The reason a run is stale, as `status` and `table` print it, or nil.
    static func reason(runDir: String, args: [String]) -> String? {
        difference(runDir: runDir, args: args).map { "the spec says \($0.flag) \($0.spec), the run was trained with \($0.recorded)" }
    }

    /// The run's state, stale where its recorded options differ from the spec's.
    static func state(of runDir: String, args: [String], progress: RunProgress) -> RunPhase {
        let state = RunStatus.state(of: runDir, progress: progress)
        if case .running = state { return state }  // a run in use is its holder's business until it stops
        return reason(runDir: runDir, args: args).map { .stale(reason: $0) } ?? state
    }

    /// Every run's state by name (stale where its recorded options differ from the spec's): what a search's table
    /// ranks and `sweep best` reads.
    static func states(_ plan: SweepPlan, in folder: SweepFolder) -> [String: RunPhase] {
        var states: [String: RunPhase] = [:]
        for r in plan.runs {
            let path = folder.runPath(r.name)
            states[r.name] = state(of: path, args: r.args, progress: RunProgress.read(runDir: path))
        }
        return states
    }

    /// Refuses a plan whose folder holds runs trained with other options, naming the first key, both values and
    /// the runs, and what to do.
    static func refuseStale(_ plan: SweepPlan, in folder: SweepFolder) throws {
        var stale: [(name: String, flag: String, spec: String, recorded: String)] = []
        for r in plan.runs {
            if let d = difference(runDir: folder.runPath(r.name), args: r.args) { stale.append((r.name, d.flag, d.spec, d.recorded)) }
        }
        guard let first = stale.first else { return }
        let names = stale.prefix(3).map(\.name).joined(separator: ", ") + (stale.count > 3 ? " and \(stale.count - 3) more" : "")
        throw BTError("\(stale.count) of \(plan.runs.count) runs in \(folder.path) were trained with other options than the spec's: \(first.flag) is \(first.spec) in the spec, \(first.recorded) in the run (\(names)); give a new --out for the changed spec, or revert it")
    }
}
