import ArgumentParser
import BTCore
import Explorer
import Foundation
import Training

/// `btviz sweep watch DIR` (and `btviz replay DIR` of a sweep folder): the board of a sweep's runs.
struct SweepWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch a sweep live (or afterwards): every run's status, progress, ETA, test metric and flip share.",
        discussion: """
        One row per run, its varying options as columns; the header has the grid's progress and ETA. Up/Down select \
        a run, Enter opens it in the explorer (following it while it trains; q or Esc comes back), m shows the \
        selected run's row group side by side (one layer's histogram and transitions for every run that differs \
        only in the method, or in the option c picks; Left/Right change the step, Up/Down the layer), p plots every \
        run's test metric against a parameter (a log axis for a log distribution, each run at every rung it \
        reached; x the next parameter). Works while `sweep run` trains the runs here or on Slurm, and after.
        """)

    @Argument(help: "The sweep folder (the --out of `btviz sweep run`).", completion: .directory) var dir: String
    @OptionGroup var screen: ScreenOptions

    func run() throws { try Self.watch(dir, ascii: screen.ascii) }

    static func watch(_ dir: String, ascii: Bool) throws {
        try Explorer.runSweepWatch(dir: dir, header: { try RunFolder($0).readConfig().header },
                                   staleness: { SweepStaleness.reason(runDir: $0, args: $1) }, options: ExplorerOptions(ascii: ascii, noColor: false))
    }
}
