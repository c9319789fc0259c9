import ArgumentParser
import BTCore
import Explorer
import Foundation

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a finished or still-running run's metrics.jsonl in the explorer; left/right scrub through time.")

    @Argument(help: "Run directory.") var runDir: String
    @OptionGroup var screen: ScreenOptions

    func run() throws {
        let config = try RunDirectory.readConfig(runDir)
        guard Terminal.canRunExplorer() else {
            throw BTError("replay needs an interactive terminal (stdin and stdout a tty, TERM set)")
        }
        let skipped = try Explorer.runReplay(header: config.header, metricsPath: runDir + "/metrics.jsonl",
                                             options: ExplorerOptions(ascii: screen.ascii, noColor: false))
        if skipped > 0 { print("\(runDir)/metrics.jsonl: skipped \(skipped) malformed line(s)") }
    }
}
