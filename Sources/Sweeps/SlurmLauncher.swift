import BTCore
import Foundation

/// `sweep run --backend slurm`: one sbatch job array per submission, one task per pending run. Each task runs
/// `btviz sweep task DIR RUN` (which starts or resumes the run, and leaves a run that is done or in use alone)
/// with the run named by line i of DIR/slurm/array-N.txt, so the script never changes with the runs it covers.
///
/// Stopping: at `warnSeconds` before its time limit Slurm sends SIGTERM to the batch shell alone
/// (`--signal=B:TERM@…`; the job reads as RUNNING or SIGNALING meanwhile); the script forwards it, the run saves,
/// and the task requeues itself with `scontrol requeue`, to resume where it stopped (submitit's pattern). On
/// `scontrol requeue`, preemption or `scancel` Slurm signals every process of the task itself and the job is
/// COMPLETING: the run saves and the script does not requeue (Slurm already did, or the user cancelled).
public struct SlurmLauncher: Sendable {
    public let folder: SweepFolder
    public let settings: SlurmSettings
    /// The absolute path of the btviz binary the tasks run (on a filesystem the nodes share).
    public let executable: String
    /// Seconds before the time limit at which a task saves and requeues.
    public static let warnSeconds = 60
    /// Cores per task when --cpus-per-task is not given: 2 runs × 1 thread beat 1 run × 2 threads on the same
    /// cores (docs/sweeps.md), so one core per run.
    public static let defaultCpusPerTask = 1
    /// The most ranks one run takes (`BatchGroups.maxGroups`: a rank holds whole groups of every batch).
    public static let maxRanks = BatchGroups.maxGroups

    /// Checks what goes into the script: values become `#SBATCH` tokens, which sbatch splits at whitespace and
    /// cannot quote, and the sweep folder must be absolute (a node does not share the submitting shell's directory).
    public init(folder: SweepFolder, settings: SlurmSettings, executable: String) throws {
        guard folder.path.hasPrefix("/") else {
            throw BTError("the Slurm backend needs the sweep folder as an absolute path on a filesystem the nodes share, not '\(folder.path)'")
        }
        if let bad = folder.path.first(where: { $0.isWhitespace || "%\\'\"".contains($0) }) {
            throw BTError("the sweep folder \(folder.path) has '\(bad)' in its path, which #SBATCH lines cannot hold; use a folder without spaces, %, quotes or backslashes for --backend slurm")
        }
        let named: [(String, String?)] = [("--partition", settings.partition), ("--time", settings.time),
                                          ("--mem", settings.mem), ("--account", settings.account)]
        for case let (flag, value?) in named where value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "#" }) {
            throw BTError("\(flag) '\(value)': a Slurm value is one word (no spaces or #)")
        }
        if let c = settings.cpusPerTask, !(1...Workers.limit).contains(c) {
            throw BTError("--cpus-per-task \(c): a run uses 1...\(Workers.limit) threads")
        }
        if let m = settings.maxParallel, m < 1 { throw BTError("--max-parallel must be at least 1") }
        for (flag, v) in [("--nodes", settings.nodes), ("--ntasks-per-node", settings.tasksPerNode)] {
            if let v, !(1...SlurmLauncher.maxRanks).contains(v) { throw BTError("\(flag) \(v): a run takes 1...\(SlurmLauncher.maxRanks) ranks") }
        }
        if settings.ranks > SlurmLauncher.maxRanks {
            throw BTError("--nodes x --ntasks-per-node is \(settings.ranks) ranks; a run takes at most \(SlurmLauncher.maxRanks) (the groups of a batch)")
        }
        for line in settings.extraLines {
            guard Self.sbatchLine(line) != nil else {
                throw BTError("--sbatch '\(line)': give one sbatch option without blanks, e.g. --sbatch=--qos=high (sbatch splits an #SBATCH line at blanks and cannot quote)")
            }
        }
        self.folder = folder
        self.settings = settings
        self.executable = executable
    }

    /// "--qos=high" or "#SBATCH --qos=high" as the `#SBATCH` line; nil for anything that is not one option: a
    /// blank inside it would split it into words sbatch reads differently (docs/slurm.md).
    static func sbatchLine(_ given: String) -> String? {
        var s = given.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("#SBATCH") { s = String(s.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        guard s.hasPrefix("-"), !s.contains(where: { $0.isWhitespace || $0.isNewline }),
              !s.unicodeScalars.contains(where: TerminalText.isControl) else { return nil }
        return "#SBATCH " + s
    }

    /// One submission's files in DIR/slurm: the script, the run list (line i = array index i) and, once sbatch
    /// has accepted it, the job id.
    public struct Submission: Sendable {
        public let index: Int
        public let slurmDir: String
        public var scriptPath: String { slurmDir + "/array-\(index).sbatch" }
        public var listPath: String { slurmDir + "/array-\(index).txt" }
        public var jobPath: String { slurmDir + "/array-\(index).job" }
    }

    /// The next free array number in DIR/slurm (1 for the first submission).
    public func nextSubmission() -> Submission {
        let used = SlurmQueue.submissionIndices(slurmDir: folder.slurmPath)
        return Submission(index: (used.max() ?? 0) + 1, slurmDir: folder.slurmPath)
    }

    /// The sbatch script for `runs` as submission `s`. `untilEpoch`: successive halving's rung, the task pauses the
    /// run there (`sweep task --until-epoch`); a requeued task resumes to the same rung.
    public func script(runs: [String], sweepName: String, submission s: Submission, untilEpoch: Int? = nil) -> String {
        precondition(!runs.isEmpty)
        var head = [
            "#!/bin/bash",
            "# btviz sweep '\(sweepName.filter { !$0.isNewline })': \(runs.count) runs of \(folder.path) as one Slurm job array,",
            "# written by `btviz sweep run --backend slurm`. Task i trains the run on line i+1 of array-\(s.index).txt",
            "# through `btviz sweep task`, which starts or resumes it (and leaves a run that is done or in use alone).",
        ] + Self.directives(settings, jobName: "btviz-", sweepName: sweepName, tasks: runs.count)
        head += [
            "#SBATCH --requeue",
            "#SBATCH --signal=B:TERM@\(Self.warnSeconds)",
            "#SBATCH --output=\(s.slurmDir)/%A_%a.out",
            "#SBATCH --open-mode=append",
        ]
        head += settings.extraLines.compactMap(Self.sbatchLine)
        let body = """
        set -u
        dir=\(Self.shellQuote(folder.path))
        run=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$dir/slurm/array-\(s.index).txt")
        task="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
        echo "btviz sweep: task $task (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) trains $run"
        # SIGTERM while the job is still RUNNING (SIGNALING while Slurm delivers it) is the time-limit warning, sent to
        # this shell alone: the run saves and the task requeues itself to resume. Otherwise (scontrol requeue,
        # preemption, scancel: the job is COMPLETING) Slurm has signalled every process itself: the run saves and Slurm
        # decides what follows.
        child=""
        stop() {
            [ -n "$child" ] || exit 143
            state=$(scontrol -o show job "$task" 2>/dev/null | grep -o 'JobState=[A-Z_]*')
            if [ "$state" = JobState=RUNNING ] || [ "$state" = JobState=SIGNALING ]; then
                kill -TERM "$child" 2>/dev/null
                wait "$child"; code=$?
                scontrol requeue "$task" && echo "btviz sweep: task $task requeued to resume after its time limit"
                exit "$code"
            fi
            wait "$child"; exit $?
        }
        trap stop TERM
        \(Self.shellQuote(executable)) sweep task "$dir" "$run" --threads "${SLURM_CPUS_PER_TASK:-1}"\(settings.ranks > 1 ? " --ranks \"${SLURM_NTASKS:-\(settings.ranks)}\"" : "")\(untilEpoch.map { " --until-epoch \($0)" } ?? "") &
        child=$!
        wait "$child"
        """
        return head.joined(separator: "\n") + "\n" + body + "\n"
    }

    /// The #SBATCH lines every btviz job array starts with (training's and evaluation's): its name (PREFIX and the
    /// sweep's name, made safe, 66 characters at most), the array with its throttle, the cores per task and the
    /// user's partition, time, memory and account.
    static func directives(_ settings: SlurmSettings, jobName prefix: String, sweepName: String, tasks: Int) -> [String] {
        let safe = sweepName.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }
        var lines = [
            "#SBATCH --job-name=\(prefix)\(String(safe.prefix(66 - prefix.count)))",
            "#SBATCH --array=0-\(tasks - 1)\(settings.maxParallel.map { "%\($0)" } ?? "")",
            "#SBATCH --cpus-per-task=\(settings.cpusPerTask ?? defaultCpusPerTask)",
        ]
        if let n = settings.nodes { lines.append("#SBATCH --nodes=\(n)") }
        if let m = settings.tasksPerNode { lines.append("#SBATCH --ntasks-per-node=\(m)") }
        if let p = settings.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = settings.time { lines.append("#SBATCH --time=\(t)") }
        if let m = settings.mem { lines.append("#SBATCH --mem=\(m)") }
        if let a = settings.account { lines.append("#SBATCH --account=\(a)") }
        return lines
    }

    /// What `--dry-run` prints: the script, then the run list it would write (as comments, so it stays a script).
    public func dryRun(runs: [String], sweepName: String) -> String {
        let s = nextSubmission()
        var out = script(runs: runs, sweepName: sweepName, submission: s)
        out += "# \(s.listPath) (not written: dry run), array index: run\n"
        for (i, r) in runs.enumerated() { out += "#   \(i): \(r)\n" }
        return out
    }

    /// Writes the script and the run list into DIR/slurm and submits them with `sbatch --parsable`; returns the
    /// array's job id. A refused submission leaves nothing behind.
    public func submit(runs: [String], sweepName: String, untilEpoch: Int? = nil) throws -> (jobID: String, submission: Submission) {
        guard !runs.isEmpty else { throw BTError("no runs to submit") }
        try OutputFolder.create(folder.slurmPath, what: "the Slurm folder")
        let s = nextSubmission()
        let id = try Self.submitArray(runs: runs, script: script(runs: runs, sweepName: sweepName, submission: s, untilEpoch: untilEpoch),
                                      listPath: s.listPath, scriptPath: s.scriptPath, jobPath: s.jobPath)
        return (id, s)
    }

    /// Writes a job array's run list and script, submits the script with `sbatch --parsable` and records the job
    /// id beside them (training's array-N and evaluation's eval-N alike); a refused submission leaves nothing behind.
    static func submitArray(runs: [String], script: String, listPath: String, scriptPath: String, jobPath: String) throws -> String {
        try AtomicFile.write(runs.joined(separator: "\n") + "\n", to: listPath)
        try AtomicFile.write(script, to: scriptPath)
        let result: SlurmCommand.Result
        do { result = try SlurmCommand.run("sbatch", ["--parsable", scriptPath]) } catch {
            unlink(listPath); unlink(scriptPath)
            throw error
        }
        let id = result.stdout.split(separator: "\n").last.map { String($0.split(separator: ";")[0]) } ?? ""
        guard result.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            unlink(listPath); unlink(scriptPath)
            throw BTError("sbatch refused the job array: \(result.firstErrorLine ?? "exit code \(result.status)")")
        }
        try AtomicFile.write(id + "\n", to: jobPath)
        return id
    }

    /// `'text'` for bash, with any `'` closed, escaped and reopened.
    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// Slurm's client commands (sbatch, squeue, scontrol), run with their output captured.
public enum SlurmCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The first non-empty line of stderr, e.g. "sbatch: error: invalid partition specified: gpu".
        public var firstErrorLine: String? {
            stderr.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
        }
    }

    /// Runs `name` found on PATH; throws a one-line error if it is not there (no Slurm client on this machine).
    public static func run(_ name: String, _ args: [String]) throws -> Result {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let path = dirs.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BTError("\(name) is not on PATH: --backend slurm needs Slurm's client commands (sbatch, squeue, scontrol) on this machine")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw BTError("cannot run \(name): \(error.localizedDescription)") }
        // Both pipes drained while it runs, so a long queue listing never blocks it.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
