import BTCore
import Records

/// The figure a sweep is judged by: W&B's `metric: {name, goal}`. It names what `sweep table` and `sweep watch`
/// show and which way is best; without it, the runs' own test metric (accuracy, or PSNR for restoration).
public struct SweepMetric: Codable, Equatable, Sendable {
    public enum Figure: String, Codable, Sendable {
        /// The last epoch record's test metric: accuracy (classification) or PSNR (restoration); higher is better.
        case testMetric = "test_metric"
        /// The last epoch record's test loss; lower is better.
        case testLoss = "test_loss"

        /// Which way is better: every metric a model reports is higher-better, a loss lower-better.
        public var direction: Metric.Direction { self == .testLoss ? Metric.loss.direction : .higherIsBetter }
    }

    public enum Goal: String, Codable, Sendable { case maximize, minimize }

    /// The name as the spec wrote it (what the table's caption quotes).
    public var name: String
    public var goal: Goal
    public var figure: Figure

    public init(name: String, goal: Goal, figure: Figure) { self.name = name; self.goal = goal; self.figure = figure }

    /// The default: the runs' test metric, maximized.
    public static let testMetric = SweepMetric(name: "test_metric", goal: .maximize, figure: .testMetric)

    /// The names a spec may give, as btviz's own records and TensorBoard tags spell them: test_metric, and each
    /// reported metric's and the loss's name as it is, with test_ and with test/.
    static let figures: [String: Figure] = {
        var names: [String: Figure] = ["test_metric": .testMetric]
        for (metric, figure) in Metric.reported.map({ ($0, Figure.testMetric) }) + [(Metric.loss, .testLoss)] {
            for n in [metric.name, "test_" + metric.name, "test/" + metric.name] { names[n] = figure }
        }
        return names
    }()

    /// Reads `name` and `goal` (W&B's defaults: goal minimize when absent; here the figure's own direction, and a
    /// goal against it is refused, since bolding the worst accuracy is never what was meant).
    public static func parse(name: String, goal: String?) throws -> SweepMetric {
        guard let figure = figures[name] else {
            throw BTError("metric '\(name)' is not a figure btviz records; it takes \(figures.keys.sorted().joined(separator: ", "))")
        }
        let natural: Goal = figure.direction == .lowerIsBetter ? .minimize : .maximize
        guard let goal else { return SweepMetric(name: name, goal: natural, figure: figure) }
        guard let g = Goal(rawValue: goal) else { throw BTError("metric goal '\(goal)' must be maximize or minimize") }
        guard g == natural else {
            throw BTError("metric '\(name)' is better \(natural == .maximize ? "higher" : "lower"): its goal is \(natural.rawValue), not \(goal)")
        }
        return SweepMetric(name: name, goal: g, figure: figure)
    }
}
