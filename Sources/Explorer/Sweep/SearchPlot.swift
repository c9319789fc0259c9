import Foundation
import Records
import Sweeps

/// What `sweep watch`'s search plot can draw of a sweep: each run's options and its figure at every rung it reached.
/// Built by SweepWatcher from what it reads anyway (sweep.json and the runs' digests); `SearchPlotView` picks the x.
public struct SearchPlotData: Sendable, Equatable {
    public struct Rung: Sendable, Equatable {
        /// Epochs done at the rung (1 is after the first epoch).
        public var epoch: Int
        /// The stored figure (a fraction for accuracy), unscaled.
        public var figure: Double
        public init(epoch: Int, figure: Double) { self.epoch = epoch; self.figure = figure }
    }

    /// A run that finished an epoch.
    public struct Run: Sendable, Equatable {
        /// Index into the board's rows.
        public var row: Int
        public var name: String
        /// Its value of each of `keys`, as the spec spells it.
        public var values: [String]
        public var rungs: [Rung]
        /// Its value of `groupKey`; "" without one.
        public var group: String
        public init(row: Int, name: String, values: [String], rungs: [Rung], group: String = "") {
            self.row = row; self.name = name; self.values = values; self.rungs = rungs; self.group = group
        }
    }

    /// The options x can show, in spec order (`SweepPlotScheme.keys`).
    public var keys: [String] = []
    public var logKeys: Set<String> = []
    /// The x shown first: a search's first sampled parameter, a grid's first numeric varying option.
    public var defaultKey: String?
    /// A successive-halving search's rungs as epochs done; empty otherwise (a run is drawn at its last epoch).
    public var rungEpochs: [Int] = []
    /// The option the runs are coloured by: `method` when it varies; nil for one colour.
    public var groupKey: String?
    public var runs: [Run] = []

    public init() {}

    public init(keys: [String], logKeys: Set<String> = [], defaultKey: String? = nil, rungEpochs: [Int] = [],
                groupKey: String? = nil, runs: [Run]) {
        self.keys = keys; self.logKeys = logKeys; self.defaultKey = defaultKey ?? keys.first; self.rungEpochs = rungEpochs
        self.groupKey = groupKey; self.runs = runs
    }

    /// From a sweep's plan and its board rows (in plan order): the runs that finished an epoch, each at the rungs
    /// `SweepPlotScheme` says (the ones `sweep plot` draws), figures from the rows' digests.
    public init(plan: SweepPlan, rows: [SweepRunRow], loss: Bool) {
        let scheme = SweepPlotScheme(plan: plan)
        keys = scheme.keys
        logKeys = scheme.logKeys
        rungEpochs = scheme.rungEpochs ?? []
        let methods = Set(plan.runs.map { $0.options["method"] ?? "" })
        groupKey = methods.count > 1 ? "method" : nil
        let numeric = keys.first { k in plan.runs.allSatisfy { SearchPlotView.number($0.options[k] ?? "") != nil } }
        defaultKey = plan.search != nil ? keys.first : numeric ?? keys.first
        for (i, run) in plan.runs.enumerated() where rows.indices.contains(i) {
            let (figures, done) = rows[i].digest.epochFigures(loss: loss)
            let rungs = scheme.rungs(figures: figures, epochsDone: done).map { Rung(epoch: $0.epoch, figure: $0.figure) }
            guard !rungs.isEmpty else { continue }
            runs.append(Run(row: i, name: run.name, values: keys.map { run.options[$0] ?? "" }, rungs: rungs,
                            group: groupKey.flatMap { run.options[$0] } ?? ""))
        }
    }

    /// The groups in the order their runs first appear.
    public var groups: [String] {
        var seen = Set<String>()
        return runs.map(\.group).filter { seen.insert($0).inserted }
    }
}

/// The search plot for one x: each run's position along it and its rungs, the axis kind, what is selected. The
/// panel draws only this.
public struct SearchPlotView: Sendable, Equatable {
    public enum Axis: Sendable, Equatable {
        /// log10 of the values: decade ticks.
        case log
        case linear
        /// Values that are not all numbers, spread evenly in this order.
        case categories([String])
    }

    public struct Point: Sendable, Equatable {
        public var name: String
        /// The run's x value as the spec spells it.
        public var x: String
        public var rungs: [SearchPlotData.Rung]
        /// Index into `groups`.
        public var group: Int
        public var selected: Bool
        public init(name: String, x: String, rungs: [SearchPlotData.Rung], group: Int = 0, selected: Bool = false) {
            self.name = name; self.x = x; self.rungs = rungs; self.group = group; self.selected = selected
        }
    }

    public var key: String
    public var axis: Axis
    public var metric: Metric
    public var rungEpochs: [Int]
    public var groupKey: String?
    public var groups: [String]
    public var points: [Point]

    public init(key: String, axis: Axis, metric: Metric, rungEpochs: [Int], groupKey: String? = nil, groups: [String] = [""],
                points: [Point]) {
        self.key = key; self.axis = axis; self.metric = metric; self.rungEpochs = rungEpochs; self.groupKey = groupKey
        self.groups = groups; self.points = points
    }

    /// `data` against `key` (a key of `data.keys`), the run of board row `selected` marked.
    public init(_ data: SearchPlotData, key: String, metric: Metric, selected: Int) {
        let k = data.keys.firstIndex(of: key)
        let groups = data.groups
        points = data.runs.map { r in
            Point(name: r.name, x: k.flatMap { r.values.indices.contains($0) ? r.values[$0] : nil } ?? "", rungs: r.rungs,
                  group: groups.firstIndex(of: r.group) ?? 0, selected: r.row == selected)
        }
        let xs = points.map(\.x)
        let numbers = xs.compactMap(Self.number)
        // Numbers whose range a Double holds; anything else (text, ±1e308 at once) spread as categories.
        if !xs.isEmpty, numbers.count == xs.count, let mn = numbers.min(), let mx = numbers.max(), (mx - mn).isFinite {
            axis = data.logKeys.contains(key) && numbers.allSatisfy { $0 > 0 } ? .log : .linear
        } else {
            axis = .categories(Array(Set(xs)).sorted())
        }
        self.key = key; self.metric = metric; rungEpochs = data.rungEpochs; groupKey = data.groupKey
        self.groups = groups.isEmpty ? [""] : groups
    }

    /// A value as a finite number, or nil (a category).
    static func number(_ s: String) -> Double? { Double(s).flatMap { $0.isFinite ? $0 : nil } }
}
