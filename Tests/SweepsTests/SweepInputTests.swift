import BTCore
import Foundation
import Sweeps
import XCTest

/// What a sweep reads from files (the spec, sweep.json) on the hostile cases of issue 31, one test per root
/// cause: names that would be paths, nesting and aliases that would exhaust the stack or memory, grids counted
/// too late, values spelled two ways, and text that would reach a terminal or a LaTeX file raw.
final class SweepInputTests: XCTestCase {
    let head = "name: t\nmethod: grid\nparameters:\n"

    func parse(_ yaml: String) throws -> SweepSpec { try SweepSpec.parse(yaml: yaml, source: "s.yaml", defaultName: "d") }

    func assertRefused(_ yaml: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(yaml), file: file, line: line) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(message), "\(text) should mention \(message)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
        }
    }

    func plan(_ runs: [[String: Any]], parameters: [[String: Any]] = [["key": "seed", "values": ["0", "1"]]]) throws -> SweepPlan {
        let object: [String: Any] = ["version": 1, "name": "p", "varying": ["seed"], "parameters": parameters, "runs": runs]
        return try SweepPlan.decode(JSONSerialization.data(withJSONObject: object), path: "sweep.json")
    }

    // MARK: names are names

    func testOnePathComponentIsChecked() {
        XCTAssertNil(PathComponent.problem("method=bt,seed=0"))
        for bad in ["", ".", "..", "../../out/x", "a/b", "a\u{0}b", "a\nb", String(repeating: "x", count: 256)] {
            XCTAssertNotNil(PathComponent.problem(bad), bad)
        }
        XCTAssertNil(PathComponent.problem(String(repeating: "x", count: 255)))
    }

    func testSweepJsonRunNamesThatAreNotOneEntryOfTheFolderAreRefused() throws {
        XCTAssertEqual(try plan([["name": "seed=0", "options": ["seed": "0"], "args": ["--seed", "0"]]]).runs.count, 1)
        let cases: [(String, String)] = [("../../out/x", "not a folder name"), ("..", "not a folder name"), ("a/b", "'/'"),
                                         ("", "empty"), ("slurm", "own entries"), (".task.lock", "own entries"),
                                         ("sweep.json", "own entries")]
        for (name, message) in cases {
            XCTAssertThrowsError(try plan([["name": name, "options": [:], "args": []]])) { e in
                XCTAssertTrue("\(e)".contains(message), "\(name): \(e)")
            }
        }
        // Two runs in one folder, an argument cut by a NUL, a --run-dir elsewhere, an option of no parameter.
        let twice = ["name": "seed=0", "options": ["seed": "0"], "args": []] as [String: Any]
        XCTAssertThrowsError(try plan([twice, twice])) { XCTAssertTrue("\($0)".contains("listed twice"), "\($0)") }
        XCTAssertThrowsError(try plan([["name": "a", "options": [:], "args": ["--seed", "0\u{0}1"]]])) { XCTAssertTrue("\($0)".contains("NUL"), "\($0)") }
        XCTAssertThrowsError(try plan([["name": "a", "options": [:], "args": ["--run-dir", "/tmp/x"]]])) { XCTAssertTrue("\($0)".contains("only the sweep sets"), "\($0)") }
        XCTAssertThrowsError(try plan([["name": "a", "options": [:], "args": ["--run-dir=/tmp/x"]]])) { XCTAssertTrue("\($0)".contains("only the sweep sets"), "\($0)") }
        XCTAssertThrowsError(try plan([["name": "a", "options": ["lr": "1"], "args": []]])) { XCTAssertTrue("\($0)".contains("no parameter"), "\($0)") }
    }

    /// A previous plan's run is renamed only from a real folder of this sweep: a symbolic link planted in its
    /// place (to a finished run elsewhere) is not moved in.
    func testARenameNeverMovesASymbolicLink() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sweeps-\(UUID().uuidString)").path
        let outside = root + "/outside", dir = root + "/sweep"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/old", withDestinationPath: outside)
        let folder = SweepFolder(dir)
        let previous = try plan([["name": "old", "options": ["seed": "0"], "args": ["--seed", "0"]]])
        let run = SweepPlan.Run(name: "seed=0", options: ["seed": "0"], args: ["--seed", "0"])
        folder.adoptRenamedRun(run, previous: previous)
        XCTAssertNil(SweepFolder.entryType(dir + "/seed=0"), "nothing moved")
        XCTAssertEqual(SweepFolder.entryType(dir + "/old"), S_IFLNK)
        // A real folder is renamed.
        try FileManager.default.removeItem(atPath: dir + "/old")
        try FileManager.default.createDirectory(atPath: dir + "/old", withIntermediateDirectories: false)
        folder.adoptRenamedRun(run, previous: previous)
        XCTAssertEqual(SweepFolder.entryType(dir + "/seed=0"), S_IFDIR)
        XCTAssertNil(SweepFolder.entryType(dir + "/old"))
    }

    // MARK: bounded parsing

    func testDeepNestingIsRefusedBeforeYamsRecursesIntoIt() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        assertRefused("description: \(deep)\n" + head + "  seed: {value: 0}\n", "nests more than 64 levels")
        let block = (0..<100).map { String(repeating: " ", count: $0) + "a\($0):\n" }.joined() + String(repeating: " ", count: 100) + "x: 1\n"
        assertRefused(head + "  seed: {value: 0}\ndescription:\n" + block.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n",
                      "nests more than 64 levels")
        // 60 levels are a spec's business (and ignored in a description).
        let fine = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        XCTAssertNoThrow(try parse("description: \(fine)\n" + head + "  seed: {value: 0}\n"))
    }

    func testAliasesAreCountedAsWhatTheyExpandTo() {
        // 100 KB aliased 50 times: 5 MB of text from a 100 KB file.
        let big = String(repeating: "x", count: 100_000)
        let bomb = "a: &a \(big)\nb: [\(Array(repeating: "*a", count: 50).joined(separator: ", "))]\n"
        assertRefused(bomb, "aliases expand it to more than 1 MB")
        // The doubling bomb: ten levels of lists of ten aliases.
        var lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 { lines.append("l\(i): &l\(i) [\(Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ","))]") }
        assertRefused("description:\n" + lines.map { "  " + $0 }.joined(separator: "\n") + "\n" + head + "  seed: {value: 0}\n",
                      "aliases expand it")
        // An alias that stays small is YAML like any other.
        XCTAssertEqual(try parse(head + "  seed: &s {values: [0, 1]}\n  epochs: {value: 2}\n").parameters[0].values, ["0", "1"])
    }

    func testTheRunCountIsCheckedBeforeAnythingIsExpanded() throws {
        // 10^9 runs: refused from the counts, with nothing spelled out.
        let ten = "{values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}"
        let grid = (0..<9).map { "  p\($0): \(ten)\n" }.joined()
        assertRefused(head + grid, "1000000000 runs, over the 100000")
        // Too many values in one list, or in a shorthand range, refused by their count.
        XCTAssertThrowsError(try SweepSpec.shorthand(name: "n", options: [("seed", "0-99999,100000-199999,200000-299999")])) {
            XCTAssertTrue("\($0)".contains("more than 100000 values"), "\($0)")
        }
        // 100,000 seeds are counted and checked in linear time; the plan then asks for --yes.
        let spec = try SweepSpec.shorthand(name: "n", options: [("seed", "0-99999")])
        XCTAssertEqual(spec.parameters[0].values.count, 100_000)
        XCTAssertThrowsError(try SweepPlan.expand(spec, flags: [], paths: .requireAbsolute)) {
            XCTAssertTrue("\($0)".contains("100000 runs, over 10000: add --yes"), "\($0)")
        }
    }

    // MARK: one value, one spelling

    func testNumbersHaveOneSpellingAndTwoSpellingsOfOneValueAreRefused() throws {
        XCTAssertEqual(try parse(head + "  seed: {values: [00, 1, '+2']}\n  lr: {values: [3e-4, 0.10, 1.0, 3.0E-04x]}\n").parameters.map(\.values),
                       [["0", "1", "2"], ["3e-4", "0.1", "1", "3.0E-04x"]])
        assertRefused(head + "  seed: {values: [0, 00, '+0']}\n", "lists 0 and 00, the same value")
        assertRefused(head + "  lr: {values: [3e-4, 0.0003]}\n", "lists 3e-4 and 0.0003, the same value")
        assertRefused(head + "  seed: {values: [1, 1]}\n", "lists 1 twice")
        assertRefused(head + "  seed: {values: [1e3, 1000]}\n", "the same value")
        XCTAssertEqual(try SweepSpec.shorthand(name: "n", options: [("seed", "-0,007")]).parameters[0].values, ["0", "7"])
    }

    func testControlCharactersBothKeysAndOptionLookalikesAreRefused() {
        assertRefused(head + "  dataset: {value: \"fashion\\0mnist\"}\n", "control character U+0000")
        assertRefused(head + "  dataset: {value: \"a\\e[31m\"}\n", "control character U+001B")
        assertRefused(head + "  seed: {value: 0, values: [1, 2]}\n", "gives both 'value' and 'values'")
        assertRefused(head + "  '-': {value: 1}\n", "'-' is not an option name: it has no letters")
        assertRefused(head + "  '--lr': {value: 1}\n", "'--lr' is not an option name: write it without its dashes ('lr')")
        assertRefused(head + "  'learning rate': {value: 1}\n", "is not an option name: it has a blank")
        assertRefused(head + "  '': {value: 1}\n", "is not an option name: it is empty")
        assertRefused(head + "  dataset: {value: '--run-dir=/tmp'}\n", "starts with '--'")
    }

    func testAByteOrderMarkIsNoPartOfTheSpec() throws {
        let spec = try parse("\u{FEFF}" + head + "  seed: {values: [0, 1]}\n")
        XCTAssertEqual(spec.name, "t")
        XCTAssertEqual(spec.parameters.map(\.key), ["seed"])
    }

    // MARK: tables

    func result(_ name: String, _ options: [String: String], test: Double) -> SweepTable.RunResult {
        var p = RunProgress()
        p.finished = true; p.metric = "accuracy"; p.testMetric = test
        return .init(name: name, options: options, state: .done, progress: p)
    }

    /// Rows and columns are the runs' own combinations, not the product of sweep.json's value lists.
    func testATableIsBuiltFromTheRunsNotTheProductOfTheValueLists() throws {
        let many = (0..<200_000).map(String.init)
        let object: [String: Any] = ["version": 1, "name": "edited", "varying": ["method", "k"],
                                     "parameters": [["key": "method", "values": ["bwn", "bt"] + many], ["key": "k", "values": ["16"] + many]],
                                     "runs": [["name": "method=bt,k=16", "options": ["method": "bt", "k": "16"], "args": []],
                                              ["name": "method=bwn,k=16", "options": ["method": "bwn", "k": "16"], "args": []]]]
        let plan = try SweepPlan.decode(JSONSerialization.data(withJSONObject: object), path: "sweep.json")
        let table = try SweepTable(plan: plan, results: [result("method=bt,k=16", ["method": "bt", "k": "16"], test: 0.5),
                                                         result("method=bwn,k=16", ["method": "bwn", "k": "16"], test: 0.25)],
                                   rows: ["k"], columns: ["method"], paper: nil)
        XCTAssertEqual(table.rows, [["16"]])
        XCTAssertEqual(table.columns, [["bwn"], ["bt"]], "in the order the values were written")
        XCTAssertEqual(table.cell(["16"], ["bt"])?.stats?.mean, 50)
    }

    /// Found by the sweepplan fuzz target: a key twice among the rows trapped in the JSON output's dictionaries.
    func testAKeyTwiceInTheLayoutIsRefusedNotATrap() throws {
        let params: [[String: Any]] = [["key": "k", "values": ["16"]], ["key": "k", "values": ["32"]]]
        XCTAssertThrowsError(try plan([["name": "run", "options": ["k": "16"], "args": []]], parameters: params)) {
            XCTAssertTrue("\($0)".contains("parameter 'k' is listed twice"), "\($0)")
        }
        let p = try plan([["name": "seed=0", "options": ["seed": "0"], "args": []]])
        XCTAssertThrowsError(try SweepTable(plan: p, results: [], rows: ["seed", "seed"], columns: [], paper: nil)) {
            XCTAssertTrue("\($0)".contains("'seed' is given twice"), "\($0)")
        }
    }

    func testLatexEscapesItsSpecialsAndControlCharacters() throws {
        let object: [String: Any] = ["version": 1, "name": "x", "varying": ["dataset"],
                                     "parameters": [["key": "dataset", "values": ["a_b~^", "c\u{1B}[31m"]]],
                                     "runs": [["name": "dataset=a", "options": ["dataset": "a_b~^"], "args": []],
                                              ["name": "dataset=c", "options": ["dataset": "c\u{1B}[31m"], "args": []]]]
        let plan = try SweepPlan.decode(JSONSerialization.data(withJSONObject: object), path: "sweep.json")
        let table = try SweepTable(plan: plan, results: [result("dataset=a", ["dataset": "a_b~^"], test: 0.5),
                                                         result("dataset=c", ["dataset": "c\u{1B}[31m"], test: 0.5)],
                                   rows: ["dataset"], columns: [], paper: nil)
        let latex = try SweepTableFormat.latex.render(table)
        XCTAssertFalse(latex.unicodeScalars.contains { $0.value == 0x1B }, latex)
        XCTAssertTrue(latex.contains("a\\_b\\textasciitilde{}\\textasciicircum{}"), latex)
        XCTAssertTrue(latex.contains("c\\textbackslash{}x1B[31m"), latex)
    }
}
