import Foundation
import Records
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
        // A training run with one rank on each host: the checkpoint of one process, byte for byte.
        let dir = temporaryDirectory()
        let one = try btviz(trainArgs(dir + "/one", epochs: 1), timeout: 300)
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try runProgram(script, ["mpirun", "2", btvizPath] + trainArgs(dir + "/hosts", epochs: 1), timeout: 300)
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertEqual(try checkpoint(dir + "/hosts"), try checkpoint(dir + "/one"), "two hosts over TCP: another checkpoint than one process's")
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

    /// `srun --mpi=pmix -n 2 btviz train ...`: Slurm starts the ranks itself (no mpirun), through PMIx; the run ends
    /// with one process's bits.
    func testSrunStartsTheRanksDirectlyAndTheRunEndsWithOneProcessBits() throws {
        let sinfo = try runProgram("/usr/bin/env", ["sinfo", "-h", "-N", "-o", "%T"])
        XCTAssertEqual(sinfo.status, 0, "no Slurm cluster (scripts/slurm-cluster start): \(sinfo.stderr)")
        guard sinfo.status == 0 else { return }
        let dir = temporaryDirectory()
        let one = try btviz(trainArgs(dir + "/one", epochs: 1), timeout: 300)
        XCTAssertEqual(one.status, 0, one.stderr)
        // srun waits for its allocation and the steps (the test's own limit: a busy machine may start it late).
        let o = try runProgram("/usr/bin/env", ["srun", "--mpi=pmix", "-n", "2", "--oversubscribe", btvizPath] + trainArgs(dir + "/srun", epochs: 1),
                               timeout: 400)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("(2 ranks)"), o.stdout)
        XCTAssertEqual(try checkpoint(dir + "/srun"), try checkpoint(dir + "/one"), "srun's 2 ranks: another checkpoint than one process's")
    }

    func testALaunchWithoutOpenMPISaysWhatIsMissing() throws {
        let o = try btviz(["reduce-bench", "--k", "1", "--repeats", "1"],
                          environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1", "BTVIZ_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        assertCleanFailure(o, mentioning: "apt-get install openmpi-bin")
        XCTAssertTrue(o.stderr.contains("launched by mpirun as rank 1 of 2"), o.stderr)
    }

    // MARK: one run over several ranks

    /// BT on VGG-6(16), the Fashion subset; `extra` adds or overrides options.
    private func trainArgs(_ run: String, epochs: Int = 2, _ extra: [String] = []) -> [String] {
        ["train", "--headless", "--dataset", "fashion", "--data-dir", fashionDir, "--method", "bt", "--k", "16",
         "--epochs", "\(epochs)", "--seed", "0", "--threads", "1", "--run-dir", run] + extra
    }

    /// The epoch records' figures (train and test metric and loss), without their wall times.
    private func epochFigures(_ run: String) throws -> [[Float]] {
        let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        return try log.split(separator: "\n").filter { $0.contains("\"type\":\"epoch\"") }.map { line in
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return ["train_metric", "train_loss", "test_metric", "test_loss"].map { Float((o[$0] as? Double) ?? .nan) }
        }
    }

    private func checkpoint(_ run: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.bin")) }

    /// The checkpoint holds the weights, the batch-norm running statistics, the quantizers' state and Adam's
    /// moments: equal files are equal runs.
    func testATrainingRunEndsBitIdenticalOnOneTwoAndThreeRanks() throws {
        let dir = temporaryDirectory()
        let one = try btviz(trainArgs(dir + "/one"), timeout: 300)
        XCTAssertEqual(one.status, 0, one.stderr)
        let reference = try checkpoint(dir + "/one"), figures = try epochFigures(dir + "/one")
        XCTAssertEqual(figures.count, 2)
        XCTAssertGreaterThan(figures.last?[2] ?? 0, 0.6, "it learns: \(figures)")
        for ranks in [2, 3] {
            let run = dir + "/ranks\(ranks)"
            let o = try mpirun(ranks, trainArgs(run))
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.contains("(\(ranks) ranks)"), o.stdout)
            XCTAssertEqual(try checkpoint(run), reference, "\(ranks) ranks: another checkpoint than one process's")
            XCTAssertEqual(try epochFigures(run), figures, "\(ranks) ranks")
            let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
            XCTAssertTrue(log.contains("on \(ranks) ranks"), "the start event says how it ran")
        }
    }

    /// Every process of a launch: (rank, pid), from /proc (children of mpirun with its rank in their environment).
    private func rankPIDs(of launcher: pid_t) -> [Int: pid_t] {
        var out: [Int: pid_t] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == launcher,
                  let env = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(name)/environ")) else { continue }
            for v in env.split(separator: 0) {
                let s = String(decoding: v, as: UTF8.self)
                if s.hasPrefix("OMPI_COMM_WORLD_RANK="), let r = Int(s.dropFirst("OMPI_COMM_WORLD_RANK=".count)) { out[r] = pid }
            }
        }
        return out
    }

    /// Starts `mpirun -n ranks btviz args` and returns it running, once its run has logged `steps` step records.
    private func startMPI(_ ranks: Int, _ args: [String], run: String, steps: Int) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        p.arguments = ["-n", "\(ranks)", "--oversubscribe", btvizPath] + args
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"; env["OMPI_MCA_mpi_yield_when_idle"] = "1"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline && p.isRunning {
            if let log = try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8),
               log.components(separatedBy: "\"type\":\"step\"").count > steps { break }
            usleep(50_000)
        }
        return (p, out, err)
    }

    /// Trains DIR/whole as one process to the end, and DIR/run on `ranks` ranks until `afterSteps` step records are
    /// logged, then sends `signal` to rank `toRank` and waits for mpirun: its process, stdout and stderr. Both runs
    /// log every step (--log-every is kept in the checkpoint's header: the checkpoints compare byte for byte).
    private func interruptedRun(_ dir: String, ranks: Int, signal: Int32, toRank: Int, afterSteps: Int) throws -> (Process, String, String) {
        let whole = try btviz(trainArgs(dir + "/whole", epochs: 3, ["--log-every", "1"]), timeout: 300)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let run = dir + "/run"
        let (p, out, err) = try startMPI(ranks, trainArgs(run, epochs: 3, ["--log-every", "1"]), run: run, steps: afterSteps)
        let pids = rankPIDs(of: p.processIdentifier)
        XCTAssertEqual(pids.count, ranks, "\(ranks) ranks under mpirun")
        if let victim = pids[toRank] { kill(victim, signal) }
        wait(p, 120)
        return (p, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    private func wait(_ p: Process, _ seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); XCTFail("mpirun did not end") }
        p.waitUntilExit()
    }

    /// SIGTERM to one rank (as Slurm sends at a time limit): every rank finishes the step, rank 0 saves, all exit;
    /// the run resumed as one process ends with the bits of the uninterrupted one.
    func testARunStoppedOnTwoRanksResumesAsOneProcessBitIdentical() throws {
        let dir = temporaryDirectory(), run = dir + "/run"
        let (_, said, _) = try interruptedRun(dir, ranks: 2, signal: SIGTERM, toRank: 1, afterSteps: 5)
        XCTAssertTrue(said.contains("stopped by SIGTERM") || said.contains("stopped at step"), said)
        let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        let stop = try XCTUnwrap(log.split(separator: "\n").last { $0.contains("\"kind\":\"stop\"") }, "rank 0 logged the stop")
        let step = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(stop.utf8)) as? [String: Any])?["step"] as? Int)
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertLessThan(step, 60, "stopped before the end")
        let resumed = try btviz(["train", "--headless", "--resume", run, "--threads", "1"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try checkpoint(run), try checkpoint(dir + "/whole"), "resumed on one process: the uninterrupted run's bits")
        XCTAssertEqual(try epochFigures(run), try epochFigures(dir + "/whole"))
    }

    /// SIGKILL of a rank: the launch ends (no rank waits forever), mpirun names the rank, the run folder keeps its
    /// last checkpoint, and the run resumes from it to the uninterrupted run's bits.
    func testAKilledRankEndsTheLaunchAndTheRunResumes() throws {
        let dir = temporaryDirectory(), run = dir + "/run"
        // Past the first epoch's checkpoint (20 steps an epoch).
        let (p, _, said) = try interruptedRun(dir, ranks: 3, signal: SIGKILL, toRank: 2, afterSteps: 23)
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(said.contains("rank 2") && said.contains("signal 9"), "mpirun names the rank: \(said)")
        XCTAssertTrue(rankPIDs(of: p.processIdentifier).isEmpty, "no rank is left behind")
        let resumed = try btviz(["train", "--headless", "--resume", run, "--threads", "2"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try checkpoint(run), try checkpoint(dir + "/whole"), "resumed: the uninterrupted run's bits")
    }

    /// `btviz attach`'s requests reach rank 0 through the run folder and every rank applies them at the same step:
    /// a run paused after epoch 1 on 2 ranks and resumed there with a method and λ request waiting ends with the bits
    /// of the same run, request and resume on one process (a rank that missed the switch would change the sums).
    func testARequestThroughTheRunFolderIsAppliedByEveryRankAtTheSameStep() throws {
        let dir = temporaryDirectory(), ranks = dir + "/ranks", one = dir + "/one"
        for (run, launch) in [(ranks, 2), (one, 1)] {
            let first = launch == 1 ? try btviz(trainArgs(run, epochs: 2, ["--stop-after-epoch", "1"]), timeout: 300)
                                    : try mpirun(launch, trainArgs(run, epochs: 2, ["--stop-after-epoch", "1"]))
            XCTAssertEqual(first.status, 0, first.stderr)
            try RunRequests.send(.method("twn"), to: run)
            try RunRequests.send(.lambda(0.01), to: run)
            let resume = ["train", "--headless", "--resume", run, "--threads", "1"]
            let second = launch == 1 ? try btviz(resume, timeout: 300) : try mpirun(launch, resume)
            XCTAssertEqual(second.status, 0, second.stderr)
            let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
            XCTAssertTrue(log.contains(#""from":"bt","kind":"method","message":"method BT -> TWN","step":20"#), "applied at the resumed run's first step")
        }
        XCTAssertEqual(try checkpoint(ranks), try checkpoint(one), "2 ranks: another checkpoint than one process's")
        XCTAssertEqual(try epochFigures(ranks), try epochFigures(one))
    }

    /// ImageNet 64x64's layout with stored parts (as numpy.savez writes them), 2 x 48 training and 32 validation
    /// images of 10 classes, written by Python's zipfile alone.
    private func storedImageNet64() throws -> String {
        let dir = temporaryDirectory()
        let script = """
        import struct, sys, zipfile
        def npy(descr, shape, payload):
            head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
            head = head + " " * (64 - (10 + len(head) + 1) % 64) + "\\n"
            return b"\\x93NUMPY\\x01\\x00" + struct.pack("<H", len(head)) + head.encode() + payload
        for name, n, seed in [("train_data_batch_1", 48, 1), ("train_data_batch_2", 48, 2), ("val_data", 32, 3)]:
            labels = [(i * 7 + seed) % 10 + 1 for i in range(n)]
            # Each class its own colour, plus a little texture: learnable in a few steps.
            data = bytes((labels[i] * 23 + (k % 64) * (k // 4096 + 1) + i) % 256 for i in range(n) for k in range(12288))
            with zipfile.ZipFile("%s/%s.npz" % (sys.argv[1], name), "w") as z:
                for member, payload in [("data.npy", npy("|u1", "(%d, 12288)" % n, data)), ("labels.npy", npy("<i8", "(%d,)" % n, struct.pack("<%dq" % n, *labels)))]:
                    with z.open(zipfile.ZipInfo(member), "w", force_zip64=True) as f:
                        f.write(payload)
        """
        let o = try runProgram("/usr/bin/env", ["python3", "-c", script, dir])
        XCTAssertEqual(o.status, 0, o.stderr)
        return dir
    }

    /// A rank reads only its share of each batch from stored parts, by position (`NpzRows`), and the run still ends
    /// with one process's bits (which reads the parts in order, whole).
    func testRanksReadingTheirShareOfStoredImageNet64PartsGiveOneProcessBits() throws {
        let data = try storedImageNet64(), dir = temporaryDirectory()
        func args(_ run: String) -> [String] {
            ["train", "--headless", "--dataset", "imagenet64", "--data-dir", data, "--method", "bt", "--k", "8", "--batch-size", "32",
             "--epochs", "2", "--seed", "0", "--threads", "1", "--run-dir", run]
        }
        let one = try btviz(args(dir + "/one"), timeout: 300)
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try mpirun(2, args(dir + "/two"))
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertEqual(try checkpoint(dir + "/two"), try checkpoint(dir + "/one"), "2 ranks reading their shares: another checkpoint")
        XCTAssertEqual(try epochFigures(dir + "/two"), try epochFigures(dir + "/one"))
    }

    /// What ranks cannot share is refused on every rank before anything is written: a batch with fewer groups of
    /// images than ranks, and restoration.
    func testALaunchTrainCannotShareIsRefusedBeforeAnythingIsWritten() throws {
        let dir = temporaryDirectory(), run = dir + "/run"
        let o = try mpirun(3, trainArgs(run, epochs: 1, ["--batch-size", "2"]))
        XCTAssertNotEqual(o.status, 0)
        XCTAssertTrue(o.stderr.contains("fewer than the 3 ranks"), o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run), "nothing is written")
    }
}
