import XCTest
import Sweeps

/// Asynchronous successive halving's decisions, worked by hand (Li et al. 2020, Algorithm 2: get_job).
final class SuccessiveHalvingTests: XCTestCase {
    let higher: (Double, Double) -> Bool = { $0 > $1 }

    func testRungsAreMinIterTimesEtaPowersThenTheBudget() {
        XCTAssertEqual(SuccessiveHalving(minIter: 1, eta: 3).rungs(epochs: 9), [1, 3, 9])
        XCTAssertEqual(SuccessiveHalving(minIter: 1, eta: 3).rungs(epochs: 10), [1, 3, 9, 10])
        XCTAssertEqual(SuccessiveHalving(minIter: 2, eta: 2).rungs(epochs: 8), [2, 4, 8])
        XCTAssertEqual(SuccessiveHalving(minIter: 5, eta: 4).rungs(epochs: 6), [5, 6])
        // No overflow past Int.max: the rungs stop below the budget.
        XCTAssertEqual(SuccessiveHalving(minIter: 1 << 61, eta: 1000).rungs(epochs: Int.max), [1 << 61, Int.max])
    }

    /// 4 runs, eta 2, rungs 1, 2, 4; run i scores s[i] at every epoch. One worker, each decision carried out before
    /// the next is asked: start 0, start 1, promote 1 (top 1 of 2 at rung 1), start 2, start 3, promote 2 (now top 2
    /// of 4 at rung 1: runs 1 and 2), promote 1 to the last rung (top 1 of 2 at rung 2, the higher rung first), end.
    func testOneWorkerHandWorked() {
        let scores = [0.1, 0.4, 0.3, 0.2]
        let sh = SuccessiveHalving(minIter: 1, eta: 2)
        var runs: [SuccessiveHalving.RunView] = []
        var decisions: [String] = []
        while let d = sh.next(runs, cap: 4, epochs: 4, better: higher) {
            guard case .train(let i, let to, let why) = d else { return XCTFail() }
            decisions.append("\(why.rawValue) \(i) to \(to)")
            if let j = runs.firstIndex(where: { $0.index == i }) { runs[j].epochs = to } else { runs.append(.init(index: i, epochs: to, rungFigures: [])) }
            let j = runs.firstIndex { $0.index == i }!
            runs[j].rungFigures = sh.rungs(epochs: 4).filter { $0 <= to }.map { _ in scores[i] }
            XCTAssertLessThan(decisions.count, 20, "the search must end")
            if decisions.count >= 20 { break }
        }
        XCTAssertEqual(decisions, ["start 0 to 1", "start 1 to 1", "promote 1 to 2", "start 2 to 1", "start 3 to 1",
                                   "promote 2 to 2", "promote 1 to 4"])
        XCTAssertEqual(runs.reduce(0) { $0 + $1.epochs }, 8, "8 of the 16 epochs a grid of the 4 runs trains")
    }

    func testAnInterruptedRunIsFinishedFirstAndARunnerUpPromotedOnlyWhenInTheTop() {
        let sh = SuccessiveHalving(minIter: 1, eta: 3)
        // Run 4 stopped at epoch 2, inside rung 2 (1 < 2 < 3): resumed to 3 before anything else.
        var runs: [SuccessiveHalving.RunView] = (0..<5).map { .init(index: $0, epochs: 1, rungFigures: [Double($0)]) }
        runs[4] = .init(index: 4, epochs: 2, rungFigures: [4])
        XCTAssertEqual(sh.next(runs, cap: 5, epochs: 9, better: higher), .train(index: 4, toEpoch: 3, why: .resume))
        // Once it is at 3: 5 runs reached rung 1, the top 1 (5/3) is run 4, already past it; nobody is promotable,
        // so a new run starts.
        runs[4].epochs = 3; runs[4].rungFigures = [4, 4]
        XCTAssertEqual(sh.next(runs, cap: 6, epochs: 9, better: higher), .train(index: 5, toEpoch: 1, why: .start))
        // A sixth run at rung 1 makes the top 2: run 3 (score 3) is promoted.
        runs.append(.init(index: 5, epochs: 1, rungFigures: [0.5]))
        XCTAssertEqual(sh.next(runs, cap: 6, epochs: 9, better: higher), .train(index: 3, toEpoch: 3, why: .promote))
        // The cap reached and nothing promotable: the search waits (or is over).
        runs[3].busy = true
        XCTAssertNil(sh.next(runs, cap: 6, epochs: 9, better: higher))
    }

    func testHigherRungsFirstLowerIsBetterForALossAndFailedRunsAreOut() {
        let sh = SuccessiveHalving(minIter: 1, eta: 3)
        let lower: (Double, Double) -> Bool = { $0 < $1 }
        // Three runs reached rung 2 (epoch 3), run 2 with the lowest loss: promoted to the last rung before rung 1's
        // promotable run 5 (top 2 of 6 by loss: runs 5 and 2), since higher rungs come first.
        var runs: [SuccessiveHalving.RunView] = [
            .init(index: 0, epochs: 3, rungFigures: [0.9, 0.8]), .init(index: 1, epochs: 3, rungFigures: [0.7, 0.6]),
            .init(index: 2, epochs: 3, rungFigures: [0.5, 0.2]), .init(index: 3, epochs: 1, rungFigures: [1.9]),
            .init(index: 4, epochs: 1, rungFigures: [1.5]), .init(index: 5, epochs: 1, rungFigures: [0.1]),
        ]
        XCTAssertEqual(sh.next(runs, cap: 6, epochs: 9, better: lower), .train(index: 2, toEpoch: 9, why: .promote))
        runs[2].busy = true
        // Rung 1's top 2 by loss: run 5 (0.1) and run 2 (0.5): run 5 is promoted.
        XCTAssertEqual(sh.next(runs, cap: 6, epochs: 9, better: lower), .train(index: 5, toEpoch: 3, why: .promote))
        // A failed run is neither promoted nor resumed.
        runs[5].failed = true
        XCTAssertNil(sh.next(runs, cap: 6, epochs: 9, better: lower))
    }

    func testTiesRankByRunIndexSoEveryMachineDecidesAlike() {
        let sh = SuccessiveHalving(minIter: 1, eta: 2)
        let runs: [SuccessiveHalving.RunView] = [
            .init(index: 3, epochs: 1, rungFigures: [0.5]), .init(index: 1, epochs: 1, rungFigures: [0.5]),
        ]
        XCTAssertEqual(sh.ranked(runs, rung: 0, better: higher).map(\.index), [1, 3])
        XCTAssertEqual(sh.next(runs, cap: 4, epochs: 4, better: higher), .train(index: 1, toEpoch: 2, why: .promote))
    }

    func testStanding() {
        let sh = SuccessiveHalving(minIter: 1, eta: 3)
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 0, rungFigures: []), epochs: 9), .pending)
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 3, rungFigures: [1, 1]), epochs: 9), .paused(rung: 1))
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 2, rungFigures: [1]), epochs: 9), .interrupted(toRung: 1))
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 3, rungFigures: [1, 1], busy: true), epochs: 9), .training(toRung: 2))
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 9, rungFigures: [1, 1, 1]), epochs: 9), .complete)
        XCTAssertEqual(sh.standing(.init(index: 0, epochs: 1, rungFigures: [1], failed: true), epochs: 9), .failed)
    }
}
