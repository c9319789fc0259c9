import BTCore
import Foundation
import Sweeps
import XCTest

/// The Slurm launcher's script and its readers of Slurm's output, on hand-worked cases. The lines below are what
/// squeue and scontrol of Debian's slurm-wlm 22.05 printed for a job array on the test cluster; the sacct lines are
/// its documented `-P` form (the test cluster keeps no accounting). SlurmSweepTests (CLITests) runs the real thing.
final class SlurmLauncherTests: XCTestCase {
    func testSqueueLinesBecomeTasksAndANonArrayJobIsSkipped() {
        let text = "10|1|PENDING|JobArrayTaskLimit\n10|2|PENDING|BeginTime\n10|0|RUNNING|None\n11|N/A|RUNNING|None\n"
        XCTAssertEqual(SlurmQueue.parseSqueue(text), [
            .init(arrayJob: "10", index: 1, state: "PENDING", reason: "JobArrayTaskLimit"),
            .init(arrayJob: "10", index: 2, state: "PENDING", reason: "BeginTime"),
            .init(arrayJob: "10", index: 0, state: "RUNNING", reason: nil),
        ])
    }

    func testRestartsAreReadPerTaskAndTheRecordOfUnstartedTasksIsSkipped() {
        let text = """
            JobId=27 ArrayJobId=27 ArrayTaskId=0 JobName=btviz-slurm-timelimit UserId=root(0) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1
            JobId=26 ArrayJobId=26 ArrayTaskId=1-3%1 ArrayTaskThrottle=1 JobName=wrap JobState=PENDING Reason=JobArrayTaskLimit Requeue=1 Restarts=0 BatchFlag=1
            JobId=30 ArrayJobId=26 ArrayTaskId=0 ArrayTaskThrottle=1 JobName=wrap JobState=RUNNING Reason=None Requeue=1 Restarts=0 BatchFlag=1
            """
        XCTAssertEqual(SlurmQueue.parseRestarts(text), ["27_0": 1, "26_0": 0])
    }

    func testSacctLinesNameHowEachTaskEnded() {
        let text = "40_0|TIMEOUT\n40_1|CANCELLED by 0\n40_2|OUT_OF_MEMORY\n40_[3-5]|PENDING\n"
        XCTAssertEqual(SlurmQueue.parseSacct(text), [
            .init(arrayJob: "40", index: 0, state: "TIMEOUT", reason: nil),
            .init(arrayJob: "40", index: 1, state: "CANCELLED", reason: nil),
            .init(arrayJob: "40", index: 2, state: "OUT_OF_MEMORY", reason: nil),
        ])
    }

    /// The run folder decides once a task holds the run or the run is done; the queue says why the others wait.
    func testStatusMergesTheRunFolderWithItsTask() {
        func task(_ state: String, _ reason: String?, restarts: Int = 0) -> SlurmTask {
            SlurmTask(job: "12_3", state: state, reason: reason, restarts: restarts)
        }
        XCTAssertEqual(SlurmQueue.merge(.notStarted, task("PENDING", "JobArrayTaskLimit")).word, "pending")
        XCTAssertEqual(SlurmQueue.merge(.notStarted, task("PENDING", "JobArrayTaskLimit")).note, "Slurm job 12_3 waits: JobArrayTaskLimit")
        let requeued = SlurmQueue.merge(.interrupted, task("PENDING", "BeginTime", restarts: 2))
        XCTAssertEqual(requeued.word, "requeued")
        XCTAssertEqual(requeued.note, "Slurm job 12_3 waits: BeginTime (restart 2)")
        let running = SlurmQueue.merge(.running(holder: "btviz train (pid 7 on vm)"), task("RUNNING", nil, restarts: 1))
        XCTAssertEqual(running.word, "running")
        XCTAssertEqual(running.note, "btviz train (pid 7 on vm), requeued 1x")
        XCTAssertEqual(SlurmQueue.merge(.notStarted, task("RUNNING", nil)).note, "Slurm job 12_3 starting")
        XCTAssertEqual(SlurmQueue.merge(.done, task("COMPLETING", nil)).word, "done")
        let failed = SlurmQueue.merge(.failed(reason: "btviz: cannot read x"), task("COMPLETING", nil))
        XCTAssertEqual(failed.word, "failed")
        XCTAssertEqual(failed.note, "btviz: cannot read x; Slurm job 12_3 completing")
        let timedOut = SlurmQueue.merge(.interrupted, task("TIMEOUT", nil))
        XCTAssertEqual(timedOut.word, "interrupted")
        XCTAssertEqual(timedOut.note, "Slurm job 12_3 timeout")
        XCTAssertEqual(SlurmQueue.merge(.interrupted, nil).word, "interrupted")
    }

    func testTheScriptCarriesEveryOptionAndParsesAsBash() throws {
        let settings = SlurmSettings(partition: "long", time: "02:00:00", cpusPerTask: 4, mem: "8G", maxParallel: 5,
                                     account: "lab42", extraLines: ["--qos=high", "#SBATCH --constraint=avx2"])
        let launcher = try SlurmLauncher(folder: SweepFolder("/shared/sweeps/t1"), settings: settings, executable: "/opt/btviz/bin/btviz")
        let s = launcher.nextSubmission()
        XCTAssertEqual(s.index, 1)
        let script = launcher.script(runs: ["k=16,method=bt", "k=16,method=twn", "k=32,method=bt"], sweepName: "table 1/fashion", submission: s)
        let lines = script.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "#!/bin/bash")
        XCTAssertEqual(lines.filter { $0.hasPrefix("#SBATCH") }, [
            "#SBATCH --job-name=btviz-table_1_fashion", "#SBATCH --array=0-2%5", "#SBATCH --cpus-per-task=4",
            "#SBATCH --partition=long", "#SBATCH --time=02:00:00", "#SBATCH --mem=8G", "#SBATCH --account=lab42",
            "#SBATCH --requeue", "#SBATCH --signal=B:TERM@60", "#SBATCH --output=/shared/sweeps/t1/slurm/%A_%a.out",
            "#SBATCH --open-mode=append", "#SBATCH --qos=high", "#SBATCH --constraint=avx2",
        ])
        XCTAssertTrue(lines.contains("dir='/shared/sweeps/t1'"), script)
        XCTAssertTrue(lines.contains("run=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$dir/slurm/array-1.txt\")"), script)
        XCTAssertTrue(lines.contains("'/opt/btviz/bin/btviz' sweep task \"$dir\" \"$run\" --threads \"${SLURM_CPUS_PER_TASK:-1}\" &"), script)
        // Without options: one core per task, no throttle, no partition (the cluster's default).
        let plain = try SlurmLauncher(folder: SweepFolder("/s"), settings: SlurmSettings(), executable: "/b")
            .script(runs: ["run"], sweepName: "x", submission: s)
        XCTAssertTrue(plain.contains("#SBATCH --array=0-0\n#SBATCH --cpus-per-task=1\n#SBATCH --requeue\n"), plain)
        // bash -n: it parses.
        let path = NSTemporaryDirectory() + "slurm-\(UUID().uuidString).sbatch"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", path]
        try bash.run()
        bash.waitUntilExit()
        XCTAssertEqual(bash.terminationStatus, 0)
    }

    func testValuesNoSbatchLineCanHoldAreRefused() {
        func refusal(_ folder: String, _ settings: SlurmSettings) -> String {
            do { _ = try SlurmLauncher(folder: SweepFolder(folder), settings: settings, executable: "/b"); return "accepted" } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(refusal("runs/t1", SlurmSettings()).contains("absolute path"))
        XCTAssertTrue(refusal("/shared/my sweep", SlurmSettings()).contains("#SBATCH lines cannot hold"))
        XCTAssertTrue(refusal("/shared/100%", SlurmSettings()).contains("'%'"))
        XCTAssertTrue(refusal("/s", SlurmSettings(partition: "a b")).contains("--partition 'a b'"))
        XCTAssertTrue(refusal("/s", SlurmSettings(time: "")).contains("--time ''"))
        XCTAssertTrue(refusal("/s", SlurmSettings(cpusPerTask: 0)).contains("--cpus-per-task 0"))
        XCTAssertTrue(refusal("/s", SlurmSettings(extraLines: ["echo hi"])).contains("--sbatch 'echo hi'"))
        XCTAssertEqual(refusal("/s", SlurmSettings(partition: "gpu", extraLines: ["--gres=gpu:1"])), "accepted")
    }

    /// DIR/slurm's submissions: only arrays sbatch accepted (with a job id) count; numbering goes on after the last.
    func testSubmissionsAreTheArraysWithAJobID() throws {
        let dir = NSTemporaryDirectory() + "sweep-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/slurm", withIntermediateDirectories: true)
        try "a\nb\n".write(toFile: dir + "/slurm/array-1.txt", atomically: true, encoding: .utf8)
        try "812\n".write(toFile: dir + "/slurm/array-1.job", atomically: true, encoding: .utf8)
        try "c\n".write(toFile: dir + "/slurm/array-2.txt", atomically: true, encoding: .utf8)  // never accepted
        let subs = SlurmQueue.submissions(SweepFolder(dir))
        XCTAssertEqual(subs.map(\.jobID), ["812"])
        XCTAssertEqual(subs.first?.runs, ["a", "b"])
        let launcher = try SlurmLauncher(folder: SweepFolder(dir), settings: SlurmSettings(), executable: "/b")
        XCTAssertEqual(launcher.nextSubmission().index, 3)
    }
}
