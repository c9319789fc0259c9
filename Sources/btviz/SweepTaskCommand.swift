import ArgumentParser
import BTCore
import Foundation
import Sweeps

/// `btviz sweep task DIR RUN`: trains or resumes one run of a sweep (what both launchers start). Hidden: users
/// run `sweep run`.
struct SweepTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Train or resume one run of a sweep (started by the launchers).", shouldDisplay: false)

    @Argument(help: "The sweep folder.", completion: .directory) var dir: String
    @Argument(help: "The run's name (its folder under DIR).") var runName: String
    @Option(parsing: .unconditional, help: "Worker threads for the training.") var threads: Int?
    @Option(parsing: .unconditional, help: "Pause once this many epochs are done (a successive-halving rung).") var untilEpoch: Int?
    @Option(parsing: .unconditional, help: "Train as one MPI job of this many ranks (mpirun).") var ranks: Int = 1

    func validate() throws {
        if let n = untilEpoch, n < 1 { throw ValidationError("--until-epoch must be at least 1") }
        if !(1...SlurmLauncher.maxRanks).contains(ranks) { throw ValidationError("--ranks must be in 1...\(SlurmLauncher.maxRanks)") }
    }

    func run() throws {
        let folder = SweepFolder(dir)
        guard let entry = try folder.plan().run(named: runName) else { throw BTError("\(dir)/sweep.json has no run named '\(runName)'") }
        // mpirun starts the ranks by path: /proc/self/exe would name mpirun itself there.
        let exe = ranks > 1 ? try SlurmSubmission.executable() : "/proc/self/exe"
        let task = SweepTask(folder: folder, run: entry, executable: exe, threads: threads, untilEpoch: untilEpoch, ranks: ranks)
        let result: SweepTask.Result
        do { result = try task.perform(echo: 1) } catch {
            // The launchers send this process's output nowhere: the reason goes where `sweep status` reads it.
            task.recordFailure((error as? BTError)?.description ?? "\(error)")
            throw error
        }
        switch result {
        case .alreadyDone: print(TerminalText.escape("\(runName): already done"))
        case .inUse(let holder): print(TerminalText.escape("\(runName): in use by \(holder); not started"))
        case .ended(let exit): if exit.shellCode != 0 { throw ExitCode(exit.shellCode) }
        }
    }
}
