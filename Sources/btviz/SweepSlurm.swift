import ArgumentParser
import BTCore
import Sweeps

/// `sweep run --backend slurm`'s options, as sbatch names them.
struct SlurmOptions: ParsableArguments {
    @Option(help: "slurm: the partition (sbatch --partition).") var partition: String?
    @Option(help: "slurm: each task's time limit (sbatch --time, e.g. 02:00:00); at the limit a run saves and its task requeues.") var time: String?
    @Option(parsing: .unconditional, help: "slurm: cores per task (sbatch --cpus-per-task; the run's --threads).") var cpusPerTask: Int?
    @Option(help: "slurm: memory per task (sbatch --mem, e.g. 8G).") var mem: String?
    @Option(parsing: .unconditional, help: "slurm: at most N tasks at once (the array's %N).") var maxParallel: Int?
    @Option(help: "slurm: the account to charge (sbatch --account).") var account: String?
    @Option(name: .customLong("sbatch"), help: "slurm: another #SBATCH line, e.g. --sbatch=--qos=high (repeatable).") var sbatchLines: [String] = []

    func validate() throws {
        if let c = cpusPerTask, c < 1 { throw ValidationError("--cpus-per-task must be at least 1") }
        if let m = maxParallel, m < 1 { throw ValidationError("--max-parallel must be at least 1") }
        for line in [partition, time, mem, account].compactMap({ $0 }) + sbatchLines where line.contains(where: \.isNewline) {
            throw ValidationError("a Slurm option must be one line")
        }
    }

    var settings: SlurmSettings {
        SlurmSettings(partition: partition, time: time, cpusPerTask: cpusPerTask, mem: mem, maxParallel: maxParallel,
                      account: account, extraLines: sbatchLines)
    }
}

enum SlurmSubmission {
    /// Hands the pending runs to the Slurm launcher (engineer L's SlurmLauncher, merged from branch `slurm`).
    static func submit(folder: SweepFolder, runs: [String], options: SlurmOptions, dryRun: Bool) throws {
        throw BTError("--backend slurm: the Slurm launcher is not in this build yet")
    }
}
