import Foundation
import XCTest

/// `btviz sweep watch` driven in tmux on a real sweep folder while one of its runs trains: the board, Enter into a
/// run's explorer and back, the side-by-side view, q, and SIGTERM (the terminal comes back both ways).
final class SweepWatchTmuxTests: XCTestCase, TmuxDriving {
    var socket = ""
    var dir = ""
    var live: Process?

    override func setUpWithError() throws {
        try requireTmux(for: "the sweep watch tests")
        socket = "btviz-watch-\(UUID().uuidString.prefix(8))"
        dir = temporaryDirectory() + "/sweep"
    }

    override func tearDown() {
        _ = tmux(["kill-server"])
        if let p = live, p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    static let tiny = ["--dataset", "synthetic", "--k", "4", "--train-limit", "512", "--test-limit", "256",
                       "--log-every", "2", "--threads", "1"]

    /// A sweep over method (bwn, twn, bt) at one seed, as `sweep run` lays it out: sweep.json and a run folder each.
    /// BWN and TWN are trained to the end; BT keeps training (5,000 epochs, killed at the end) while the test watches it.
    func makeSweep() throws {
        let methods = ["bwn", "twn", "bt"]
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Each run's arguments as it is trained below (sweep.json leaves out --threads): a run trained with other
        // options than sweep.json's would show as stale.
        func args(_ m: String) -> [String] { ["--method", m, "--epochs", m == "bt" ? "5000" : "2"] + Self.tiny.dropLast(2) }
        let runs = try methods.map { m in
            let a = String(decoding: try JSONSerialization.data(withJSONObject: args(m)), as: UTF8.self)
            return #"{"name":"method=\#(m)","options":{"method":"\#(m)","seed":"0"},"args":\#(a)}"#
        }
        try #"{"version":1,"name":"watch-tmux","parameters":[{"key":"method","values":["bwn","twn","bt"]},{"key":"seed","values":["0"]}],"varying":["method"],"runs":[\#(runs.joined(separator: ","))]}"#
            .write(toFile: dir + "/sweep.json", atomically: true, encoding: .utf8)
        for m in ["bwn", "twn"] {
            let o = try btviz(["train", "--headless", "--run-dir", dir + "/method=" + m, "--method", m, "--epochs", "2"] + Self.tiny)
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["train", "--headless", "--run-dir", dir + "/method=bt", "--method", "bt", "--epochs", "5000"] + Self.tiny
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        live = p
    }

    /// The watch process: the pane's shell runs it as its child.
    func watchPid() -> Int32? {
        let pane = tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"], capture: true).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(pane)/task/\(pane)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// A successive-halving search on the board: its runs named r000…, their sampled λ, and each run's rung in the
    /// status column (stopped at rung 1 of 2 once the search is over); no ETA, said why.
    /// A successive-halving search of 4 runs over λ (log_uniform_values 1e-5..1e-1), run to its end by `sweep run`
    /// into `dir`, rungs at epochs 1 and 2; `k` as given (a constant, or values to sample after λ). Returns
    /// `sweep status`.
    func makeSearch(k: String = "{value: 4}") throws -> String {
        let spec = temporaryDirectory() + "/search.yaml"
        try ("name: watch-search\nmethod: random\nrun_cap: 4\nearly_terminate: {type: hyperband, min_iter: 1, eta: 2}\n"
             + "parameters:\n  dataset: {value: synthetic}\n  lambda: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}\n"
             + "  k: \(k)\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  epochs: {value: 2}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 600)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        return try btviz(["sweep", "status", dir]).stdout
    }

    func testASearchBoardShowsEachRunsRung() throws {
        let status = try makeSearch()
        let stopped = status.split(separator: "\n").filter { $0.contains(" stopped ") }.count
        XCTAssertGreaterThan(stopped, 0, status)
        tmux(["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "\(btvizPath) sweep watch \(dir); sleep 60"])
        let s = waitForScreen("the search's board with its rungs", seconds: 30) {
            $0.contains("watch-search") && $0.contains("4 runs") && $0.contains("stopped 1/2")
        }
        XCTAssertEqual(s.split(separator: "\n").filter { $0.contains("stopped 1/2") }.count, stopped, s)
        XCTAssertTrue(s.contains("lambda") && s.contains("stopped at a rung)"), s)
        // The footer says why there is no ETA, and the selected run's standing, each whole at 80 columns.
        let rows = screenRows(s)
        XCTAssertTrue(rows.contains("grid ETA: none: a search's length depends on its promotions"), s)
        let selected = try XCTUnwrap(rows.first { $0.hasPrefix("r000: ") }, s)
        XCTAssertTrue(selected.hasSuffix("not in its rung's top 1/eta (successive halving)") || selected == "r000: done", selected)
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// A captured screen's rows, blank ones kept (capture-pane ends its last row with a newline too).
    func screenRows(_ s: String) -> [String] {
        var rows = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if rows.last == "" { rows.removeLast() }
        return rows
    }

    /// `p` on a search's board at 80x24: the runs' test accuracy against λ on a log axis, each run at every rung it
    /// reached (the marker is the rung's digit); `x` puts the next sampled parameter (k) on x, `p` goes back.
    func testTheSearchPlotDrawsEachRunAtItsRungsAgainstLambdaOnALogAxis() throws {
        let status = try makeSearch(k: "{values: [4, 8]}")
        let lines = status.split(separator: "\n")
        let stopped = lines.filter { $0.contains(" stopped ") }.count, complete = lines.filter { $0.contains(" done ") }.count
        XCTAssertEqual(stopped + complete, 4, status)
        XCTAssertGreaterThan(complete, 0, "some run reached rung 2: \(status)")
        // The decades the λ axis spans: from the smallest sampled λ's down to the largest's up.
        let plan = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/sweep.json"))) as? [String: Any]
        let runs = try XCTUnwrap(plan?["runs"] as? [[String: Any]])
        let lambdas = runs.compactMap { ($0["options"] as? [String: String])?["lambda"].flatMap(Double.init) }
        XCTAssertEqual(lambdas.count, 4)
        let decades = Int(log10(lambdas.min()!).rounded(.down))...Int(log10(lambdas.max()!).rounded(.up))

        tmux(["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "\(btvizPath) sweep watch \(dir); sleep 60"])
        waitForScreen("the search's board", seconds: 30) { $0.contains("watch-search") && $0.contains("p search plot") }
        tmux(["send-keys", "-t", "t", "p"])
        var s = waitForScreen("the search plot", seconds: 15) { $0.contains("against lambda") && $0.contains("runs drawn") }
        var rows = screenRows(s)
        XCTAssertEqual(rows[0].trimmingCharacters(in: .whitespaces), "btviz sweep watch │ watch-search │ test accuracy (%) against lambda", s)
        XCTAssertEqual(rows[1], "1 rung 1 (1 ep) · 2 rung 2 (2 ep)" + String(repeating: " ", count: 30) + "4 of 4 runs drawn", s)
        XCTAssertTrue(s.contains("lambda (log scale)"), s)
        for e in decades { XCTAssertTrue(s.contains("1e\(e)"), "the decade tick 1e\(e): \(s)") }
        // The markers right of the y axis: every run at rung 1 (a rung-2 marker can cover its own run's rung 1 when
        // the figures are within a row), the runs that completed at rung 2 too.
        let axisRow = try XCTUnwrap(rows.firstIndex { $0.contains("└") }, s)
        let marks = rows[2..<axisRow].map { r in r.firstIndex { $0 == "┤" || $0 == "│" }.map { String(r[r.index(after: $0)...]) } ?? "" }.joined()
        XCTAssertEqual(marks.filter { $0 == "2" }.count, complete, s)
        XCTAssertGreaterThanOrEqual(marks.filter { $0 == "1" }.count, stopped, s)
        XCTAssertEqual(marks.filter { !" 12".contains($0) }.count, 0, "only markers right of the axis: \(s)")
        // The selected run (the first) named with its λ, its figure at each rung and where it stopped.
        let runLine = rows[rows.count - 2]
        XCTAssertTrue(runLine.hasPrefix("▸ r000  lambda="), runLine)
        XCTAssertTrue(runLine.contains("rung 1: ") && runLine.contains("%"), runLine)
        // Nothing is cut mid-word at 80 columns: the lines end in whole words, none runs into the last column.
        XCTAssertTrue(runLine.trimmingCharacters(in: .whitespaces).hasSuffix("stopped 1/2") || runLine.trimmingCharacters(in: .whitespaces).hasSuffix("done"), runLine)
        XCTAssertEqual(rows[rows.count - 1].trimmingCharacters(in: .whitespaces), "q quit  ↑↓ run  x next parameter  p the board  Enter open in the explorer")
        for r in rows where r.trimmingCharacters(in: .whitespaces).count >= 80 { XCTAssertTrue(r.hasSuffix(" runs drawn"), "\(r)\n\(s)") }

        // ↓ selects the next run here too.
        tmux(["send-keys", "-t", "t", "Down"])
        waitForScreen("r001 selected") { $0.contains("▸ r001  lambda=") }
        // x: k on a linear axis (4 and 8: ticks 4 … 8), no log scale.
        tmux(["send-keys", "-t", "t", "x"])
        s = waitForScreen("the plot against k") { $0.contains("against k") }
        rows = screenRows(s)
        XCTAssertFalse(s.contains("log scale"), s)
        XCTAssertTrue(rows.contains { $0.trimmingCharacters(in: .whitespaces) == "k" }, s)
        // p: the board again, its selection kept.
        tmux(["send-keys", "-t", "t", "p"])
        waitForScreen("the board again") { $0.contains("status") && $0.contains("stopped 1/2") && !$0.contains("against") }
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// Not a sweep folder, or no terminal: one line on stderr, before any screen.
    func testNotASweepFolderOrNoTerminalIsOneLine() throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        assertCleanFailure(try btviz(["sweep", "watch", dir]), mentioning: "is not a sweep folder (no sweep.json)")
        assertCleanFailure(try btviz(["sweep", "watch", dir + "/missing"]), mentioning: "not a sweep folder")
        try "{\"version\":1,\"name\":\"x\",\"parameters\":[],\"varying\":[],\"runs\":[]}".write(toFile: dir + "/sweep.json", atomically: true, encoding: .utf8)
        assertCleanFailure(try btviz(["sweep", "watch", dir]), mentioning: "needs an interactive terminal")
        try "{\"version\":1,\"runs\":".write(toFile: dir + "/sweep.json", atomically: true, encoding: .utf8)
        assertCleanFailure(try btviz(["sweep", "watch", dir]), mentioning: "sweep.json is damaged")
    }

    func testBoardEnterIntoARunAndBackSideBySideQuitAndSIGTERM() throws {
        try makeSweep()
        let exitFile = dir + ".exit"
        tmux(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
              "\(btvizPath) sweep watch \(dir); echo EXIT:$? > \(exitFile); sleep 60"])

        // The board: a row per run with its status; the BT run is seen training.
        func btRow(_ s: String) -> String { s.split(separator: "\n").map(String.init).first { $0.contains(" bt ") } ?? "" }
        var s = waitForScreen("the board with BT running and past its first step record", seconds: 60) {
            $0.contains("watch-tmux") && $0.contains("3 runs") && $0.contains("2 done") && btRow($0).contains("running") && btRow($0).contains("%")
        }
        let rows = s.split(separator: "\n").map(String.init)
        XCTAssertTrue(rows.contains { $0.contains("bwn") && $0.contains("done") && $0.contains("100%") }, s)
        XCTAssertTrue(s.contains("status") && s.contains("progress") && s.contains("test acc") && s.contains("flip share"), s)

        // Down twice selects BT; Enter opens it in the explorer, following it; Esc comes back to the board.
        tmux(["send-keys", "-t", "t", "Down", "Down"])
        waitForScreen("BT selected") { $0.contains("method=bt: running") }
        tmux(["send-keys", "-t", "t", "Enter"])
        s = waitForScreen("BT's explorer", seconds: 15) { $0.contains("weights conv1") && $0.contains("following new records") }
        XCTAssertTrue(s.contains("BT"), s)
        tmux(["send-keys", "-t", "t", "Escape"])
        waitForScreen("the board again") { $0.contains("watch-tmux") && $0.contains("progress") && !$0.contains("weights conv1") }

        // m: conv1 of BWN, TWN and BT side by side at one step; ↓ the next layer.
        tmux(["send-keys", "-t", "t", "m"])
        s = waitForScreen("side by side", seconds: 15) {
            $0.contains("side by side: method") && $0.contains("─ bwn ─ step") && $0.contains("─ twn ─ step") && $0.contains("─ bt ─ step")
        }
        XCTAssertTrue(s.contains("conv1 [1/6]"), s)
        tmux(["send-keys", "-t", "t", "Down"])
        waitForScreen("conv2 side by side") { $0.contains("conv2 [2/6]") }
        tmux(["send-keys", "-t", "t", "Escape"])
        waitForScreen("the board again") { $0.contains("progress") && !$0.contains("side by side:") }

        // q leaves with status 0 and the terminal back to normal text.
        tmux(["send-keys", "-t", "t", "q"])
        s = waitForScreen("the exit") { _ in FileManager.default.fileExists(atPath: exitFile) }
        XCTAssertEqual(try String(contentsOfFile: exitFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:0")
        tmux(["kill-session", "-t", "t"])

        // SIGTERM (a closed ssh session, `timeout`): the screen is restored before it exits.
        try? FileManager.default.removeItem(atPath: exitFile)
        tmux(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
              "\(btvizPath) replay \(dir); echo EXIT:$? > \(exitFile); echo after-exit; sleep 60"])
        waitForScreen("the board from replay DIR") { $0.contains("watch-tmux") && $0.contains("progress") }
        let pid = try XCTUnwrap(watchPid(), "the watch's pid")
        kill(pid, SIGTERM)
        s = waitForScreen("the shell after SIGTERM") { $0.contains("after-exit") }
        XCTAssertFalse(s.contains("progress"), "the board is gone: \(s)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: exitFile))
        // The training was watched, never touched.
        XCTAssertTrue(live?.isRunning ?? false, "watching does not stop a run")
    }
}
