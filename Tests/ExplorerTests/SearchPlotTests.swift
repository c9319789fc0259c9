import Explorer
import Foundation
import Records
import Sweeps
import XCTest

/// `sweep watch`'s search plot (`p`): the points it draws, where they land, its keys.
final class SearchPlotTests: XCTestCase {
    typealias Point = SearchPlotView.Point
    typealias Rung = SearchPlotData.Rung

    func point(_ name: String, _ x: String, _ rungs: [(Int, Double)], group: Int = 0, selected: Bool = false) -> Point {
        Point(name: name, x: x, rungs: rungs.map { Rung(epoch: $0.0, figure: $0.1) }, group: group, selected: selected)
    }

    func draw(_ v: SearchPlotView, ascii: Bool = false) -> Canvas {
        var c = Canvas(width: 40, height: 10)
        SweepRenderer.drawSearchPlot(&c, Rect(x: 0, y: 0, w: 40, h: 10), v, Glyphs(ascii: ascii))
        return c
    }

    /// Three runs on a 40x10 panel, λ on a log axis. y: accuracies 50, 55, 60, 80 % span 30, a quarter of it rounds
    /// up to steps of 10, so the axis is 50..80 over the 7 data rows: row = (80 - y) / 30 * 6 (80 → 0, 60 → 4,
    /// 55 → 5 (4.99), 50 → 6). y labels are 2 wide: the axis in column 3, the data in columns 4..37 (34 wide).
    /// x: log10 of 1e-5, 0.001, 0.01 is -5, -3, -2: the axis runs over whole decades -5..-2, column
    /// = (log10 λ + 5) / 3 * 33 → 0, 22, 33, i.e. screen columns 4, 26, 37; ticks at 0, 11, 22, 33.
    func testMarkersLandOnTheirRungsOnALogAxisWithDecadeTicks() {
        let v = SearchPlotView(key: "lambda", axis: .log, metric: .accuracy, rungEpochs: [1, 3],
                               points: [point("r000", "1e-5", [(1, 0.50)]),
                                        point("r001", "0.001", [(1, 0.60), (3, 0.80)]),
                                        point("r002", "0.01", [(1, 0.55)], selected: true)])
        let c = draw(v)
        // Each run at each rung it reached, the marker its rung's digit; the selected run in the cursor's style.
        XCTAssertEqual(c[4, 6], Cell("1", .series1))
        XCTAssertEqual(c[26, 4], Cell("1", .series1))
        XCTAssertEqual(c[26, 0], Cell("2", .series1))
        XCTAssertEqual(c[37, 5], Cell("1", .cursor))
        let markers = (0..<7).flatMap { y in (4..<38).compactMap { x in c[x, y].ch == " " ? nil : "\(x),\(y)" } }
        XCTAssertEqual(markers, ["26,0", "26,4", "37,5", "4,6"], c.text)
        // y: labels right-aligned before the axis, ┤ at each.
        XCTAssertEqual(c.row(0).prefix(4), "80 ┤")
        XCTAssertEqual(c.row(2).prefix(4), "70 ┤")
        XCTAssertEqual(c.row(4).prefix(4), "60 ┤")
        XCTAssertEqual(c.row(6).prefix(4), "50 ┤")
        XCTAssertEqual(c.row(1).prefix(4), "   │")
        // x: the axis with a ┬ at each decade, the decades' labels centred under them, the title below.
        XCTAssertEqual(c.row(7), "   └" + "┬" + String(repeating: "─", count: 10) + "┬" + String(repeating: "─", count: 10) + "┬"
                       + String(repeating: "─", count: 10) + "┬  ")
        XCTAssertEqual(c.row(8), "  1e-5       1e-4       1e-3       1e-2 ")
        XCTAssertEqual(c.row(9), "            lambda (log scale)          ")
        // ASCII: the same cells, plain characters.
        let a = draw(v, ascii: true)
        XCTAssertEqual(a.row(7).prefix(6), "   ++-")
        XCTAssertEqual(a.row(0).prefix(4), "80 +")
        XCTAssertEqual(a[26, 0].ch, "2")
    }

    /// A linear axis and a category axis. Linear: k of 4, 8, 16; a quarter of the span 12 rounds up to steps of 5,
    /// so 0..20. Without rungs each run is one ● at its last epoch. One figure (a loss of 0.4321): a tenth of it
    /// rounds up to steps of 0.05, so 0.40..0.45, and (0.45 - 0.4321) / 0.05 * 6 = 2.1 → row 2. The labels are 4
    /// wide, so the data is columns 6..37 (32 wide): column = k / 20 * 31 → 6.2, 12.4, 24.8 → 6, 12, 25, ticks at
    /// i / 4 * 31 → 0, 8 (7.75), 16 (15.5), 23, 31.
    func testLinearAndCategoryAxesSpreadTheValues() {
        let pts = [point("a", "4", [(9, 0.4321)]), point("b", "8", [(9, 0.4321)]), point("c", "16", [(9, 0.4321)], group: 1)]
        let v = SearchPlotView(key: "k", axis: .linear, metric: .loss, rungEpochs: [], groups: ["bwn", "twn"], points: pts)
        let c = draw(v)
        XCTAssertEqual(c.row(0).prefix(6), "0.45 ┤")
        XCTAssertEqual(c.row(6).prefix(6), "0.40 ┤")
        XCTAssertEqual(c[6 + 6, 2], Cell("●", .series1))
        XCTAssertEqual(c[6 + 12, 2], Cell("●", .series1))
        XCTAssertEqual(c[6 + 25, 2], Cell("●", .series2), "the second group's colour")
        XCTAssertEqual(c.row(8), "      0       5      10     15      20  ")
        XCTAssertEqual(c.row(9).trimmingCharacters(in: .whitespaces), "k", "no (log scale) on a linear axis")

        // Categories: 3 over 34 columns, each in the middle of its third, (2i + 1) * 34 / 6 → 5, 17, 28; 60 and 80 %
        // on steps of 5.
        let cats = SearchPlotView(key: "method", axis: .categories(["bt", "bwn", "twn"]), metric: .accuracy, rungEpochs: [1],
                                  points: [point("a", "twn", [(1, 0.6)]), point("b", "bt", [(1, 0.8)])])
        let d = draw(cats)
        XCTAssertEqual(d[4 + 28, 6].ch, "1")
        XCTAssertEqual(d[4 + 5, 0].ch, "1")
        XCTAssertEqual(d.row(8), "        bt          bwn        twn      ")
    }

    /// Values no axis can hold: λ of ±1e308 at once (their span is not a Double) and a figure that is not a number.
    /// The plot places what it can and never traps.
    func testValuesNoAxisHoldsAreSpreadAsCategoriesOrLeftOut() {
        var data = SearchPlotData(keys: ["lambda"], runs: [
            .init(row: 0, name: "a", values: ["1e308"], rungs: [Rung(epoch: 1, figure: 0.5)]),
            .init(row: 1, name: "b", values: ["-1e308"], rungs: [Rung(epoch: 1, figure: 0.7)]),
        ])
        let v = SearchPlotView(data, key: "lambda", metric: .accuracy, selected: 0)
        XCTAssertEqual(v.axis, .categories(["-1e308", "1e308"]))
        // Two categories over 34 columns from 4: centres (2i + 1) * 34 / 4 → 8, 25, so the labels start at 4 + 8 - 3
        // and 4 + 25 - 2.
        XCTAssertEqual(draw(v).row(8), String(repeating: " ", count: 9) + "-1e308" + String(repeating: " ", count: 12) + "1e308"
                       + String(repeating: " ", count: 8))
        // Drawn as numbers anyway: no ticks and no markers, no trap.
        let linear = SearchPlotView(key: "lambda", axis: .linear, metric: .accuracy, rungEpochs: [1], points: v.points)
        let c = draw(linear)
        XCTAssertFalse((0..<7).contains { y in (4..<38).contains { c[$0, y].ch == "1" } }, c.text)
        data.runs[1].rungs = [Rung(epoch: 1, figure: .nan)]
        let nan = draw(SearchPlotView(data, key: "lambda", metric: .accuracy, selected: 0))
        XCTAssertEqual(nan.positions(of: .cursor).count, 1, "the run with a figure is drawn, the NaN left out: \(nan.text)")
    }

    /// A search of 3 runs with rungs at epochs 1, 3, 9 (min_iter 1, eta 3): r000 stopped after epoch 1, r001 went on
    /// to epoch 4, r002 has not finished an epoch. What the plot draws: r000 at rung 1, r001 at rungs 1 and 2.
    static func searchBoard() throws -> SweepBoard {
        let plan = try SweepPlan.decode(Data(#"""
            {"version":1,"name":"lambda-search","varying":["lambda"],
             "parameters":[{"key":"method","values":["bwn"]},{"key":"lambda","values":["2e-5","0.003","0.05"]}],
             "search":{"seed":0,"run_cap":3,"epochs":9,"early_terminate":{"min_iter":1,"eta":3},"parameters":[
               {"key":"method","distribution":{"distribution":"constant","value":"bwn"}},
               {"key":"lambda","distribution":{"distribution":"log_uniform_values","min":1e-5,"max":0.1}}]},
             "runs":[{"name":"r000","options":{"method":"bwn","lambda":"2e-5"},"args":[]},
                     {"name":"r001","options":{"method":"bwn","lambda":"0.003"},"args":[]},
                     {"name":"r002","options":{"method":"bwn","lambda":"0.05"},"args":[]}]}
            """#.utf8), path: "sweep.json")
        func epochs(_ accuracies: [Float]) -> RunDigest {
            RunDigest(records: accuracies.enumerated().map { e, a in
                .epoch(EpochRecord(epoch: e, step: 10 * (e + 1), method: "bwn", trainMetric: a, trainLoss: 0.5, testMetric: a,
                                   testLoss: 0.6, seconds: 1))
            })
        }
        let rows = [SweepRunRow(name: "r000", values: ["2e-5"], state: .interrupted, digest: epochs([0.5])),
                    SweepRunRow(name: "r001", values: ["0.003"], state: .running(holder: "pid 1"),
                                digest: epochs([0.6, 0.7, 0.8, 0.82])),
                    SweepRunRow(name: "r002", values: ["0.05"], state: .notStarted)]
        var board = SweepBoard(name: plan.name, varying: plan.varying, rows: rows)
        board.plot = SearchPlotData(plan: plan, rows: rows, loss: false)
        return board
    }

    func testTheDataIsEachRunAtTheRungsItReachedWithLogKeysFromTheDistributions() throws {
        let data = try Self.searchBoard().plot
        XCTAssertEqual(data.keys, ["lambda"], "the sampled parameters; a constant is not one")
        XCTAssertEqual(data.logKeys, ["lambda"])
        XCTAssertEqual(data.defaultKey, "lambda")
        XCTAssertEqual(data.rungEpochs, [1, 3, 9])
        XCTAssertNil(data.groupKey, "one method: one colour")
        XCTAssertEqual(data.runs, [
            .init(row: 0, name: "r000", values: ["2e-5"], rungs: [Rung(epoch: 1, figure: 0.5)]),
            .init(row: 1, name: "r001", values: ["0.003"], rungs: [Rung(epoch: 1, figure: 0.6), Rung(epoch: 3, figure: 0.8)]),
        ])
        let v = SearchPlotView(data, key: "lambda", metric: .accuracy, selected: 1)
        XCTAssertEqual(v.axis, .log)
        XCTAssertEqual(v.points.map(\.selected), [false, true])
        XCTAssertEqual(v.points.map(\.x), ["2e-5", "0.003"])
    }

    func testPlotScreenAt80x24SaysWhatItDrawsAndNamesTheSelectedRun() throws {
        let board = try Self.searchBoard()
        var view = SweepViewState()
        view.screen = .plot
        view.selected = 1
        let c = SweepRenderer.renderSearchPlot(board, view: view, width: 80, height: 24, options: Fixture.unicode)
        XCTAssertEqual(c.row(0).replacingTrailingSpaces(),
                       "btviz sweep watch │ lambda-search │ test accuracy (%) against lambda")
        XCTAssertEqual(c.row(1), "1 rung 1 (1 ep) · 2 rung 2 (3 ep) · 3 rung 3 (9 ep)" + String(repeating: " ", count: 12)
                       + "2 of 3 runs drawn", "a run is drawn after its first epoch")
        XCTAssertEqual(c.row(22).replacingTrailingSpaces(),
                       "▸ r001  lambda=0.003  rung 1: 60.0%  rung 2: 80.0%  running")
        XCTAssertTrue(c.row(23).hasPrefix("q quit  ↑↓ run  x next parameter  p the board"), c.row(23))
        XCTAssertTrue(c.text.contains("1e-5") && c.text.contains("1e-2") && c.text.contains("lambda (log scale)"), c.text)
        XCTAssertEqual(c.positions(of: .cursor).count, 2, "the selected run's two rungs")
        // Not started: named, with why it is not drawn.
        view.selected = 2
        let d = SweepRenderer.renderSearchPlot(board, view: view, width: 80, height: 24, options: Fixture.unicode)
        XCTAssertEqual(d.row(22).replacingTrailingSpaces(), "▸ r002  lambda=0.05  no epoch finished yet  pending")
        // No run has finished an epoch: one line, no frame.
        var empty = board
        empty.plot.runs = []
        let e = SweepRenderer.renderSearchPlot(empty, view: view, width: 80, height: 24, options: Fixture.unicode)
        XCTAssertTrue(e.text.contains("no run has finished an epoch yet"), e.text)
        XCTAssertFalse(e.text.contains("log scale") || e.text.contains("┤"), e.text)
    }

    func testPlotKeysSwitchScreensCycleTheParameterAndMoveTheSelection() {
        var board = SweepBoardTests.table1Board()
        board.plot = SearchPlotData(keys: ["method", "seed"], runs: [])
        var view = SweepViewState()
        XCTAssertEqual(SweepKeyMap.action(for: .char("p"), screen: .board), .plot)
        XCTAssertEqual(SweepKeyMap.action(for: .char("x"), screen: .board), nil)
        SweepController.handle(.plot, view: &view, board: board)
        XCTAssertEqual(view.screen, .plot)
        XCTAssertEqual(view.plotted(in: board), "method")
        XCTAssertEqual(SweepKeyMap.action(for: .char("x"), screen: .plot), .nextParameter)
        XCTAssertEqual(SweepKeyMap.action(for: .escape, screen: .plot), .back)
        XCTAssertEqual(SweepKeyMap.action(for: .char("q"), screen: .plot), .quit)
        XCTAssertNil(SweepKeyMap.action(for: .char("m"), screen: .plot))
        SweepController.handle(.nextParameter, view: &view, board: board)
        XCTAssertEqual(view.plotted(in: board), "seed")
        SweepController.handle(.nextParameter, view: &view, board: board)
        XCTAssertEqual(view.plotted(in: board), "method", "round again")
        SweepController.handle(.prevParameter, view: &view, board: board)
        XCTAssertEqual(view.plotted(in: board), "seed")
        SweepController.handle(.down, view: &view, board: board)
        XCTAssertEqual(view.selected, 1, "the board's selection moves here too")
        SweepController.handle(.plot, view: &view, board: board)
        XCTAssertEqual(view.screen, .board)
        XCTAssertEqual(view.selected, 1, "and is kept")
        SweepController.handle(.plot, view: &view, board: board)
        SweepController.handle(.back, view: &view, board: board)
        XCTAssertEqual(view.screen, .board)
    }
}

