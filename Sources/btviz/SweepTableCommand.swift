import ArgumentParser
import BTCore
import Foundation
import Records
import Sweeps
import Training

extension SweepTableFormat: ExpressibleByArgument {}
extension BoldRule: ExpressibleByArgument {}
extension SpreadRule: ExpressibleByArgument {}
extension TableMetric: ExpressibleByArgument {}
extension TableFigure: ExpressibleByArgument {}

/// `btviz sweep table DIR`: the paper's layout from a sweep's runs.
struct SweepTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Print a sweep as the paper's tables: rows and columns by option, mean ± sd over seeds (n) per cell, in bold the quantized cell significantly better than the rest of its group.",
        discussion: """
        The default layout is the paper's Table 1: rows dataset and k (and any other option that varies but the \
        seed), a column per method. Only seeds are averaged over; a run that is not done (pending, running, \
        interrupted, failed, or stale: trained with other options than the spec's) is named under its cell and never counted. --paper table1..table4 adds the published \
        figure and the difference beside each cell, and for Tables 1 and 2 a caption line for every setting in which \
        the runs differ from the paper's setup (λ per method, the data, batch size, ...; the epochs stated, not \
        compared), marking each such cell †. The dataset reads as the runs read it: fashion (2,557/4,443, not the \
        official release). --metric recalibrated shows each run's evaluation of record from \
        btviz sweep eval (RUN/eval.json, batch-norm statistics re-estimated under the run's method); a finished run \
        without one matching its checkpoint is named under its cell as not evaluated and not counted. Without \
        --metric the table shows the recalibrated figure when every finished run has one, else the stored figure \
        with a caption line saying so. Either way the caption names the figure and notes every cell whose stored \
        and re-estimated means differ by more than its spread. --format json prints {metric, unit, figure, statistics, \
        calibration_images, caption, data, paper_caption, rows, columns, paper, cells: [{row, column, mean, sd, n, \
        best, paper, delta, differs_from_paper: [{setting, ours, paper, method}], not_counted: [{run, state, reason}], \
        stored, recalibrated: {mean, sd, spread, n}, figures_differ}]}.
        """)

    @Argument(help: "The sweep folder.", completion: .directory) var dir: String
    @Option(help: "Options that make the rows, comma-separated (default: dataset,k and whatever else varies).") var rows: String?
    @Option(help: "Options that make the columns, comma-separated (default: method).") var cols: String?
    @Option(help: "md (default), latex, csv or json.") var format: SweepTableFormat = .md
    @Option(help: "table1, table2, table3 or table4: the paper's figure and the difference beside each cell.") var paper: String?
    @Option(help: "significant (default: the best quantized cell only when Welch's t-test puts it above every other of its group at p < 0.05), best (the highest mean, whatever the spread) or none.")
    var bold: BoldRule = .significant
    @Option(help: "What follows ±: sd (default, the sample standard deviation), se (standard error) or ci95 (the 95% confidence interval's half-width).")
    var spread: SpreadRule = .sd
    @Option(help: "stored (the test figure logged at each run's last epoch, with the checkpoint's batch-norm statistics) or recalibrated (btviz sweep eval's, with re-estimated statistics: the figure of record). Default: recalibrated when every finished run has been evaluated, else stored.")
    var metric: TableMetric?
    @Option(help: "What the cells average: metric (the test accuracy or PSNR), loss (the test loss; lower is better) or flip_share (each run's flip share in %, as sweep watch and compare print it; no --paper, nothing bold). Default: the spec's metric: (test_loss gives loss), else metric.")
    var figure: TableFigure?

    func run() throws {
        let folder = SweepFolder(dir)
        let plan = try folder.plan()
        if plan.search != nil { return try searchTable(folder, plan) }
        let results = plan.runs.map { r -> SweepTable.RunResult in
            let path = folder.runPath(r.name)
            let p = RunProgress.read(runDir: path)
            let state = SweepStaleness.state(of: path, args: r.args, progress: p)
            // Hashing a checkpoint costs a read of it: only for runs a cell counts. The caption says DIR, not the
            // path: the same grid gives the same table wherever its folder is.
            var evaluation: RunEvaluation?, why = ""
            if state == .done && p.reportedMetric == .accuracy { (evaluation, why) = RunEvaluation.current(runDir: path, calibrationImages: nil) }
            // What the run trained with and read, from its config.json (none before it started): the dataset as
            // read and, with --paper, how it differs from the paper's setup.
            let file = try? RunFolder(path).readConfig()
            let trained = file.flatMap { f in (try? RunIdentity(f.config)).map { id in id.fields.keys.reduce(into: [String: String]()) { $0[$1] = id.display($1) } } }
            return .init(name: r.name, options: r.options, state: state, progress: p, evaluation: evaluation,
                         notEvaluated: (why == "not evaluated" ? "" : why + "; ") + "run btviz sweep eval DIR",
                         trained: trained, data: file?.header.data)
        }
        let figure = self.figure ?? (plan.metric?.figure == .testLoss ? .loss : .metric)
        let finished = results.filter { $0.state == .done && $0.progress.testMetric != nil }
        let evaluated = finished.filter { $0.evaluation != nil }.count
        let statistics = metric ?? (!finished.isEmpty && evaluated == finished.count ? .recalibrated : .stored)
        var figureNote: String?
        if metric == nil && statistics == .stored && figure != .flipShare && finished.contains(where: { $0.progress.reportedMetric == .accuracy }) {
            figureNote = "Not the figure of record: \(evaluated) of \(finished.count) finished runs have been evaluated with re-estimated batch-norm statistics; btviz sweep eval DIR evaluates them, and the table then shows that figure (--metric stored keeps this one)."
        }
        let layout = SweepTable.defaultLayout(plan)
        func list(_ s: String?) -> [String]? { s.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } }
        let table = try SweepTable(plan: plan, results: results, rows: list(rows) ?? layout.rows,
                                          columns: list(cols) ?? layout.columns, paper: paper, bold: bold, spread: spread,
                                          figure: figure, statistics: statistics, figureNote: figureNote)
        print(try format.render(table))
    }

    /// A random search: every run ranked by the search's metric, with its sampled values (`SearchTable`).
    private func searchTable(_ folder: SweepFolder, _ plan: SweepPlan) throws {
        let given = [("--rows", rows != nil), ("--cols", cols != nil), ("--paper", paper != nil), ("--figure", figure != nil),
                     ("--metric recalibrated", metric == .recalibrated)]
        if let (flag, _) = given.first(where: { $0.1 }) {
            throw BTError("\(flag) is for a grid's table; a random search's table ranks each run by the search's metric (stored figure at its last epoch); confirm the best settings over seeds with btviz sweep best DIR --spec")
        }
        let table = try SearchTable(plan: plan, folder: folder, states: SweepStaleness.states(plan, in: folder))
        switch format {
        case .json: print(try table.json())
        case .csv: table.csv().forEach { print($0) }
        case .md: table.markdown().forEach { print($0) }
        case .latex: throw BTError("--format latex is for a grid's table; a search's table is md, csv or json")
        }
    }
}
