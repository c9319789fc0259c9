import BTCore
import Foundation
import Sweeps
import XCTest

/// How a spec's `tensorboard:` value becomes each run's own `--tensorboard` folder in sweep.json (no training: the
/// expansion alone, as `sweep run` plans for the local and the Slurm backend).
final class SweepTensorBoardPlanTests: XCTestCase {
    func spec(_ tensorboard: String) throws -> SweepSpec {
        try SweepSpec.parse(yaml: "name: t\nmethod: grid\nparameters:\n  method: {values: [bwn, bt]}\n  seed: {value: 0}\n"
                            + "  tensorboard: {value: '\(tensorboard)'}\n", source: "s.yaml", defaultName: "d")
    }

    func tensorBoardArgs(_ plan: SweepPlan) -> [String: String?] {
        Dictionary(uniqueKeysWithValues: plan.runs.map { r in (r.name, r.args.firstIndex(of: "--tensorboard").map { r.args[$0 + 1] }) })
    }

    func testARootGivesEachRunItsOwnFolderUnderIt() throws {
        let local = try SweepPlan.expand(spec("tb/events"), flags: [], paths: .resolve(against: "/work/here"), folder: "/s")
        XCTAssertEqual(tensorBoardArgs(local), ["method=bwn": "/work/here/tb/events/method=bwn", "method=bt": "/work/here/tb/events/method=bt"])
        // The rest of the arguments are the spec's, in its order.
        XCTAssertEqual(local.runs[1].args, ["--method", "bt", "--seed", "0", "--tensorboard", "/work/here/tb/events/method=bt"])
        let slurm = try SweepPlan.expand(spec("/shared/tb"), flags: [], paths: .requireAbsolute, folder: "/s")
        XCTAssertEqual(tensorBoardArgs(slurm), ["method=bwn": "/shared/tb/method=bwn", "method=bt": "/shared/tb/method=bt"])
        // `..` as written, a trailing slash or the root itself: one folder per run, named once.
        let dots = try SweepPlan.expand(spec("/a/b/../tb/"), flags: [], paths: .requireAbsolute, folder: "/s")
        XCTAssertEqual(tensorBoardArgs(dots)["method=bt"], "/a/tb/method=bt")
        let top = try SweepPlan.expand(spec("/"), flags: [], paths: .requireAbsolute, folder: "/s")
        XCTAssertEqual(tensorBoardArgs(top)["method=bt"], "/method=bt")
    }

    func testARelativeRootIsRefusedForSlurm() throws {
        XCTAssertThrowsError(try SweepPlan.expand(spec("tb"), flags: [], paths: .requireAbsolute, folder: "/s")) {
            XCTAssertEqual("\($0)", "parameter 'tensorboard': 'tb' is relative to this shell; the Slurm backend needs an absolute path on a filesystem the nodes share")
        }
    }

    func testTrueIsTheRunsFolderAndFalseIsNone() throws {
        for value in ["true", "run", "True"] {
            let plan = try SweepPlan.expand(spec(value), flags: [], paths: .requireAbsolute, folder: "/s/sweep")
            XCTAssertEqual(tensorBoardArgs(plan), ["method=bwn": "/s/sweep/method=bwn/tensorboard", "method=bt": "/s/sweep/method=bt/tensorboard"], value)
        }
        let off = try SweepPlan.expand(spec("false"), flags: [], paths: .requireAbsolute, folder: "/s")
        XCTAssertEqual(off.runs.map(\.args), [["--method", "bwn", "--seed", "0"], ["--method", "bt", "--seed", "0"]])
        // The sweep folder is no root: the runs' own folders are its entries.
        XCTAssertThrowsError(try SweepPlan.expand(spec("/s/x/.."), flags: [], paths: .requireAbsolute, folder: "/s")) {
            XCTAssertTrue("\($0)".contains("/s is the sweep folder"), "\($0)")
        }
    }
}
