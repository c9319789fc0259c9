import Foundation
import XCTest

/// Open MPI launches (scripts/deps installs openmpi-bin): the ranks' reduction gives the same bits on any rank count,
/// and a launch btviz cannot serve fails with one line before anything is written.
final class MPILaunchTests: XCTestCase {
    /// mpirun as root needs both variables; --oversubscribe lets 3 ranks share this machine's 2 cores.
    private func mpirun(_ ranks: Int, _ args: [String]) throws -> Output {
        guard let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            XCTFail("mpirun is missing: scripts/deps installs openmpi-bin")
            throw XCTSkip("no mpirun")
        }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        // Ranks waiting in a collective yield the core instead of spinning on it (the ranks outnumber the cores).
        env["OMPI_MCA_mpi_yield_when_idle"] = "1"
        return try runProgram(mpirun, ["-n", "\(ranks)", "--oversubscribe", btvizPath] + args, environment: env, timeout: 240)
    }

    /// "tree median ... bits 0123456789abcdef  all ranks agree" -> scheme: (bits, agree)
    private func fingerprints(_ o: Output) -> [String: (String, Bool)] {
        var out: [String: (String, Bool)] = [:]
        for line in o.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let scheme = words.first, let b = words.firstIndex(of: "bits"), b + 1 < words.count else { continue }
            out[String(scheme)] = (String(words[b + 1]), line.hasSuffix("all ranks agree"))
        }
        return out
    }

    func testTheTreeAndOrderedReductionsGiveTheSameBitsOnOneTwoAndThreeRanks() throws {
        let args = ["reduce-bench", "--k", "4", "--repeats", "2"]
        let one = try btviz(args)
        XCTAssertEqual(one.status, 0, one.stderr)
        let alone = fingerprints(one)
        XCTAssertEqual(Set(alone.keys), ["tree", "ordered", "plain"], one.stdout)
        for ranks in [2, 3] {
            let o = try mpirun(ranks, args)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.contains("ranks \(ranks),") && o.stdout.contains("Open MPI"), o.stdout)
            let got = fingerprints(o)
            for scheme in ["tree", "ordered"] {
                XCTAssertEqual(got[scheme]?.0, alone[scheme]?.0, "\(scheme) at \(ranks) ranks: \(o.stdout)")
                XCTAssertEqual(got[scheme]?.1, true, o.stdout)
            }
            XCTAssertEqual(got["plain"]?.1, true, o.stdout)
            // MPI_Allreduce adds 3 ranks' sums in its own order: the test can tell a rank-count dependence.
            if ranks == 3 { XCTAssertNotEqual(got["plain"]?.0, alone["plain"]?.0, o.stdout) }
        }
    }

    /// Two "hosts" (scripts/netns-hosts: network namespaces joined by a veth pair, Open MPI's tcp BTL only): the
    /// ranks really sit in two network stacks, and the tree gives the bits of one process.
    func testRanksOnTwoHostsTalkingTCPGiveTheBitsOfOneProcess() throws {
        let script = repoRoot.appendingPathComponent("scripts/netns-hosts").path
        let start = try runProgram(script, ["start"])
        XCTAssertEqual(start.status, 0, "netns-hosts start: \(start.stderr)")
        guard start.status == 0 else { return }
        defer { _ = try? runProgram(script, ["stop"]) }
        let where_ = try runProgram(script, ["mpirun", "2", "/bin/sh", "-c", "readlink /proc/self/ns/net"], timeout: 120)
        XCTAssertEqual(where_.status, 0, where_.stderr)
        XCTAssertEqual(Set(where_.stdout.split(separator: "\n")).count, 2, "two network namespaces: \(where_.stdout)")
        let args = ["reduce-bench", "--k", "4", "--repeats", "2"]
        let alone = fingerprints(try btviz(args))
        for ranks in [2, 3] {
            let o = try runProgram(script, ["mpirun", "\(ranks)", btvizPath] + args, timeout: 240)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.contains("ranks \(ranks),"), o.stdout)
            let got = fingerprints(o)
            for scheme in ["tree", "ordered"] {
                XCTAssertEqual(got[scheme]?.0, alone[scheme]?.0, "\(scheme) at \(ranks) ranks over TCP: \(o.stdout)")
                XCTAssertEqual(got[scheme]?.1, true, o.stdout)
            }
        }
    }

    /// An MPI job through the Slurm cluster (scripts/slurm-cluster, which scripts/test starts): a 2-task allocation
    /// whose script runs mpirun (Open MPI starts its daemons with Slurm's own launcher) gives one process's bits.
    func testAnMPIJobThroughSlurmGivesTheBitsOfOneProcess() throws {
        let sinfo = try runProgram("/usr/bin/env", ["sinfo", "-h", "-N", "-o", "%T"])
        XCTAssertEqual(sinfo.status, 0, "no Slurm cluster (scripts/slurm-cluster start): \(sinfo.stderr)")
        guard sinfo.status == 0 else { return }
        let args = ["reduce-bench", "--k", "4", "--repeats", "2"]
        let alone = fingerprints(try btviz(args))
        let out = temporaryDirectory() + "/job.txt"
        let submit = try runProgram("/usr/bin/env", [
            "sbatch", "--parsable", "-n", "2", "-o", out, "--export=ALL,OMPI_ALLOW_RUN_AS_ROOT=1,OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
            "--wrap", "mpirun --mca mpi_yield_when_idle 1 \(btvizPath) \(args.joined(separator: " "))"])
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let job = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? runProgram("/usr/bin/env", ["scancel", job]) }
        // Waits for the job to leave the queue (the test's own limit: a busy machine may start it late).
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let q = try runProgram("/usr/bin/env", ["squeue", "-h", "-j", job])
            if q.status == 0 && q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { break }
            usleep(500_000)
        }
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        XCTAssertTrue(text.contains("ranks 2,"), "job \(job) wrote: \(text)")
        let got = fingerprints(Output(status: 0, stdout: text, stderr: ""))
        for scheme in ["tree", "ordered"] {
            XCTAssertEqual(got[scheme]?.0, alone[scheme]?.0, "\(scheme) in Slurm job \(job): \(text)")
            XCTAssertEqual(got[scheme]?.1, true, text)
        }
    }

    func testALaunchWithoutOpenMPISaysWhatIsMissing() throws {
        let o = try btviz(["reduce-bench", "--k", "1", "--repeats", "1"],
                          environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1", "BTVIZ_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        assertCleanFailure(o, mentioning: "apt-get install openmpi-bin")
        XCTAssertTrue(o.stderr.contains("launched by mpirun as rank 1 of 2"), o.stderr)
    }

    func testTrainRefusesToRunOnceOnEveryRank() throws {
        let dir = temporaryDirectory()
        let run = (dir as NSString).appendingPathComponent("run")
        let o = try btviz(["train", "--headless", "--dataset", "synthetic", "--epochs", "1", "--k", "2", "--run-dir", run],
                          environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"])
        assertCleanFailure(o, mentioning: "several ranks")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run), "nothing is written")
    }
}
