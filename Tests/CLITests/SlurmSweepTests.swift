import Foundation
import XCTest

/// `btviz sweep run --backend slurm` against a real Slurm cluster: the single-node one `scripts/slurm-cluster
/// start` makes (scripts/test starts it before the suite). Without a cluster these tests fail, naming why.
final class SlurmSweepTests: XCTestCase {
    /// A 4-run grid (2 methods x 2 seeds) of 1-epoch trainings (20 steps) on 2,560 synthetic images.
    private let smallGrid = """
        name: slurm-small
        method: grid
        parameters:
          dataset: {value: synthetic}
          k: {value: 4}
          epochs: {value: 1}
          train_limit: {value: 2560}
          test_limit: {value: 512}
          method: {values: [bwn, bt]}
          seed: {values: [0, 1]}

        """

    /// Successive halving through the cluster: `sweep run` schedules, each start and promotion a task of its own
    /// (`sweep task --until-epoch`); a task requeued part-way through its rung resumes to the same rung; a promoted
    /// run ends byte for byte as `btviz train` of its settings here.
    func testASuccessiveHalvingSearchOnSlurmPromotesByResumeAndSurvivesARequeue() throws {
        try requireCluster()
        let root = temporaryDirectory()
        let spec = root + "/search.yaml", dir = root + "/search"
        // k 12: a rung of 47 steps lasts seconds, long enough to requeue it part-way.
        let fixed = ["dataset": "synthetic", "k": "12", "epochs": "2", "log_every": "5"]
        try ("name: slurm-search\nmethod: random\nrun_cap: 4\nseed: 2\nearly_terminate: {type: hyperband, min_iter: 1, eta: 2}\n"
             + "parameters:\n" + fixed.sorted { $0.key < $1.key }.map { "  \($0.key): {value: \($0.value)}\n" }.joined()
             + "  lambda: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        nonisolated(unsafe) var search: Output?
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            search = try? btviz(["sweep", "run", spec, "--out", dir, "--backend", "slurm", "--max-parallel", "2", "--time", "00:10:00"], timeout: 900)
            finished.signal()
        }
        // Requeue r000's first task once it has trained a few steps of its first rung.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, (lastStep(dir + "/r000") ?? 0) < 5 { usleep(100_000) }
        let stepAtRequeue = try XCTUnwrap(lastStep(dir + "/r000"), "r000 never started training")
        let job = try String(contentsOfFile: dir + "/slurm/array-1.job", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let requeue = try command("scontrol", ["requeue", job + "_0"])
        XCTAssertEqual(requeue.status, 0, "scontrol requeue: \(requeue.stderr)")
        XCTAssertEqual(finished.wait(timeout: .now() + 900), .success)
        let o = try XCTUnwrap(search)
        XCTAssertEqual(o.status, 0, o.stdout + o.stderr)
        XCTAssertTrue(o.stdout.contains("start r000 to epoch 1, rung 1 of 2: Slurm job \(job)_0"), o.stdout)
        XCTAssertTrue(o.stdout.contains("search finished"), o.stdout)
        XCTAssertFalse(o.stdout.contains("start r000 to epoch 1, rung 1 of 2: Slurm job \(Int(job)! + 1)"), "the requeued task resumed r000, no second submission: \(o.stdout)")
        // Asynchronous halving promotes a run in the top half of those that reached rung 1 so far: 2 or 3 of 4,
        // as the rungs' results arrive; each promoted run completes, the others stop at rung 1.
        let promoted = o.stdout.split(separator: "\n").filter { $0.hasPrefix("promote ") }
        XCTAssertTrue((2...3).contains(promoted.count), o.stdout)
        let runs = try status(dir)
        let states = runs.map { $0["state"] as? String ?? "?" }
        XCTAssertEqual(states.filter { $0 == "done" }.count, promoted.count, "\(runs)")
        XCTAssertEqual(states.filter { $0 == "stopped" }.count, 4 - promoted.count, "\(runs)")

        // r000 was stopped part-way through rung 1 by the requeue and resumed there by the task's second start.
        XCTAssertLessThan(stepAtRequeue, 47)
        let events = try records(dir + "/r000").filter { $0["type"] as? String == "event" }.compactMap { $0["kind"] as? String }
        XCTAssertTrue(events.contains("stop") && events.contains("resume"), "\(events)")
        let out = try String(contentsOfFile: dir + "/slurm/\(job)_0.out", encoding: .utf8)
        XCTAssertTrue(out.contains("(restart 0)") && out.contains("(restart 1)"), out)

        // The requeued run's figures and each promoted run's equal the same epochs of an uninterrupted `btviz train`
        // of its settings; a promoted run's checkpoint equals it byte for byte. (The local search tests check the
        // stopped runs' rung figures.)
        for run in runs where run["name"] as? String == "r000" || run["state"] as? String == "done" {
            let name = try XCTUnwrap(run["name"] as? String)
            let lambda = try XCTUnwrap((run["options"] as? [String: String])?["lambda"])
            let straight = root + "/straight-" + name
            let t = try btviz(["train", "--headless", "--run-dir", straight, "--threads", "1", "--dataset", "synthetic", "--k", "12",
                               "--epochs", "2", "--log-every", "5", "--lambda", lambda], timeout: 300)
            XCTAssertEqual(t.status, 0, t.stderr)
            let reached = try epochFigures(dir + "/" + name)
            XCTAssertEqual(reached, Array(try epochFigures(straight).prefix(reached.count)), name)
            if run["state"] as? String == "done" {
                XCTAssertEqual(reached.count, 2, name)
                XCTAssertEqual(FileManager.default.contents(atPath: straight + "/checkpoint.bin"),
                               FileManager.default.contents(atPath: dir + "/" + name + "/checkpoint.bin"), "\(name) through Slurm ends bit-identical")
            }
        }
    }

    func testSlurmSweepFinishesEveryRunAndItsTableEqualsTheLocalOne() throws {
        try requireCluster()
        let root = temporaryDirectory()
        let spec = root + "/grid.yaml"
        try smallGrid.write(toFile: spec, atomically: true, encoding: .utf8)
        let local = root + "/local", slurm = root + "/slurm"
        let l = try btviz(["sweep", "run", spec, "--out", local], timeout: 300)
        XCTAssertEqual(l.status, 0, l.stderr)

        // At most 2 tasks at once: right after the submission the others wait in the queue for the throttle.
        let s = try btviz(["sweep", "run", spec, "--out", slurm, "--backend", "slurm", "--max-parallel", "2", "--time", "00:10:00"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("submitted"), s.stdout)
        let first = try status(slurm)
        let queued = first.filter { ($0["slurm"] as? [String: Any]) != nil }
        XCTAssertEqual(queued.count, 4, "every run should have its Slurm task in status: \(first)")
        XCTAssertTrue(queued.contains { ($0["state"] as? String) == "pending" && ($0["note"] as? String ?? "").contains("Slurm job") },
                      "right after submission, with --max-parallel 2, some run waits in the queue: \(first)")

        let states = try waitUntilSettled(slurm, timeout: 240)
        XCTAssertEqual(states.values.sorted(), ["done", "done", "done", "done"], "\(states)")
        let text = try btviz(["sweep", "status", slurm])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("4 done"), text.stdout)

        // The same grid on Slurm and locally: the same table, and every run the same to its last loss.
        for format in ["csv", "md"] {
            let a = try btviz(["sweep", "table", local, "--format", format]), b = try btviz(["sweep", "table", slurm, "--format", format])
            XCTAssertEqual(a.status, 0, a.stderr)
            XCTAssertEqual(b.status, 0, b.stderr)
            XCTAssertEqual(b.stdout, a.stdout, "the Slurm sweep's table should equal the local one (\(format))")
            XCTAssertFalse(a.stdout.isEmpty)
        }
        for name in states.keys {
            XCTAssertEqual(try finalRecords(slurm + "/" + name), try finalRecords(local + "/" + name), name)
        }

        // The submission's files: the script, the run list (line i = task i), the job id, each task's output.
        let files = try FileManager.default.contentsOfDirectory(atPath: slurm + "/slurm").sorted()
        XCTAssertTrue(files.contains("array-1.sbatch") && files.contains("array-1.txt") && files.contains("array-1.job"), "\(files)")
        let list = try String(contentsOfFile: slurm + "/slurm/array-1.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(Set(list), Set(states.keys))
        let outs = files.filter { $0.hasSuffix(".out") }
        XCTAssertEqual(outs.count, 4, "\(files)")
        for out in outs {
            let log = try String(contentsOfFile: slurm + "/slurm/" + out, encoding: .utf8)
            XCTAssertTrue(log.contains("btviz sweep: task ") && log.contains("(restart 0)"), log)
        }

        // Run again: everything is done, so nothing is submitted.
        let again = try btviz(["sweep", "run", spec, "--out", slurm, "--backend", "slurm"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: slurm + "/slurm/array-2.txt"), again.stdout)
    }

    func testARequeuedSlurmTaskResumesAndEndsAsAnUninterruptedRun() throws {
        try requireCluster()
        let root = temporaryDirectory()
        let spec = root + "/one.yaml"
        try requeueSpec("slurm-requeue").write(toFile: spec, atomically: true, encoding: .utf8)
        let dir = root + "/sweep"
        let s = try btviz(["sweep", "run", spec, "--out", dir, "--backend", "slurm"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let job = try String(contentsOfFile: dir + "/slurm/array-1.job", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let run = dir + "/run"

        // Requeue the task once its run has trained a few steps.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, (lastStep(run) ?? 0) < 10 { usleep(200_000) }
        let stepAtRequeue = try XCTUnwrap(lastStep(run), "the run never started training")
        let requeue = try command("scontrol", ["requeue", job + "_0"])
        XCTAssertEqual(requeue.status, 0, "scontrol requeue: \(requeue.stderr)")

        var seen = Set<String>()
        let states = try waitUntilSettled(dir, timeout: 240) { seen.formUnion($0.values) }
        XCTAssertEqual(states, ["run": "done"])
        XCTAssertTrue(seen.contains("requeued"), "status should show the task requeued while it waits: saw \(seen)")

        // It stopped part-way, saved, and resumed from there: one resume event, the task's second start.
        let events = try records(run).filter { $0["type"] as? String == "event" }.compactMap { $0["kind"] as? String }
        XCTAssertEqual(events.filter { $0 == "resume" }.count, 1, "\(events)")
        XCTAssertTrue(events.contains("stop"), "\(events)")
        XCTAssertLessThan(stepAtRequeue, 141)
        let out = try String(contentsOfFile: dir + "/slurm/\(job)_0.out", encoding: .utf8)
        XCTAssertTrue(out.contains("(restart 0)") && out.contains("(restart 1)"), out)

        // The same run without interruption ends with the same loss and test figures, to the last digit.
        let reference = root + "/reference"
        let r = try btviz(["train", "--headless", "--run-dir", reference, "--threads", "1", "--dataset", "synthetic", "--k", "8",
                           "--epochs", "3", "--method", "bt", "--log-every", "5"], timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try finalRecords(run), try finalRecords(reference))
    }

    /// `--ntasks-per-node 2`: each run of the sweep is one MPI job of 2 ranks (mpirun inside the allocation), one
    /// of them requeued part-way; every run ends with the bits of the same run trained as one process.
    func testASweepOfMPIRunsTrainsEachOnTwoRanksAndSurvivesARequeue() throws {
        try requireCluster()
        let root = temporaryDirectory()
        let spec = root + "/mpi.yaml"
        try requeueSpec("slurm-mpi", extra: "  seed: {values: [0, 1]}\n").write(toFile: spec, atomically: true, encoding: .utf8)
        let dir = root + "/sweep"
        // mpirun as root needs both; sbatch hands this environment to the job.
        let mpiEnv = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_mpi_yield_when_idle": "1"]
        let s = try btviz(["sweep", "run", spec, "--out", dir, "--backend", "slurm", "--ntasks-per-node", "2"], environment: mpiEnv)
        XCTAssertEqual(s.status, 0, s.stderr)
        let script = try String(contentsOfFile: dir + "/slurm/array-1.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --ntasks-per-node=2") && script.contains("--ranks"), script)
        let job = try String(contentsOfFile: dir + "/slurm/array-1.job", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The runs, named by what varies: run i has seed i.
        let runs = ["seed=0", "seed=1"]
        let first = dir + "/" + runs[0]

        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline, (lastStep(first) ?? 0) < 10 { usleep(200_000) }
        XCTAssertNotNil(lastStep(first), "the first run never started training")
        let requeue = try command("scontrol", ["requeue", job + "_0"])
        XCTAssertEqual(requeue.status, 0, "scontrol requeue: \(requeue.stderr)")
        let states = try waitUntilSettled(dir, timeout: 400)
        XCTAssertEqual(Set(states.values), ["done"], "\(states)")

        let events = try records(first).filter { $0["type"] as? String == "event" }
        XCTAssertTrue(events.contains { ($0["message"] as? String ?? "").contains("on 2 ranks") }, "trained on 2 ranks")
        XCTAssertTrue(events.contains { $0["kind"] as? String == "stop" } && events.contains { $0["kind"] as? String == "resume" },
                      "stopped by the requeue and resumed: \(events.compactMap { $0["kind"] })")
        for (i, run) in runs.enumerated() {
            let log = try String(contentsOfFile: dir + "/" + run + "/task.log", encoding: .utf8)
            XCTAssertTrue(log.contains("mpirun -n 2"), log)
            let reference = root + "/reference\(i)"
            let r = try btviz(["train", "--headless", "--run-dir", reference, "--threads", "1", "--dataset", "synthetic", "--k", "8",
                               "--epochs", "3", "--method", "bt", "--log-every", "5", "--seed", "\(i)"], timeout: 300)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try finalRecords(dir + "/" + run), try finalRecords(reference), run)
            XCTAssertEqual(try epochFigures(dir + "/" + run), try epochFigures(reference), run)
        }
    }

    func testSlurmDryRunPrintsTheScriptAndSubmitsNothing() throws {
        try requireCluster()
        let dir = temporaryDirectory() + "/sweep"
        let name = "dry-\(UUID().uuidString.prefix(8))"
        let o = try btviz(["sweep", "run", "--out", dir, "--name", name, "--backend", "slurm", "--dry-run",
                           "--dataset", "synthetic", "--method", "bwn,bt", "--seed", "0-1", "--epochs", "1",
                           "--partition", "debug", "--time", "00:10:00", "--cpus-per-task", "2", "--mem", "1G",
                           "--max-parallel", "3", "--account", "lab", "--sbatch=--qos=high", "--sbatch", "#SBATCH --nice=5"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let lines = Set(o.stdout.split(separator: "\n").map(String.init))
        for expected in ["#!/bin/bash", "#SBATCH --job-name=btviz-\(name)", "#SBATCH --array=0-3%3", "#SBATCH --cpus-per-task=2",
                         "#SBATCH --partition=debug", "#SBATCH --time=00:10:00", "#SBATCH --mem=1G", "#SBATCH --account=lab",
                         "#SBATCH --requeue", "#SBATCH --signal=B:TERM@60", "#SBATCH --output=\(dir)/slurm/%A_%a.out",
                         "#SBATCH --open-mode=append", "#SBATCH --qos=high", "#SBATCH --nice=5",
                         "#   0: method=bwn,seed=0", "#   3: method=bt,seed=1"] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in\n\(o.stdout)")
        }
        XCTAssertTrue(o.stdout.contains("sweep task \"$dir\" \"$run\" --threads \"${SLURM_CPUS_PER_TASK:-1}\""), o.stdout)
        XCTAssertTrue(o.stdout.contains("run=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$dir/slurm/array-1.txt\")"), o.stdout)
        // The script (after sweep run's one summary line) is bash that parses.
        let start = try XCTUnwrap(o.stdout.range(of: "#!/bin/bash\n"), o.stdout).lowerBound
        let script = temporaryDirectory() + "/dry.sbatch"
        try String(o.stdout[start...]).write(toFile: script, atomically: true, encoding: .utf8)
        XCTAssertEqual(try command("bash", ["-n", script]).status, 0)
        // Nothing written, nothing queued.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "a dry run writes nothing")
        let q = try command("squeue", ["-h", "-n", "btviz-\(name)", "-o", "%i"])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertEqual(q.stdout, "", "a dry run submits nothing")
    }

    func testSlurmRefusesPathsAndValuesANodeCannotUse() throws {
        try requireCluster()
        let root = temporaryDirectory()
        let grid = ["--dataset", "fashion", "--method", "bt", "--epochs", "1"]
        // A data folder relative to this shell means nothing to a task started elsewhere.
        let dir = root + "/sweep"
        let relative = try btviz(["sweep", "run", "--out", dir, "--backend", "slurm", "--data-dir", "data/fashion"] + grid, currentDirectory: root)
        assertCleanFailure(relative, mentioning: "absolute path on a filesystem the nodes share")
        // The same grid with an absolute path is accepted (as a dry run).
        let absolute = try btviz(["sweep", "run", "--out", dir, "--backend", "slurm", "--dry-run", "--data-dir", fashionDir] + grid)
        XCTAssertEqual(absolute.status, 0, absolute.stderr)
        XCTAssertTrue(absolute.stdout.contains("#SBATCH --array=0-0"), absolute.stdout)
        // #SBATCH lines split at spaces and cannot quote.
        let spaced = try btviz(["sweep", "run", "--out", dir, "--backend", "slurm", "--partition", "a b"] + grid)
        assertCleanFailure(spaced, mentioning: "--partition 'a b'")
        let notAnOption = try btviz(["sweep", "run", "--out", dir, "--backend", "slurm", "--sbatch", "echo hi"] + grid)
        assertCleanFailure(notAnOption, mentioning: "--sbatch 'echo hi'")
        let spacedFolder = try btviz(["sweep", "run", "--out", root + "/my sweep", "--backend", "slurm"] + grid)
        assertCleanFailure(spacedFolder, mentioning: "#SBATCH lines cannot hold")
        // Each refused before anything was written.
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/my sweep"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir))
    }

    // MARK: - helpers

    /// BT on VGG-6(8), synthetic data, 3 epochs of 47 steps (long enough to requeue a run part-way), logged every 5
    /// steps; `extra` adds parameter lines.
    private func requeueSpec(_ name: String, extra: String = "") -> String {
        """
        name: \(name)
        method: grid
        parameters:
          dataset: {value: synthetic}
          k: {value: 8}
          epochs: {value: 3}
          method: {value: bt}
          log_every: {value: 5}
        \(extra)
        """
    }

    /// The cluster must answer and its node take work; otherwise the test fails with what sinfo said.
    private func requireCluster() throws {
        let sinfo = try? command("sinfo", ["-h", "-N", "-o", "%T"])
        let state = sinfo?.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard let sinfo, sinfo.status == 0, ["idle", "mixed", "allocated", "completing"].contains(state) else {
            let why = sinfo.map { "sinfo exit \($0.status): \($0.stderr.isEmpty ? "node \(state)" : $0.stderr)" } ?? "sinfo is not installed"
            throw ClusterMissing(description: "no usable Slurm cluster (\(why.trimmingCharacters(in: .whitespacesAndNewlines))); scripts/slurm-cluster start makes one (scripts/test runs it)")
        }
    }

    struct ClusterMissing: Error, CustomStringConvertible { var description: String }

    /// `sweep status DIR --json`'s runs.
    private func status(_ dir: String) throws -> [[String: Any]] {
        let o = try btviz(["sweep", "status", dir, "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any]
        return json?["runs"] as? [[String: Any]] ?? []
    }

    /// Polls `sweep status` until every run is done or failed, or interrupted with no task left in the queue
    /// (an interrupted run whose task Slurm still holds is being requeued); returns each run's last state.
    private func waitUntilSettled(_ dir: String, timeout: TimeInterval, each: ([String: String]) -> Void = { _ in }) throws -> [String: String] {
        let deadline = Date().addingTimeInterval(timeout)
        var states: [String: String] = [:]
        repeat {
            let runs = try status(dir)
            states = Dictionary(uniqueKeysWithValues: runs.map { ($0["name"] as? String ?? "?", $0["state"] as? String ?? "?") })
            each(states)
            let settled = runs.allSatisfy { r in
                let state = r["state"] as? String ?? "?"
                return state == "done" || state == "failed" || (state == "interrupted" && r["slurm"] is NSNull)
            }
            if !runs.isEmpty, settled { return states }
            usleep(500_000)
        } while Date() < deadline
        XCTFail("the sweep in \(dir) did not settle within \(timeout) s: \(states); queue: \((try? command("squeue", []).stdout) ?? "?")")
        return states
    }

    private func records(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The run's last step record's step and losses, and its last epoch record's test figures, each as the
    /// shortest text of its double that reads back to it (equal means equal to the last bit).
    private func finalRecords(_ run: String) throws -> [String] {
        let all = try records(run)
        func fields(_ type: String, _ keys: [String]) throws -> [String] {
            let r = try XCTUnwrap(all.last { $0["type"] as? String == type }, "\(run) has no \(type) record")
            return keys.map { "\($0)=" + ((r[$0] as? NSNumber).map { "\($0.doubleValue)" } ?? "missing") }
        }
        return try fields("step", ["step", "loss", "task_loss", "reg_loss"]) + fields("epoch", ["epoch", "test_metric", "test_loss", "train_loss"])
    }

    /// Each epoch record's test figures, the last record of each epoch (a resumed run's repeated epoch replaces
    /// the earlier), as the shortest text of each double.
    private func epochFigures(_ run: String) throws -> [String] {
        var byEpoch: [Int: String] = [:]
        for r in try records(run) where r["type"] as? String == "epoch" {
            guard let e = r["epoch"] as? Int else { continue }
            byEpoch[e] = ["test_metric", "test_loss", "train_loss"].map { "\($0)=" + ((r[$0] as? NSNumber).map { "\($0.doubleValue)" } ?? "missing") }.joined(separator: " ")
        }
        return byEpoch.keys.sorted().map { "\($0): " + byEpoch[$0]! }
    }

    /// The step of the run's latest step record, or nil before it has one.
    private func lastStep(_ run: String) -> Int? {
        guard let text = try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").reversed().lazy.compactMap { line -> Int? in
            guard let r = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], r["type"] as? String == "step" else { return nil }
            return r["step"] as? Int
        }.first
    }

    /// Runs a Slurm client (or any tool) from PATH.
    private func command(_ tool: String, _ args: [String]) throws -> Output {
        try runProgram("/usr/bin/env", [tool] + args)
    }
}
