import Foundation
import XCTest

/// Drives the real binary in tmux, as a person at a terminal would: keys in, screen text out.
final class ExplorerTmuxTests: XCTestCase, TmuxDriving {
    var socket = ""
    var run = ""

    override func setUpWithError() throws {
        try requireTmux(for: "the explorer tests")
        socket = "btviz-test-\(UUID().uuidString.prefix(8))"
        run = temporaryDirectory() + "/run"
    }

    override func tearDown() { _ = tmux(["kill-server"]) }

    func headerLine(_ s: String) -> String { String(s.split(separator: "\n").first ?? "") }

    func metrics() -> String { (try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? "" }

    func testLiveExplorer() throws {
        let cmd = "\(btvizPath) train --epochs 30 --k 8 --log-every 2 --run-dir \(run); echo EXIT:$? > \(run).exit; sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])

        // The histogram, BT's transition markers and the flip fraction are on screen.
        var s = waitForScreen("the first step record") { $0.contains("weights conv1") && $0.contains("flip~") }
        XCTAssertTrue(s.contains("±(a1−d1)") && s.contains("±(a1+d1)"), s)
        XCTAssertTrue(headerLine(s).contains("BT"), s)
        XCTAssertTrue(s.contains("▕") || s.contains("█"), "histogram bars are drawn")
        XCTAssertTrue(s.range(of: #"\d+(\.\d+)?%"#, options: .regularExpression) != nil)

        // 3 switches to TWN: the label and the transition values change, and an event is logged.
        tmux(["send-keys", "-t", "t", "3"])
        s = waitForScreen("TWN in the header", seconds: 8) { self.headerLine($0).contains("TWN") && !self.headerLine($0).contains("…") && $0.contains("±Δ") }
        XCTAssertFalse(s.contains("±(a1+d1)"), s)
        tmux(["send-keys", "-t", "t", "6"])
        s = waitForScreen("BT again", seconds: 8) { self.headerLine($0).contains("BT") && !self.headerLine($0).contains("…") && $0.contains("±(a1+d1)") }
        XCTAssertTrue(metrics().contains("\"from\":\"bt\",\"kind\":\"method\""), "bt -> twn event")
        XCTAssertTrue(metrics().contains("\"from\":\"twn\",\"kind\":\"method\""), "twn -> bt event")

        // + raises lambda from the default 0.0003 to 0.001.
        XCTAssertTrue(headerLine(s).contains("λ 0.0003"), headerLine(s))
        tmux(["send-keys", "-t", "t", "+"])
        waitForScreen("lambda 0.001", seconds: 8) { self.headerLine($0).contains("λ 0.001") && !self.headerLine($0).contains("…") }
        XCTAssertTrue(metrics().contains("\"kind\":\"lambda\""))

        // Small, then large: a notice instead of garbage, then the full screen again.
        tmux(["resize-window", "-t", "t", "-x", "60", "-y", "20"])
        waitForScreen("the enlarge notice", seconds: 5) { $0.contains("enlarge the terminal") }
        tmux(["resize-window", "-t", "t", "-x", "200", "-y", "60"])
        s = waitForScreen("the full screen at 200x60", seconds: 5) { $0.contains("weights conv") && $0.contains("flip~") }
        XCTAssertGreaterThan(s.split(separator: "\n").map(\.count).max() ?? 0, 150)

        // q saves and exits 0.
        tmux(["send-keys", "-t", "t", "q"])
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: run + ".exit") && Date() < deadline { usleep(200_000) }
        let exit = try String(contentsOfFile: run + ".exit", encoding: .utf8)
        XCTAssertEqual(exit.trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoint.bin"))
        XCTAssertTrue(metrics().contains("\"kind\":\"stop\""))
        s = screen()
        XCTAssertTrue(s.contains("checkpoint saved"), "the terminal is back to normal text: \(s)")
    }

    /// Paused, the trainer takes a method or λ at once but trains no step with it: the header keeps the last step's
    /// BT and λ as in effect and shows BWN and the new λ as coming on resume; resumed, BWN is in effect.
    func testPausedHeaderShowsWhatComesOnResume() throws {
        let cmd = "\(btvizPath) train --epochs 30 --k 8 --log-every 2 --run-dir \(run); sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "170", "-y", "40", cmd])
        waitForScreen("the first step record", seconds: 60) { $0.contains("weights conv1") && $0.contains("flip~") }
        tmux(["send-keys", "-t", "t", " "])
        waitForScreen("PAUSED", seconds: 30) { self.headerLine($0).contains("PAUSED") }
        tmux(["send-keys", "-t", "t", "2"])
        var s = waitForScreen("BWN on resume", seconds: 30) { self.headerLine($0).contains("BT (BWN on resume)") }
        XCTAssertTrue(headerLine(s).contains("λ 0.0003"), headerLine(s))
        tmux(["send-keys", "-t", "t", "+"])
        s = waitForScreen("the new λ on resume", seconds: 30) { self.headerLine($0).contains("λ 0.0003 (0.001 on resume)") }
        XCTAssertTrue(headerLine(s).contains("BT (BWN on resume)"), headerLine(s))
        tmux(["send-keys", "-t", "t", " "])
        s = waitForScreen("BWN in effect", seconds: 60) {
            let h = self.headerLine($0)
            return !h.contains("PAUSED") && !h.contains("on resume") && h.contains("BWN") && h.contains("λ 0.001")
        }
        XCTAssertFalse(headerLine(s).contains("BT"), headerLine(s))
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// 4 and 5 switch to the trained quantizers mid-run: TTQ's jumps Wp and Wn are labelled and its table column
    /// is Wp/Wn; LQ-Nets shows channel means with their band and its basis; back to TTQ, training goes on.
    func testTTQAndLQLive() throws {
        let cmd = "\(btvizPath) train --epochs 30 --k 8 --log-every 2 --run-dir \(run); sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])
        waitForScreen("the first step record") { $0.contains("weights conv1") && $0.contains("flip~") }
        tmux(["send-keys", "-t", "t", "4"])
        var s = waitForScreen("TTQ in the header", seconds: 10) {
            self.headerLine($0).contains("TTQ") && !self.headerLine($0).contains("…") && $0.contains("Wp/Wn")
        }
        XCTAssertTrue(s.contains("jumps −Δ:Wn") && s.contains("+Δ:Wp"), s)
        XCTAssertTrue(s.contains("(Wp)") && s.contains("(−Wn)"), "the levels name Wp and Wn:\n\(s)")
        tmux(["send-keys", "-t", "t", "5"])
        s = waitForScreen("LQ in the header", seconds: 10) {
            self.headerLine($0).contains("LQ") && !self.headerLine($0).contains("…") && $0.contains("v1/v2")
        }
        XCTAssertTrue(s.contains("10-90% of channels") && s.contains("═"), s)
        tmux(["send-keys", "-t", "t", "4"])
        waitForScreen("TTQ again", seconds: 10) { self.headerLine($0).contains("TTQ") && !self.headerLine($0).contains("…") }
        let m = metrics()
        XCTAssertTrue(m.contains("\"from\":\"bt\",\"kind\":\"method\"") && m.contains("\"from\":\"ttq\",\"kind\":\"method\"")
                      && m.contains("\"from\":\"lq\",\"kind\":\"method\""), "bt -> ttq -> lq -> ttq events")
        XCTAssertFalse(m.contains("\"kind\":\"nan\""))
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// The regularizer at work, live: start at λ = 0, watch the largest layer's flip fraction, press + until λ
    /// is the default, and the same layer's flip fraction rises on screen.
    func testFlipFractionRisesWhenLambdaIsRaised() throws {
        let cmd = "\(btvizPath) train --lambda 0 --epochs 40 --log-every 5 --run-dir \(run); sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])
        waitForScreen("the layer table") { $0.contains("▸conv1") }
        for _ in 0..<5 { tmux(["send-keys", "-t", "t", "Right"]) }
        waitForScreen("conv6 selected", seconds: 8) { $0.contains("▸conv6") }

        /// The selected layer's flip~ (the first percentage on its row) and the step, read off the screen.
        func reading(_ s: String) -> (step: Int, flip: Double)? {
            guard let row = s.split(separator: "\n").first(where: { $0.contains("▸conv6") }),
                  let pct = row.range(of: #"[0-9.]+%"#, options: .regularExpression),
                  let step = headerLine(s).range(of: #"step [0-9]+"#, options: .regularExpression) else { return nil }
            return (Int(headerLine(s)[step].dropFirst(5))!, Double(row[pct].dropLast())!)
        }
        /// The mean flip~ over the screens of `count` distinct logged steps (one noise draw each).
        func meanFlip(count: Int) -> (step: Int, flip: Double) {
            var seen: [Int: Double] = [:]
            let deadline = Date().addingTimeInterval(120)
            while seen.count < count && Date() < deadline {
                if let r = reading(screen()) { seen[r.step] = r.flip }
                usleep(100_000)
            }
            XCTAssertEqual(seen.count, count, "read \(count) logged steps")
            return (seen.keys.max() ?? 0, seen.values.reduce(0, +) / Double(max(seen.count, 1)))
        }
        waitForScreen("step 50", seconds: 60) { (reading($0)?.step ?? 0) >= 50 }
        let before = meanFlip(count: 6)

        // Two presses of + from 0 reach the default λ.
        for want in ["λ 0.0001", "λ 0.0003"] {
            tmux(["send-keys", "-t", "t", "+"])
            waitForScreen(want, seconds: 8) { self.headerLine($0).contains(want) && !self.headerLine($0).contains("…") }
        }
        waitForScreen("150 steps at the default λ", seconds: 120) { (reading($0)?.step ?? 0) >= before.step + 150 }
        let after = meanFlip(count: 6)
        print("conv6 flip~ on screen: \(before.flip)% at λ 0 (step \(before.step)) -> \(after.flip)% at λ 0.0003 (step \(after.step))")
        XCTAssertGreaterThan(after.flip, before.flip + 1, "conv6 flip~ \(before.flip)% at λ 0 -> \(after.flip)% at λ 0.0003")
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// SIGTERM and SIGHUP to the live explorer: the trainer saves the step it is at, the screen closes, the
    /// terminal is back to normal text, and the exit code is 128 + the signal.
    func testSignalsToTheExplorerSaveRestoreAndExit() throws {
        for (sig, name) in [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP"), (SIGINT, "SIGINT")] {
            let dir = run + "-\(name)"
            let cmd = "\(btvizPath) train --epochs 30 --k 8 --log-every 2 --run-dir \(dir); echo EXIT:$? > \(dir).exit; sleep 60"
            tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])
            waitForScreen("the explorer") { $0.contains("flip~") && $0.contains("step 1") }
            let pid = try XCTUnwrap(pidOf(runDir: dir), "btviz's pid")
            kill(pid, sig)
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: dir + ".exit") && Date() < deadline { usleep(100_000) }
            let exit = (try? String(contentsOfFile: dir + ".exit", encoding: .utf8)) ?? "none"
            XCTAssertEqual(exit.trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:\(128 + sig)", name)
            let s = screen()
            XCTAssertTrue(s.contains("stopped by \(name) at step"), "the terminal shows normal text again: \(s)")
            XCTAssertFalse(s.contains("flip~"), "the explorer's screen is gone: \(s)")
            let log = (try? String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)) ?? ""
            XCTAssertTrue(log.contains("\"kind\":\"stop\""), name)
            tmux(["kill-session", "-t", "t"])
        }
    }

    /// Replay of a damaged metrics.jsonl: records whose numbers would overflow are skipped and counted, not trusted.
    /// And a trap while the screen is open (injected) still leaves the terminal usable: out of the alternate
    /// screen, cursor visible.
    func testReplaySkipsDamagedRecordsAndATrapRestoresTheTerminal() throws {
        let made = try btviz(["train", "--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "64",
                              "--log-every", "1", "--run-dir", run])
        XCTAssertEqual(made.status, 0, made.stderr)
        var lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let step = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"step\"") && $0.contains("\"step\":1,") })
        lines.append(lines[step].replacingOccurrences(of: "\"epoch\":0", with: "\"epoch\":9223372036854775807"))
        lines.append(lines[step].replacingOccurrences(of: "\"step\":1,", with: "\"step\":-9223372036854775808,"))
        lines.append(lines[step].replacingOccurrences(of: "\"level_counts\":[", with: "\"level_counts\":[9223372036854775807,"))
        lines.append(lines[step].replacingOccurrences(of: "\"counts\":[", with: "\"counts\":[9223372036854775807,"))
        try (lines.joined(separator: "\n") + "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let c = try btviz(["compare", run])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stdout.contains("skipped 4 malformed line(s)"), c.stdout)

        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "\(btvizPath) replay \(run); echo EXIT:$?; sleep 30"])
        waitForScreen("the replay") { $0.contains("record ") }
        tmux(["send-keys", "-t", "t", "q"])
        waitForScreen("the count of skipped lines", seconds: 10) { $0.contains("skipped 4 malformed line(s)") && $0.contains("EXIT:0") }
        tmux(["kill-session", "-t", "t"])

        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40",
              "SWIFT_BACKTRACE=interactive=no BTVIZ_FAULT=trap-after-draw \(btvizPath) replay \(run); echo EXIT:$?; sleep 30"])
        let s = waitForScreen("the trap's exit") { $0.contains("EXIT:1") && $0.range(of: #"EXIT:1[0-9][0-9]"#, options: .regularExpression) != nil }
        XCTAssertFalse(s.contains("record "), "the explorer's screen is gone")
        let state = tmux(["display-message", "-p", "-t", "t", "#{alternate_on} #{cursor_flag}"], capture: true)
        XCTAssertEqual(state.trimmingCharacters(in: .whitespacesAndNewlines), "0 1", "normal screen, cursor visible")
    }

    /// A big metrics.jsonl (40 MB here): the first frame comes at once and q quits while it is still loading.
    func testReplayOfABigRunDrawsAtOnceAndQuitsWhileLoading() throws {
        let made = try btviz(["train", "--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "64",
                              "--log-every", "1", "--run-dir", run])
        XCTAssertEqual(made.status, 0, made.stderr)
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let step = String(try XCTUnwrap(lines.first { $0.contains("\"type\":\"step\"") })) + "\n"
        let block = Data(String(repeating: step, count: max(1, (1 << 20) / step.utf8.count)).utf8)
        let fh = try XCTUnwrap(FileHandle(forWritingAtPath: run + "/metrics.jsonl"))
        try fh.seekToEnd()
        for _ in 0..<40 { try fh.write(contentsOf: block) }
        try fh.close()
        let started = Date()
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "\(btvizPath) replay \(run); echo EXIT:$?; sleep 30"])
        waitForScreen("the first frame", seconds: 3) { $0.contains("record ") }
        let firstFrame = Date().timeIntervalSince(started)
        tmux(["send-keys", "-t", "t", "q"])
        waitForScreen("the exit", seconds: 3) { $0.contains("EXIT:0") }
        print("replay of 40 MB: first frame after \(firstFrame) s, quit after \(Date().timeIntervalSince(started)) s")
    }

    /// The pid of the btviz process training into `runDir` (the pane runs a shell around it).
    func pidOf(runDir: String) -> Int32? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        p.arguments = ["-f", "btviz train .*--run-dir \(runDir)$"]
        let out = Pipe()
        p.standardOutput = out
        try? p.run(); p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// The same command with stdout piped, from a real terminal, runs headless.
    func testPipedStdoutRunsHeadless() throws {
        let out = run + ".out"
        let cmd = "\(btvizPath) train --epochs 1 --k 4 --train-limit 512 --test-limit 128 --log-every 2 --run-dir \(run) | cat > \(out); echo EXIT:${PIPESTATUS[0]} > \(run).exit"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "bash -c '\(cmd)'"])
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: run + ".exit") && Date() < deadline { usleep(200_000) }
        XCTAssertEqual(try String(contentsOfFile: run + ".exit", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:0")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.contains("epoch 1/1  step 2/4"), text)
        XCTAssertFalse(text.contains("\u{1b}["), "no terminal escapes in piped output")
    }

    /// Super-resolution with BT in the explorer: the PSNR curves in place of accuracy, the quantized body and
    /// upsampler convs with their transitions, and the full-precision first and last convs marked as such.
    func testSuperResolutionInTheExplorer() throws {
        let sr = sharedData.appendingPathComponent("sr").path
        let cmd = "\(btvizPath) train --task sr --data-dir \(sr) --method bt --epochs 2 --epoch-steps 40 --log-every 5 --run-dir \(run); sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "150", "-y", "50", cmd])
        let s = waitForScreen("an SR record and a Set5 validation", seconds: 90) { $0.contains("epoch 2/2") && $0.contains("test 3") }
        for text in ["SRNet-64 x2", "T91", "weights body1", "upsample1", "256x3x3x64", "conv_first", "conv_last",
                     "full precision (not quantized)", "PSNR", "±(a1−d1)"] {
            XCTAssertTrue(s.contains(text), "\(text) missing:\n\(s)")
        }
        XCTAssertFalse(s.contains("accuracy"), s)
        tmux(["send-keys", "-t", "t", "q"])
    }

    /// The views for watching, live: t (time-lapse), g (grid), w (what-if), . and l (smoothing, log loss), a mouse
    /// click on a layer's row; then Ctrl-C as a key stops with the same status as SIGINT headless (130).
    func testViewsLiveAndCtrlCKey() throws {
        let cmd = "\(btvizPath) train --epochs 40 --k 8 --log-every 2 --run-dir \(run); echo EXIT:$? > \(run).exit; sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])
        let first = waitForScreen("a few records") { $0.contains("weights conv1") && $0.contains("step 1") }
        XCTAssertTrue(first.contains("fc1.weight") && first.contains("full precision (not quantized)"), first)
        tmux(["send-keys", "-t", "t", "t"])
        var s = waitForScreen("the time-lapse", seconds: 8) { $0.contains("time-lapse conv1") && $0.contains("dist/a over time") }
        XCTAssertTrue(s.contains("▒") || s.contains("▓") || s.contains("█"), s)
        tmux(["send-keys", "-t", "t", "t", "g"])
        s = waitForScreen("the grid", seconds: 8) { $0.contains("all layers") }
        XCTAssertTrue(s.contains("conv6"), s)
        tmux(["send-keys", "-t", "t", "g", "w"])
        s = waitForScreen("the what-if overlay", seconds: 8) { $0.contains("what-if BWN") && $0.contains("if BWN") }
        tmux(["send-keys", "-t", "t", ".", "l"])
        waitForScreen("smoothing 0.8 and the log axis", seconds: 8) { $0.contains("ema 0.8") || $0.contains("loss log") || $0.contains("loss (log)") }
        // A click on conv4's row (X10 mouse: ESC [ M, button, column and row, each + 32, from 1).
        // The table holds 6 conv rows, fc1 and fc2 (full precision) and 2 title rows.
        let layout = (tableY: 2 + max(6, ((40 - 3 - 10) * 11) / 20), row: 3)
        let y = layout.tableY + 2 + layout.row
        tmux(["send-keys", "-t", "t", "-l", "\u{1b}[M \(Character(Unicode.Scalar(UInt8(32 + 3))))\(Character(Unicode.Scalar(UInt8(32 + 1 + y))))"])
        tmux(["send-keys", "-t", "t", "-l", "\u{1b}[M#\(Character(Unicode.Scalar(UInt8(32 + 3))))\(Character(Unicode.Scalar(UInt8(32 + 1 + y))))"])
        waitForScreen("conv4 selected by the mouse", seconds: 8) { $0.contains("▸conv4") }
        tmux(["send-keys", "-t", "t", "C-c"])
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: run + ".exit") && Date() < deadline { usleep(200_000) }
        XCTAssertEqual(try String(contentsOfFile: run + ".exit", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:130")
    }

    /// replay A B: two runs side by side, both named, both histograms; p plays, and stops at the end.
    func testReplayOfTwoRuns() throws {
        let a = run + "-a", b = run + "-b"
        for (dir, lambda) in [(a, "0"), (b, "0.1")] {
            let o = try btviz(["train", "--epochs", "2", "--k", "4", "--train-limit", "512", "--test-limit", "128",
                               "--log-every", "1", "--lambda", lambda, "--run-dir", dir])
            XCTAssertEqual(o.status, 0, o.stderr)
        }
        tmux(["new-session", "-d", "-s", "t", "-x", "160", "-y", "48", "\(btvizPath) replay \(a) \(b); echo EXIT:$?; sleep 30"])
        let s = waitForScreen("both runs") { $0.contains("A ━") && $0.contains("B ┅") && $0.contains("B BT weights conv1") }
        XCTAssertTrue(s.contains("λ0.1") && s.contains("λ0 "), s)
        tmux(["send-keys", "-t", "t", "Home", "p"])
        waitForScreen("playing to the last record", seconds: 30) { $0.contains("record 9/9") }
        tmux(["send-keys", "-t", "t", "q"])
        waitForScreen("the exit", seconds: 5) { $0.contains("EXIT:0") }
    }

    /// d detaches: the screen closes, training goes on with progress lines, Ctrl-C still stops and saves. Resumed in
    /// the explorer, the curves start at step 0 again: the screen loads the run's history from metrics.jsonl.
    func testDetachThenResumeKeepsTheHistory() throws {
        let cmd = "\(btvizPath) train --epochs 40 --k 8 --log-every 2 --run-dir \(run); echo EXIT:$? > \(run).exit; sleep 60"
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", cmd])
        waitForScreen("a few records", seconds: 60) { $0.contains("weights conv1") && $0.contains("step 2") }
        tmux(["send-keys", "-t", "t", "d"])
        // Past step 10 before Ctrl-C, however busy the machine: the resume below must start from a later step.
        func lastProgressStep(_ screen: String) -> Int {
            screen.split(separator: "\n").filter { $0.contains("samples/s  ETA") }.compactMap { line -> Int? in
                guard let r = line.range(of: "step ") else { return nil }
                return Int(line[r.upperBound...].prefix { $0.isNumber })
            }.last ?? 0
        }
        waitForScreen("the detach line and progress lines past step 10", seconds: 60) {
            $0.contains("detached: training continues") && $0.contains("btviz attach") && lastProgressStep($0) > 10
        }
        // `btviz attach` from another terminal: the same screen, steering the detached run through its folder.
        tmux(["new-session", "-d", "-s", "a", "-x", "100", "-y", "30", "\(btvizPath) attach \(run); echo ATTACH-EXIT:$?; sleep 60"])
        var a = waitForScreen("the attached explorer", seconds: 30, session: "a") { $0.contains("weights conv1") && $0.contains("q leave") }
        XCTAssertTrue(headerLine(a).hasPrefix("btviz attach") || headerLine(a).hasPrefix("attach"), headerLine(a))
        tmux(["send-keys", "-t", "a", "3"])
        a = waitForScreen("TWN applied, as the trainer's records say", seconds: 30, session: "a") {
            self.headerLine($0).contains("TWN") && !self.headerLine($0).contains("…") && $0.contains("±Δ")
        }
        XCTAssertTrue(metrics().contains("\"from\":\"bt\",\"kind\":\"method\""), "the trainer logged bt -> twn")
        tmux(["send-keys", "-t", "a", "q"])
        waitForScreen("attach left with status 0", seconds: 20, session: "a") { $0.contains("ATTACH-EXIT:0") }
        let before = lastProgressStep(screen())
        waitForScreen("the run going on after attach left", seconds: 60) { lastProgressStep($0) > before }
        tmux(["send-keys", "-t", "t", "C-c"])
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: run + ".exit") && Date() < deadline { usleep(200_000) }
        XCTAssertEqual(try String(contentsOfFile: run + ".exit", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "EXIT:130")
        tmux(["kill-session", "-t", "t"])

        let stoppedAt = try checkpointStep(path: run + "/checkpoint.bin")
        XCTAssertGreaterThan(stoppedAt, 10)
        tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "\(btvizPath) train --resume \(run); sleep 60"])
        // The loss plot's step axis starts at 0, not at the resume point. The history loads a chunk per frame, so
        // the wait is for the axis itself (on a busy machine the first frames show only part of it).
        func axisStartsAtZero(_ screen: String) -> Bool {
            screen.split(separator: "\n").last { $0.contains("step") && !$0.contains("samples") }
                .map { $0.split(separator: " ").contains("0") } ?? false
        }
        let s = waitForScreen("the resumed run with its history (a step axis from 0)", seconds: 60) {
            $0.contains("weights conv1") && axisStartsAtZero($0)
        }
        XCTAssertTrue(axisStartsAtZero(s), s)
        tmux(["send-keys", "-t", "t", "q"])
    }
}

/// The step a checkpoint holds, read from its JSON header (the CLI tests see only the binary).
func checkpointStep(path: String) throws -> Int {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let n = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
    let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 12..<12 + n)) as! [String: Any]
    return header["step"] as! Int
}
