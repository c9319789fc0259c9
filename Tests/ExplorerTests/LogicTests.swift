import Explorer
import Quantizers
import Records
import XCTest

final class LogicTests: XCTestCase {
    func testLiveKeys() {
        let k = { KeyMap.action(for: $0, mode: .live) }
        XCTAssertEqual(k(.char("1")), .method(.full))
        XCTAssertEqual(k(.char("2")), .method(.bwn))
        XCTAssertEqual(k(.char("3")), .method(.twn))
        XCTAssertEqual(k(.char("6")), .method(.bt))
        XCTAssertEqual(k(.char("m")), .cycleMethod)
        XCTAssertEqual(k(.char("+")), .lambdaUp)
        XCTAssertEqual(k(.char("-")), .lambdaDown)
        XCTAssertEqual(k(.char("0")), .lambdaZero)
        XCTAssertEqual(k(.left), .prevLayer)
        XCTAssertEqual(k(.right), .nextLayer)
        XCTAssertEqual(k(.tab), .nextLayer)
        XCTAssertEqual(k(.char(" ")), .togglePause)
        XCTAssertEqual(k(.char("s")), .save)
        XCTAssertEqual(k(.char("q")), .quit)
        XCTAssertEqual(k(.ctrlC), .quit)
        XCTAssertEqual(k(.char("?")), .help)
        XCTAssertEqual(k(.resize), .resize)
        XCTAssertNil(k(.char("x")))
    }

    func testReplayKeys() {
        let k = { KeyMap.action(for: $0, mode: .replay) }
        XCTAssertEqual(k(.left), .scrub(-1))
        XCTAssertEqual(k(.right), .scrub(1))
        XCTAssertEqual(k(.home), .jumpStart)
        XCTAssertEqual(k(.end), .jumpEnd)
        XCTAssertEqual(k(.tab), .nextLayer)
        XCTAssertEqual(k(.char("]")), .nextLayer)
        XCTAssertEqual(k(.char("[")), .prevLayer)
        XCTAssertEqual(k(.char("q")), .quit)
        XCTAssertEqual(k(.ctrlC), .quit)
        XCTAssertEqual(k(.char("4")), .unavailable("method"))
        XCTAssertEqual(k(.char("+")), .unavailable("λ"))
        XCTAssertEqual(k(.char(" ")), .togglePlay)
        XCTAssertEqual(k(.char("p")), .togglePlay)
        XCTAssertEqual(k(.char("s")), .unavailable("save"))
        XCTAssertEqual(k(.char("5")), .unavailable("method"))
    }

    func testViewKeysInBothModes() {
        for mode in [ExplorerMode.live, .replay] {
            let k = { KeyMap.action(for: $0, mode: mode) }
            XCTAssertEqual(k(.char("t")), .toggleTimeLapse)
            XCTAssertEqual(k(.char("g")), .toggleGrid)
            XCTAssertEqual(k(.char("w")), .cycleWhatIf)
            XCTAssertEqual(k(.char(",")), .smoothLess)
            XCTAssertEqual(k(.char(".")), .smoothMore)
            XCTAssertEqual(k(.char("l")), .toggleLogLoss)
        }
        // The number keys follow the registry: 1 full, 2 BWN, 3 TWN, 4 TTQ, 5 LQ, 6 BT, ...
        XCTAssertEqual(KeyMap.action(for: .char("4"), mode: .live), .method(.ttq))
        XCTAssertEqual(KeyMap.action(for: .char("5"), mode: .live), .method(.lq))
        XCTAssertEqual(MethodKeys.methods, QuantMethod.allCases)
    }

    /// Smoothing steps through TensorBoard-like stops and stays within them; what-if cycles past the shown method.
    func testSmoothingAndWhatIfCycles() {
        let m = Fixture.model()  // BT at the end
        var v = ExplorerViewState(mode: .live)
        XCTAssertEqual(v.smoothing, 0.6)
        _ = ExplorerController.handle(.smoothMore, view: &v, model: m)
        XCTAssertEqual(v.smoothing, 0.8)
        for _ in 0..<10 { _ = ExplorerController.handle(.smoothMore, view: &v, model: m) }
        XCTAssertEqual(v.smoothing, 0.99)
        for _ in 0..<10 { _ = ExplorerController.handle(.smoothLess, view: &v, model: m) }
        XCTAssertEqual(v.smoothing, 0)
        var seen: [QuantMethod?] = []
        for _ in 0..<6 { _ = ExplorerController.handle(.cycleWhatIf, view: &v, model: m); seen.append(v.whatIf) }
        XCTAssertEqual(seen, [.bwn, .twn, .ttq, .lq, .lsq, nil])
    }

    /// The mouse: a press on a layer's table row selects it; in replay a press or drag on a curve moves the time
    /// cursor to the step under it, and the wheel steps through records.
    func testMouseSelectsLayersAndScrubs() {
        let m = Fixture.model()
        let layout = ExplorerLayout(width: 120, height: 40, layerCount: 6)
        XCTAssertEqual(KeyMap.action(for: .mouse(x: 3, y: 7, kind: .press), mode: .live), .point(x: 3, y: 7))
        XCTAssertEqual(KeyMap.action(for: .mouse(x: 3, y: 7, kind: .wheelDown), mode: .replay), .wheel(1))
        var v = ExplorerViewState(mode: .live)
        v.screen = ScreenSize(width: 120, height: 40)
        _ = ExplorerController.handle(.point(x: 4, y: layout.table.y + 2 + 2), view: &v, model: m)
        XCTAssertEqual(v.layer, 2)
        // The rendered table agrees: conv3 is selected.
        XCTAssertTrue(Fixture.render(m, 120, 40, view: v).text.contains("▸conv3"))
        var r = ExplorerViewState(mode: .replay)
        r.screen = v.screen
        let area = layout.loss
        // The left edge of the loss plot is the first record, the right edge the last.
        _ = ExplorerController.handle(.point(x: area.x + 6, y: area.y + 4), view: &r, model: m)
        XCTAssertEqual(r.cursor, 0)
        _ = ExplorerController.handle(.point(x: area.maxX - 7, y: area.y + 4), view: &r, model: m)
        XCTAssertEqual(r.cursor, m.steps.count - 1)
        _ = ExplorerController.handle(.wheel(-1), view: &r, model: m)
        XCTAssertEqual(r.cursor, m.steps.count - 2)
        // Replay A B: the loss plot has no right axis (its area is 6 columns wider) and spans both runs' steps, so
        // with B (steps 0-990) twice as long as A (0-490), a quarter of the way is about step 247, not A's own 122.
        let b = Fixture.model(count: 100)
        var ab = ExplorerViewState(mode: .replay)
        ab.screen = v.screen
        _ = ExplorerController.handle(.point(x: area.maxX - 1, y: area.y + 4), view: &ab, model: m, compare: b)
        XCTAssertEqual(ab.cursor, m.steps.count - 1)
        let left = area.x + 6, right = area.maxX - 1, quarter = left + (right - left) / 4
        _ = ExplorerController.handle(.point(x: quarter, y: area.y + 4), view: &ab, model: m, compare: b)
        let step = Float(quarter - left) / Float(right - left) * 990
        XCTAssertEqual(ab.cursor, m.stepIndex(atOrBefore: Int(step.rounded())))
        XCTAssertNotEqual(ab.cursor, m.stepIndex(atOrBefore: Int((step / 2).rounded())))
    }

    /// After the run's end, live keys say so and leave nothing pending; a save is confirmed by its checkpoint event.
    func testFinishedRunRefusesLiveKeysAndSavesAreConfirmed() {
        var m = Fixture.model()
        var v = ExplorerViewState(mode: .live)
        XCTAssertEqual(ExplorerController.handle(.save, view: &v, model: m), [.save])
        XCTAssertFalse(ExplorerController.reconcile(&v, model: m))
        m.ingest(.event(EventRecord(step: 491, epoch: 2, kind: .checkpoint, message: "checkpoint saved at step 491")))
        XCTAssertTrue(ExplorerController.reconcile(&v, model: m))
        XCTAssertEqual(v.notice, "saved at step 491")
        m.ingest(.event(EventRecord(step: 500, epoch: 2, kind: .done, message: "finished")))
        for a in [ExplorerAction.method(.bwn), .lambdaUp, .togglePause, .save] {
            var w = ExplorerViewState(mode: .live)
            XCTAssertEqual(ExplorerController.handle(a, view: &w, model: m), [], "\(a)")
            XCTAssertNil(w.requestedMethod); XCTAssertNil(w.requestedLambda)
            XCTAssertEqual(w.notice, "run finished: q to exit")
        }
    }

    func testLambdaStep() {
        XCTAssertEqual(LambdaStep.up(0), 1e-4)
        XCTAssertEqual(LambdaStep.up(1e-4), 3e-4, accuracy: 1e-9)
        XCTAssertEqual(LambdaStep.up(3e-4), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(LambdaStep.up(0.1), 0.3, accuracy: 1e-7)
        XCTAssertEqual(LambdaStep.up(0.2), 0.3, accuracy: 1e-7)
        XCTAssertEqual(LambdaStep.up(30), 90, accuracy: 1e-4)
        XCTAssertEqual(LambdaStep.down(0.1), 0.03, accuracy: 1e-7)
        XCTAssertEqual(LambdaStep.down(0.02), 0.01, accuracy: 1e-7)
        XCTAssertEqual(LambdaStep.down(1e-4), 0)
        XCTAssertEqual(LambdaStep.down(1.5e-4), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(LambdaStep.down(0), 0)
        // Two presses from 0 reach the default λ (3e-4).
        XCTAssertEqual(LambdaStep.up(LambdaStep.up(0)), QuantMethod.bt.definition.defaultLambda, accuracy: 1e-9)
        XCTAssertEqual(LambdaStep.up(.nan), 1e-4)
        // The ladder's values print as the decimals they stand for (events and configs carry them as text).
        XCTAssertEqual("\(LambdaStep.up(1e-4))", "0.0003")
        XCTAssertEqual("\(LambdaStep.up(0.01))", "0.03")
        XCTAssertEqual(LambdaStep.down(-1), 0)
    }

    func testControllerAccumulatesLambdaAndMethodUntilApplied() {
        var m = Fixture.model()
        m.status.lambda = 0
        m.status.method = "bt"
        var v = ExplorerViewState(mode: .live)
        XCTAssertEqual(ExplorerController.handle(.lambdaUp, view: &v, model: m), [.requestLambda(LambdaStep.ladder[0])])
        XCTAssertEqual(ExplorerController.handle(.lambdaUp, view: &v, model: m), [.requestLambda(LambdaStep.ladder[1])])
        XCTAssertEqual(ExplorerController.handle(.lambdaDown, view: &v, model: m), [.requestLambda(LambdaStep.ladder[0])])
        XCTAssertEqual(ExplorerController.handle(.lambdaZero, view: &v, model: m), [.requestLambda(0)])
        XCTAssertEqual(ExplorerController.handle(.cycleMethod, view: &v, model: m), [.requestMethod(.lsq)])
        XCTAssertEqual(ExplorerController.handle(.cycleMethod, view: &v, model: m), [.requestMethod(.full)])
        XCTAssertEqual(ExplorerController.handle(.method(.twn), view: &v, model: m), [.requestMethod(.twn)])
        XCTAssertEqual(ExplorerController.handle(.togglePause, view: &v, model: m), [.togglePause])
        XCTAssertEqual(ExplorerController.handle(.save, view: &v, model: m), [.save])
        var status = m.status
        status.lambda = 0; status.method = "TWN"
        ExplorerController.reconcile(&v, status: status)
        XCTAssertNil(v.requestedLambda)
        XCTAssertNil(v.requestedMethod)
    }

    /// A method switch keeps the λ in effect (or the one requested), and the notice says so, with the new method's
    /// default when it differs.
    func testMethodSwitchSaysWhichLambdaItKeeps() {
        var m = Fixture.model()
        m.status.method = "bt"
        m.status.lambda = 3e-4
        var v = ExplorerViewState(mode: .live)
        XCTAssertEqual(ExplorerController.handle(.method(.bwn), view: &v, model: m), [.requestMethod(.bwn)])
        XCTAssertEqual(v.notice, "method BWN requested; λ stays 0.0003 (BWN's default is 0.0001: + - 0 change it)")
        // λ requested but not yet applied is the one kept; at TWN's own default nothing more is said.
        _ = ExplorerController.handle(.lambdaUp, view: &v, model: m)
        XCTAssertEqual(ExplorerController.handle(.cycleMethod, view: &v, model: m), [.requestMethod(.twn)])
        XCTAssertEqual(v.notice, "method TWN requested; λ stays 0.001 (TWN's default is 0.0003: + - 0 change it)")
        _ = ExplorerController.handle(.lambdaZero, view: &v, model: m)
        _ = ExplorerController.handle(.method(.ttq), view: &v, model: m)
        XCTAssertEqual(v.notice, "method TTQ requested; λ stays 0")
        var w = ExplorerViewState(mode: .live)
        _ = ExplorerController.handle(.method(.twn), view: &w, model: m)
        XCTAssertEqual(w.notice, "method TWN requested; λ stays 0.0003")
    }

    func testControllerLayersAndScrubbing() {
        let m = Fixture.model()
        var v = ExplorerViewState(mode: .replay)
        _ = ExplorerController.handle(.prevLayer, view: &v, model: m)
        XCTAssertEqual(v.layer, 5)
        _ = ExplorerController.handle(.nextLayer, view: &v, model: m)
        XCTAssertEqual(v.layer, 0)
        XCTAssertEqual(v.stepIndex(in: m), 49)
        _ = ExplorerController.handle(.scrub(-1), view: &v, model: m)
        XCTAssertEqual(v.cursor, 48)
        _ = ExplorerController.handle(.jumpStart, view: &v, model: m)
        XCTAssertEqual(v.cursor, 0)
        _ = ExplorerController.handle(.scrub(-1), view: &v, model: m)
        XCTAssertEqual(v.cursor, 0)
        _ = ExplorerController.handle(.scrubFraction(0.05), view: &v, model: m)
        XCTAssertEqual(v.cursor, 3)
        _ = ExplorerController.handle(.jumpEnd, view: &v, model: m)
        XCTAssertNil(v.cursor)
        XCTAssertEqual(ExplorerController.handle(.method(.bt), view: &v, model: m), [])
        XCTAssertEqual(ExplorerController.handle(.unavailable("save"), view: &v, model: m), [])
        XCTAssertNotNil(v.notice)
    }

    func testRunModelIngest() {
        var m = RunModel(header: Fixture.header, stepCap: 10)
        for s in 0..<40 { m.ingest(.step(Fixture.step(s))) }
        XCTAssertLessThanOrEqual(m.steps.count, 10 + 16)
        XCTAssertEqual(m.points.count, 40)
        XCTAssertEqual(m.latest?.step, 39)
        // A resumed run restarts at its checkpoint: later records replace the old tail.
        m.ingest(.step(Fixture.step(30)))
        XCTAssertEqual(m.points.count, 31)
        XCTAssertEqual(m.latest?.step, 30)
        m.ingest(.event(EventRecord(step: 30, epoch: 1, kind: .pause, message: "")))
        XCTAssertTrue(m.status.paused)
        m.ingest(.event(EventRecord(step: 30, epoch: 1, kind: .done, message: "")))
        XCTAssertEqual(m.status.end, .finished)
        XCTAssertEqual(m.history(layer: 0, endingAt: m.steps.count - 1, count: 5) { $0.flipFraction }.count, 5)
        XCTAssertEqual(m.stepIndex(atOrBefore: 25).map { m.steps[$0].step }, 25)
    }

    func testRecordsRoundTripThroughMetricsFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-explorer-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("metrics.jsonl").path
        let lines = (0..<5).map { RunRecordCoding.encode(.step(Fixture.step($0 * 10))) }.joined(separator: "\n") + "\n"
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        let m = RunModel(header: Fixture.header, records: try RunRecordCoding.read(path: path).records)
        XCTAssertEqual(m.steps.count, 5)
        XCTAssertTrue(Fixture.render(m, 120, 40).text.contains("±(a1+d1)"))
        try? FileManager.default.removeItem(at: dir)
    }

    func testTerminalChecks() {
        XCTAssertFalse(Terminal.termIsUsable(nil))
        XCTAssertFalse(Terminal.termIsUsable(""))
        XCTAssertFalse(Terminal.termIsUsable("dumb"))
        XCTAssertFalse(Terminal.termIsUsable("no-such-terminal-btviz"))
        XCTAssertTrue(Terminal.termIsUsable("xterm") || Terminal.termIsUsable("vt100"))
        XCTAssertFalse(Terminal.canRunExplorer(environment: ["TERM": "dumb"]))
        XCTAssertFalse(Terminal.canRunExplorer(environment: [:]))
    }

    func testSparkline() {
        let g = Glyphs(ascii: false)
        XCTAssertEqual(g.sparkline([0, 1, 2, 3, 4, 5, 6, 7], width: 8), "▁▂▃▄▅▆▇█")
        XCTAssertEqual(g.sparkline([1, 2, 3], width: 2), "▁█")
        XCTAssertEqual(g.sparkline([], width: 4), "")
    }
}

/// In a replay of a run that switched method, what-if offers every method but the one at the cursor's step.
final class WhatIfAtCursorTests: XCTestCase {
    func testTheCycleLeavesOutTheMethodShownNotTheRunsLast() {
        let m = Fixture.model()  // TWN until step 200, then BT
        var v = ExplorerViewState(mode: .replay)
        v.cursor = 5  // step 50: TWN
        var seen: [QuantMethod?] = []
        for _ in 0..<8 { _ = ExplorerController.handle(.cycleWhatIf, view: &v, model: m); seen.append(v.whatIf) }
        XCTAssertTrue(seen.contains(.bt), "\(seen)")
        XCTAssertFalse(seen.contains(.twn), "\(seen)")
    }
}
