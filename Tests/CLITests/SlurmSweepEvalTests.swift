import Foundation
import XCTest

/// `btviz sweep eval --backend slurm` against the real single-node cluster `scripts/slurm-cluster start` makes:
/// the job array writes the same eval.json a local `sweep eval` does. Without a cluster the test fails, naming why.
final class SlurmSweepEvalTests: XCTestCase {
    func testSlurmEvaluationArrayCachesWhatTheLocalOneDoes() throws {
        let sinfo = try? runProgram("/usr/bin/env", ["sinfo", "-h", "-N", "-o", "%T"])
        let node = sinfo?.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard sinfo?.status == 0, ["idle", "mixed", "allocated", "completing"].contains(node) else {
            return XCTFail("no usable Slurm cluster (sinfo: \(sinfo?.stderr ?? "not installed") \(node)); scripts/slurm-cluster start makes one")
        }
        let root = temporaryDirectory()
        let spec = root + "/grid.yaml"
        try ("name: slurm-eval\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {values: [0]}\n"
             + "  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 256}\n  test_limit: {value: 128}\n  batch_size: {value: 64}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let local = root + "/local", slurm = root + "/slurm"
        for dir in [local, slurm] {
            let o = try btviz(["sweep", "run", spec, "--out", dir, "--threads", "1"], timeout: 600)
            XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        }
        let l = try btviz(["sweep", "eval", local, "--threads", "1"], timeout: 600)
        XCTAssertEqual(l.status, 0, l.stdout + l.stderr)

        let s = try btviz(["sweep", "eval", slurm, "--backend", "slurm", "--time", "00:10:00"])
        XCTAssertEqual(s.status, 0, s.stdout + s.stderr)
        XCTAssertTrue(s.stdout.contains("submitted 2 evaluations as Slurm job array"), s.stdout)
        let names = ["method=bwn", "method=bt"]
        // Submitted again at once: each run is queued, running or evaluated by then, and none is sent twice.
        let twice = try btviz(["sweep", "eval", slurm, "--backend", "slurm", "--time", "00:10:00"])
        XCTAssertEqual(twice.status, 0, twice.stdout + twice.stderr)
        XCTAssertTrue(twice.stdout.contains("nothing to evaluate"), twice.stdout)
        XCTAssertTrue(twice.stdout.contains("queued or running on Slurm already") || twice.stdout.contains("2 evaluated already"), twice.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: slurm + "/slurm/eval-2.txt"))
        // Each task writes eval.json when it is done: wait for both (or the deadline).
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, !names.allSatisfy({ FileManager.default.fileExists(atPath: slurm + "/" + $0 + "/eval.json") }) {
            usleep(500_000)
        }
        for name in names {
            let a = try figures(local + "/" + name), b = try figures(slurm + "/" + name)
            XCTAssertEqual(b, a, name)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: slurm + "/slurm")
        XCTAssertTrue(files.contains("eval-1.sbatch") && files.contains("eval-1.txt") && files.contains("eval-1.job"), "\(files)")
        XCTAssertFalse(files.contains { $0.hasPrefix("array-") }, "an evaluation is not a training array: \(files)")
        // Everything evaluated: nothing more is submitted.
        let again = try btviz(["sweep", "eval", slurm, "--backend", "slurm"])
        XCTAssertTrue(again.stdout.contains("nothing to evaluate"), again.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: slurm + "/slurm/eval-2.txt"))
    }

    /// eval.json's figures and key (not its time).
    func figures(_ run: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: run + "/eval.json"))
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return ["test_metric", "test_loss", "stored_test_metric", "calibration_used"].map { "\($0)=\(o[$0] ?? "missing")" }
    }
}
