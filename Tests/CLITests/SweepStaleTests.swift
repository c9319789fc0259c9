import Foundation
import XCTest

/// A sweep's runs are what its spec says (issue 32): a spec changed after its runs finished never has the old runs
/// counted, resumed or tabled as its own.
final class SweepStaleTests: XCTestCase {
    func spec(epochs: Int) -> String {
        """
        name: stale
        method: grid
        parameters:
          dataset: {value: fashion}
          data-dir: {value: \(fashionDir)}
          method: {values: [bwn, bt]}
          k: {value: 4}
          epochs: {value: \(epochs)}
          train-limit: {value: 128}
          test-limit: {value: 32}
        """
    }

    func testAChangedConstantIsRefusedAndOldRunsShowAsStale() throws {
        let root = temporaryDirectory(), specPath = root + "/s.yaml", out = root + "/sw"
        try spec(epochs: 1).write(toFile: specPath, atomically: true, encoding: .utf8)
        let first = try btviz(["sweep", "run", specPath, "--out", out], timeout: 300)
        XCTAssertEqual(first.status, 0, first.stderr)
        // The same spec again: its runs are its own, nothing is stale.
        let again = try btviz(["sweep", "run", specPath, "--out", out])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("(2 done); 0 to train"), again.stdout)
        XCTAssertTrue(try btviz(["sweep", "status", out]).stdout.contains("(2 done)"))

        let planBefore = try Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json"))
        let specBefore = try Data(contentsOf: URL(fileURLWithPath: out + "/spec.yaml"))
        try spec(epochs: 2).write(toFile: specPath, atomically: true, encoding: .utf8)
        for extra in [[], ["--dry-run"]] {
            let o = try btviz(["sweep", "run", specPath, "--out", out] + extra)
            assertCleanFailure(o, mentioning: "2 of 2 runs in \(out) were trained with other options than the spec's: --epochs is 2 in the spec, 1 in the run (method=bwn, method=bt); give a new --out for the changed spec, or revert it")
        }
        // Nothing was rewritten: the folder still describes the runs it holds.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json")), planBefore)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/spec.yaml")), specBefore)

        // A folder whose sweep.json already disagrees with its runs (written by an older btviz): stale in status,
        // json and the table, never counted.
        var plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: planBefore) as? [String: Any])
        var runs = try XCTUnwrap(plan["runs"] as? [[String: Any]])
        for i in runs.indices {
            var args = try XCTUnwrap(runs[i]["args"] as? [String])
            let at = try XCTUnwrap(args.firstIndex(of: "--epochs"))
            args[at + 1] = "2"
            runs[i]["args"] = args
        }
        plan["runs"] = runs
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: out + "/sweep.json"))
        let status = try btviz(["sweep", "status", out])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("(2 stale)"), status.stdout)
        XCTAssertTrue(status.stdout.contains("stale") && status.stdout.contains("the spec says --epochs 2, the run was trained with 1"), status.stdout)
        let json = try btviz(["sweep", "status", out, "--json"])
        XCTAssertTrue(json.stdout.contains("\"stale\" : 2"), json.stdout)
        let table = try btviz(["sweep", "table", out])
        XCTAssertEqual(table.status, 0, table.stderr)
        // The dataset as the runs read it (their config.json), stale or not.
        XCTAssertTrue(table.stdout.contains("| fashion (128/32 of 2,557/4,443, not the official release) | 4 | 1 stale | 1 stale |"), table.stdout)
        XCTAssertFalse(table.stdout.contains("n="), "a stale run was counted: \(table.stdout)")
    }
}
