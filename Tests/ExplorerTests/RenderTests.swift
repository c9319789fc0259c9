import Explorer
import Quantizers
import Records
import XCTest

final class RenderTests: XCTestCase {
    func testBTAt120x40ShowsMarkersLabelsLevelsAndTable() {
        let c = Fixture.render(Fixture.model(), 120, 40)
        let t = c.text
        // Header facts.
        XCTAssertTrue(t.contains("fashion-mnist"), t)
        XCTAssertTrue(t.contains("VGG-6(16)"))
        XCTAssertTrue(t.contains("BT"))
        XCTAssertTrue(t.contains("step 490/1000"))
        XCTAssertTrue(t.contains("ETA"))
        // Transition legend with values: a1=0.05, d1=0.66*0.02=0.0132.
        XCTAssertTrue(t.contains("±(a1−d1)=0.0368"), t)
        XCTAssertTrue(t.contains("±(a1+d1)=0.0632"), t)
        XCTAssertFalse(t.contains("┃ 0"), "BT's point 0 is no transition")
        // Labels under the markers.
        XCTAssertTrue(t.contains("-0.0632") && t.contains("+0.0368"), t)
        // Five levels with their occupancy.
        XCTAssertTrue(t.contains("levels"))
        XCTAssertTrue(t.contains("52.8%") || t.contains("53%"), t)
        XCTAssertTrue(t.contains("3.1%"))
        // Table: every layer, the flip fraction, sparklines.
        for n in Fixture.layerNames { XCTAssertTrue(t.contains(n), n) }
        XCTAssertTrue(t.contains("flip~"))
        XCTAssertTrue(t.contains("a1/a2/ao"))
        XCTAssertTrue(t.unicodeScalars.contains { (0x2581...0x2588).contains($0.value) })
        // Curves and key bar.
        XCTAssertTrue(t.contains("loss") && t.contains("accuracy"))
        XCTAssertTrue(t.contains("test 82%"), t)
        XCTAssertTrue(c.row(39).contains("quit"))
        // Both marker kinds are drawn in their own colours.
        XCTAssertFalse(c.positions(of: .markerInner).isEmpty)
        XCTAssertFalse(c.positions(of: .markerOuter).isEmpty)
    }

    func testMarkerColumnsSitAtTheTransitionsAndMoveWithTheScale() {
        func markerColumns(_ a1: Float) -> Set<Int> {
            let c = Fixture.render(Fixture.model(a1: a1), 120, 40)
            // Row 3 is inside the histogram bars, above the Gaussian's peak for the outer transitions.
            return Set(c.positions(of: .markerOuter).filter { $0.y == 3 }.map(\.x))
        }
        let at05 = markerColumns(0.05)
        XCTAssertEqual(at05.count, 2)
        // Histogram spans -0.2 ... 0.2 over 120 columns: -0.0632 -> col 41, +0.0632 -> col 78.
        XCTAssertEqual(at05, [41, 78])
        let at08 = markerColumns(0.08)
        XCTAssertNotEqual(at05, at08)
        XCTAssertTrue(at08.min()! < 41 && at08.max()! > 78)
    }

    func testZeroMarkerAtCenter() {
        let c = Fixture.render(Fixture.model(method: .bwn), 120, 40)
        let zero = Set(c.positions(of: .markerZero).filter { $0.y >= 3 && $0.y < 10 }.map(\.x))
        XCTAssertEqual(zero, [60])
    }

    /// Without colour the bar at a transition keeps its blocks (the pile a large λ gathers there is the point of
    /// the picture) and the marker runs above it; a full-height bar carries the marker in its top cell only.
    func testWithoutColourMarkersLeaveThePileVisible() {
        let mono = ExplorerOptions(ascii: false, noColor: true)
        let c = Fixture.render(Fixture.model(method: .bwn), 120, 40, options: mono)
        // Column 60 is BWN's 0 transition, at the histogram's peak.
        let bottomBarRow = 13
        XCTAssertEqual(c[60, bottomBarRow].ch, "█", "the pile under the transition stays visible")
        XCTAssertTrue((3...bottomBarRow).contains { c[60, $0].ch == "┃" }, "the transition is still marked in its column")
        let colour = Fixture.render(Fixture.model(method: .bwn), 120, 40)
        XCTAssertEqual(colour[60, bottomBarRow].ch, "█")
        XCTAssertEqual(colour[60, bottomBarRow].style, .markerZero)
    }

    func testTWNAndBWNLegends() {
        let twn = Fixture.render(Fixture.model(method: .twn), 120, 40).text
        XCTAssertTrue(twn.contains("±Δ=0.033"), twn)
        XCTAssertTrue(twn.contains("TWN"))
        XCTAssertTrue(twn.contains("48%"), twn)  // the zero level's share
        let bwn = Fixture.render(Fixture.model(method: .bwn), 120, 40).text
        XCTAssertTrue(bwn.contains("┃ 0"))
        XCTAssertFalse(bwn.contains("±"))
        let full = Fixture.render(Fixture.model(method: .full), 120, 40).text
        XCTAssertTrue(full.contains("full precision"))
    }

    func testTooSmall() {
        let c = Fixture.render(Fixture.model(), 60, 20)
        XCTAssertTrue(c.text.contains("enlarge the terminal (need 80x24, have 60x20)"), c.text)
        let tiny = Fixture.render(Fixture.model(), 20, 5)
        XCTAssertTrue(tiny.text.contains("enlarge"))
        XCTAssertTrue(Fixture.render(Fixture.model(), 79, 40).text.contains("have 79x40"))
    }

    func testMinimumAndLargeSizesDrawEverything() {
        for (w, h) in [(80, 24), (200, 60)] {
            let c = Fixture.render(Fixture.model(), w, h)
            let t = c.text
            XCTAssertFalse(t.contains("enlarge"))
            XCTAssertTrue(t.contains("conv6"), "\(w)x\(h)\n" + t)
            XCTAssertTrue(t.contains("±(a1+d1)"), "\(w)x\(h)\n" + t)
            XCTAssertTrue(t.contains("loss"))
            XCTAssertTrue(c.row(h - 1).contains("quit"))
        }
    }

    func testChangeEventsAreMarkedOnTheCurves() {
        let c = Fixture.render(Fixture.model(), 120, 40)
        XCTAssertFalse(c.positions(of: .event).isEmpty)
        let t = c.text
        XCTAssertTrue(t.contains("λ0.05"), t)
    }

    func testAsciiModeIsPlainASCII() {
        let c = Fixture.render(Fixture.model(), 120, 40, options: Fixture.ascii)
        let t = c.text
        XCTAssertTrue(t.unicodeScalars.allSatisfy { $0.isASCII }, t)
        XCTAssertTrue(t.contains("+-(a1-d1)=0.0368"), t)
        var help = ExplorerViewState(mode: .live); help.showHelp = true
        XCTAssertTrue(Fixture.render(Fixture.model(), 120, 40, view: help, options: Fixture.ascii).text.unicodeScalars.allSatisfy { $0.isASCII })
    }

    func testHelpOverlay() {
        var v = ExplorerViewState(mode: .live); v.showHelp = true
        let t = Fixture.render(Fixture.model(), 120, 40, view: v).text
        XCTAssertTrue(t.contains("press any key to close"))
        XCTAssertTrue(t.contains("pause / resume"))
    }

    func testStatusLines() {
        var m = Fixture.model()
        m.status.paused = true
        XCTAssertTrue(Fixture.render(m, 120, 40).text.contains("PAUSED"))
        m.status.paused = false
        m.status.end = .finished
        XCTAssertTrue(Fixture.render(m, 120, 40).text.contains("finished — press q to exit"))
        m.status.end = .failed("loss became NaN at step 123")
        XCTAssertTrue(Fixture.render(m, 120, 40).text.contains("failed: loss became NaN at step 123"))
        var v = ExplorerViewState(mode: .live); v.quitting = true
        var m2 = Fixture.model(); m2.status.end = nil
        XCTAssertTrue(Fixture.render(m2, 120, 40, view: v).text.contains("stopping"))
    }

    func testPendingRequestsShowUntilApplied() {
        var v = ExplorerViewState(mode: .live)
        v.requestedMethod = .twn
        v.requestedLambda = 0.2
        let t = Fixture.render(Fixture.model(), 120, 40, view: v).text
        XCTAssertTrue(t.contains("BT→TWN"), t)
        XCTAssertTrue(t.contains("→0.2"), t)
    }

    /// While paused the trainer takes a method or λ at once but trains no step with it: the header shows the last
    /// step's as in effect and the new ones as coming on resume; once training again, the status is in effect.
    func testPausedHeaderTellsInEffectFromRequested() {
        var m = Fixture.model()  // the last step: BT at λ 0.05
        m.status.paused = true
        m.status.method = "bwn"
        m.status.lambda = 0.3
        let paused = Fixture.render(m, 160, 40).text
        XCTAssertTrue(paused.contains("BT (BWN on resume)"), paused)
        XCTAssertTrue(paused.contains("λ 0.05 (0.3 on resume)"), paused)
        XCTAssertFalse(paused.contains("│ BWN │"), paused)

        // A request the trainer has not taken yet reads the same.
        var n = Fixture.model()
        n.status.paused = true
        n.status.method = "bt"
        n.status.lambda = 0.05
        var v = ExplorerViewState(mode: .live)
        v.requestedMethod = .twn
        v.requestedLambda = 0.1
        let asked = Fixture.render(n, 160, 40, view: v).text
        XCTAssertTrue(asked.contains("BT (TWN on resume)") && asked.contains("λ 0.05 (0.1 on resume)"), asked)

        m.status.paused = false
        let running = Fixture.render(m, 160, 40).text
        XCTAssertTrue(running.contains("BWN") && running.contains("λ 0.3"), running)
        XCTAssertFalse(running.contains("on resume"), running)
    }

    func testReplayCursorShowsThatStep() {
        var v = ExplorerViewState(mode: .replay)
        v.cursor = 2
        let c = Fixture.render(Fixture.model(), 120, 40, view: v)
        let t = c.text
        XCTAssertTrue(t.contains("btviz replay"))
        XCTAssertTrue(t.contains("step 20/1000"), t)
        XCTAssertTrue(t.contains("record 3/50"), t)
        XCTAssertTrue(t.contains("TWN"))  // before the switch to BT at step 200
        XCTAssertTrue(c.row(39).contains("live only"))
        // The cursor has its own glyph and style, not a change mark's.
        XCTAssertTrue(t.contains("▐") && t.contains("▼"))
        XCTAssertFalse(c.positions(of: .cursor).isEmpty)
    }

    func testReplayOfAnEndedRun() {
        var m = Fixture.model()
        m.ingest(.event(EventRecord(step: 490, epoch: 2, kind: .stop, message: "stopped")))
        let t = Fixture.render(m, 120, 40, view: ExplorerViewState(mode: .replay)).text
        XCTAssertTrue(t.contains("record 50/50 · run stopped at step 490"), t)
        XCTAssertTrue(t.contains("epoch 3/5"), t)  // records count epochs from 0
    }

    func testEmptyModelDoesNotCrash() {
        let m = RunModel(header: Fixture.header, stepCap: 10, method: "bt", lambda: 0.1)
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let t = Fixture.render(m, w, h).text
            XCTAssertTrue(t.contains("waiting for the first step record"), t)
        }
    }

    func testFewLayersManySizes() {
        // Sweep sizes for crashes and for the key bar staying on the last row.
        let m = Fixture.model(count: 3)
        for w in stride(from: 80, through: 240, by: 23) {
            for h in stride(from: 24, through: 80, by: 9) {
                let c = Fixture.render(m, w, h)
                XCTAssertTrue(c.row(h - 1).contains("quit"), "\(w)x\(h)")
            }
        }
    }

    /// Series stay apart without colour: ASCII draws task loss and λ·R (and train and test) with their own glyphs,
    /// the legend shows them, and change marks are '|', never a curve's glyph.
    func testSeriesDistinctWithoutColour() {
        let c = Fixture.render(Fixture.model(), 120, 40, options: Fixture.ascii)
        let t = c.text
        XCTAssertTrue(t.contains("* task") && t.contains("o lam*R"), t)
        XCTAssertTrue(t.contains("* train") && t.contains("o test"), t)
        let series1 = c.positions(of: .series1).map { c[$0.x, $0.y].ch }
        let series2 = c.positions(of: .series2).map { c[$0.x, $0.y].ch }
        XCTAssertTrue(series1.contains("*") && !series1.contains("o"))
        XCTAssertGreaterThan(series2.filter { $0 == "o" }.count, 10)  // (its legend "lam*R" holds the only '*')
        XCTAssertLessThanOrEqual(series2.filter { $0 == "*" }.count, 2)
        let odd = c.positions(of: .event).map { c[$0.x, $0.y].ch }.filter { !"|BTWNlam0.5".unicodeScalars.contains($0) }
        XCTAssertEqual(odd, [], "change marks and their labels only")
    }

    /// At 80x24 every legend entry survives (short forms), and change labels sit in their own row, not over a curve.
    func testLegendsFitAt80x24AndLabelsNeverCoverCurves() {
        let c = Fixture.render(Fixture.model(), 80, 24)
        let t = c.text
        XCTAssertTrue(t.contains("λR") && t.contains("te "), t)
        XCTAssertTrue(c.row(23).contains("quit"))
        // Every cell of a change label is in a row with no curve dots in the same panel columns.
        let labelCells = c.positions(of: .event).filter { c[$0.x, $0.y].ch.properties.isAlphabetic }
        for cell in labelCells { XCTAssertFalse((0x2801...0x28FF).contains(c[cell.x, cell.y].ch.value)) }
        XCTAssertFalse(labelCells.isEmpty)
    }

    /// A restoration run's MSE (about 1e-3) at λ 0: the loss axis labels are whole numbers in the plotted range, not
    /// cut to their first five characters (0.0012 read "0.001", 0.00045 read "0.000"), and the flat λ·R axis stays at
    /// or above zero. Linear and log axes.
    func testSmallLossesKeepTheirLabels() throws {
        var recs: [RunRecord] = []
        for i in 0..<40 {
            var s = Fixture.step(i * 10, lambda: 0)
            s.taskLoss = 0.0015 - Float(i) * 0.0000265  // 0.0015 down to 0.00047
            s.regLoss = 0
            recs.append(.step(s))
        }
        let model = RunModel(header: Fixture.header, records: recs)
        let loss = ExplorerLayout(width: 160, height: 50, layerCount: 6).loss
        for logAxis in [false, true] {
            var view = ExplorerViewState(mode: .live); view.logLoss = logAxis
            let c = Fixture.render(model, 160, 50, view: view)
            var left: [Float] = [], right: [Float] = []
            for y in loss.y + 2..<loss.maxY - 1 {
                let row = Array(c.row(y))
                let l = String(row[loss.x..<loss.x + 5]).trimmingCharacters(in: .whitespaces)
                let r = String(row[loss.maxX - 5..<loss.maxX]).trimmingCharacters(in: .whitespaces)
                if !l.isEmpty { left.append(try XCTUnwrap(Float(l), "left label '\(l)'")) }
                if !r.isEmpty { right.append(try XCTUnwrap(Float(r), "right label '\(r)'")) }
            }
            XCTAssertEqual(left.count, 3, c.text)
            for v in left { XCTAssertTrue((0.00046...0.00151).contains(v), "log \(logAxis): label \(v) outside the losses") }
            XCTAssertEqual(right.count, 3, c.text)
            XCTAssertTrue(right.allSatisfy { $0 >= 0 }, "λ·R axis below zero: \(right)")
        }
    }

    /// Smoothing changes the drawn curve and leaves the raw one faint behind; log-y relabels the loss axis.
    func testSmoothingAndLogAxis() {
        var raw = ExplorerViewState(mode: .live); raw.smoothing = 0
        var smooth = ExplorerViewState(mode: .live); smooth.smoothing = 0.9
        let a = Fixture.render(Fixture.model(), 200, 60, view: raw), b = Fixture.render(Fixture.model(), 200, 60, view: smooth)
        let loss = ExplorerLayout(width: 200, height: 60, layerCount: 6).loss
        func faintInLoss(_ c: Canvas) -> Int { c.positions(of: .faint).filter { $0.x >= loss.x && $0.x < loss.maxX && $0.y >= loss.y }.count }
        XCTAssertEqual(faintInLoss(a), 0)
        XCTAssertGreaterThan(faintInLoss(b), 0)
        XCTAssertTrue(b.text.contains("ema 0.9"), b.text)
        XCTAssertNotEqual(a.text, b.text)
        var log = smooth; log.logLoss = true
        XCTAssertTrue(Fixture.render(Fixture.model(), 200, 60, view: log).text.contains("loss (log)"))
    }

    /// The time-lapse: one shaded row per logged step, the transitions traced, the λ change marked on its row.
    func testTimeLapseShowsHistoryAndChanges() {
        var v = ExplorerViewState(mode: .live); v.timeLapse = true
        let c = Fixture.render(Fixture.model(), 120, 40, view: v)
        let t = c.text
        XCTAssertTrue(t.contains("time-lapse conv1"), t)
        XCTAssertTrue(t.contains("λ0.05"), "the λ change at step 300 is marked on its row")
        XCTAssertTrue(t.contains("dist/a over time"))
        XCTAssertTrue(t.unicodeScalars.contains("▓") || t.unicodeScalars.contains("█"))
        XCTAssertGreaterThan(c.positions(of: .markerInner).count, 20, "transitions traced row by row")
        XCTAssertEqual(timeRows(count: 5, height: 10), [0, 1, 2, 3, 4])
        let rows = timeRows(count: 50, height: 10)
        XCTAssertEqual(rows.count, 10); XCTAssertEqual(rows.first, 0); XCTAssertEqual(rows.last, 49)
    }

    /// The histogram's axis holds still: the same column for 0.1 whatever step a replay shows.
    func testHistogramAxisIsFixedAcrossRecords() {
        var early = ExplorerViewState(mode: .replay); early.cursor = 0
        let a = Fixture.render(Fixture.model(), 120, 40, view: early).text
        let b = Fixture.render(Fixture.model(), 120, 40, view: ExplorerViewState(mode: .replay)).text
        // The axis row's ends: the same labels at the same columns (the method, so its transitions, differs).
        func ends(_ s: String) -> [String] {
            guard let row = s.split(separator: "\n").first(where: { $0.hasPrefix("-0.") }) else { return [] }
            let words = row.split(separator: " ")
            return [String(words.first!), String(words.last!), "\(row.count)"]
        }
        XCTAssertEqual(ends(a), ["-0.200", "0.200", "120"])
        XCTAssertEqual(ends(a), ends(b))
    }

    /// All layers at once: `g` at any width, and beside the selected layer from 160 columns.
    func testGridOfAllLayers() {
        var v = ExplorerViewState(mode: .live); v.grid = true
        let t = Fixture.render(Fixture.model(), 120, 40, view: v).text
        XCTAssertTrue(t.contains("all layers"), t)
        for n in Fixture.layerNames { XCTAssertTrue(t.contains(n), n) }
        let wide = Fixture.render(Fixture.model(), 200, 60).text
        XCTAssertTrue(wide.contains("all layers") && wide.contains("weights conv1"), wide)
    }

    /// What-if: another method's transitions drawn faintly over the selected layer, with its levels and error.
    func testWhatIfOverlay() {
        var v = ExplorerViewState(mode: .live); v.whatIf = .twn
        let c = Fixture.render(Fixture.model(), 120, 40, view: v)
        let t = c.text
        XCTAssertTrue(t.contains("what-if TWN"), "title")
        XCTAssertTrue(t.contains("if TWN") && t.contains("err 0.440 (now 0.490)"), "row")
        if !t.contains("err 0.440") { print(t) }
        XCTAssertFalse(c.positions(of: .faint).isEmpty)
    }

    /// Replay A B: both runs named in the header, both histograms at the same step, both curves with their styles.
    func testTwoRunsSideBySide() {
        let a = Fixture.model(), b = Fixture.model(method: .twn)
        let c = ExplorerRenderer.render(model: a, view: ExplorerViewState(mode: .replay), width: 120, height: 40,
                                        options: Fixture.unicode, compare: ComparedRun(model: b, names: ["runA", "runB"]))
        let t = c.text
        XCTAssertTrue(t.contains("A ━ runA: BT") && t.contains("B ┅ runB: TWN"), t)
        XCTAssertTrue(t.contains("A BT weights conv1") && t.contains("B TWN weights conv1"), t)
        XCTAssertTrue(t.contains("task loss") && t.contains("test accuracy"), t)
        XCTAssertFalse(c.positions(of: .series2).isEmpty)
        // The table and the distance panel say whose they are, and B's flip share stands beside A's.
        XCTAssertTrue(t.contains("layers of A") && t.contains("A flip~") && t.contains("B flip~"), t)
        XCTAssertTrue(t.contains("A dist/a") && t.contains("B dist/a"), t)
    }
}

/// Text from a run's records is data: a control sequence in an event field is drawn escaped, never emitted.
final class HostileRecordRenderTests: XCTestCase {
    func testControlCharactersInEventsAreDrawnEscaped() {
        var model = Fixture.model()
        model.ingest(.event(EventRecord(step: 480, epoch: 2, kind: .method, from: "bt\u{1B}[2J", to: "bwn\u{1B}]0;owned\u{07}",
                                        message: "stop\u{1B}[31m\u{9B}")))
        let canvas = Fixture.render(model, 160, 48, view: ExplorerViewState(mode: .replay))
        let t = canvas.text
        XCTAssertFalse(t.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }, t)
        var c = Canvas(width: 20, height: 1)
        c.text(0, 0, "a\u{1B}[2Jb")
        XCTAssertEqual(c.row(0).trimmingCharacters(in: .whitespaces), "a\\x1B[2Jb")
    }
}

/// The issue's display cases: a burst of λ changes labelled by where it ended, and a what-if row that never drops
/// a level.
final class HonestLabelTests: XCTestCase {
    func testABurstOfLambdaChangesIsLabelledFirstToLast() {
        var model = Fixture.model(method: .twn)  // λ 0.1 → 0.05 at step 300, no method change
        let values = ["0.0003", "0.001", "0.003", "0.01", "0.03", "0.1"]
        for i in 1..<values.count {
            model.ingest(.event(EventRecord(step: 60 + 3 * i, epoch: 0, kind: .lambda, from: values[i - 1], to: values[i], message: "")))
        }
        let t = Fixture.render(model, 200, 60).text
        XCTAssertTrue(t.contains("λ0.0003→λ0.1 (5× 63–75)") || t.contains("λ3e-4→λ0.1 (5× 63–75)"), t)
        XCTAssertFalse(t.contains("λ0.001 "), "the burst's first value alone would mislabel it: \(t)")
        // Narrow plots merge whatever would overlap into one label: every change is still counted.
        let narrow = Fixture.render(model, 100, 40).text
        XCTAssertTrue(narrow.contains("(6× 63–300)"), narrow)
    }

    func testWhatIfRowShowsEveryLevelOrSaysHowManyAreHidden() {
        let base = Fixture.model(method: .twn)
        let bt = WhatIfFit(method: "bt", transitions: [-0.0843, -0.0281, 0.0281, 0.0843], levels: [-0.0562, -0.0281, 0, 0.0281, 0.0562],
                           levelCounts: [1100, 2400, 3300, 2200, 1000], quantError: 0.31)
        let steps: [RunRecord] = base.steps.map { s in
            var s = s
            s.layers = s.layers.map { var l = $0; l.whatIf = [bt]; return l }
            return .step(s)
        }
        let model = RunModel(header: Fixture.header, records: steps)
        for width in [200, 120, 100, 80] {
            var v = ExplorerViewState(mode: .live); v.whatIf = .bt
            let t = Fixture.render(model, width, 40, view: v).text
            guard let row = t.split(separator: "\n").first(where: { $0.contains("if BT") && !$0.contains("what-if") }) else { XCTFail("no what-if row at \(width)"); continue }
            let shown = ["11%", "24%", "33%", "22%", "10%"].filter { row.contains($0) }.count
            if shown < 5 {
                XCTAssertTrue(row.contains("+\(5 - shown)"), "at \(width) columns the row must say what it hides: \(row)")
            }
            if width >= 120 { XCTAssertEqual(shown, 5, "\(row)") }
        }
    }
}

/// `moved` at a method switch is the level set changing, not the weights (issue 24, 9).
final class SwitchStepTests: XCTestCase {
    func model(movedAtSwitch: Float) -> RunModel {
        let records: [RunRecord] = Fixture.model().steps.map { s in
            var s = s
            if s.step == 200 { s.layers = s.layers.map { var l = $0; l.flipRatio = movedAtSwitch; return l } }
            return .step(s)
        }
        return RunModel(header: Fixture.header, records: records)
    }

    func testTheSwitchStepIsMarkedAndLeftOutOfTheSparkline() {
        let m = model(movedAtSwitch: 0.861)
        let switchIndex = m.steps.firstIndex { $0.step == 200 }!
        XCTAssertTrue(m.isSwitchStep(switchIndex))
        let around = m.history(layer: 0, endingAt: switchIndex + 3, count: 8, markingSwitches: true, droppingSwitchSteps: true) { $0.flipRatio }
        XCTAssertFalse(around.contains(0.861), "\(around)")
        XCTAssertTrue(around.contains { $0.isNaN }, "the switch is still marked: \(around)")
        var v = ExplorerViewState(mode: .replay)
        v.cursor = switchIndex
        let t = Fixture.render(m, 160, 48, view: v).text
        XCTAssertTrue(t.contains("switch"), t)
        XCTAssertFalse(t.contains("86%"), "the level set's change is not shown as a share of weights that moved: \(t)")
    }
}

/// At 80x24 (the smallest common terminal) every key is listed, what-if has its row, notices leave the keys
/// alone, and the help overlay scrolls (issue 24's rough edges).
final class SmallTerminalTests: XCTestCase {
    func testEveryKeyAt80x24AndNoticesBesideThem() {
        for mode in [ExplorerMode.live, .replay] {
            var v = ExplorerViewState(mode: mode)
            v.notice = "what-if BWN on the same weights"
            let t = Fixture.render(Fixture.model(), 80, 24, view: v).text
            let keys = t.split(separator: "\n").last.map(String.init) ?? ""
            for k in ["q quit", " t ", " g ", " w ", "? help"] { XCTAssertTrue(keys.contains(k), "\(mode): \(k) missing from \(keys)") }
            if mode == .live { XCTAssertTrue(keys.contains(" d "), keys) }
            XCTAssertFalse(keys.contains("what-if BWN"), "the notice is not drawn over the keys: \(keys)")
            XCTAssertTrue(t.contains("what-if BWN on the same weights"), t)
        }
    }

    func testWhatIfHasItsRowAt80x24() {
        var v = ExplorerViewState(mode: .live)
        v.whatIf = .twn
        let t = Fixture.render(Fixture.model(), 80, 24, view: v).text
        XCTAssertTrue(t.contains(" if TWN "), t)
    }

    func testHelpScrollsWhenTallerThanTheScreen() {
        var v = ExplorerViewState(mode: .live)
        v.showHelp = true
        let top = Fixture.render(Fixture.model(), 80, 24, view: v).text
        XCTAssertTrue(top.contains("PgUp/PgDn scroll (lines 1-"), top)
        XCTAssertFalse(top.contains("press any key to close"), "the last line is below the fold")
        for _ in 0..<40 { _ = ExplorerController.handleHelp(.down, view: &v) }
        let bottom = Fixture.render(Fixture.model(), 80, 24, view: v).text
        XCTAssertTrue(bottom.contains("press any key to close"), bottom)
        XCTAssertTrue(ExplorerController.handleHelp(.char("x"), view: &v))
        XCTAssertFalse(v.showHelp)
    }
}

/// One column, one number of decimals (issue 24: `1.00/1.0` beside `1.0/1.00`, `1.00` beside `1.000`).
final class ColumnFormatTests: XCTestCase {
    func testAColumnSharesItsDecimals() {
        // TTQ's Wp near its start of 1.0: 1.003 printed "1.0" and 0.998 "1.00" at two significant digits.
        let records: [RunRecord] = Fixture.model(method: .ttq).steps.map { s in
            var s = s
            s.layers = s.layers.enumerated().map { i, l in
                var l = l
                l.scales["wp"] = i % 2 == 0 ? 1.003 : 0.998
                l.scales["wn"] = i % 2 == 0 ? 0.998 : 1.003
                return l
            }
            return .step(s)
        }
        let t = Fixture.render(RunModel(header: Fixture.header, records: records), 160, 48).text
        let rows = t.split(separator: "\n").filter { $0.hasPrefix(" conv") || $0.hasPrefix("▸conv") }
        let cells = rows.compactMap { $0.split(separator: " ").first { $0.contains("/") } }
        XCTAssertEqual(cells.count, 6, t)
        XCTAssertEqual(Set(cells), ["1.00/1.00"], "\(cells)")
    }
}
