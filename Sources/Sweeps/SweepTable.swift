import BTCore
import Foundation
import Records

/// Mean, sample standard deviation (nil for one value: one run says nothing about the spread) and n.
public struct MeanSD: Equatable, Sendable {
    public var mean: Double, sd: Double?, n: Int

    public static func of(_ values: [Double]) -> MeanSD? {
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return MeanSD(mean: mean, sd: nil, n: 1) }
        let ss = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        return MeanSD(mean: mean, sd: (ss / Double(values.count - 1)).squareRoot(), n: values.count)
    }
}

/// What a table's cells average: the runs' test metric, or their flip share (`FlipShare`, in %).
public enum TableFigure: String, CaseIterable, Sendable {
    case metric
    /// The test loss (lower is better): a spec's `metric: {name: test_loss}`.
    case loss
    case flipShare = "flip_share"
}

/// A sweep as the paper's tables lay it out: rows and columns chosen by option, each cell the mean ± sd over the
/// seeds of its finished runs. A run that is not done (pending, running, interrupted, failed) is named in its
/// cell and never averaged in.
public struct SweepTable {
    public struct RunResult {
        public var name: String
        public var options: [String: String]
        public var state: RunPhase
        public var progress: RunProgress
        /// RUN/eval.json when it matches the run's checkpoint, else why not ("run btviz sweep eval DIR"), which a
        /// cell under --metric recalibrated gives as the reason the run is not counted.
        public var evaluation: RunEvaluation?, notEvaluated: String?
        /// What the run trained with: config.json's options by key, as a user types them (nil when the run has no
        /// readable config.json); `--paper` compares them with the paper's setup.
        public var trained: [String: String]?
        /// What it read (config.json's data identity; nil in older runs and for data made in code).
        public var data: DataIdentity?
        public init(name: String, options: [String: String], state: RunPhase, progress: RunProgress,
                    evaluation: RunEvaluation? = nil, notEvaluated: String? = nil,
                    trained: [String: String]? = nil, data: DataIdentity? = nil) {
            self.name = name; self.options = options; self.state = state; self.progress = progress
            self.evaluation = evaluation; self.notEvaluated = notEvaluated
            self.trained = trained; self.data = data
        }
    }

    public struct Cell {
        public var row: [String], column: [String]
        /// The figure as printed: accuracy in %, PSNR in dB.
        public var stats: MeanSD?
        /// Runs of the cell that are not counted, with their state and reason.
        public var left: [(name: String, state: String, reason: String?)]
        public var paper: Double?
        /// With --paper: how the cell's counted runs were trained differently from the paper's setup (the cell is
        /// marked †), e.g. "λ 0.0001 (paper 0)".
        public var differences: [PaperSetup.Difference] = []
        public var best = false
        /// Both figures over the cell's finished runs, whatever `figure` the cell shows: the logged one (stored batch-norm
        /// statistics) and the evaluation of record (re-estimated), the latter over the runs that have one.
        public var stored: MeanSD?, recalibrated: MeanSD?
        /// The two differ by more than the cell's spread (the larger of the two, per the table's --spread), over
        /// the same runs; with one run (no spread) by anything the table prints.
        public var figuresDiffer = false
        public var delta: Double? { stats.flatMap { s in paper.map { s.mean - $0 } } }
    }

    public var rowKeys: [String], columnKeys: [String]
    public var rows: [[String]], columns: [[String]]
    public var cells: [Cell]
    /// The runs' metric, as their epoch records name it (accuracy when no run has one yet).
    public var metric: Metric
    public var paper: PaperTables.Table?
    /// Which cells are bold, and what follows each mean.
    public var boldRule: BoldRule, spread: SpreadRule
    /// What the cells average: the test figure or the runs' flip share.
    public var figure: TableFigure
    /// Which evaluation the test figure comes from: the logged one (stored batch-norm statistics) or `sweep eval`'s.
    public var statistics: TableMetric
    /// The calibration sizes of the evaluations counted under `.recalibrated` (one, unless runs were evaluated
    /// with different --calibration-images).
    public var calibrationImages: [Int] = []
    /// A caption line from the command (why this figure, what would give the other), or nil.
    public var figureNote: String?
    /// The spec's `metric:` when it named one (the caption quotes it; it chose `figure`).
    public var sweepMetric: SweepMetric?
    /// What a test figure's cells hold: the test loss, or the runs' metric (nil for the flip share, in %).
    public var figureMetric: Metric? {
        switch figure {
        case .metric: return metric
        case .loss: return .loss
        case .flipShare: return nil
        }
    }
    /// Decimals a printed figure has: a percentage or dB to 2, a loss (about 0.1-2) to 4.
    public var decimals: Int { figureMetric?.decimals ?? 2 }
    /// The dataset as the runs read it, per row ("fashion (2,557/4,443, not the official release)"), where the
    /// rows' runs recorded what they read; the formats print it in place of the bare dataset option.
    public var dataLabels: [[String]: String] = [:]
    /// The same for the whole table when the dataset is not a row (one line below it), nil when nothing is recorded.
    public var dataNote: String?
    /// With --paper: one line per setting in which the counted runs differ from the paper's setup, for the caption.
    public var paperCaption: [String] = []

    /// The default layout: the paper's Table 1 (rows dataset and K, a column per method), with any other option
    /// that varies (but the seed) added to the rows.
    public static func defaultLayout(_ plan: SweepPlan) -> (rows: [String], columns: [String]) {
        let keys = plan.parameters.map(\.key)
        let columns = keys.filter { $0 == "method" }
        var rows = keys.filter { ["dataset", "k"].contains($0) }
        rows += plan.varying.filter { !rows.contains($0) && !columns.contains($0) && $0 != "seed" }
        return (rows, columns)
    }

    public init(plan: SweepPlan, results: [RunResult], rows rowKeys: [String], columns columnKeys: [String],
                paper paperID: String?, bold: BoldRule = .significant, spread: SpreadRule = .sd,
                figure: TableFigure = .metric, statistics: TableMetric = .stored, figureNote: String? = nil) throws {
        // A higher flip share is not better: nothing is bold in a table of them.
        boldRule = figure == .flipShare ? .none : bold
        self.figure = figure
        self.statistics = statistics
        self.figureNote = figureNote
        sweepMetric = plan.metric
        if figure != .metric && paperID != nil {
            throw BTError("--paper sets the paper's test figures beside the cells; it publishes no \(figure == .loss ? "losses" : "flip shares") (drop --paper or --figure \(figure.rawValue))")
        }
        self.spread = spread
        let keys = plan.parameters.map(\.key)
        for k in rowKeys + columnKeys where !keys.contains(k) {
            throw BTError("'\(k)' is not a parameter of the sweep \(plan.name) (its parameters: \(keys.joined(separator: ", ")))")
        }
        if let twice = rowKeys.first(where: columnKeys.contains) { throw BTError("'\(twice)' cannot be both a row and a column") }
        for ks in [rowKeys, columnKeys] where Set(ks).count != ks.count {
            throw BTError("'\(ks.first { k in ks.filter { $0 == k }.count > 1 }!)' is given twice in --rows or --cols")
        }
        // Only seeds are averaged over: any other option that varies must be a row or a column.
        if let hidden = plan.varying.first(where: { !rowKeys.contains($0) && !columnKeys.contains($0) && $0 != "seed" }) {
            throw BTError("'\(hidden)' varies in this sweep: add it to --rows or --cols (only seeds are averaged over)")
        }
        if let paperID {
            guard let t = PaperTables.table(paperID) else { throw BTError("--paper takes table1, table2, table3 or table4, not '\(paperID)'") }
            paper = t
        } else {
            paper = nil
        }
        self.rowKeys = rowKeys
        self.columnKeys = columnKeys
        // Rows and columns are the combinations the runs have (sweep.json's runs, not the product of its value
        // lists, which an edited file can make astronomically large), in the spec's order of values, so the table
        // reads as the grid was written.
        var order: [String: [String: Int]] = [:]
        for p in plan.parameters where rowKeys.contains(p.key) || columnKeys.contains(p.key) {
            var rank: [String: Int] = [:]
            for (i, v) in p.values.enumerated() where rank[v] == nil { rank[v] = i }
            order[p.key] = rank
        }
        func coordinates(_ ks: [String], _ r: RunResult) -> [String] { ks.map { r.options[$0] ?? "" } }
        func sorted(_ ks: [String], _ set: Set<[String]>) -> [[String]] {
            set.sorted { a, b in
                for (k, (x, y)) in zip(ks, zip(a, b)) where x != y {
                    let (i, j) = (order[k]?[x] ?? Int.max, order[k]?[y] ?? Int.max)
                    return i != j ? i < j : x < y
                }
                return false
            }
        }
        var members: [[String]: [RunResult]] = [:]
        var rowSet = Set<[String]>(), columnSet = Set<[String]>()
        var rowData: [[String]: Set<String>] = [:]
        for r in results {
            let (row, column) = (coordinates(rowKeys, r), coordinates(columnKeys, r))
            if let label = Self.dataLabel(r) { rowData[row, default: []].insert(label) }
            rowSet.insert(row)
            columnSet.insert(column)
            members[row + ["|"] + column, default: []].append(r)
        }
        if results.isEmpty { rowSet.insert(rowKeys.map { _ in "" }); columnSet.insert(columnKeys.map { _ in "" }) }
        let (cellCount, over) = rowSet.count.multipliedReportingOverflow(by: columnSet.count)
        guard !over, cellCount <= Self.maxCells else {
            throw BTError("the table would have \(rowSet.count) rows × \(columnSet.count) columns, over \(Self.maxCells) cells; choose other --rows and --cols")
        }
        rows = sorted(rowKeys, rowSet)
        columns = sorted(columnKeys, columnSet)
        let metrics = Set(results.compactMap(\.progress.metric))
        if metrics.count > 1 { throw BTError("the runs report different metrics (\(metrics.sorted().joined(separator: ", "))); table them separately") }
        // A name this build does not know is tabled as a plain number under its own name.
        metric = metrics.first.map(Metric.printing) ?? .accuracy
        if statistics == .recalibrated && metric != .accuracy {
            throw BTError("--metric recalibrated is for classification runs (these report \(metric.title)); their figure is the stored one")
        }
        let metric = self.metric
        var cells: [Cell] = []
        for r in rows {
            for c in columns {
                let members = members[r + ["|"] + c] ?? []
                var counted: [Double] = [], left: [(String, String, String?)] = [], countedRuns: [RunResult] = []
                var stored: [Double] = [], recalibrated: [Double] = []
                // The figure as logged (stored batch-norm statistics) and as sweep eval gave it.
                func logged(_ m: RunResult) -> Double? { figure == .loss ? m.progress.testLoss : m.progress.testMetric.map(metric.scaled) }
                func evaluated(_ e: RunEvaluation) -> Double { figure == .loss ? e.testLoss : metric.scaled(e.testMetric) }
                for m in members {
                    if m.state == .done, let v = logged(m) {
                        stored.append(v)
                        if let e = m.evaluation { recalibrated.append(evaluated(e)) }
                    }
                    if figure == .flipShare, m.state == .done {
                        // Done with nothing to flip (full precision): no figure, and nothing left out.
                        if let f = m.progress.flipShare { counted.append(f * 100); countedRuns.append(m) }
                    } else if m.state == .done, statistics == .recalibrated, m.progress.testMetric != nil, m.evaluation == nil {
                        left.append((m.name, "not evaluated", m.notEvaluated ?? "no eval.json matching its checkpoint"))
                    } else if m.state == .done, let v = logged(m) {
                        counted.append(statistics == .recalibrated ? evaluated(m.evaluation!) : v)
                        countedRuns.append(m)
                    } else {
                        var reason: String?
                        if case .failed(let why) = m.state { reason = why }
                        if case .stale(let why) = m.state { reason = why }
                        if case .running(let who) = m.state { reason = who }
                        left.append((m.name, m.state.word, reason))
                    }
                }
                var cell = Cell(row: r, column: c, stats: MeanSD.of(counted), left: left, paper: nil)
                cell.stored = MeanSD.of(stored)
                cell.recalibrated = MeanSD.of(recalibrated)
                cell.figuresDiffer = Self.differ(cell.stored, cell.recalibrated, spread: spread)
                if let paper, let first = members.first {
                    cell.paper = Self.published(paper, options: first.options, trained: members.lazy.compactMap(\.trained).first)
                }
                if let setup = paper?.setup, cell.paper != nil {
                    for run in countedRuns {
                        for d in setup.differences(run) where !cell.differences.contains(d) { cell.differences.append(d) }
                    }
                }
                cells.append(cell)
            }
        }
        self.cells = cells
        if statistics == .recalibrated {
            calibrationImages = Set(results.filter { $0.state == .done }.compactMap(\.evaluation?.calibrationImages)).sorted()
        }
        // A row whose runs read different data (a limit that varies in the columns) names each.
        dataLabels = rowData.mapValues { $0.sorted().joined(separator: "; ") }
        if !rowKeys.contains("dataset") {
            let all = Set(rowData.values.flatMap { $0 })
            dataNote = all.isEmpty ? nil : all.sorted().joined(separator: "; ")
        }
        if let paper { paperCaption = Self.caption(paper, cells: cells, results: results) }
        cellIndex = Dictionary(uniqueKeysWithValues: cells.indices.map { (cells[$0].row + ["|"] + cells[$0].column, $0) })
        markBest()
    }

    /// Whether two figures of the same runs differ by more than their spread (the larger of the two; with one run,
    /// which has none, by anything the table prints at two decimals). Figures over different runs are not compared.
    public static func differ(_ a: MeanSD?, _ b: MeanSD?, spread: SpreadRule) -> Bool {
        guard let a, let b, a.n == b.n else { return false }
        let threshold = [spread.value(a), spread.value(b)].compactMap { $0 }.max() ?? 0.005
        return abs(a.mean - b.mean) > threshold
    }

    /// The dataset as a run read it: "fashion (2,557/4,443, not the official release)", with --train-limit 200 and
    /// --test-limit 300 "fashion (200/300 of 2,557/4,443, not the official release)"; nil where the run recorded no
    /// data identity (older runs, data made in code, restoration).
    public static func dataLabel(_ r: RunResult) -> String? {
        guard let d = r.data else { return nil }
        func limit(_ key: String) -> Int { r.trained?[key].flatMap { Int($0) } ?? 0 }
        return d.label(dataset: r.trained?["dataset"] ?? r.options["dataset"] ?? "data",
                       trainLimit: limit("train_limit"), testLimit: limit("test_limit"))
    }

    /// The caption's lines on how the counted runs differ from the paper's setup: one per setting, with each
    /// method's values, then the settings the transcription does not know (stated, not compared).
    static func caption(_ paper: PaperTables.Table, cells: [Cell], results: [RunResult]) -> [String] {
        guard let setup = paper.setup else {
            return ["The paper's training setup for \(paper.title.prefix { $0 != ":" }) is not transcribed (PaperTables.swift): no setting is compared."]
        }
        let marked = cells.filter { !$0.differences.isEmpty }
        var lines: [String] = []
        if !marked.isEmpty {
            lines.append("† the cell's runs were trained differently from the paper's setup (\(setup.source)):")
            // One line per setting, in the order the setup lists them; each value with the methods that had it.
            var order: [String] = [], values: [String: [(ours: String, method: String)]] = [:], paperValue: [String: String] = [:]
            for c in marked {
                for d in c.differences {
                    if values[d.setting] == nil { order.append(d.setting) }
                    if !(values[d.setting] ?? []).contains(where: { $0.ours == d.ours && $0.method == d.method }) {
                        values[d.setting, default: []].append((d.ours, d.method))
                    }
                    paperValue[d.setting] = d.paper
                }
            }
            for setting in setup.settingOrder.filter(order.contains) + order.filter({ !setup.settingOrder.contains($0) }) {
                let byValue = Dictionary(grouping: values[setting]!, by: { $0.ours })
                let text = byValue.keys.sorted().map { v in
                    let methods = byValue[v]!.map { $0.method }.filter { !$0.isEmpty }
                    return methods.isEmpty ? v : v + " (" + methods.joined(separator: ", ") + ")"
                }.joined(separator: "; ")
                lines.append("  \(setting): \(text); the paper: \(paperValue[setting]!)")
            }
        }
        if setup.epochs == nil {
            let epochs = Set(results.compactMap { $0.trained?["epochs"] }).sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
            if !epochs.isEmpty {
                lines.append("epochs: \(epochs.joined(separator: ", ")); the paper's count is not transcribed (PaperTables.swift), so it is stated, not compared.")
            }
        }
        return lines
    }

    /// A table past this is no table anyone reads (and its cells would take memory without bound).
    public static let maxCells = 1_000_000

    private var cellIndex: [[String]: Int] = [:]

    /// The published figure for a cell: its coordinates as a run of the cell trained them (`trained`, config.json's
    /// keys), else as the sweep gives them. None while no run of the cell has started and the sweep leaves one out.
    static func published(_ t: PaperTables.Table, options: [String: String], trained: [String: String]?) -> Double? {
        func option(_ k: String) -> String? {
            trained?[k] ?? options.first { SweepSpec.flagName($0.key) == SweepSpec.flagName(k) }?.value
        }
        let coordinates = t.keys.map { (option($0) ?? "").lowercased() }
        guard let m = option("method"), let column = t.methods.firstIndex(of: m.lowercased()) else { return nil }
        let row = t.rows.first { row in
            zip(row.coordinates, coordinates).allSatisfy { a, b in a == b || (Double(a) != nil && Double(a) == Double(b)) }
        }
        return row?.figures[column]
    }

    /// Bold, per `boldRule`, among the quantized cells that differ only by method (higher is better for accuracy and
    /// PSNR, lower for a loss): the best mean, and under `.significant` only when Welch's t-test puts it above every other cell of its
    /// group at p < 0.05, with n >= 2 everywhere and at least two candidates.
    private mutating func markBest() {
        guard boldRule != .none else { return }
        guard let mr = rowKeys.firstIndex(of: "method").map({ (true, $0) }) ?? columnKeys.firstIndex(of: "method").map({ (false, $0) }) else { return }
        func groupKey(_ c: Cell) -> [String] {
            var r = c.row, col = c.column
            if mr.0 { r.remove(at: mr.1) } else { col.remove(at: mr.1) }
            return r + ["|"] + col
        }
        func method(_ c: Cell) -> String { mr.0 ? c.row[mr.1] : c.column[mr.1] }
        let groups = Dictionary(grouping: cells.indices, by: { groupKey(cells[$0]) })
        for (_, idx) in groups {
            let quantized = idx.filter { method(cells[$0]) != "full" && cells[$0].stats != nil }
            // Higher is better, but for a loss: `better(a, b)` says a is.
            let lowerIsBetter = figureMetric?.direction == .lowerIsBetter
            func better(_ a: Double, _ b: Double) -> Bool { lowerIsBetter ? a < b : a > b }
            guard let best = quantized.max(by: { better(cells[$1].stats!.mean, cells[$0].stats!.mean) }) else { continue }
            let top = cells[best].stats!
            switch boldRule {
            case .none:
                continue
            case .best:
                for i in quantized where cells[i].stats!.mean == top.mean { cells[i].best = true }
            case .significant:
                let others = quantized.filter { $0 != best }
                guard !others.isEmpty, others.allSatisfy({ i in
                    let o = cells[i].stats!
                    return better(top.mean, o.mean) && (Significance.welchP(top, o).map { $0 < BoldRule.alpha } ?? false)
                }) else { continue }
                cells[best].best = true
            }
        }
    }

    public func cell(_ row: [String], _ column: [String]) -> Cell? { cellIndex[row + ["|"] + column].map { cells[$0] } }
}

/// The figure a table's cells hold: the test metric of the run's last epoch record, with the batch-norm statistics
/// the checkpoint stored (`stored`), or its evaluation of record from RUN/eval.json, with statistics re-estimated
/// under the run's method (`recalibrated`, written by `btviz sweep eval`).
public enum TableMetric: String, CaseIterable, Sendable {
    case stored, recalibrated
}
