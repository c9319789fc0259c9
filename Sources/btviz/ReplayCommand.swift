import ArgumentParser
import BTCore
import Explorer
import Foundation
import Training

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open a run's metrics.jsonl in the explorer (finished or still running); with two runs, side by side.",
        discussion: """
        Left/right scrub through time, p plays. With two runs (A B) their curves overlay (A solid, B dashed) and \
        their histograms of the selected layer show one above the other at the same step: λ = 0 against λ = 0.1 is \
        the paper's central experiment. --follow starts at the newest record and keeps up with a running run.
        """)

    @Argument(help: "Run directory, and optionally a second to compare with; or a sweep folder (as `sweep watch`).", completion: .directory) var runDirs: [String]
    @Flag(help: "Start at the newest record and follow the run as it writes (the default view's end).") var follow = false
    @OptionGroup var screen: ScreenOptions

    func validate() throws {
        guard (1...2).contains(runDirs.count) else { throw ValidationError("give one run directory, or two to compare") }
    }

    func run() throws {
        // A sweep folder (DIR of `sweep run --out DIR`): its board, as `sweep watch DIR`.
        if runDirs.count == 1, FileManager.default.fileExists(atPath: runDirs[0] + "/sweep.json") {
            return try SweepWatch.watch(runDirs[0], ascii: screen.ascii)
        }
        let files = try runDirs.map { try RunFolder($0).readConfig() }
        if files.count == 2, files[0].config.task.isRestoration != files[1].config.task.isRestoration {
            // One axis cannot hold accuracy and PSNR (a PSNR of 33.65 dB drew as 3365%).
            func kind(_ f: RunFolder.ConfigFile) -> String { f.config.task.isRestoration ? "\(f.config.task.rawValue) (PSNR)" : "classification (accuracy)" }
            throw BTError("replay A B compares two runs judged by one metric: \(runDirs[0]) is \(kind(files[0])), \(runDirs[1]) is \(kind(files[1])); replay them one at a time")
        }
        let runs = zip(runDirs, files).map { ($0, $1.header) }
        guard Terminal.canRunExplorer() else {
            throw BTError("replay needs an interactive terminal (stdin and stdout a tty, TERM set)")
        }
        // The header names each run by its folder's name: the path would crowd out the step.
        let skipped = try Explorer.runReplay(runs: runs.map { (name: URL(fileURLWithPath: $0.0).lastPathComponent, header: $0.1,
                                                                metricsPath: RunFolder($0.0).metricsPath) },
                                             options: ExplorerOptions(ascii: screen.ascii, noColor: false))
        for (dir, n) in zip(runDirs, skipped) where n > 0 { print("\(RunFolder(dir).metricsPath): skipped \(n) malformed line(s)") }
    }
}
