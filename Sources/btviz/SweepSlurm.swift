import ArgumentParser
import BTCore
import Foundation
import Sweeps

/// `sweep run --backend slurm`'s options, as sbatch names them.
struct SlurmOptions: ParsableArguments {
    @Option(help: "slurm: the partition (sbatch --partition).") var partition: String?
    @Option(help: "slurm: each task's time limit (sbatch --time, e.g. 02:00:00); at the limit a run saves and its task requeues.") var time: String?
    @Option(parsing: .unconditional, help: "slurm: cores per task (sbatch --cpus-per-task; the run's --threads).") var cpusPerTask: Int?
    @Option(help: "slurm: memory per task (sbatch --mem, e.g. 8G).") var mem: String?
    @Option(parsing: .unconditional, help: "slurm: at most N tasks at once (the array's %N).") var maxParallel: Int?
    @Option(help: "slurm: the account to charge (sbatch --account).") var account: String?
    @Option(parsing: .unconditional, help: "slurm: nodes per run: each run is one MPI job (sbatch --nodes; mpirun inside the allocation).") var nodes: Int?
    @Option(parsing: .unconditional, help: "slurm: MPI ranks per node of each run (sbatch --ntasks-per-node); --cpus-per-task is each rank's threads.") var ntasksPerNode: Int?
    @Option(name: .customLong("sbatch"), help: "slurm: another #SBATCH line, e.g. --sbatch=--qos=high (repeatable).") var sbatchLines: [String] = []

    func validate() throws {
        if let c = cpusPerTask, c < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
        if let m = maxParallel, m < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if let n = nodes, n < 1 { throw ValidationError("--nodes must be at least 1") }
        if let n = ntasksPerNode, n < 1 { throw ValidationError("--ntasks-per-node must be at least 1") }
        for line in [partition, time, mem, account].compactMap({ $0 }) + sbatchLines where line.contains(where: \.isNewline) {
            throw ValidationError("a Slurm option must be one line")
        }
    }

    /// The flags given, for the local backend's refusal.
    var givenFlags: [String] {
        let given: [(String, Bool)] = [("--partition", partition != nil), ("--time", time != nil), ("--cpus-per-task", cpusPerTask != nil),
                                       ("--mem", mem != nil), ("--max-parallel", maxParallel != nil), ("--account", account != nil),
                                       ("--nodes", nodes != nil), ("--ntasks-per-node", ntasksPerNode != nil), ("--sbatch", !sbatchLines.isEmpty)]
        return given.filter(\.1).map(\.0)
    }

    var settings: SlurmSettings {
        SlurmSettings(partition: partition, time: time, cpusPerTask: cpusPerTask, mem: mem, maxParallel: maxParallel,
                      account: account, extraLines: sbatchLines, nodes: nodes, tasksPerNode: ntasksPerNode)
    }
}

enum SlurmSubmission {
    /// Hands the runs that still need training to the Slurm launcher as one job array (or prints its script for
    /// --dry-run). A run whose task from an earlier submission is still queued or running is left to it.
    static func submit(folder given: SweepFolder, sweepName: String, runs: [String], options: SlurmOptions, dryRun: Bool) throws {
        let launcher = try self.launcher(out: given.path, options: options)
        let folder = launcher.folder
        let queued = SlurmQueue.tasks(folder).filter { $0.value.isLive }
        var todo: [String] = []
        for r in runs {
            if let t = queued[r] { print(TerminalText.escape("queued already: \(r) (Slurm job \(t.job), \(t.state.lowercased()))")) } else { todo.append(r) }
        }
        guard !todo.isEmpty else { print("nothing to submit"); return }
        if dryRun {
            // Line by line: the script's comment names the sweep, whose name comes from the spec file.
            for line in launcher.dryRun(runs: todo, sweepName: sweepName).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                print(TerminalText.escape(String(line)))
            }
            return
        }
        let (id, submission) = try launcher.submit(runs: todo, sweepName: sweepName)
        print("submitted \(todo.count) runs as Slurm job array \(id) (\(submission.scriptPath)); follow with btviz sweep status \(Train.shellWord(folder.path))")
    }

    /// The launcher for the sweep folder `out`, its values checked (sweep run's validate() calls this, so a value
    /// no #SBATCH line can hold is refused before anything is written). The script names the folder and this
    /// binary by absolute paths: a node does not share this shell's working directory.
    static func launcher(out: String, options: SlurmOptions) throws -> SlurmLauncher {
        try SlurmLauncher(folder: SweepFolder(URL(fileURLWithPath: out).standardizedFileURL.path), settings: options.settings,
                          executable: executable())
    }

    /// This btviz binary's absolute path, which the tasks run.
    static func executable() throws -> String {
        guard let p = realpath("/proc/self/exe", nil) else { throw BTError("cannot find this btviz binary's path (/proc/self/exe)") }
        defer { free(p) }
        return String(cString: p)
    }
}
