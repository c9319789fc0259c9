import Foundation
import XCTest

/// `btviz replay` of a deep network's run in tmux (issue 33): a real run's records with their layers renamed and
/// repeated as a CIFAR ResNet-20's 18 quantized convs (`layer1.0.conv1` ... `layer3.2.conv2`).
final class ManyLayersReplayTests: XCTestCase, TmuxDriving {
    var socket = ""
    var run = ""

    override func setUpWithError() throws {
        try requireTmux(for: "the explorer tests")
        socket = "btviz-test-\(UUID().uuidString.prefix(8))"
        run = temporaryDirectory() + "/run"
    }

    override func tearDown() { _ = tmux(["kill-server"]) }

    static let names = (1...3).flatMap { s in (0..<3).flatMap { b in ["layer\(s).\(b).conv1", "layer\(s).\(b).conv2"] } }

    /// Every step record's layers become 18, named as a ResNet-20's, each a copy of one of the run's own.
    func makeDeepRun() throws {
        let made = try btviz(["train", "--epochs", "1", "--k", "4", "--train-limit", "256", "--test-limit", "64",
                              "--log-every", "1", "--run-dir", run])
        XCTAssertEqual(made.status, 0, made.stderr)
        let path = run + "/metrics.jsonl"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let out = try lines.map { line -> String in
            guard var record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  record["type"] as? String == "step", let layers = record["layers"] as? [[String: Any]], !layers.isEmpty
            else { return String(line) }
            record["layers"] = Self.names.enumerated().map { i, name in
                var l = layers[i % layers.count]
                l["name"] = name
                return l
            }
            return String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        }
        try (out.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The table's rows as the screen shows them: the first word of each line between the column heads and the
    /// first line after the table that is not a layer's.
    func tableNames(_ screen: String) -> [String] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heads = lines.firstIndex(where: { $0.hasPrefix("layer ") && $0.contains("shape") }) else { return [] }
        return lines[(heads + 1)...].prefix { $0.hasPrefix(" ") || $0.hasPrefix("▸") }
            .map { String($0.dropFirst().prefix { $0 != " " }) }
    }

    func testReplayOfAResNet20RunAt80x24And200x60() throws {
        try makeDeepRun()
        tmux(["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "\(btvizPath) replay \(run); echo EXIT:$?; sleep 30"])
        var s = waitForScreen("the table's first page") { $0.contains("─ layers 1-6 of 18 ─") }
        // Screenshot-style: the table's six rows, names abbreviated to fit 80 columns; the page keys listed.
        XCTAssertEqual(tableNames(s), ["l1.0.c1", "l1.0.c2", "l1.1.c1", "l1.1.c2", "l1.2.c1", "l1.2.c2"], s)
        XCTAssertTrue(s.contains("▸l1.0.c1"), s)
        XCTAssertTrue(s.split(separator: "\n").last?.contains("{}") ?? false, s)
        XCTAssertTrue(s.contains("weights layer1.0.conv1 "), s)
        tmux(["send-keys", "-t", "t", "-l", "}"])
        s = waitForScreen("the second page", seconds: 8) { $0.contains("─ layers 7-12 of 18 ─") }
        XCTAssertEqual(tableNames(s), ["l2.0.c1", "l2.0.c2", "l2.1.c1", "l2.1.c2", "l2.2.c1", "l2.2.c2"], s)
        XCTAssertTrue(s.contains("▸l2.0.c1") && s.contains("weights layer2.0.conv1 "), s)
        tmux(["send-keys", "-t", "t", "g"])
        // The grid's page holds the selected layer (how many a page holds depends on the widest flip share).
        s = waitForScreen("the grid's page", seconds: 8) {
            $0.range(of: #"layers \d+-\d+ of 18, page 2/\d"#, options: .regularExpression) != nil
        }
        XCTAssertTrue(s.contains("▸l2.0.c1"), s)
        tmux(["send-keys", "-t", "t", "q"])
        waitForScreen("the exit", seconds: 8) { $0.contains("EXIT:0") }
        tmux(["kill-session", "-t", "t"])

        tmux(["new-session", "-d", "-s", "t", "-x", "200", "-y", "60", "\(btvizPath) replay \(run); echo EXIT:$?; sleep 30"])
        s = waitForScreen("every layer at 200x60") { $0.contains("layer3.2.conv2") && $0.contains("─ all layers ─") }
        // All 18 rows with their full names, and the grid beside the selected layer with every layer's cell.
        XCTAssertEqual(tableNames(s), Self.names, s)
        for n in Self.names.map(abbreviated) { XCTAssertTrue(s.contains(" " + n + " ") || s.contains("▸" + n + " "), "\(n)'s grid cell\n\(s)") }
        tmux(["send-keys", "-t", "t", "q"])
        waitForScreen("the exit", seconds: 8) { $0.contains("EXIT:0") }
    }

    func abbreviated(_ n: String) -> String {
        n.split(separator: ".").map { p in p.first!.isLetter ? String(p.first!) + p.drop { !$0.isNumber } : String(p) }.joined(separator: ".")
    }
}
