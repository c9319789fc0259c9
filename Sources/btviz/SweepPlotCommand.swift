import ArgumentParser
import BTCore
import Foundation
import Records
import Sweeps

/// `btviz sweep plot DIR... --x lambda --by method --out fig.svg`: random searches as a figure (`SearchFigure`).
struct SweepPlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw random searches: the metric against one parameter, each run at every rung it reached, and the parallel coordinates of every sampled parameter (SVG, or its data as CSV).",
        discussion: "Several sweep folders go in one figure (one search per method, say), coloured by --by. The x axis is logarithmic when the parameter's distribution is (log_uniform_values, ...).")

    @Argument(help: "Sweep folders of random searches.", completion: .directory) var dirs: [String]
    @Option(help: "The parameter on the x axis (a key of the searches' parameters).") var x: String
    @Option(help: "Colour runs by this option's value (default: by sweep).") var by: String?
    @Flag(help: "Write the figure's data as CSV instead of SVG.") var csv = false
    @Option(help: "Write here (atomically, making its folder if missing) instead of to stdout.", completion: .file()) var out: String?

    func run() throws {
        guard !dirs.isEmpty else { throw BTError("give one or more sweep folders of random searches") }
        var runs: [SearchFigure.Run] = [], keys: [String] = [], logKeys = Set<String>(), metric: SweepMetric?, names: [String] = []
        var metricName: String?
        for dir in dirs {
            let folder = SweepFolder(dir)
            let plan = try folder.plan()
            guard plan.search != nil else { throw BTError("\(dir) is a grid; sweep plot draws random searches (btviz sweep table shows a grid)") }
            let m = plan.metric ?? .testMetric
            if let metric, metric.figure != m.figure { throw BTError("\(dir) ranks by \(m.name), the others by \(metric.name): one figure plots one metric") }
            metric = m
            names.append(plan.name)
            // Which parameters, which of them log, which rungs: as `sweep watch`'s search plot decides them.
            let scheme = SweepPlotScheme(plan: plan)
            for k in scheme.keys where !keys.contains(k) { keys.append(k) }
            logKeys.formUnion(scheme.logKeys)
            for r in plan.runs {
                let dir = folder.runPath(r.name)
                let (figures, done) = EpochFigures.read(runDir: dir, figure: m.figure)
                guard done > 0 else { continue }
                metricName = metricName ?? RunProgress.read(runDir: dir).metric
                let group = by.map { r.options[$0] ?? "(none)" } ?? plan.name
                runs.append(.init(group: group, name: dirs.count > 1 ? "\(plan.name)/\(r.name)" : r.name, values: r.options,
                                  rungs: scheme.rungs(figures: figures, epochsDone: done), rungCount: scheme.rungCount))
            }
        }
        guard keys.contains(x) || runs.contains(where: { $0.values[x] != nil }) else {
            throw BTError("--x \(x) is no parameter of the searches; they sample \(keys.isEmpty ? "nothing" : keys.joined(separator: ", "))")
        }
        if let by, !runs.contains(where: { $0.values[by] != nil }) { throw BTError("--by \(by) is no parameter of the searches") }
        guard !runs.isEmpty else { throw BTError("no run of \(dirs.joined(separator: ", ")) has finished an epoch yet") }
        let shown = metric?.figure == .testLoss ? Metric.loss : Metric.printing(metricName ?? Metric.accuracy.name)
        let figure = SearchFigure(runs: runs, x: x, keys: keys.contains(x) ? keys : [x] + keys, logKeys: logKeys, metric: shown,
                                  metricName: metric?.name ?? "test_metric",
                                  title: "\(names.joined(separator: ", ")): test \(shown.title) against \(x)")
        let text = csv ? figure.csv() : figure.svg()
        if let out {
            try Plot.write(text, to: out)
            print(TerminalText.escape("wrote \(out) (\(runs.count) runs of \(dirs.count) search\(dirs.count == 1 ? "" : "es"))"))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
