import Foundation
import XCTest

/// Issue 31's hostile campaign against the sweep commands, each case run on the built binary: names in sweep.json
/// that would be paths, specs that would exhaust the stack, memory or time, text that would reach the terminal
/// raw, unusable lock files, and values spelled so that one run looks like several. Each ends in a one-line error
/// (or a correct result) with nothing written where it should not be.
final class SweepHostileTests: XCTestCase {
    let head = "name: hostile\nmethod: grid\nparameters:\n"
    /// One epoch of VGG-6(4) on 256 images of the built-in synthetic set (about a second in release).
    let quick = "  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n"
    let quickArgs = ["--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "128", "--batch-size", "64"]

    func write(_ text: String, in dir: String = temporaryDirectory(), _ name: String = "spec.yaml") -> String {
        let path = dir + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A sweep.json written by hand (as someone editing or planting one would).
    func writePlan(_ dir: String, name: String = "hostile", parameters: [(String, [String])], runs: [(name: String, options: [String: String], args: [String])]) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let plan: [String: Any] = ["version": 1, "name": name, "varying": parameters.filter { $0.1.count > 1 }.map(\.0),
                                   "parameters": parameters.map { ["key": $0.0, "values": $0.1] },
                                   "runs": runs.map { ["name": $0.name, "options": $0.options, "args": $0.args] }]
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: dir + "/sweep.json"))
    }

    /// Every path under `root` (recursively, links not followed), to compare before and after.
    func entries(_ root: String) -> Set<String> {
        Set(FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
    }

    func assertNoEscape(_ o: Output, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse((o.stdout + o.stderr).unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 },
                       "raw control characters reached the terminal: \(o.stdout.debugDescription)", file: file, line: line)
    }

    // MARK: names are names

    func testARunNamedWithDotDotIsRefusedAndNothingIsWrittenOutside() throws {
        let root = temporaryDirectory()
        let dir = root + "/a/sweep"
        try writePlan(dir, parameters: [("seed", ["0"])], runs: [("../../out/x", ["seed": "0"], quickArgs + ["--seed", "0"])])
        let marker = write("marker", in: root, "marker")
        let before = entries(root)
        let task = try btviz(["sweep", "task", dir, "../../out/x"])
        assertCleanFailure(task, mentioning: "is damaged: the run name '../../out/x' is not a folder name")
        let run = try btviz(["sweep", "run", write(head + "  seed: {value: 0}\n" + quick), "--out", dir])
        assertCleanFailure(run, mentioning: "is damaged")
        XCTAssertEqual(entries(root).subtracting(["spec.yaml"]), before, "nothing new under \(root)")
        let markTime = try FileManager.default.attributesOfItem(atPath: marker)[.modificationDate] as! Date
        let newer = entries(root).filter { p in
            ((try? FileManager.default.attributesOfItem(atPath: root + "/" + p)[.modificationDate]) as? Date).map { $0 > markTime } ?? false
        }
        XCTAssertEqual(newer.subtracting(["spec.yaml"]), [], "files newer than the marker")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out"))
    }

    /// The previous plan's run named outside the sweep is not renamed into it; a symbolic link planted in the
    /// sweep under a previous run's name is not moved either, and the run trains in a folder of its own.
    func testARenameNeverBringsARunFromOutsideIntoTheSweep() throws {
        let root = temporaryDirectory()
        let dir = root + "/sweep", outside = root + "/finished"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "planted".write(toFile: outside + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let spec = write(head + "  seed: {values: [0]}\n  lr: {values: [0.01, 0.02]}\n" + quick)
        let args0 = ["--seed", "0", "--lr", "0.01"] + quickArgs
        try writePlan(dir, parameters: [("seed", ["0"]), ("lr", ["0.01", "0.02"])], runs: [("../finished", ["seed": "0", "lr": "0.01"], args0)])
        assertCleanFailure(try btviz(["sweep", "run", spec, "--out", dir]), mentioning: "is damaged")
        XCTAssertEqual(try String(contentsOfFile: outside + "/metrics.jsonl", encoding: .utf8), "planted")
        XCTAssertEqual(entries(dir), ["sweep.json"])

        // A link under a run name the previous plan had: the run with the same arguments trains beside it.
        try FileManager.default.createSymbolicLink(atPath: dir + "/old", withDestinationPath: outside)
        try writePlan(dir, parameters: [("seed", ["0"]), ("lr", ["0.01", "0.02"])], runs: [("old", ["seed": "0", "lr": "0.01"], ["--seed", "0", "--lr", "0.01"] + quickArgs)])
        let o = try btviz(["sweep", "run", spec, "--out", dir, "--jobs", "1"], timeout: 300)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/old"), outside)
        XCTAssertEqual(try String(contentsOfFile: outside + "/metrics.jsonl", encoding: .utf8), "planted")
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/lr=0.01", isDirectory: &isDir) && isDir.boolValue)
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/lr=0.01"))
    }

    // MARK: bounded parsing

    func testDeepYamlInADescriptionIsOneLineAndNoCrash() throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let o = try btviz(["sweep", "run", write("description: \(deep)\n" + head + "  seed: {value: 0}\n"), "--out", temporaryDirectory() + "/o", "--dry-run"])
        assertCleanFailure(o, mentioning: "nests more than 64 levels deep")
    }

    func testAnAliasBombIsRefusedBeforeItIsExpanded() throws {
        let scalar = String(repeating: "x", count: 400_000)
        let text = "description:\n  a: &a \(scalar)\n  b: [\(Array(repeating: "*a", count: 50_000).joined(separator: ","))]\n" + head + "  seed: {value: 0}\n"
        XCTAssertLessThan(text.utf8.count, 1 << 20)
        let o = try btviz(["sweep", "run", write(text), "--out", temporaryDirectory() + "/o", "--dry-run"], timeout: 120, addressSpaceKB: 4_000_000)
        assertCleanFailure(o, mentioning: "aliases expand it to more than 1 MB")
    }

    func testHugeValueListsAreRefusedByTheirCount() throws {
        let out = temporaryDirectory() + "/o"
        let seeds = try btviz(["sweep", "run", "--out", out, "--dry-run", "--seed", "0-99999"], timeout: 300)
        assertCleanFailure(seeds, mentioning: "100000 runs, over 10000: add --yes")
        let more = try btviz(["sweep", "run", "--out", out, "--dry-run", "--seed", "0-99999,100000-199999,200000-299999"], timeout: 300)
        assertCleanFailure(more, mentioning: "more than 100000 values")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testABillionRunGridIsRefusedWithoutAllocatingIt() throws {
        let ten = "{values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}"
        let grid = ["seed", "k", "epochs", "batch_size", "lr", "lambda", "train_limit", "test_limit", "width"].map { "  \($0): \(ten)\n" }.joined()
        let o = try btviz(["sweep", "run", write(head + grid), "--out", temporaryDirectory() + "/o", "--yes", "--dry-run"],
                          timeout: 120, addressSpaceKB: 2_000_000)
        assertCleanFailure(o, mentioning: "1000000000 runs, over the 100000 a sweep may have")
    }

    func testATableOfAnEditedSweepJsonReadsItsRuns() throws {
        let dir = temporaryDirectory() + "/s"
        let many = (0..<3000).map(String.init)
        try writePlan(dir, parameters: [("dataset", ["fashion"] + many), ("k", ["16"] + many), ("method", ["bwn", "bt"] + many)],
                      runs: [("method=bwn", ["method": "bwn", "k": "16", "dataset": "fashion"], []),
                             ("method=bt", ["method": "bt", "k": "16", "dataset": "fashion"], [])])
        let o = try btviz(["sweep", "table", dir], timeout: 120, addressSpaceKB: 2_000_000)
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = o.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "| dataset | k | bwn | bt |")
        XCTAssertEqual(lines.filter { $0.hasPrefix("| fashion") }.count, 1, o.stdout)
    }

    // MARK: escape sequences

    func testEscapeSequencesFromFilesNeverReachTheTerminal() throws {
        let dir = temporaryDirectory() + "/s"
        let spec = write("name: \"evil\\e]0;pwned\\a\\e[31m\"\nmethod: grid\nparameters:\n  seed: {value: 0}\n" + quick)
        let first = try btviz(["sweep", "run", spec, "--out", dir], timeout: 300)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        assertNoEscape(first)
        XCTAssertTrue(first.stdout.contains("sweep evil\\x1B]0;pwned\\x07\\x1B[31m: 1 runs"), first.stdout)

        // A held .task.lock whose holder text carries escapes.
        let lock = dir + "/run/.task.lock"
        unlink(lock)
        let fd = open(lock, O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let holder = "\u{1B}[2Jbtviz sweep task (pid 1)"
        _ = holder.withCString { Glibc.write(fd, $0, strlen($0)) }
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        let second = try btviz(["sweep", "run", spec, "--out", dir], timeout: 300)
        assertNoEscape(second)
        XCTAssertTrue(second.stdout.contains("in use: run (\\x1B[2Jbtviz sweep task (pid 1))"), second.stdout)

        // LaTeX from a sweep.json whose values carry escapes and LaTeX's specials.
        let t = temporaryDirectory() + "/t"
        try writePlan(t, parameters: [("dataset", ["a\u{1B}[31m_b", "c"])],
                      runs: [("dataset=a", ["dataset": "a\u{1B}[31m_b"], []), ("dataset=c", ["dataset": "c"], [])])
        let latex = try btviz(["sweep", "table", t, "--format", "latex"])
        XCTAssertEqual(latex.status, 0, latex.stderr)
        assertNoEscape(latex)
        XCTAssertTrue(latex.stdout.contains("a\\textbackslash{}x1B[31m\\_b"), latex.stdout)
    }

    // MARK: messages

    func testAnUnusableTaskLockIsNamedAndTheReasonReachesStatus() throws {
        let dir = temporaryDirectory() + "/s"
        try writePlan(dir, parameters: [("seed", ["0"])], runs: [("run", ["seed": "0"], quickArgs + ["--seed", "0"])])
        try FileManager.default.createDirectory(atPath: dir + "/run/.task.lock", withIntermediateDirectories: true)
        let o = try btviz(["sweep", "task", dir, "run"])
        assertCleanFailure(o, mentioning: "run/.task.lock is a folder, not a lock file")
        let status = try btviz(["sweep", "status", dir, "--json"])
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.first?["state"] as? String, "failed", status.stdout)
        XCTAssertTrue((runs.first?["reason"] as? String ?? "").contains("not a lock file"), status.stdout)
        XCTAssertTrue(try String(contentsOfFile: dir + "/run/task.log", encoding: .utf8).contains(".task.lock is a folder, not a lock file"))

        // A symbolic link in its place is named as one, and nothing is written through it.
        let elsewhere = temporaryDirectory() + "/target"
        try FileManager.default.removeItem(atPath: dir + "/run/.task.lock")
        try FileManager.default.createSymbolicLink(atPath: dir + "/run/.task.lock", withDestinationPath: elsewhere)
        assertCleanFailure(try btviz(["sweep", "task", dir, "run"]), mentioning: ".task.lock is a symbolic link, not a lock file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere))

        // A run folder that is a symbolic link is no run of this sweep.
        try FileManager.default.removeItem(atPath: dir + "/run")
        try FileManager.default.createSymbolicLink(atPath: dir + "/run", withDestinationPath: temporaryDirectory())
        assertCleanFailure(try btviz(["sweep", "task", dir, "run"]), mentioning: "is a symbolic link, not a run folder of this sweep")
    }

    // MARK: one value, one spelling, one meaning

    func testSpecTextsThatMeanSomethingElseAreOneLineErrors() throws {
        let cases: [(String, String)] = [
            (head + "  '-': {value: 1}\n", "'-' is not an option name: it has no letters"),
            (head + "  '--lr': {value: 1}\n", "'--lr' is not an option name: write it without its dashes ('lr')"),
            (head + "  seed: {values: [0, 00, '+0']}\n", "lists 0 and 00, the same value"),
            (head + "  dataset: {value: \"syn\\0thetic\"}\n", "control character U+0000"),
            (head + "  seed: {value: 0, values: [1, 2]}\n", "gives both 'value' and 'values'; give one"),
        ]
        for (text, message) in cases {
            let out = temporaryDirectory() + "/o"
            assertCleanFailure(try btviz(["sweep", "run", write(text), "--out", out]), mentioning: message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), message)
        }
        // `+0` and `1` are two seeds, the first named seed=0.
        let o = try btviz(["sweep", "run", write(head + "  seed: {values: ['+0', 1]}\n"), "--out", temporaryDirectory() + "/o", "--dry-run"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout.split(separator: "\n").map { String($0.split(separator: " ")[1]) }, ["seed=0", "seed=1"])
    }

    func testASpecWithAByteOrderMarkParses() throws {
        let o = try btviz(["sweep", "run", write("\u{FEFF}" + head + "  seed: {values: [0, 1]}\n"), "--out", temporaryDirectory() + "/o", "--dry-run"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stdout.split(separator: "\n").count, 2, o.stdout)
    }

    func testAnSbatchLineWithABlankIsRefused() throws {
        let out = temporaryDirectory() + "/o"
        for line in ["--comment=a b", "#SBATCH --qos=high --exclusive"] {
            let o = try btviz(["sweep", "run", "--out", out, "--backend", "slurm", "--dry-run", "--sbatch=\(line)", "--seed", "0"])
            XCTAssertNotEqual(o.status, 0)
            XCTAssertLessThan(o.status, 128)
            XCTAssertTrue(o.stderr.contains("give one sbatch option without blanks"), o.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
