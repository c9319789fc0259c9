import Foundation
#if canImport(FoundationXML)
import FoundationXML  // XMLParser lives here on Linux
#endif
import XCTest

/// `btviz plot` on real runs: the SVG is parsed as XML and its marks checked against the record they were drawn
/// from (read here straight from metrics.jsonl, not through btviz's types).
final class PlotTests: XCTestCase {
    // MARK: Fixtures

    nonisolated(unsafe) private static var runs: [String: String] = [:]

    /// A tiny real run per method, trained once: 2 epochs of 2 steps, step records at steps 0, 2 and 4.
    private func trainedRun(_ method: String) throws -> String {
        if let dir = Self.runs[method] { return dir }
        let dir = temporaryDirectory() + "/run-" + method
        let o = try btviz(["train", "--method", method, "--epochs", "2", "--k", "4", "--train-limit", "256",
                           "--test-limit", "128", "--log-every", "2", "--run-dir", dir])
        XCTAssertEqual(o.status, 0, o.stderr)
        Self.runs[method] = dir
        return dir
    }

    private func records(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    private func layerRecord(_ run: String, step: Int, layer: String) throws -> [String: Any] {
        let s = try XCTUnwrap(try records(run).first { $0["type"] as? String == "step" && $0["step"] as? Int == step })
        return try XCTUnwrap((s["layers"] as? [[String: Any]])?.first { $0["name"] as? String == layer })
    }

    private func plot(_ args: [String]) throws -> (svg: String, elements: [Element]) {
        let out = temporaryDirectory() + "/fig.svg"
        let o = try btviz(["plot"] + args + ["--out", out])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.hasPrefix("wrote \(out)"), o.stdout)
        // Written atomically: the temporary file is gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent)
        XCTAssertEqual(left, ["fig.svg"])
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        return (svg, try parseXML(svg))
    }

    // MARK: Histogram

    func testHistogramDrawsTheRecordAtOrBeforeTheStep() throws {
        let run = try trainedRun("bt")
        // Records at 0, 2, 4: step 3 draws step 2's.
        let (_, e) = try plot([run, "--layer", "conv3", "--step", "3"])
        let l = try layerRecord(run, step: 2, layer: "conv3")
        let hist = try XCTUnwrap(l["histogram"] as? [String: Any])
        let edges = try XCTUnwrap(hist["edges"] as? [Double]), counts = try XCTUnwrap(hist["counts"] as? [Int])

        let title = try XCTUnwrap(e.first { $0.cls == "title" }?.text)
        let shape = (l["shape"] as! [Int]).map(String.init).joined(separator: "×")
        for part in ["BT", "λ = 3e−4", "conv3", shape, "step 2 of 4"] { XCTAssertTrue(title.contains(part), "\(title) lacks \(part)") }

        // One bar per bin, side by side, heights proportional to counts.
        let bars = e.filter { $0.cls == "bar" }
        XCTAssertEqual(bars.count, counts.count)
        guard let first = bars.first, let last = bars.last else { return XCTFail("no bars") }
        let x0 = first.num("x"), xN = last.num("x") + last.num("width")
        func px(_ v: Double) -> Double { x0 + (v - edges[0]) / (edges[edges.count - 1] - edges[0]) * (xN - x0) }
        let perWeight = (bars.map { $0.num("height") }.max() ?? 0) / Double(max(counts.max() ?? 1, 1))
        for (i, b) in bars.enumerated() {
            XCTAssertEqual(b.num("height"), Double(counts[i]) * perWeight, accuracy: 0.02, "bin \(i)")
            XCTAssertEqual(b.num("x"), px(edges[i]), accuracy: 0.02, "bin \(i)")
            XCTAssertEqual(b.num("x") + b.num("width"), px(edges[i + 1]), accuracy: 0.03, "bin \(i)")
            XCTAssertEqual(b.num("y") + b.num("height"), first.num("y") + first.num("height"), accuracy: 0.02, "on one baseline")
        }

        // One vertical line per transition, at its value on the bars' axis, labelled with BT's names.
        let transitions = try XCTUnwrap(l["transitions"] as? [Double])
        let lines = e.filter { $0.cls == "transition" }
        XCTAssertEqual(lines.count, transitions.count)
        XCTAssertGreaterThan(transitions.count, 0)
        for (t, line) in zip(transitions, lines) {
            XCTAssertEqual(line.num("x1"), px(t), accuracy: 0.02)
            XCTAssertEqual(line.num("x2"), px(t), accuracy: 0.02)
        }
        let labels = e.filter { $0.cls == "transition-label" }.map(\.text)
        XCTAssertEqual(labels.count, transitions.count)
        XCTAssertTrue(labels.contains { $0.hasPrefix("+(a1−d1) = ") } && labels.contains { $0.hasPrefix("−(a1+d1) = ") }, "\(labels)")
        for (t, label) in zip(transitions, labels) {
            XCTAssertEqual(try XCTUnwrap(numbers(label).last), t, accuracy: abs(t) * 0.01 + 1e-9, label)
        }

        // The levels, each with its value and its share of the weights.
        try checkLevels(e, l)

        // Without --step: the last record.
        let (_, lastRecord) = try plot([run, "--layer", "conv3"])
        XCTAssertTrue(try XCTUnwrap(lastRecord.first { $0.cls == "title" }?.text).contains("step 4 of 4"))
    }

    private func checkLevels(_ e: [Element], _ l: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let levels = try XCTUnwrap(l["levels"] as? [Double]), n = try XCTUnwrap(l["level_counts"] as? [Int])
        let values = e.filter { $0.cls == "level" }.map(\.text), shares = e.filter { $0.cls == "level-share" }.map(\.text)
        XCTAssertEqual(values.count, levels.count, file: file, line: line)
        XCTAssertEqual(shares.count, levels.count, file: file, line: line)
        XCTAssertEqual(e.filter { $0.cls == "level-mark" }.count, levels.count, file: file, line: line)
        let total = Double(n.reduce(0, +))
        for (i, v) in levels.enumerated() where i < values.count && i < shares.count {
            XCTAssertEqual(try XCTUnwrap(numbers(values[i]).last), v, accuracy: abs(v) * 0.01 + 1e-9, values[i], file: file, line: line)
            XCTAssertTrue(shares[i].hasSuffix("%"), shares[i], file: file, line: line)
            XCTAssertEqual(try XCTUnwrap(numbers(shares[i]).first), 100 * Double(n[i]) / total, accuracy: 0.051, shares[i], file: file, line: line)
        }
    }

    func testHistogramCSVRoundTripsTheRecord() throws {
        let run = try trainedRun("bt")
        let o = try btviz(["plot", run, "--layer", "conv2", "--csv"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let rows = csvRows(o.stdout)
        XCTAssertEqual(rows.first, ["kind", "bin_lo", "bin_hi", "count", "value", "name", "share", "band_lo", "band_hi"])
        let l = try layerRecord(run, step: 4, layer: "conv2")
        let hist = l["histogram"] as! [String: Any]
        let bins = rows.filter { $0[0] == "bin" }
        XCTAssertEqual(bins.map { Int($0[3]) ?? -1 }, hist["counts"] as! [Int])
        let edges = (hist["edges"] as! [NSNumber]).map(\.floatValue)
        XCTAssertEqual(bins.map { Float($0[1]) ?? .nan }, Array(edges.dropLast()))
        XCTAssertEqual(bins.map { Float($0[2]) ?? .nan }, Array(edges.dropFirst()))
        XCTAssertEqual(rows.filter { $0[0] == "transition" }.map { Float($0[4]) ?? .nan }, (l["transitions"] as! [NSNumber]).map(\.floatValue))
        XCTAssertEqual(rows.filter { $0[0] == "level" }.map { Float($0[4]) ?? .nan }, (l["levels"] as! [NSNumber]).map(\.floatValue))
        XCTAssertEqual(rows.filter { $0[0] == "level" }.map { Int($0[3]) ?? -1 }, l["level_counts"] as! [Int])

        // --out holds the same text.
        let out = temporaryDirectory() + "/h.csv"
        XCTAssertEqual(try btviz(["plot", run, "--layer", "conv2", "--csv", "--out", out]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), o.stdout)
    }

    /// TTQ's jumps (Wn at −Δ, Wp at +Δ) and levels; LQ-Nets' bands, one shaded rectangle per transition.
    func testTTQJumpsAndLQBands() throws {
        let ttq = try trainedRun("ttq")
        let (_, t) = try plot([ttq, "--layer", "conv2"])
        let tl = try layerRecord(ttq, step: 4, layer: "conv2")
        let scales = try XCTUnwrap(tl["scales"] as? [String: Double])
        let labels = t.filter { $0.cls == "transition-label" }.map(\.text)
        XCTAssertEqual(labels.count, 2)
        let minus = try XCTUnwrap(labels.first { $0.hasPrefix("−Δ = ") }), plus = try XCTUnwrap(labels.first { $0.hasPrefix("+Δ = ") })
        XCTAssertTrue(minus.contains("jump Wn = ") && plus.contains("jump Wp = "), "\(labels)")
        let wn = try XCTUnwrap(scales["wn"]), wp = try XCTUnwrap(scales["wp"])
        XCTAssertEqual(try XCTUnwrap(numbers(minus).last), wn, accuracy: wn * 0.01)
        XCTAssertEqual(try XCTUnwrap(numbers(plus).last), wp, accuracy: wp * 0.01)
        let levelTexts = t.filter { $0.cls == "level" }.map(\.text)
        XCTAssertTrue(levelTexts.contains { $0.contains("−Wn = ") } && levelTexts.contains { $0.contains("Wp = ") }, "\(levelTexts)")
        try checkLevels(t, tl)

        let lq = try trainedRun("lq")
        let (_, q) = try plot([lq, "--layer", "conv3"])
        let ql = try layerRecord(lq, step: 4, layer: "conv3")
        let bands = try XCTUnwrap(ql["transition_bands"] as? [[Double]])
        let edges = (ql["histogram"] as! [String: Any])["edges"] as! [Double]
        let bars = q.filter { $0.cls == "bar" }
        guard let first = bars.first, let last = bars.last else { return XCTFail("no bars") }
        let x0 = first.num("x"), xN = last.num("x") + last.num("width")
        func px(_ v: Double) -> Double { x0 + (v - edges[0]) / (edges.last! - edges[0]) * (xN - x0) }
        let rects = q.filter { $0.cls == "band" }
        XCTAssertEqual(rects.count, bands.count)
        for (b, r) in zip(bands, rects) {
            XCTAssertEqual(r.num("x"), px(b[0]), accuracy: 0.02)
            XCTAssertEqual(r.num("x") + r.num("width"), px(b[1]), accuracy: 0.03)
        }
        XCTAssertEqual(q.filter { $0.cls == "transition" }.count, (ql["transitions"] as! [Double]).count)
        try checkLevels(q, ql)
    }

    // MARK: Curves

    /// Headless training cannot change method or λ (the explorer does), so the change events are spliced into the
    /// real run's log after its step-2 record, as the trainer writes them.
    func testCurvesShowLossesMetricsAndChanges() throws {
        let run = temporaryDirectory() + "/changed"
        try FileManager.default.copyItem(atPath: try trainedRun("bt"), toPath: run)
        var lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let at = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"step\"") && $0.contains("\"step\":2,") })
        lines.insert(contentsOf: [
            #"{"epoch":0,"from":"bt","kind":"method","message":"method BT -> TTQ","step":2,"to":"ttq","type":"event"}"#,
            #"{"epoch":0,"from":"0.0003","kind":"lambda","message":"lambda 0.0003 -> 0.001","step":3,"to":"0.001","type":"event"}"#,
        ], at: at + 1)
        try (lines.joined(separator: "\n") + "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let all = try records(run)
        let steps = all.filter { $0["type"] as? String == "step" }, epochs = all.filter { $0["type"] as? String == "epoch" }

        let (_, e) = try plot([run, "--curves"])
        // Each change: a mark through both panels, labelled.
        let marks = e.filter { $0.cls == "event" }
        XCTAssertEqual(marks.filter { $0.attrs["data-kind"] == "method" }.count, 2)
        XCTAssertEqual(marks.filter { $0.attrs["data-kind"] == "lambda" }.count, 2)
        XCTAssertEqual(Set(e.filter { $0.cls == "event-label" }.map(\.text)), ["BT → TTQ", "λ 3e−4 → 0.001"])
        let xOf = { (kind: String) in marks.first { $0.attrs["data-kind"] == kind }?.num("x1") ?? .nan }
        XCTAssertLessThan(xOf("method"), xOf("lambda"), "step 2 left of step 3")

        // Task loss: one point per step record, placed by a linear map of the value (higher loss higher up).
        let task = try XCTUnwrap(e.first { $0.cls == "task-loss" && $0.name == "polyline" }).points
        let losses = steps.map { ($0["task_loss"] as! NSNumber).doubleValue }
        XCTAssertEqual(task.count, steps.count)
        try checkLinear(task.map(\.1), losses, increasingUp: true)
        let reg = try XCTUnwrap(e.first { $0.cls == "lambda-r" && $0.name == "polyline" }).points
        try checkLinear(reg.map(\.1), steps.map { ($0["lambda"] as! NSNumber).doubleValue * ($0["reg_loss"] as! NSNumber).doubleValue },
                        increasingUp: true)
        // Accuracy per epoch, at the epoch's step, in percent.
        let train = try XCTUnwrap(e.first { $0.cls == "train-metric" && $0.name == "polyline" }).points
        let test = try XCTUnwrap(e.first { $0.cls == "test-metric" && $0.name == "polyline" }).points
        XCTAssertEqual(train.count, epochs.count); XCTAssertEqual(test.count, epochs.count)
        try checkLinear(train.map(\.1) + test.map(\.1), epochs.map { ($0["train_metric"] as! NSNumber).doubleValue }
                        + epochs.map { ($0["test_metric"] as! NSNumber).doubleValue }, increasingUp: true)
        XCTAssertEqual(train.map(\.0), test.map(\.0))
        XCTAssertTrue(e.contains { $0.name == "text" && $0.text == "accuracy (%)" })
        // Told apart without colour: dash patterns differ, and the legend names every series.
        let dash = { (cls: String) in e.first { $0.cls == cls && $0.name == "polyline" }?.attrs["stroke-dasharray"] ?? "solid" }
        XCTAssertNotEqual(dash("task-loss"), dash("lambda-r"))
        XCTAssertNotEqual(dash("train-metric"), dash("test-metric"))
        XCTAssertEqual(e.filter { $0.cls == "legend-label" }.map(\.text), ["task loss", "λ·R (right axis)", "train", "test"])

        // CSV: the same numbers, and the events.
        let o = try btviz(["plot", run, "--curves", "--csv"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let rows = csvRows(o.stdout)
        XCTAssertEqual(rows.first, ["kind", "step", "epoch", "task_loss", "lambda_r", "metric", "train_metric", "test_metric", "event", "from", "to"])
        XCTAssertEqual(rows.filter { $0[0] == "step" }.map { Float($0[3]) ?? .nan }, steps.map { ($0["task_loss"] as! NSNumber).floatValue })
        XCTAssertEqual(rows.filter { $0[0] == "step" }.map { Float($0[4]) ?? .nan },
                       steps.map { ($0["lambda"] as! NSNumber).floatValue * ($0["reg_loss"] as! NSNumber).floatValue })
        XCTAssertEqual(rows.filter { $0[0] == "epoch" }.map { Float($0[7]) ?? .nan }, epochs.map { ($0["test_metric"] as! NSNumber).floatValue })
        XCTAssertEqual(rows.filter { $0[0] == "event" }.map { [$0[1], $0[8], $0[9], $0[10]] },
                       [["2", "method", "bt", "ttq"], ["3", "lambda", "0.0003", "0.001"]])
    }

    /// ys (SVG, down is larger) are one linear function of values: a common slope, negative when larger values
    /// are drawn higher.
    private func checkLinear(_ ys: [Double], _ values: [Double], increasingUp: Bool, file: StaticString = #filePath,
                             line: UInt = #line) throws {
        XCTAssertEqual(ys.count, values.count, file: file, line: line)
        guard let lo = values.indices.min(by: { values[$0] < values[$1] }), let hi = values.indices.max(by: { values[$0] < values[$1] }),
              values[hi] > values[lo] else { return }
        let slope = (ys[hi] - ys[lo]) / (values[hi] - values[lo])
        XCTAssertEqual(slope < 0, increasingUp, file: file, line: line)
        for (y, v) in zip(ys, values) { XCTAssertEqual(y, ys[lo] + (v - values[lo]) * slope, accuracy: 0.03, file: file, line: line) }
    }

    // MARK: Bad input

    func testBadInputFailsWithOneLine() throws {
        let run = try trainedRun("bt")
        let unknown = try btviz(["plot", run, "--layer", "conv9"])
        assertCleanFailure(unknown, mentioning: "conv9")
        XCTAssertTrue(unknown.stderr.contains("conv1, conv2, conv3, conv4"), unknown.stderr)

        assertCleanFailure(try btviz(["plot", temporaryDirectory(), "--layer", "conv1"]), mentioning: "not a btviz run")
        assertCleanFailure(try btviz(["plot", run]), mentioning: "--layer")
        // A folder to make below a file: one line naming the file, and nothing written.
        let blocked = try btviz(["plot", run, "--layer", "conv1", "--out", run + "/config.json/fig/x.svg"])
        assertCleanFailure(blocked, mentioning: "config.json is a file, not a folder")

        // A run that has only started: config.json and a start event, no step record.
        let young = temporaryDirectory()
        try FileManager.default.copyItem(atPath: run + "/config.json", toPath: young + "/config.json")
        let start = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")[0]
        try (start + "\n").write(toFile: young + "/metrics.jsonl", atomically: true, encoding: .utf8)
        assertCleanFailure(try btviz(["plot", young, "--layer", "conv1"]), mentioning: "no step records")
        assertCleanFailure(try btviz(["plot", young, "--curves"]), mentioning: "no step records")

        // A log whose first record is step 2 (the step-0 line dropped): --step 1 is before it.
        let late = temporaryDirectory() + "/late"
        try FileManager.default.copyItem(atPath: run, toPath: late)
        let kept = try String(contentsOfFile: late + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { !($0.contains("\"type\":\"step\"") && $0.contains("\"step\":0,")) }
        try (kept.joined(separator: "\n") + "\n").write(toFile: late + "/metrics.jsonl", atomically: true, encoding: .utf8)
        assertCleanFailure(try btviz(["plot", late, "--layer", "conv1", "--step", "1"]), mentioning: "before the first logged step, 2")
        XCTAssertEqual(try btviz(["plot", late, "--layer", "conv1", "--step", "2", "--csv"]).status, 0)
    }

    /// `--out fig/x.svg` with no fig/ yet: the folders are made (relative to the working folder) and the figure
    /// written into them.
    func testOutMakesItsFolder() throws {
        let run = try trainedRun("bt")
        let cwd = temporaryDirectory()
        let o = try btviz(["plot", run, "--curves", "--out", "fig/deeper/x.svg"], currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.hasPrefix("wrote fig/deeper/x.svg (curves over"), o.stdout)
        let svg = try String(contentsOfFile: cwd + "/fig/deeper/x.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"), String(svg.prefix(80)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd + "/fig/deeper"), ["x.svg"], "no temporary left")
    }

    /// Names come from the run's files: a layer named with XML's special characters still gives a well-formed SVG
    /// that shows the name as it is.
    func testNamesFromTheLogAreEscaped() throws {
        let run = temporaryDirectory() + "/odd"
        try FileManager.default.copyItem(atPath: try trainedRun("bt"), toPath: run)
        let name = #"c<3 & "x"'s"#
        var lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let i = try XCTUnwrap(lines.lastIndex { $0.contains("\"type\":\"step\"") })
        var record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as? [String: Any])
        var layers = try XCTUnwrap(record["layers"] as? [[String: Any]])
        layers[0]["name"] = name
        record["layers"] = layers
        lines[i] = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        try (lines.joined(separator: "\n") + "\n").write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let (_, e) = try plot([run, "--layer", name])
        XCTAssertTrue(try XCTUnwrap(e.first { $0.cls == "title" }?.text).contains(" · \(name) ("))
    }

    // MARK: Rendering

    /// A real renderer reads the figure (librsvg: rsvg-convert, Debian's librsvg2-bin).
    func testRendersWithRsvg() throws {
        guard let rsvg = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("rsvg-convert is not installed (apt-get install librsvg2-bin)") }
        let run = try trainedRun("bt")
        let dir = temporaryDirectory()
        for (name, args) in [("h", ["--layer", "conv2"]), ("c", ["--curves"])] {
            XCTAssertEqual(try btviz(["plot", run] + args + ["--out", dir + "/\(name).svg"]).status, 0)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: rsvg)
            p.arguments = [dir + "/\(name).svg", "-o", dir + "/\(name).png"]
            let err = Pipe()
            p.standardError = err
            try p.run(); p.waitUntilExit()
            let warnings = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationStatus, 0, warnings)
            let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).png"))
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            // IHDR: the width the SVG declares.
            XCTAssertEqual(png[16..<20].reduce(0) { $0 << 8 | Int($1) }, 760)
        }
    }
}

// MARK: XML

/// An element of the parsed SVG: its attributes, its text, and its class.
private struct Element {
    var name: String
    var attrs: [String: String]
    var text = ""
    var cls: String? { attrs["class"] }
    func num(_ key: String) -> Double { Double(attrs[key] ?? "") ?? .nan }
    var points: [(Double, Double)] {
        (attrs["points"] ?? "").split(separator: " ").map { p in
            let xy = p.split(separator: ",").map { Double($0) ?? .nan }
            return (xy.first ?? .nan, xy.last ?? .nan)
        }
    }
}

/// Every element in document order; fails unless the document is well-formed XML.
private func parseXML(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Element] {
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = [], open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            open.append(elements.count)
            elements.append(Element(name: name, attrs: attributes))
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
        func parser(_ parser: XMLParser, foundCharacters s: String) { if let i = open.last { elements[i].text += s } }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let c = Collector()
    parser.delegate = c
    let ok = parser.parse()
    XCTAssertTrue(ok, "not well-formed: \(parser.parserError.map(String.init(describing:)) ?? "?")", file: file, line: line)
    XCTAssertEqual(c.elements.first?.name, "svg", file: file, line: line)
    return c.elements
}

/// CSV lines as fields, each row padded to the header's width so a short row fails a comparison, not an index.
private func csvRows(_ text: String) -> [[String]] {
    let rows = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let width = rows.first?.count ?? 0
    return rows.map { $0 + Array(repeating: "", count: max(0, width - $0.count)) }
}

/// The numbers in a label, with the typographic minus read as one ("−0.054 · 3e−4" gives -0.054, 0.0003).
private func numbers(_ s: String) -> [Double] {
    let t = s.replacingOccurrences(of: "−", with: "-")
    let re = try! NSRegularExpression(pattern: #"[-+]?\d+(\.\d+)?(e-?\d+)?"#)
    return re.matches(in: t, range: NSRange(t.startIndex..., in: t)).compactMap { Range($0.range, in: t).flatMap { Double(t[$0]) } }
}
