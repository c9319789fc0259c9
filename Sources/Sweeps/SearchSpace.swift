import BTCore

/// A random search (W&B's `method: random`): run i's settings are drawn from the parameters' distributions by a
/// stream that depends on the sweep's seed, i and the parameter's key only, so raising `run_cap` adds runs and never
/// changes one that exists. With `early_terminate` the runs are scheduled by successive halving.
public struct SearchSpace: Codable, Equatable, Sendable {
    public struct Parameter: Codable, Equatable, Sendable {
        public var key: String
        public var distribution: ParameterDistribution
        public init(key: String, distribution: ParameterDistribution) { self.key = key; self.distribution = distribution }
    }

    public var seed: UInt64
    /// How many runs the search starts (W&B's run_cap); `sweep run --run-cap` raises it.
    public var runCap: Int
    /// In spec order.
    public var parameters: [Parameter]
    public var earlyTerminate: SuccessiveHalving?
    /// With early_terminate: the runs' epochs (one budget for all, the last rung), as train reads their arguments.
    public var epochs: Int?

    enum CodingKeys: String, CodingKey { case seed, runCap = "run_cap", parameters, earlyTerminate = "early_terminate", epochs }

    public init(seed: UInt64, runCap: Int, parameters: [Parameter], earlyTerminate: SuccessiveHalving?) {
        self.seed = seed; self.runCap = runCap; self.parameters = parameters; self.earlyTerminate = earlyTerminate
    }

    /// Run i's value of each parameter, in spec order. A drawn real is spelt as the Float `btviz train` reads it
    /// (`1.3128675e-5`, not the double's 17 digits): the text says what the run trains with, no more.
    public func sample(run i: Int) -> [(key: String, value: ParameterDistribution.Sample)] {
        parameters.map { p in
            var rng = ParameterDistribution.rng(seed: seed, run: i, key: SweepSpec.flagName(p.key))  // batch_size is batch-size
            var s = p.distribution.sample(&rng)
            if p.distribution.drawsReals, let x = s.number, Int(s.text) == nil, Float(x).isFinite {
                let f = Float(x)
                s = ParameterDistribution.Sample(text: SweepValue.canonical("\(f)"), number: Double(f))
            }
            return (p.key, s)
        }
    }

    /// The keys whose values differ between runs (what tables and plots show).
    public var sampledKeys: [String] { parameters.filter { $0.distribution.isSampled }.map(\.key) }

    /// `r007`: short, and the same whatever the run cap (three digits at least, more past r999).
    public static func runName(_ i: Int) -> String {
        let digits = String(i)
        return "r" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// The index of a run named by `runName`, or nil.
    public static func index(ofRun name: String) -> Int? {
        guard name.hasPrefix("r"), name.count >= 4, name.count <= 8 else { return nil }
        let digits = name.dropFirst()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let i = Int(digits), runName(i) == name else { return nil }
        return i
    }

    /// The ranking's direction for `metric`: true when `a` is better than `b`.
    public static func better(_ metric: SweepMetric) -> @Sendable (Double, Double) -> Bool {
        if metric.goal == .maximize { return { a, b in a > b } }
        return { a, b in a < b }
    }
}

extension ParameterDistribution {
    /// Draws real numbers (not a constant, a categorical value or an integer).
    var drawsReals: Bool {
        switch self {
        case .constant, .categorical, .intUniform: return false
        default: return true
        }
    }

    /// The values the spec wrote out (a constant's, a categorical's): train arguments like a grid's values, checked
    /// as those are.
    var texts: [String] {
        switch self {
        case .constant(let v): return [v]
        case .categorical(let values, _): return values
        default: return []
        }
    }
}

extension SearchProgress {
    /// A run's standing as `sweep status` and the board say it: "training to rung 2/3", "paused at rung 1/3",
    /// "stopped at rung 1/3" (once the search is over), "complete", "failed", "pending".
    public func standingText(_ view: SuccessiveHalving.RunView, searchOver: Bool) -> String {
        let n = rungs.count
        switch halving.standing(view, epochs: epochs) {
        case .pending: return "pending"
        case .training(let k): return "training to rung \(k + 1)/\(n)"
        case .interrupted(let k): return "interrupted before rung \(k + 1)/\(n)"
        case .paused(let k): return "\(searchOver ? "stopped" : "paused") at rung \(k + 1)/\(n)"
        case .complete: return "complete (rung \(n)/\(n))"
        case .failed: return "failed"
        }
    }

    /// The board's status column (11 characters): "to rung 2/3", "paused 1/3", "stopped 1/3", nil where the run's
    /// own state says it (pending, interrupted, done, failed).
    public func shortStanding(_ view: SuccessiveHalving.RunView, searchOver: Bool) -> String? {
        let n = rungs.count
        switch halving.standing(view, epochs: epochs) {
        case .training(let k): return "to rung \(k + 1)/\(n)"
        case .paused(let k): return "\(searchOver ? "stopped" : "paused") \(k + 1)/\(n)"
        case .pending, .interrupted, .complete, .failed: return nil
        }
    }

    /// Nothing left to train and nothing training: paused runs stay stopped.
    public func isOver(_ views: [SuccessiveHalving.RunView]) -> Bool {
        !views.contains { $0.busy } && halving.next(views, cap: search.runCap, epochs: epochs, better: better) == nil
    }

    /// "rungs at epoch 1, 3, 9 (eta 3)".
    public var rungSummary: String { "rungs at epoch \(rungs.map(String.init).joined(separator: ", ")) (eta \(halving.eta))" }
}
