/// What a plot of a sweep's runs draws, decided in one place for `sweep plot`'s figure and `sweep watch`'s search
/// plot: the options the x axis can show, which of them lie on a log axis, and the rungs a run is drawn at.
public struct SweepPlotScheme: Sendable, Equatable {
    /// The options x can show, in spec order: a search's sampled parameters, a grid's varying options.
    public let keys: [String]
    /// The parameters whose distribution is logarithmic (log_uniform_values, ...): drawn on a log axis.
    public let logKeys: Set<String>
    /// A successive-halving search's rungs (as epochs done); nil otherwise, where a run has one point: its last epoch.
    public let rungEpochs: [Int]?

    public init(plan: SweepPlan) {
        guard let search = plan.search else {
            keys = plan.varying; logKeys = []; rungEpochs = nil
            return
        }
        keys = search.sampledKeys
        logKeys = Set(search.parameters.filter { $0.distribution.isLog }.map(\.key))
        rungEpochs = search.earlyTerminate.flatMap { h in search.epochs.map { h.rungs(epochs: $0) } }
    }

    /// How many rungs a run can reach (1 without successive halving).
    public var rungCount: Int { rungEpochs?.count ?? 1 }

    /// A run's points: its figure at each rung it reached, in rung order, from its figure after each epoch (keyed by
    /// epochs done, as `EpochFigures` reads them) and its epochs done. None before its first epoch.
    public func rungs(figures: [Int: Double], epochsDone done: Int) -> [(epoch: Int, figure: Double)] {
        guard done > 0 else { return [] }
        let epochs = rungEpochs.map { $0.filter { $0 <= done } } ?? [done]
        return epochs.compactMap { e in figures[e].map { (epoch: e, figure: $0) } }
    }
}
