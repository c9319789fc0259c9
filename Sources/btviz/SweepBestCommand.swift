import ArgumentParser
import BTCore
import Foundation
import Records
import Sweeps

/// `btviz sweep best DIR`: a random search's best run (the best figure among the runs that trained the most epochs)
/// as a train command line, and as a grid spec that confirms it over seeds.
struct SweepBest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "best",
        abstract: "Print a random search's best run as a btviz train command line, or (--spec) as a grid spec that trains it over seeds.",
        discussion: "The best run is the one ranked first by the search's metric among the runs that trained the most epochs (with successive halving, the last rung), as btviz sweep table ranks them.")

    @Argument(help: "The sweep folder of a random search.", completion: .directory) var dir: String
    @Flag(help: "Print only a grid spec (YAML) of the best run's settings over --seeds, for btviz sweep run.") var spec = false
    @Option(help: "The seeds the spec trains (a comma list or a range such as 0-2; default 0-2).") var seeds = "0-2"

    func run() throws {
        let folder = SweepFolder(dir)
        let plan = try folder.plan()
        guard plan.search != nil else { throw BTError("\(dir) is a grid; sweep best is for a random search (sweep table shows a grid's best cells)") }
        let table = try SearchTable(plan: plan, folder: folder, states: SweepStaleness.states(plan, in: folder))
        guard let top = table.groups.first, let best = top.rows.first, let run = plan.run(named: best.name) else {
            throw BTError("no run of \(dir) has finished an epoch yet")
        }
        let seedValues = try SweepSpec.shorthand(name: "seeds", options: [("seed", seeds)]).parameters[0].values
        // Every option the run was given, each one value, and the seeds to confirm it over.
        let keys = plan.parameters.map(\.key).filter { SweepSpec.flagName($0) != "seed" }
        let grid = try SweepSpec(name: plan.name + "-best", parameters: keys.map { SweepSpec.Parameter(key: $0, values: [run.options[$0] ?? ""]) }
                                  + [SweepSpec.Parameter(key: "seed", values: seedValues)], metric: plan.metric)
        if spec { print(grid.yaml, terminator: ""); return }
        let seedNote = run.options.first { SweepSpec.flagName($0.key) == "seed" }.map { " (seed \($0.value))" } ?? ""
        print(TerminalText.escape("best of \(plan.name): \(best.name)\(seedNote), \(table.title) \(table.format(best.figure)) after epoch \(best.epochs) (ranked 1 of the \(top.rows.count) runs that trained \(top.epochs) epochs)"))
        print(TerminalText.escape("  " + table.keys.map { "\($0) \(run.options[$0] ?? "")" }.joined(separator: ", ")))
        print(TerminalText.escape("btviz train --headless " + SweepPlan.argsWithoutTensorBoard(run.args).map(Train.shellWord).joined(separator: " ")))
        print("confirm it over seeds \(seedValues.joined(separator: ", ")): btviz sweep best \(Train.shellWord(dir)) --spec > best.yaml && btviz sweep run best.yaml --out DIR")
    }
}
