import Explorer
import Foundation
import Quantizers
import Sweeps
import Records
import XCTest

/// `sweep watch`: the board, the side-by-side view and the folder reader, rendered and read back as text.
final class SweepBoardTests: XCTestCase {
    static let methods: [QuantMethod] = [.full, .bwn, .twn, .ttq, .lq, .bt]

    /// A run's records: a step record every 10 steps up to `upTo`, an epoch record every 200 steps (test metric
    /// 0.78 + step/10,000, 12 s each), and a done event when it reached `total`.
    static func records(_ method: QuantMethod, upTo: Int, total: Int = 1000, flip: Float = 0.031) -> [RunRecord] {
        var out: [RunRecord] = [.event(EventRecord(step: 0, epoch: 0, kind: .start, message: ""))]
        for s in stride(from: 0, through: upTo, by: 10) {
            var rec = Fixture.step(s, method: method)
            rec.totalSteps = total
            rec.etaS = Float(total - s) * 0.1
            for i in rec.layers.indices { rec.layers[i].flipFraction = flip + Float(s) / 100_000 }
            out.append(.step(rec))
            if s > 0 && s % 200 == 0 {
                out.append(.epoch(EpochRecord(epoch: s / 200 - 1, step: s, method: method.rawValue, trainMetric: 0.8, trainLoss: 0.5,
                                              testMetric: 0.78 + Float(s) / 10_000, testLoss: 0.6, seconds: 12)))
            }
        }
        if upTo >= total { out.append(.event(EventRecord(step: total, epoch: 4, kind: .done, message: ""))) }
        return out
    }

    /// Table 1's block: 6 methods x 3 seeds, in every state a sweep can show.
    static func table1Board() -> SweepBoard {
        var rows: [SweepRunRow] = []
        for m in methods {
            for seed in 0..<3 {
                let name = "method=\(m.rawValue),seed=\(seed)"
                let state: SweepRunRow.State
                var upTo = 1000
                switch (m, seed) {
                case (.bt, 1): state = .running(holder: "btviz train (pid 4242 on node7, since 2026-12-06 10:00:00 UTC)"); upTo = 500
                case (.bt, 2): state = .notStarted; upTo = -1
                case (.lq, 2): state = .interrupted; upTo = 300
                case (.ttq, 2): state = .failed(reason: "btviz: /data/fashion/train-images-idx3-ubyte.gz is damaged: bad gzip header"); upTo = 40
                default: state = .done
                }
                rows.append(SweepRunRow(name: name, values: [m.rawValue, "\(seed)"], state: state,
                                        digest: upTo < 0 ? RunDigest() : RunDigest(records: records(m, upTo: upTo))))
            }
        }
        return SweepBoard(name: "table1-fashion", varying: ["method", "seed"], rows: rows)
    }

    func render(_ b: SweepBoard, _ w: Int, _ h: Int, view: SweepViewState = SweepViewState(),
                options: ExplorerOptions = Fixture.unicode) -> Canvas {
        SweepRenderer.renderBoard(b, view: view, width: w, height: h, options: options)
    }

    func line(_ c: Canvas, containing s: String) -> String? { c.text.split(separator: "\n").map(String.init).first { $0.contains(s) } }

    /// A spec's `metric: {name: test_loss}`: the board's test column is the loss (0.6 in every epoch record here).
    func testASweepJudgedByItsLossShowsTheLoss() throws {
        var b = Self.table1Board()
        b.showsLoss = true
        let c = render(b, 120, 30)
        XCTAssertNotNil(line(c, containing: "test loss"), c.text)
        let bwn = try XCTUnwrap(line(c, containing: "bwn"), c.text)
        XCTAssertTrue(bwn.contains("0.6000"), bwn)
        XCTAssertFalse(bwn.contains("88.0"), bwn)  // the accuracy (0.78 + 1000/10,000) is not shown
        XCTAssertNil(line(render(Self.table1Board(), 120, 30), containing: "test loss"))
    }

    func testBoardAt80x24ShowsEveryRunWithItsStatusProgressMetricAndFlipShare() throws {
        let b = Self.table1Board()
        let c = render(b, 80, 24)
        let t = c.text
        XCTAssertEqual(c.width, 80)
        // Header: the sweep, the count per state, the grid's ETA.
        XCTAssertTrue(t.contains("table1-fashion"), t)
        // Progress: (14 done + 0.5 + 0.3 interrupted + 0.04 failed) / 18 = 82%; ETA: the running run's 50 s, then
        // 0.7 and 1 run at the done runs' 60 s each, one at a time: 50 + 42 + 60 = 152 s.
        XCTAssertTrue(c.row(0).contains("table1-fashion │ 18 runs │ 82% │ ETA 2m32s"), c.row(0))
        XCTAssertEqual(c.row(1).replacingOccurrences(of: " ", with: ""), "14done·1running·1interrupted·1failed·1pending")
        // Column titles: the varying options, then the figures.
        let titles = try XCTUnwrap(line(c, containing: "status"))
        for k in ["method", "seed", "status", "progress", "ETA", "test acc", "flip share"] { XCTAssertTrue(titles.contains(k), titles) }
        // All 18 runs fit at 80x24.
        for m in Self.methods { XCTAssertEqual(t.split(separator: "\n").filter { $0.dropFirst(2).hasPrefix(m.rawValue + " ") }.count, 3, m.rawValue + "\n" + t) }
        // A done run: a full bar, its last test accuracy (0.78 + 1000/10,000 = 88.0%) and flip share (0.031 + 0.01 = 4.1%).
        let done = try XCTUnwrap(line(c, containing: "bwn    0"))
        XCTAssertTrue(done.contains("done") && done.contains("100%") && done.contains("88.0%") && done.contains("4.1%"), done)
        // The running one: half way (step 500 of 1000), the ETA of its last step record (500 x 0.1 s), sparklines.
        let running = try XCTUnwrap(line(c, containing: "bt     1"))
        XCTAssertTrue(running.contains("running") && running.contains(" 50%") && running.contains("50s") && running.contains("82.0%"), running)
        XCTAssertTrue(running.unicodeScalars.contains { (0x2581...0x2588).contains($0.value) }, "sparklines: \(running)")
        // Full precision has nothing to flip: a dash, not 0%.
        let full = try XCTUnwrap(line(c, containing: "full   0"))
        XCTAssertTrue(full.contains("—") && !full.contains("0.0%"), full)
        // Failed, with its one-line reason where the figures would be; pending with none.
        let failed = try XCTUnwrap(line(c, containing: "ttq    2"))
        XCTAssertTrue(failed.contains("failed") && failed.contains("btviz: /data/fashion/train-images-idx3"), failed)
        XCTAssertFalse(c.positions(of: .bad).isEmpty)
        let pending = try XCTUnwrap(line(c, containing: "bt     2"))
        XCTAssertTrue(pending.hasSuffix("pending"), pending)
        XCTAssertTrue(try XCTUnwrap(line(c, containing: "lq     2")).contains("interrupted"))
        // The footer: what the ETA rests on, the selected run, the keys.
        XCTAssertTrue(c.row(21).hasPrefix("grid ETA: 1 running + 2 to do at 1m00s/run (mean of 14 done), 1 at a time"), c.row(21))
        XCTAssertTrue(c.row(22).hasPrefix("method=full,seed=0: done"), c.row(22))
        XCTAssertTrue(c.row(23).contains("Enter") && c.row(23).contains("side by side"), c.row(23))
    }

    func testSelectingAFailedRunShowsItsReasonInFullAndTheBoardScrollsToIt() throws {
        var b = Self.table1Board()
        // 40 runs: more than 18 rows fit, so the board scrolls to keep the selection in view.
        b.rows += (0..<22).map { SweepRunRow(name: "method=bt,seed=\($0 + 3)", values: ["bt", "\($0 + 3)"], state: .notStarted) }
        var view = SweepViewState()
        view.selected = 11  // ttq, seed 2
        var c = render(b, 80, 24, view: view)
        XCTAssertTrue(c.row(22).contains("method=ttq,seed=2: failed — btviz: /data/fashion/train"), c.row(22))
        XCTAssertTrue(try XCTUnwrap(line(c, containing: "▸")).contains("ttq    2"))
        view.selected = 39
        c = render(b, 80, 24, view: view)
        XCTAssertTrue(try XCTUnwrap(line(c, containing: "▸")).contains("bt     24"), c.text)
        XCTAssertFalse(c.text.contains("full   0"), "scrolled past the first rows")
    }

    func testWiderBoardGivesTheBarsAndSparklinesTheRoom() throws {
        let b = Self.table1Board()
        func sparkCells(_ c: Canvas) -> Int { c.text.unicodeScalars.filter { (0x2581...0x2588).contains($0.value) }.count }
        let narrow = render(b, 80, 24), wide = render(b, 160, 40)
        XCTAssertGreaterThan(sparkCells(wide), sparkCells(narrow) * 2)
        XCTAssertEqual(wide.row(39).isEmpty, false)
        // Under 80x24: the notice instead of a garbled board.
        XCTAssertTrue(render(b, 60, 20).text.contains("enlarge the terminal"))
    }

    func testASCIIAndNoColorBoardsAreReadableWithoutUnicodeOrColour() throws {
        let c = render(Self.table1Board(), 80, 24, options: ExplorerOptions(ascii: true, noColor: true))
        XCTAssertTrue(c.text.unicodeScalars.allSatisfy(\.isASCII), c.text)
        XCTAssertTrue(c.text.contains("> full   0"), c.text)
        // The states are words, not colours.
        for w in ["done", "running", "failed", "pending", "interrupted"] { XCTAssertTrue(c.text.contains(w), w) }
    }

    /// Hand-worked: 2 done runs of 60 s and 90 s (mean 75 s), one running with 20 s left, one interrupted at 40%,
    /// two not started, one failed (not waited for): (20 + 0.6 x 75 + 2 x 75) / 1 running = 215 s.
    func testGridETAIsTheWorkLeftSharedAmongTheRunningRuns() {
        func digest(epochSeconds: [Float], step: Int? = nil, eta: Float? = nil) -> RunDigest {
            var recs: [RunRecord] = epochSeconds.enumerated().map { i, s in
                .epoch(EpochRecord(epoch: i, step: (i + 1) * 100, method: "bt", trainMetric: 0.5, trainLoss: 1, testMetric: 0.5, testLoss: 1, seconds: s))
            }
            if let step {
                var r = Fixture.step(step); r.totalSteps = 1000; r.etaS = eta ?? -1
                recs.append(.step(r))
            }
            return RunDigest(records: recs)
        }
        var rows = [
            SweepRunRow(name: "a", values: [], state: .done, digest: digest(epochSeconds: [30, 30])),
            SweepRunRow(name: "b", values: [], state: .done, digest: digest(epochSeconds: [40, 50])),
            SweepRunRow(name: "c", values: [], state: .running(holder: "pid 1"), digest: digest(epochSeconds: [], step: 500, eta: 20)),
            SweepRunRow(name: "d", values: [], state: .interrupted, digest: digest(epochSeconds: [], step: 400)),
            SweepRunRow(name: "e", values: [], state: .notStarted),
            SweepRunRow(name: "f", values: [], state: .notStarted),
            SweepRunRow(name: "g", values: [], state: .failed(reason: "x")),
        ]
        var eta = SweepBoard(name: "s", varying: [], rows: rows).eta
        XCTAssertEqual(eta.seconds ?? -1, 215, accuracy: 1e-3)
        XCTAssertEqual(eta.basis, "1 running + 3 to do at 1m15s/run (mean of 2 done), 1 at a time")
        // Two running at once halve it: (20 + 20 + 45 + 75) / 2 = 80 s.
        rows[4] = SweepRunRow(name: "e", values: [], state: .running(holder: "pid 2"), digest: digest(epochSeconds: [], step: 500, eta: 20))
        eta = SweepBoard(name: "s", varying: [], rows: rows).eta
        XCTAssertEqual(eta.seconds ?? -1, 80, accuracy: 1e-3)
        // Nothing running: no figure, and why.
        rows[2].state = .interrupted; rows[4] = SweepRunRow(name: "e", values: [], state: .notStarted)
        eta = SweepBoard(name: "s", varying: [], rows: rows).eta
        XCTAssertNil(eta.seconds)
        XCTAssertTrue(eta.basis.hasPrefix("no run is running: 4 left"), eta.basis)
        // The progress bar: (1 + 1 + 0.5 + 0.4 + 0 + 0 + 0) / 7.
        XCTAssertEqual(SweepBoard(name: "s", varying: [], rows: rows).progress, 2.9 / 7, accuracy: 1e-5)
    }

    /// The flip share is over weights: layers of 2,304 and 4,608 weights flipping 10% and 40% give
    /// (230.4 + 1843.2) / 6912 = 30%, not the layers' mean 25%; a resumed run's repeated records replace the old.
    func testDigestWeighsFlipsByWeightsAndReplacesRecordsAfterAResume() {
        var r = Fixture.step(10)
        r.layers = [Fixture.layer("conv1", method: .bt, flip: 0.1), Fixture.layer("conv2", method: .bt, flip: 0.4)]
        r.layers[1].shape = [32, 16, 3, 3]
        var d = RunDigest(records: [.step(r)])
        XCTAssertEqual(d.flipShares.last ?? 0, 0.3, accuracy: 1e-6)
        // Steps 0...100, then a resume from step 50: the records from 50 on are replaced, not appended (step 0's
        // record, before any training, is no flip share: FlipShare).
        d = RunDigest(records: Self.records(.bt, upTo: 100))
        XCTAssertEqual(d.flipShares.count, 10)
        d.ingest(Array(Self.records(.bt, upTo: 60).dropFirst(6)))  // steps 50, 60
        XCTAssertEqual(d.flipShares.count, 6)
        XCTAssertEqual(d.flipShare, d.flipShares.last)
        XCTAssertEqual(d.step, 60)
        d = RunDigest(records: Self.records(.bt, upTo: 600))
        XCTAssertEqual(d.testMetrics.count, 3)
        d.ingest(Self.records(.bt, upTo: 400).filter { if case .epoch = $0 { return true } else { return false } })
        XCTAssertEqual(d.testMetrics.count, 2, "epochs 0 and 1 again replace epochs 0, 1 and 2")
    }

    /// m on bt,seed=1: conv4 under every method at seed 1, side by side at one step on one axis.
    func testSmallMultiplesShowOneLayerForEveryRunOfTheRowGroupAtTheSameStep() throws {
        let b = Self.table1Board()
        var models: [String: RunModel] = [:]
        for r in b.rows where r.state != .notStarted {
            models[r.name] = RunModel(header: Fixture.header, records: Self.records(QuantMethod(recorded: r.values[0])!,
                                                                                     upTo: r.digest.step ?? 0))
        }
        var view = SweepViewState()
        view.selected = 16  // bt, seed 1
        SweepController.handle(.multiples, view: &view, board: b)
        XCTAssertEqual(view.screen, .multiples)
        XCTAssertEqual(view.group(in: b), [1, 4, 7, 10, 13, 16], "every method at seed 1")
        for _ in 0..<3 { SweepController.handle(.nextLayer, view: &view, board: b, layerCount: 6) }
        view.step = 300
        let c = SweepRenderer.renderMultiples(b, view: view, models: models, width: 120, height: 40, options: Fixture.unicode)
        let t = c.text
        XCTAssertTrue(c.row(0).contains("side by side: method at seed=1"), c.row(0))
        XCTAssertTrue(c.row(1).contains("conv4 [4/6]") && c.row(1).contains("step 300/1000"), c.row(1))
        for m in Self.methods { XCTAssertTrue(t.contains("─ \(m.rawValue) ─ step 300"), m.rawValue + "\n" + t) }
        // Each method's own transitions: BWN's 0, TWN's ±Δ, BT's outer pair; full precision has none.
        XCTAssertFalse(c.positions(of: .markerZero).filter { $0.y > 2 }.isEmpty)
        XCTAssertFalse(c.positions(of: .markerOuter).isEmpty)
        XCTAssertTrue(t.contains("full precision"), t)
        // Following (no step chosen): the newest step all six reached, the running BT run's 500.
        view.step = nil
        let following = SweepRenderer.renderMultiples(b, view: view, models: models, width: 120, height: 40, options: Fixture.unicode)
        XCTAssertTrue(following.row(1).contains("step 500/1000") && following.row(1).contains("following"), following.row(1))
        // At 80x24 the six panels are 3 x 2, each still with its run and step.
        let small = SweepRenderer.renderMultiples(b, view: view, models: models, width: 80, height: 24, options: Fixture.unicode)
        XCTAssertEqual(small.text.components(separatedBy: "─ step 500").count - 1, 6, small.text)
        // c compares another option: the seeds of BT; the not-started seed says so.
        SweepController.handle(.cycleCompared, view: &view, board: b)
        XCTAssertEqual(view.group(in: b), [15, 16, 17])
        let seeds = SweepRenderer.renderMultiples(b, view: view, models: models, width: 120, height: 40, options: Fixture.unicode)
        XCTAssertTrue(seeds.row(0).contains("side by side: seed at method=bt"), seeds.row(0))
        XCTAssertTrue(seeds.text.contains("pending, no step record"), seeds.text)
    }

    /// On Slurm: a task waiting in the queue is pending with squeue's reason, one requeued says so with its restarts,
    /// as `sweep status` words them (SlurmQueue.merge); once a task holds the run, the folder's holder stands.
    func testSlurmQueueStatesOnTheBoard() throws {
        let waiting = SweepRunRow.State(.notStarted, slurm: SlurmTask(job: "77_2", state: "PENDING", reason: "Priority", restarts: 0))
        XCTAssertEqual(waiting, .queued("Slurm job 77_2 waits: Priority"))
        let requeued = SweepRunRow.State(.interrupted, slurm: SlurmTask(job: "77_1", state: "PENDING", reason: "BeginTime", restarts: 1))
        XCTAssertEqual(requeued, .requeued("Slurm job 77_1 waits: BeginTime (restart 1)"))
        let running = SweepRunRow.State(.running(holder: "btviz train (pid 9 on node1, Slurm job 77_0)"),
                                        slurm: SlurmTask(job: "77_0", state: "RUNNING", reason: nil, restarts: 1))
        XCTAssertEqual(running, .running(holder: "btviz train (pid 9 on node1, Slurm job 77_0), requeued 1x"))
        XCTAssertEqual(SweepRunRow.State(.done, slurm: SlurmTask(job: "77_3", state: "COMPLETING", reason: nil, restarts: 0)), .done)
        let rows = [SweepRunRow(name: "method=bt", values: ["bt"], state: running, digest: RunDigest(records: Self.records(.bt, upTo: 300))),
                    SweepRunRow(name: "method=bwn", values: ["bwn"], state: requeued, digest: RunDigest(records: Self.records(.bwn, upTo: 100))),
                    SweepRunRow(name: "method=twn", values: ["twn"], state: waiting)]
        var view = SweepViewState()
        view.selected = 1
        let c = render(SweepBoard(name: "slurm", varying: ["method"], rows: rows), 80, 24, view: view)
        XCTAssertEqual(c.row(1).trimmingCharacters(in: .whitespaces), "1 running · 1 requeued · 1 pending")
        XCTAssertTrue(try XCTUnwrap(line(c, containing: "bwn")).contains("requeued"))
        XCTAssertTrue(try XCTUnwrap(line(c, containing: "twn")).contains("pending"))
        XCTAssertTrue(c.row(22).hasPrefix("method=bwn: requeued — Slurm job 77_1 waits: BeginTime (restart 1)"), c.row(22))
    }

    func testBoardKeysSelectOpenAndStep() {
        let b = Self.table1Board()
        var view = SweepViewState()
        XCTAssertEqual(SweepKeyMap.action(for: .enter, screen: .board), .open)
        XCTAssertEqual(SweepKeyMap.action(for: .escape, screen: .board), .quit)
        XCTAssertEqual(SweepKeyMap.action(for: .escape, screen: .multiples), .back)
        SweepController.handle(.up, view: &view, board: b)
        XCTAssertEqual(view.selected, 0, "clamped at the top")
        SweepController.handle(.end, view: &view, board: b)
        XCTAssertEqual(view.selected, 17)
        SweepController.handle(.pageUp, view: &view, board: b, page: 10)
        XCTAssertEqual(view.selected, 7)
        SweepController.handle(.multiples, view: &view, board: b)
        let steps = [0, 10, 20, 30]
        SweepController.handle(.stepBack, view: &view, board: b, steps: steps)
        XCTAssertEqual(view.step, 20, "one record back from following the newest")
        SweepController.handle(.stepForward, view: &view, board: b, steps: steps)
        XCTAssertNil(view.step, "forward to the newest follows again")
        SweepController.handle(.home, view: &view, board: b, steps: steps)
        XCTAssertEqual(view.step, 0)
        SweepController.handle(.back, view: &view, board: b)
        XCTAssertEqual(view.screen, .board)
    }

    /// A sweep folder as `sweep run` leaves it, read through the sweep's own status: a done run, a failed one
    /// (outcome.json), an interrupted one, one not started; then a run's metrics grow and the next poll shows it.
    func testWatcherReadsASweepFolderAndFollowsAGrowingRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-watch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = ["method=bwn", "method=twn", "method=bt", "method=full"]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let runs = names.map { n in #"{"name":"\#(n)","options":{"method":"\#(n.dropFirst(7))","epochs":"5"},"args":["--method","\#(n.dropFirst(7))"]}"# }
        try #"{"version":1,"name":"watch-test","parameters":[{"key":"method","values":["bwn","twn","bt","full"]},{"key":"epochs","values":["5"]}],"varying":["method"],"runs":[\#(runs.joined(separator: ","))]}"#
            .write(toFile: dir + "/sweep.json", atomically: true, encoding: .utf8)
        func write(_ run: String, _ recs: [RunRecord], append: Bool = false) throws {
            try FileManager.default.createDirectory(atPath: dir + "/" + run, withIntermediateDirectories: true)
            let text = recs.map(RunRecordCoding.encode).joined(separator: "\n") + "\n"
            let path = dir + "/" + run + "/metrics.jsonl"
            if append, let h = FileHandle(forWritingAtPath: path) { h.seekToEndOfFile(); h.write(Data(text.utf8)); h.closeFile() }
            else { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        }
        try write("method=bwn", Self.records(.bwn, upTo: 1000))
        try write("method=twn", Self.records(.twn, upTo: 40))
        try Outcome(exitCode: 1, signal: nil, reason: "btviz: cannot read /data/x", endedAt: "2026-12-06T10:00:00Z", host: "h", slurmJob: nil)
            .write(runDir: dir + "/method=twn")
        try write("method=bt", Self.records(.bt, upTo: 200))
        var w = try SweepWatcher(dir: dir)
        XCTAssertEqual(w.board.name, "watch-test")
        XCTAssertEqual(w.board.varying, ["method"])
        XCTAssertEqual(w.board.rows.map(\.state), [.done, .failed(reason: "btviz: cannot read /data/x"), .interrupted, .notStarted])
        XCTAssertEqual(w.board.rows[2].digest.step, 200)
        // The interrupted run goes on (a resume appends): the next poll reads only the new lines.
        try write("method=bt", Array(Self.records(.bt, upTo: 1000).dropFirst(23)), append: true)
        // A quarter-megabyte a poll: the board catches up over a few polls, as it would over a few frames.
        var polls = 0
        repeat { w.poll(); polls += 1 } while w.behind && polls < 100
        XCTAssertGreaterThan(polls, 1, "more than one chunk was appended")
        XCTAssertEqual(w.board.rows[2].digest.step, 1000)
        XCTAssertEqual(w.board.rows[2].state, .done)
        XCTAssertEqual(w.board.rows[2].digest.testMetrics.count, 5)
        // A run whose recorded options are not the spec's shows as stale, asked once per config.json version.
        try "{}".write(toFile: dir + "/method=bwn/config.json", atomically: true, encoding: .utf8)
        var asked: [String] = []
        var judged = try SweepWatcher(dir: dir) { runDir, args in
            asked.append(runDir)
            return args == ["--method", "bwn"] ? "the spec says --epochs 5, the run was trained with 3" : nil
        }
        judged.poll()
        XCTAssertEqual(judged.board.rows[0].state, .stale(reason: "the spec says --epochs 5, the run was trained with 3"))
        XCTAssertEqual(judged.board.rows[0].state.word, "stale")
        XCTAssertEqual(judged.board.rows[1].state, .failed(reason: "btviz: cannot read /data/x"))
        XCTAssertEqual(asked, [dir + "/method=bwn"], "only runs with a config.json are judged, each once while it is unchanged")
        // Not a sweep folder: one line, before any screen.
        XCTAssertThrowsError(try SweepWatcher(dir: dir + "/method=bwn")) { XCTAssertTrue("\($0)".contains("not a sweep folder"), "\($0)") }
    }
}
