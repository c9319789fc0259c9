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
    func testASearchBoardShowsEachRunsRung() throws {
        let spec = temporaryDirectory() + "/search.yaml"
        try ("name: watch-search\nmethod: random\nrun_cap: 4\nearly_terminate: {type: hyperband, min_iter: 1, eta: 2}\n"
             + "parameters:\n  dataset: {value: synthetic}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n"
             + "  epochs: {value: 2}\n  lambda: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 600)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        let status = try btviz(["sweep", "status", dir]).stdout
        let stopped = status.split(separator: "\n").filter { $0.contains(" stopped ") }.count
        XCTAssertGreaterThan(stopped, 0, status)
        tmux(["new-session", "-d", "-s", "t", "-x", "100", "-y", "30", "\(btvizPath) sweep watch \(dir); sleep 60"])
        let s = waitForScreen("the search's board with its rungs", seconds: 30) {
            $0.contains("watch-search") && $0.contains("4 runs") && $0.contains("stopped 1/2")
        }
        XCTAssertEqual(s.split(separator: "\n").filter { $0.contains("stopped 1/2") }.count, stopped, s)
        XCTAssertTrue(s.contains("lambda") && s.contains("stopped at a rung)"), s)
        XCTAssertTrue(s.contains("successive-halving search"), "the footer says why there is no ETA: \(s)")
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
