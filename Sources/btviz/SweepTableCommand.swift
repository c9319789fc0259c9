import ArgumentParser
import BTCore
import Foundation
import Sweeps
import Training

extension SweepTableFormat: ExpressibleByArgument {}
extension BoldRule: ExpressibleByArgument {}
extension SpreadRule: ExpressibleByArgument {}
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
        official release). --format json prints {metric, unit, figure, rows, columns, paper, data, paper_caption, \
        cells: [{row, column, mean, sd, n, best, paper, delta, differs_from_paper: [{setting, ours, paper, method}], \
        not_counted: [{run, state, reason}]}]}.
        """)

    @Argument(help: "The sweep folder.") var dir: String
    @Option(help: "Options that make the rows, comma-separated (default: dataset,k and whatever else varies).") var rows: String?
    @Option(help: "Options that make the columns, comma-separated (default: method).") var cols: String?
    @Option(help: "md (default), latex, csv or json.") var format: SweepTableFormat = .md
    @Option(help: "table1, table2, table3 or table4: the paper's figure and the difference beside each cell.") var paper: String?
    @Option(help: "significant (default: the best quantized cell only when Welch's t-test puts it above every other of its group at p < 0.05), best (the highest mean, whatever the spread) or none.")
    var bold: BoldRule = .significant
    @Option(help: "What follows ±: sd (default, the sample standard deviation), se (standard error) or ci95 (the 95% confidence interval's half-width).")
    var spread: SpreadRule = .sd
    @Option(help: "What the cells average: metric (default: the test accuracy or PSNR) or flip_share (each run's flip share in %, as sweep watch and compare print it; no --paper, nothing bold).")
    var figure: TableFigure = .metric

    func run() throws {
        let folder = SweepFolder(dir)
        let plan = try folder.plan()
        let results = plan.runs.map { r -> SweepTable.RunResult in
            let path = folder.runPath(r.name)
            let p = RunProgress.read(runDir: path)
            // What the run trained with and read, from its config.json (none before it started): the dataset as
            // read and, with --paper, how it differs from the paper's setup.
            let file = try? RunFolder(path).readConfig()
            let trained = file.flatMap { f in (try? RunIdentity(f.config)).map { id in id.fields.keys.reduce(into: [String: String]()) { $0[$1] = id.display($1) } } }
            return .init(name: r.name, options: r.options, state: SweepStaleness.state(of: path, args: r.args, progress: p), progress: p,
                         trained: trained, data: file?.header.data)
        }
        let layout = SweepTable.defaultLayout(plan)
        func list(_ s: String?) -> [String]? { s.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } }
        let table = try SweepTable(plan: plan, results: results, rows: list(rows) ?? layout.rows,
                                          columns: list(cols) ?? layout.columns, paper: paper, bold: bold, spread: spread, figure: figure)
        print(try format.render(table))
    }
}
