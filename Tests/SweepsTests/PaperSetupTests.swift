import Foundation
import Records
import Sweeps
import XCTest

/// `sweep table`'s account of how a sweep differs from the paper: the dataset as read, the caption's lines and the
/// cells' marks, on runs built by hand so every line is worked out here.
final class PaperSetupTests: XCTestCase {
    static let subset = DataIdentity(train: 2557, test: 4443, files: [:], official: false, fingerprint: "s")
    static let official = DataIdentity(train: 60000, test: 10000, files: [:], official: true, fingerprint: "o")

    /// config.json's options as `sweep table` reads them (RunIdentity's display form), btviz's defaults for Fashion.
    static func trained(_ method: String, lambda: String, limits: (Int, Int) = (0, 0), _ more: [String: String] = [:]) -> [String: String] {
        var t = ["dataset": "fashion", "method": method, "lambda": lambda, "k": "16", "epochs": "2", "batch_size": "128",
                 "reg_reduction": "sum", "noise_ratio": "0.1", "crop": "true", "cutout": "true", "seed": "0",
                 "train_limit": "\(limits.0)", "test_limit": "\(limits.1)"]
        for (k, v) in more { t[k] = v }
        return t
    }

    static func run(_ method: String, seed: Int, test: Double, trained: [String: String]?, data: DataIdentity?) -> SweepTable.RunResult {
        var p = RunProgress()
        p.metric = "accuracy"; p.testMetric = test; p.finished = true
        return .init(name: "method=\(method),seed=\(seed)", options: ["dataset": "fashion", "k": "16", "method": method, "seed": "\(seed)"],
                     state: .done, progress: p, trained: trained, data: data)
    }

    static func plan(_ methods: [String]) throws -> SweepPlan {
        let runs = methods.flatMap { m in (0..<2).map { s in ["name": "method=\(m),seed=\(s)", "options": ["dataset": "fashion", "k": "16", "method": m, "seed": "\(s)"], "args": [String]()] as [String: Any] } }
        let json: [String: Any] = ["version": 1, "name": "t", "varying": ["method", "seed"], "runs": runs,
                                   "parameters": [["key": "dataset", "values": ["fashion"]], ["key": "k", "values": ["16"]],
                                                  ["key": "method", "values": methods], ["key": "seed", "values": ["0", "1"]]]]
        return try SweepPlan.decode(try JSONSerialization.data(withJSONObject: json), path: "sweep.json")
    }

    func testTheDatasetAsReadNamesCountsLimitsAndRelease() {
        func label(_ t: [String: String]?, _ d: DataIdentity?) -> String? { SweepTable.dataLabel(Self.run("bt", seed: 0, test: 0.8, trained: t, data: d)) }
        XCTAssertEqual(label(Self.trained("bt", lambda: "0"), Self.subset), "fashion (2,557/4,443, not the official release)")
        // --train-limit 200 --test-limit 300: what was read, of what the files hold.
        XCTAssertEqual(label(Self.trained("bt", lambda: "0", limits: (200, 300)), Self.subset), "fashion (200/300 of 2,557/4,443, not the official release)")
        // A limit above the split's size reads the whole split.
        XCTAssertEqual(label(Self.trained("bt", lambda: "0", limits: (5000, 0)), Self.subset), "fashion (2,557/4,443, not the official release)")
        XCTAssertEqual(label(Self.trained("bt", lambda: "0"), Self.official), "fashion (60,000/10,000, the official release)")
        XCTAssertNil(label(Self.trained("bt", lambda: "0"), nil), "no data identity recorded: nothing is claimed")
    }

    /// Table 1 (no regularizer, the full official data, batch 128): BWN at btviz's λ 1e-4 and TWN at 3e-4 differ in λ;
    /// BT at λ 0 only in its data; full precision's λ means nothing, its batch of 64 differs. Every cell is marked,
    /// and the caption has one line per setting with each method's value; the epochs are stated, not compared.
    func testTheCaptionNamesEverySettingThatDiffersAndTheCellsAreMarked() throws {
        let limits = (200, 300)
        var runs: [SweepTable.RunResult] = []
        for seed in 0..<2 {
            runs.append(Self.run("full", seed: seed, test: 0.80, trained: Self.trained("full", lambda: "0.0003", limits: limits, ["batch_size": "64"]), data: Self.subset))
            runs.append(Self.run("bwn", seed: seed, test: 0.70 + 0.02 * Double(seed), trained: Self.trained("bwn", lambda: "0.0001", limits: limits), data: Self.subset))
            runs.append(Self.run("twn", seed: seed, test: 0.74, trained: Self.trained("twn", lambda: "0.0003", limits: limits), data: Self.subset))
            runs.append(Self.run("bt", seed: seed, test: 0.75, trained: Self.trained("bt", lambda: "0", limits: limits), data: Self.subset))
        }
        let t = try SweepTable(plan: try Self.plan(["full", "bwn", "twn", "bt"]), results: runs, rows: ["dataset", "k"], columns: ["method"], paper: "table1")
        let data = "fashion (200/300 of 2,557/4,443, not the official release)"
        XCTAssertEqual(t.dataLabels[["fashion", "16"]], data)
        XCTAssertEqual(t.cell(["fashion", "16"], ["bwn"])?.differences.map(\.text),
                       ["λ 0.0001, paper: 0 (Table 1: no regularizer)", "data \(data), paper: the full official release"])
        XCTAssertEqual(t.cell(["fashion", "16"], ["bt"])?.differences.map(\.setting), ["data"])
        XCTAssertEqual(t.cell(["fashion", "16"], ["full"])?.differences.map(\.text),
                       ["data \(data), paper: the full official release", "batch_size 64, paper: 128"])
        XCTAssertEqual(t.paperCaption, [
            "† the cell's runs were trained differently from the paper's setup (Table 1: no regularizer; the full official datasets, batch 128, R summed, noise 0.1, ratio 0.66, BT's a_opt):",
            "  λ: 0.0001 (bwn); 0.0003 (twn); the paper: 0 (Table 1: no regularizer)",
            "  data: \(data); the paper: the full official release",
            "  batch_size: 64 (full); the paper: 128",
            "epochs: 2; the paper's count is not transcribed (PaperTables.swift), so it is stated, not compared.",
        ])

        let md = try SweepTableFormat.md.render(t)
        XCTAssertTrue(md.contains("| \(data) | 16 | 80.00 ± 0.00 (n=2) † | 93.48 |"), md)
        XCTAssertTrue(md.contains("| 71.00 ± 1.41 (n=2) † | 92.51 |"), md)
        XCTAssertTrue(md.contains("\n  λ: 0.0001 (bwn); 0.0003 (twn); the paper: 0 (Table 1: no regularizer)"), md)
        let latex = try SweepTableFormat.latex.render(t)
        XCTAssertTrue(latex.contains("71.00 $\\pm$ 1.41 (n=2) $^\\dagger$"), latex)
        XCTAssertTrue(latex.contains("% † the cell's runs were trained differently"), latex)
        let csv = try SweepTableFormat.csv.render(t).split(separator: "\n").map(String.init)
        XCTAssertTrue(csv[0].hasSuffix(",figures_differ,differs_from_paper"), csv[0])
        XCTAssertTrue(csv.contains { $0.hasPrefix("fashion,16,bt,") && $0.hasSuffix(",\"data \(data), paper: the full official release\"") }, csv.joined(separator: "\n"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try SweepTableFormat.json.render(t).utf8)) as? [String: Any])
        XCTAssertEqual(json["paper_caption"] as? [String], t.paperCaption)
        XCTAssertEqual(json["data"] as? [String], [data])
        let bwn = try XCTUnwrap((json["cells"] as? [[String: Any]])?.first { ($0["column"] as? [String: String])?["method"] == "bwn" })
        XCTAssertEqual((bwn["differs_from_paper"] as? [[String: String]])?.first, ["setting": "λ", "ours": "0.0001", "paper": "0 (Table 1: no regularizer)", "method": "bwn"])
    }

    /// Runs trained as the paper's setup says (the full official data, λ 0) carry no mark and no line but the
    /// epochs'; without --paper nothing is compared; a run without config.json claims nothing.
    func testRunsAsThePaperTrainedThemAreNotMarked() throws {
        let runs = (0..<2).flatMap { seed in [
            Self.run("bwn", seed: seed, test: 0.9, trained: Self.trained("bwn", lambda: "0"), data: Self.official),
            Self.run("bt", seed: seed, test: 0.9, trained: nil, data: nil),
        ] }
        let t = try SweepTable(plan: try Self.plan(["bwn", "bt"]), results: runs, rows: ["dataset", "k"], columns: ["method"], paper: "table1")
        XCTAssertTrue(t.cells.allSatisfy { $0.differences.isEmpty })
        XCTAssertEqual(t.paperCaption, ["epochs: 2; the paper's count is not transcribed (PaperTables.swift), so it is stated, not compared."])
        XCTAssertEqual(t.dataLabels[["fashion", "16"]], "fashion (60,000/10,000, the official release)")
        XCTAssertFalse(try SweepTableFormat.md.render(t).contains("†"))
        // Table 2's λ is 0.1: the same runs at λ 0 now differ.
        let t2 = try SweepTable(plan: try Self.plan(["bwn", "bt"]), results: runs, rows: ["dataset", "k"], columns: ["method"], paper: "table2")
        XCTAssertEqual(t2.cell(["fashion", "16"], ["bwn"])?.differences.map(\.text), ["λ 0, paper: 0.1 (Table 2: λ = 0.1)"])
        let none = try SweepTable(plan: try Self.plan(["bwn", "bt"]), results: runs, rows: ["dataset", "k"], columns: ["method"], paper: nil)
        XCTAssertTrue(none.paperCaption.isEmpty && none.cells.allSatisfy { $0.differences.isEmpty })
    }
}
