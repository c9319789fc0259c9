import Foundation
import XCTest

/// The model registry from the command line: a run written before it (VGG-6 named by nothing but its `k`) still
/// evaluates and resumes to the same bits, and a ResNet trains, resumes, summarizes and evaluates.
final class ModelRegistryCommandTests: XCTestCase {
    let legacy = repoRoot.appendingPathComponent("Tests/Fixtures/run-before-model-registry").path
    let cifar = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/cifar10-subset").path

    func json(_ s: String) throws -> [String: Any] { try JSONSerialization.jsonObject(with: Data(s.utf8)) as! [String: Any] }
    func file(_ name: String) throws -> [String: Any] { try json(String(contentsOfFile: legacy + "/" + name, encoding: .utf8)) }

    /// `eval --json` results, every figure as the exact float32 it printed.
    func results(_ e: [String: Any]) -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        for r in e["results"] as! [[String: Any]] {
            out[r["method"] as! String] = r.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        return out
    }

    /// Tensor name to its raw bytes in a safetensors file (8-byte little-endian header length, JSON header, data).
    func tensors(_ path: String) throws -> [String: Data] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(d.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: d.subdata(in: 8..<8 + n)) as! [String: Any]
        var out: [String: Data] = [:]
        for (name, v) in header where name != "__metadata__" {
            let offsets = (v as! [String: Any])["data_offsets"] as! [Int]
            out[name] = d.subdata(in: 8 + n + offsets[0]..<8 + n + offsets[1])
        }
        return out
    }

    /// The fixture is a BT run of VGG-6(4) on synthetic data made by the btviz of commit 3dbcad8 (before the model
    /// registry), stopped by SIGTERM at step 21 of 60; its expected files are what btviz printed for `eval --json`
    /// of the run, and, after `--resume` to the end, for the last epoch record, `eval --json` and `export --format
    /// safetensors`: that btviz's until the batch's sums went by groups (CHANGELOG, issue 35: every run's bits
    /// changed once), today's since. The old run must keep opening, resuming and giving those bits.
    func testRunFromBeforeTheModelRegistryEvaluatesAndResumesBitIdentically() throws {
        let run = temporaryDirectory() + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        for f in ["checkpoint.bin", "config.json", "metrics.jsonl"] {
            try FileManager.default.copyItem(atPath: legacy + "/" + f, toPath: run + "/" + f)
        }
        let before = try btviz(["eval", run, "--json"])
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertEqual(results(try json(before.stdout)), results(try file("expected-eval.json")))

        let s = try btviz(["summary", run])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("VGG-6(4)"), s.stdout)

        let r = try btviz(["train", "--resume", run, "--headless", "--threads", "2"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let last = try json(String(try XCTUnwrap(lines.last { $0.contains("\"type\":\"epoch\"") })))
        let expected = try file("expected-resumed-last-epoch.json")
        for key in ["step", "epoch", "test_loss", "train_loss", "test_metric", "train_metric"] {
            XCTAssertEqual((last[key] as? NSNumber)?.doubleValue, (expected[key] as? NSNumber)?.doubleValue, key)
        }
        let after = try btviz(["eval", run, "--json"])
        XCTAssertEqual(results(try json(after.stdout)), results(try file("expected-resumed-eval.json")))

        let out = temporaryDirectory() + "/now.safetensors"
        let e = try btviz(["export", run, "--format", "safetensors", "--out", out])
        XCTAssertEqual(e.status, 0, e.stderr)
        let now = try tensors(out), then = try tensors(legacy + "/expected-resumed.safetensors")
        XCTAssertEqual(Set(now.keys), Set(then.keys))
        for (name, bytes) in then { XCTAssertEqual(now[name], bytes, "\(name) differs from the old btviz's resume") }
    }

    /// Model choices and their options are checked as any option: one line each, naming the flag.
    func testBadModelChoicesAreOneLineEach() throws {
        for (args, words) in [(["--model", "alexnet"], "--model must be one of"),
                              (["--model", "srnet"], "--model srnet is a restoration model; --task classify takes vgg6")] {
            let bad = try btviz(["train", "--headless", "--epochs", "1", "--run-dir", temporaryDirectory() + "/x"] + args)
            XCTAssertNotEqual(bad.status, 0, args.joined(separator: " "))
            XCTAssertTrue(bad.stderr.contains(words), "\(args): \(bad.stderr)")
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        }
    }
}
