import Foundation
import XCTest

/// `method: random` and `early_terminate: hyperband` (asynchronous successive halving) end to end: reproducible
/// draws, rungs paused and promoted on exact resume, the search's status, table and best run, and bad specs.
final class SweepSearchTests: XCTestCase {
    /// VGG-6(4) on 256 images of the built-in synthetic set, 4 epochs: rungs at 1, 2 and 4 with min_iter 1, eta 2.
    let quick = "  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n  epochs: {value: 4}\n"

    func write(_ text: String, _ name: String = "spec.yaml") -> String {
        let path = temporaryDirectory() + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func search(cap: Int, seed: Int = 3, halving: String = "early_terminate: {type: hyperband, min_iter: 1, eta: 2}\n") -> String {
        "name: lam\nmethod: random\nrun_cap: \(cap)\nseed: \(seed)\n\(halving)parameters:\n  method: {value: bt}\n"
            + "  lambda: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}\n" + quick
    }

    /// The dry run's lines: "state  name  btviz train ...".
    func planned(_ spec: String, _ extra: [String] = []) throws -> [String] {
        let o = try btviz(["sweep", "run", spec, "--out", temporaryDirectory() + "/dry", "--dry-run"] + extra)
        XCTAssertEqual(o.status, 0, o.stderr)
        return o.stdout.split(separator: "\n").map(String.init)
    }

    func testDrawsDependOnTheSeedAndRunIndexOnly() throws {
        let three = try planned(write(search(cap: 3)))
        let six = try planned(write(search(cap: 6)))
        XCTAssertEqual(three.count, 3)
        XCTAssertEqual(Array(six.prefix(3)), three, "raising run_cap adds runs and changes none")
        XCTAssertEqual(try planned(write(search(cap: 3)), ["--run-cap", "6"]), six, "--run-cap is run_cap")
        XCTAssertEqual(three.map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }, ["r000", "r001", "r002"])
        let other = try planned(write(search(cap: 3)), ["--seed", "4"])
        XCTAssertNotEqual(other, three, "another seed draws other values")
        // A parameter added after lambda leaves lambda's draws alone.
        let more = try planned(write(search(cap: 3) + "  lr: {distribution: uniform, min: 0.001, max: 0.002}\n"))
        func lambda(_ line: String) -> String { line.components(separatedBy: "--lambda ")[1].split(separator: " ")[0].description }
        XCTAssertEqual(more.map(lambda), three.map(lambda))
        for line in three {
            let v = try XCTUnwrap(Double(lambda(line)))
            XCTAssertTrue(v >= 1e-5 && v <= 1e-1, line)
        }
    }

    /// A search of 5 runs, one at a time. Each rung promotes its top half (eta 2) as runs reach it; when the search
    /// is over every run in the top ⌊n/eta⌋ of a rung reached the next one. A run paused at epoch 1 and 2 and
    /// resumed ends bit-identical to `btviz train` of its settings without a pause; status, table and best show it.
    func testSuccessiveHalvingPromotesOnExactResume() throws {
        let spec = write(search(cap: 5))
        let dir = temporaryDirectory() + "/search"
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 900)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        XCTAssertTrue(o.stdout.contains("successive halving, rungs at epoch 1, 2, 4 (eta 2)"), o.stdout)
        XCTAssertTrue(o.stdout.contains("search finished: 5 started"), o.stdout)

        let status = try btviz(["sweep", "status", dir, "--json"])
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 5)
        // Each run's test figure after every epoch, from its records.
        var figures: [String: [Double]] = [:]
        for r in runs {
            let name = r["name"] as! String
            let text = try String(contentsOfFile: dir + "/" + name + "/metrics.jsonl", encoding: .utf8)
            figures[name] = try text.split(separator: "\n").filter { $0.contains("\"type\":\"epoch\"") }.map { line in
                let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return try XCTUnwrap(o["test_metric"] as? Double)
            }
        }
        XCTAssertTrue(figures.values.allSatisfy { [1, 2, 4].contains($0.count) }, "\(figures)")
        for (k, rung) in [1, 2].enumerated() {
            let reached = figures.filter { $0.value.count >= rung }
            let next = [1, 2, 4][k + 1]
            let top = reached.sorted { $0.value[rung - 1] > $1.value[rung - 1] || ($0.value[rung - 1] == $1.value[rung - 1] && $0.key < $1.key) }
                .prefix(reached.count / 2)
            for (name, f) in top { XCTAssertGreaterThanOrEqual(f.count, next, "\(name) is in the top half at epoch \(rung) but was not promoted: \(figures)") }
        }
        let complete = figures.filter { $0.value.count == 4 }.keys.sorted()
        XCTAssertFalse(complete.isEmpty)
        let spent = figures.values.reduce(0) { $0 + $1.count }
        XCTAssertLessThan(spent, 20, "a search spends fewer epochs than the 20 of every run trained to the end")
        XCTAssertTrue(try btviz(["sweep", "status", dir]).stdout.contains("\(spent) of the 20 epochs"))

        // The promoted run, paused twice, against one never paused.
        let name = complete[0]
        let args = try XCTUnwrap((runs.first { $0["name"] as? String == name }?["options"]) as? [String: String])
        let straight = temporaryDirectory() + "/straight"
        let t = try btviz(["train", "--headless", "--run-dir", straight, "--method", "bt", "--lambda", args["lambda"]!, "--k", "4",
                           "--train-limit", "256", "--test-limit", "128", "--batch-size", "64", "--epochs", "4"], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: straight + "/checkpoint.bin"),
                       FileManager.default.contents(atPath: dir + "/" + name + "/checkpoint.bin"), "a promoted run ends bit-identical")
        let log = try String(contentsOfFile: dir + "/" + name + "/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("paused after epoch 1 (--stop-after-epoch 1)") && log.contains("paused after epoch 2"), log)

        // The search is over: every run not trained to the end stays stopped at its rung.
        for r in runs where !complete.contains(r["name"] as! String) {
            XCTAssertEqual(r["state"] as? String, "stopped", "\(r)")
            XCTAssertTrue((r["rung"] as? String)?.hasPrefix("stopped at rung") == true, "\(r)")
        }

        // The table ranks the complete runs by their last figure, apart from the stopped ones.
        let table = try btviz(["sweep", "table", dir])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.hasPrefix("Trained 4 epochs (\(complete.count) run"), table.stdout)
        let best = complete.max { figures[$0]!.last! < figures[$1]!.last! || (figures[$0]!.last! == figures[$1]!.last! && $0 > $1) }!
        XCTAssertTrue(table.stdout.contains("| 1 | \(best) | "), table.stdout)
        let b = try btviz(["sweep", "best", dir])
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stdout.contains("best of lam: \(best),"), b.stdout)
        XCTAssertTrue(b.stdout.contains("btviz train --headless --method bt --lambda "), b.stdout)
        // Its spec is a grid over seeds that sweep run accepts.
        let confirm = try btviz(["sweep", "best", dir, "--spec"])
        XCTAssertTrue(confirm.stdout.contains("seed: {values: [0, 1, 2]}"), confirm.stdout)
        let yaml = write(confirm.stdout, "best.yaml")
        let dry = try btviz(["sweep", "run", yaml, "--out", temporaryDirectory() + "/confirm", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(dry.stdout.split(separator: "\n").count, 3)

        // The plot: each run drawn at every rung it reached (rungs at epochs 1, 2, 4), with the figure its record holds.
        let svgPath = temporaryDirectory() + "/fig/search.svg"
        let plot = try btviz(["sweep", "plot", dir, "--x", "lambda", "--by", "method", "--out", svgPath])
        XCTAssertEqual(plot.status, 0, plot.stderr)
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        XCTAssertTrue(svg.contains("lambda (log scale)"), "a log_uniform_values parameter gets a log axis")
        for (name, f) in figures {
            let marks = svg.components(separatedBy: "data-run=\"\(name)\"").count - 1
            // Its rung marks, and its line in the parallel coordinates.
            XCTAssertEqual(marks, [1: 1, 2: 2, 4: 3][f.count]! + 1, "\(name): \(f)")
            XCTAssertTrue(svg.contains("data-run=\"\(name)\" data-rung=\"1\" data-epoch=\"1\" data-figure=\"\(f[0])\""), name)
        }
        if let rsvg = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first(where: FileManager.default.isExecutableFile) {
            let png = try runProgram(rsvg, [svgPath, "-o", temporaryDirectory() + "/search.png"])
            XCTAssertEqual(png.status, 0, "librsvg reads the figure: \(png.stderr)")
        }
        assertCleanFailure(try btviz(["sweep", "plot", dir, "--x", "lr"]), mentioning: "--x lr is no parameter of the searches; they sample lambda")

        // Run again: nothing left to train; a larger cap continues the same search.
        let again = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 600)
        XCTAssertTrue(again.stdout.contains("search finished: 0 started, 0 promoted"), again.stdout)
        let grown = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1", "--run-cap", "6"], timeout: 600)
        XCTAssertEqual(grown.status, 0, grown.stdout + grown.stderr)
        XCTAssertTrue(grown.stdout.contains("start r005 to epoch 1"), grown.stdout)
    }

    /// Stopped by SIGTERM mid-rung, the search saves the run under way and exits; the same command resumes it to
    /// the rung it was training for before anything else.
    func testAnInterruptedSearchResumesTheRunToItsRung() throws {
        let spec = write(search(cap: 3).replacingOccurrences(of: "train_limit: {value: 256}", with: "train_limit: {value: 2048}"))
        let dir = temporaryDirectory() + "/search"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: btvizPath)
        p.arguments = ["sweep", "run", spec, "--out", dir, "--jobs", "1"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        func steps() -> Int {
            let text = (try? String(contentsOfFile: dir + "/r000/metrics.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"type\":\"step\"") }.count
        }
        // The step-0 record and step 10's: inside the first epoch (32 steps).
        while Date() < deadline && steps() < 2 { usleep(20_000) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM, said)
        XCTAssertTrue(said.contains("stopped by SIGTERM"), said)
        let mid = try btviz(["sweep", "status", dir])
        XCTAssertTrue(mid.stdout.contains("interrupted"), mid.stdout)
        XCTAssertFalse(mid.stdout.contains("32/128"), "stopped inside the first epoch: \(mid.stdout)")
        let again = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 900)
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        let first = again.stdout.split(separator: "\n").first { $0.hasPrefix("start ") || $0.hasPrefix("resume ") || $0.hasPrefix("promote ") }
        XCTAssertEqual(first.map(String.init), "start r000 to epoch 1, rung 1 of 3", again.stdout)
    }

    /// A sweep.json edited to a search the scheduler could not end (min_iter 0 would make rungs forever), or whose
    /// runs are not the search's: every command refuses it in one line, nothing hangs.
    func testAHostileSearchInSweepJsonIsRefused() throws {
        let dir = temporaryDirectory() + "/search"
        let spec = write(search(cap: 1).replacingOccurrences(of: "epochs: {value: 4}", with: "epochs: {value: 2}"))
        XCTAssertEqual(try btviz(["sweep", "run", spec, "--out", dir], timeout: 300).status, 0)
        let original = try String(contentsOfFile: dir + "/sweep.json", encoding: .utf8)
        for (from, to, says) in [("\"min_iter\" : 1", "\"min_iter\" : 0", "early_terminate min_iter 0"),
                                 ("\"run_cap\" : 1", "\"run_cap\" : 2", "run_cap 2 but 1 runs"),
                                 ("\"name\" : \"r000\"", "\"name\" : \"r001\"", "is named 'r001', not r000")] {
            XCTAssertTrue(original.contains(from), original)
            try original.replacingOccurrences(of: from, with: to).write(toFile: dir + "/sweep.json", atomically: true, encoding: .utf8)
            for command in [["sweep", "status", dir], ["sweep", "table", dir], ["sweep", "run", spec, "--out", dir], ["sweep", "plot", dir, "--x", "lambda"]] {
                assertCleanFailure(try btviz(command, timeout: 60), mentioning: says)
            }
        }
    }

    func testBadSearchSpecsAreOneLineErrorsAndStartNothing() throws {
        let head = "name: bad\nmethod: random\nrun_cap: 4\n"
        let cases: [(String, String)] = [
            ("name: bad\nmethod: bayes\nparameters:\n  k: {value: 4}\n", "method 'bayes' is not offered: btviz sweeps are grid or random"),
            ("name: bad\nmethod: random\nparameters:\n  lr: {min: 0.001, max: 0.01}\n", "a random search needs run_cap"),
            (head + "run_cap: 0\nparameters:\n  k: {value: 4}\n", "key 'run_cap' is given twice"),
            ("name: bad\nmethod: random\nrun_cap: 0\nparameters:\n  k: {value: 4}\n", "run_cap must be a whole number of runs from 1"),
            (head + "early_terminate: {type: hyperband, min_iter: 1, eta: 1}\nparameters:\n  k: {value: 4}\n", "eta must be a whole number from 2"),
            (head + "early_terminate: {type: median, min_iter: 1}\nparameters:\n  k: {value: 4}\n", "type 'median' is not offered"),
            (head + "early_terminate: {type: hyperband}\nparameters:\n  k: {value: 4}\n", "min_iter is missing"),
            (head + "early_terminate: {type: hyperband, min_iter: 4}\nparameters:\n" + quick, "min_iter 4 is not below the runs' 4 epochs"),
            (head + "early_terminate: {type: hyperband, min_iter: 1}\nparameters:\n  epochs: {values: [2, 3]}\n  k: {value: 4}\n", "early_terminate needs one budget: 'epochs' is the last rung"),
            ("name: bad\nmethod: grid\nrun_cap: 3\nparameters:\n  k: {value: 4}\n", "'run_cap' belongs to a random search"),
            (head + "parameters:\n  stop_after_epoch: {value: 1}\n", "'stop_after_epoch' cannot be swept"),
            (head + "parameters:\n  lamda: {distribution: uniform, min: 0, max: 1}\n", "did you mean 'lambda'?"),
            (head + "parameters:\n  lambda: {distribution: log_uniform_values, min: 0, max: 1}\n", "parameter 'lambda'"),
        ]
        for (text, expected) in cases {
            let dir = temporaryDirectory() + "/never"
            let o = try btviz(["sweep", "run", write(text), "--out", dir])
            assertCleanFailure(o, mentioning: expected)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing is written for: \(expected)")
        }
        let grid = write("name: g\nmethod: grid\nparameters:\n  k: {value: 4}\n")
        assertCleanFailure(try btviz(["sweep", "run", grid, "--out", temporaryDirectory() + "/g", "--run-cap", "3"]),
                           mentioning: "--run-cap with a spec file is a random search's setting")
        assertCleanFailure(try btviz(["train", "--stop-after-epoch", "0"]), mentioning: "--stop-after-epoch must be at least 1")
    }
}
