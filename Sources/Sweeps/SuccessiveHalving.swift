/// W&B's `early_terminate: {type: hyperband, min_iter, eta}`, run as asynchronous successive halving (ASHA, Li et al.
/// 2020): every run starts with its whole budget of epochs (so its learning-rate schedule is the uninterrupted one)
/// and pauses at the rungs min_iter, min_iter·eta, …; a paused run is promoted (resumed to the next rung) once it is
/// in the top 1/eta of the runs that reached its rung so far, so no worker waits for a rung to fill. Resume is
/// exact, so a promoted run's figures are those of a run never paused.
///
/// The decision is a pure function of what the runs' records say (`RunView`): the launchers ask `next` whenever a
/// worker is free, and a sweep stopped and run again decides from the same records.
public struct SuccessiveHalving: Codable, Equatable, Sendable {
    /// Epochs of the first rung.
    public var minIter: Int
    /// Each rung keeps the top 1/eta of the runs that reach it, and is eta times as long as the one before.
    public var eta: Int

    enum CodingKeys: String, CodingKey { case minIter = "min_iter", eta }

    public init(minIter: Int, eta: Int) { self.minIter = minIter; self.eta = eta }

    /// The rungs' epochs for a budget of `epochs`: min_iter·eta^k below the budget, then the budget itself.
    public func rungs(epochs: Int) -> [Int] {
        guard minIter >= 1, eta >= 2 else { return [epochs] }  // the spec's bounds; never a loop that cannot end
        var out: [Int] = [], r = minIter
        while r < epochs {
            out.append(r)
            let (next, overflow) = r.multipliedReportingOverflow(by: eta)
            if overflow { break }
            r = next
        }
        return out + [epochs]
    }

    /// One run as the scheduler sees it.
    public struct RunView: Equatable, Sendable {
        /// Its index in the search (r007 is 7).
        public var index: Int
        /// Epochs done (its last epoch record's epoch + 1).
        public var epochs: Int
        /// The ranking figure at each rung it reached, in rung order.
        public var rungFigures: [Double]
        /// Trained right now (by this launcher or another process).
        public var busy: Bool
        /// Failed: never promoted, never resumed.
        public var failed: Bool

        public init(index: Int, epochs: Int, rungFigures: [Double], busy: Bool = false, failed: Bool = false) {
            self.index = index; self.epochs = epochs; self.rungFigures = rungFigures; self.busy = busy; self.failed = failed
        }
    }

    public enum Decision: Equatable, Sendable {
        /// Train run `index` until `toEpoch` epochs are done: a new run to the first rung, an interrupted one to the
        /// rung it was training for, or a promotion to the next rung.
        case train(index: Int, toEpoch: Int, why: Why)
    }

    public enum Why: String, Equatable, Sendable {
        case start, resume, promote
    }

    /// What a worker that just became free should do, or nil (wait for a busy run, or the search is over when
    /// none is busy). `cap`: the runs the search may start (run_cap); `better(a, b)`: a ranks above b.
    /// Order: finish what was interrupted, then promote (from the highest rung down, the best first), then start
    /// the lowest-numbered run not yet started.
    public func next(_ runs: [RunView], cap: Int, epochs: Int, better: (Double, Double) -> Bool) -> Decision? {
        let rungs = rungs(epochs: epochs)
        let idle = runs.filter { !$0.busy && !$0.failed }
        // Interrupted inside a rung (Ctrl-C, a node lost): resumed to the rung it was training for.
        if let r = idle.filter({ $0.epochs > 0 && $0.epochs < epochs && !rungs.contains($0.epochs) }).min(by: { $0.index < $1.index }),
           let to = rungs.first(where: { $0 > r.epochs }) {
            return .train(index: r.index, toEpoch: to, why: .resume)
        }
        for k in stride(from: rungs.count - 2, through: 0, by: -1) {
            if let r = promotable(runs, rung: k, rungs: rungs, better: better) {
                return .train(index: r, toEpoch: rungs[k + 1], why: .promote)
            }
        }
        let started = Set(runs.filter { $0.busy || $0.epochs > 0 || $0.failed }.map(\.index))
        if let i = (0..<cap).first(where: { !started.contains($0) }) {
            return .train(index: i, toEpoch: rungs[0], why: .start)
        }
        return nil
    }

    /// The best run paused at rung `k` that is in the top 1/eta of all runs that reached it, or nil.
    func promotable(_ runs: [RunView], rung k: Int, rungs: [Int], better: (Double, Double) -> Bool) -> Int? {
        let reached = ranked(runs, rung: k, better: better)
        for r in reached.prefix(reached.count / eta) where !r.busy && !r.failed && r.epochs == rungs[k] {
            return r.index
        }
        return nil
    }

    /// The runs that reached rung `k`, best first (ties: the lower index first, so the order is the same on every
    /// machine).
    public func ranked(_ runs: [RunView], rung k: Int, better: (Double, Double) -> Bool) -> [RunView] {
        runs.filter { $0.rungFigures.count > k }.sorted { a, b in
            let x = a.rungFigures[k], y = b.rungFigures[k]
            if better(x, y) { return true }
            if better(y, x) { return false }
            return a.index < b.index
        }
    }

    /// Where a run stands in the search.
    public enum Standing: Equatable, Sendable {
        case pending
        /// Trained now, towards rung `toRung` (0-based).
        case training(toRung: Int)
        /// Stopped inside a rung (a signal, a lost node): the next `sweep run` resumes it to `toRung`.
        case interrupted(toRung: Int)
        /// At a rung, not (yet) in its top 1/eta; once the search is over it stays stopped there.
        case paused(rung: Int)
        /// At the last rung: trained its whole budget.
        case complete
        case failed
    }

    /// Each run's standing, for `sweep status`, the table and the board. A run paused at a rung while the search can
    /// still go on is `paused`; once `next` returns nil and nothing is busy it is stopped for good.
    public func standing(_ r: RunView, epochs: Int) -> Standing {
        let rungs = rungs(epochs: epochs)
        if r.failed { return .failed }
        if r.busy { return .training(toRung: rungs.firstIndex { $0 > r.epochs } ?? rungs.count - 1) }
        if r.epochs >= epochs { return .complete }
        if r.epochs == 0 { return .pending }
        if let k = rungs.firstIndex(of: r.epochs) { return .paused(rung: k) }
        return .interrupted(toRung: rungs.firstIndex { $0 > r.epochs } ?? rungs.count - 1)
    }
}
