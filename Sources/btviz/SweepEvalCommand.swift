import ArgumentParser
import BTCore
import Foundation
import Records
import Sweeps
import Training

/// `btviz sweep eval DIR`: the evaluation of record of every finished run, cached in RUN/eval.json.
struct SweepEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate every finished run of a sweep with re-estimated batch-norm statistics (btviz eval's figure for the run's method) and cache it in RUN/eval.json for sweep table --metric recalibrated.",
        discussion: """
        Each run's cache is keyed to the SHA-256 of its checkpoint.bin and the calibration (--calibration-images \
        and the draw): a run whose cache matches is not evaluated again; a run resumed or retrained since is. \
        The figure with the checkpoint's stored statistics is recorded beside it. Runs that are not done (or stale) \
        are left alone. Super-resolution and denoising runs are refused: btviz has no re-estimated statistics for \
        them yet. docs/sweeps.md describes eval.json.
        """)

    @Argument(help: "The sweep folder.") var dir: String
    @Option(help: "local (child processes on this machine; default) or slurm (an sbatch job array).") var backend: SweepBackend = .local
    @Option(parsing: .unconditional, help: "local: runs evaluated at once (default: one per core of --threads, one thread each).") var jobs: Int?
    @Option(parsing: .unconditional, help: "local: threads shared by the evaluations at once, split evenly (default: the cores this process may use).") var threads: Int?
    @Option(parsing: .unconditional, help: "Training images used to re-estimate each run's batch-norm statistics (btviz eval's default).")
    var calibrationImages = RunEvaluation.defaultCalibrationImages
    @OptionGroup(title: "Slurm (--backend slurm)") var slurm: SlurmOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let threads, !(1...Workers.limit).contains(threads) { throw ValidationError("--threads must be in 1...\(Workers.limit)") }
        guard calibrationImages >= 2 else { throw ValidationError("--calibration-images must be at least 2 (got \(calibrationImages))") }
        if backend == .slurm { _ = try SlurmSubmission.launcher(out: dir, options: slurm) }  // a bad #SBATCH value, before anything
    }

    func run() throws {
        let folder = SweepFolder(dir)
        let plan = try folder.plan()
        var todo: [String] = [], current = 0, notDone: [String: Int] = [:], restoration: [String] = []
        // An evaluation array submitted earlier and still queued or running: its runs are not sent again.
        let queued = SlurmQueue.queuedRuns(folder, prefix: SlurmEvalLauncher.filePrefix)
        var inQueue: [String] = []
        for r in plan.runs {
            let path = folder.runPath(r.name)
            let progress = RunProgress.read(runDir: path)
            let state = SweepStaleness.state(of: path, args: r.args, progress: progress)
            guard state == .done else { notDone[state.word, default: 0] += 1; continue }
            if progress.reportedMetric != .accuracy { restoration.append(r.name); continue }
            let (found, why) = RunEvaluation.current(runDir: path, calibrationImages: calibrationImages)
            if found != nil { current += 1; continue }
            if let job = queued[r.name] { inQueue.append("\(r.name) (\(job))"); continue }
            if why.hasPrefix("its eval.json is unusable") { print(TerminalText.escape("note: \(r.name): \(why); evaluating it again")) }
            todo.append(r.name)
        }
        if let first = restoration.first {
            throw BTError("\(restoration.count) finished run(s) of \(dir) report PSNR (\(first)): sweep eval re-estimates batch-norm statistics for classification runs only; their table figure is the stored one")
        }
        let others = notDone.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        print(TerminalText.escape("sweep \(plan.name): \(plan.runs.count) runs in \(folder.path); \(current) evaluated already, \(todo.count) to evaluate"
                                  + (others.isEmpty ? "" : "; not finished, left alone: " + others.joined(separator: ", "))))
        if !inQueue.isEmpty {
            print(TerminalText.escape("\(inQueue.count) queued or running on Slurm already, not sent again: \(inQueue.joined(separator: ", "))"))
        }
        guard !todo.isEmpty else { print("nothing to evaluate"); return }
        switch backend {
        case .local: try runLocal(folder, todo)
        case .slurm:
            let base = try SlurmSubmission.launcher(out: dir, options: slurm)
            let launcher = SlurmEvalLauncher(base: base, calibrationImages: calibrationImages)
            let (id, script) = try launcher.submit(runs: todo, sweepName: plan.name)
            print("submitted \(todo.count) evaluations as Slurm job array \(id) (\(script)); when it is done: btviz sweep table --metric recalibrated \(Train.shellWord(base.folder.path))")
        }
    }

    private func runLocal(_ folder: SweepFolder, _ todo: [String]) throws {
        let cores = threads ?? min(Workers.available, Workers.limit)
        let jobs = min(self.jobs ?? cores, todo.count)
        let perRun = max(1, cores / jobs)
        print("local: \(jobs) at once, \(perRun) thread(s) each")
        let launcher = LocalEvalLauncher(folder: folder, executable: "/proc/self/exe", jobs: jobs, threads: perRun,
                                         calibrationImages: calibrationImages)
        let summary = launcher.run(todo) { print(TerminalText.escape($0)) }
        let parts = ["\(summary.evaluated) evaluated", "\(summary.failed) failed"] + (summary.notStarted > 0 ? ["\(summary.notStarted) not started"] : [])
        if let sig = summary.stoppedBy {
            print("stopped by \(StopSignals.name(sig)): \(parts.joined(separator: ", ")); run the same command again to finish")
            throw ExitCode(128 + sig)
        }
        print("finished: \(parts.joined(separator: ", ")); btviz sweep table --metric recalibrated \(Train.shellWord(folder.path))")
        if summary.failed > 0 { throw ExitCode(1) }
    }
}

/// `btviz sweep eval-task DIR RUN`: evaluates one finished run and writes RUN/eval.json (what both of sweep
/// eval's backends start). Hidden: users run `sweep eval`.
struct SweepEvalTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-task", abstract: "Evaluate one finished run of a sweep (started by sweep eval).", shouldDisplay: false)

    @Argument(help: "The sweep folder.") var dir: String
    @Argument(help: "The run's name (its folder under DIR).") var runName: String
    @Option(parsing: .unconditional, help: "Training images used to re-estimate the batch-norm statistics.")
    var calibrationImages = RunEvaluation.defaultCalibrationImages
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard calibrationImages >= 2 else { throw BTError("--calibration-images must be at least 2 (got \(calibrationImages))") }
        let folder = SweepFolder(dir)
        guard let entry = try folder.plan().run(named: runName) else { throw BTError("\(dir)/sweep.json has no run named '\(runName)'") }
        if let why = PathComponent.problem(runName) { throw BTError("the run name '\(runName)' is not a folder name: \(why)") }
        let path = folder.runPath(runName)
        let state = SweepStaleness.state(of: path, args: entry.args, progress: RunProgress.read(runDir: path))
        guard state == .done else { throw BTError("\(runName) is \(state.word), not done: only finished runs are evaluated") }
        let e = try RunOfRecord.evaluate(runDir: path, calibrationImages: calibrationImages)
        try e.write(runDir: path)
        print(TerminalText.escape("\(runName): \(LocalEvalLauncher.describe(e))"))
    }
}

/// The evaluation of record of one run: `btviz eval RUN`'s figure for the method the run trained with.
enum RunOfRecord {
    /// Evaluates the checkpoint with its stored statistics, then with statistics re-estimated on
    /// `calibrationImages` training images, as `Eval` does for each method. The checkpoint is hashed before and
    /// after: one replaced meanwhile (a resume) is refused rather than cached under the wrong key.
    static func evaluate(runDir: String, calibrationImages: Int) throws -> RunEvaluation {
        let checkpoint = runDir + "/" + RunFiles.checkpoint
        let digest = try RunEvaluation.sha256(path: checkpoint)
        let run = try RunFolder(runDir).openForEvaluation()
        guard !run.config.task.isRestoration else {
            throw BTError("\(runDir) is a \(run.config.task.rawValue) run: re-estimated batch-norm statistics are for classification runs only")
        }
        let m = run.trainedMethod
        _ = run.engine.quantizers(for: m, toConvergence: true)  // as Eval does; the trained method's state is the checkpoint's
        let stored = try run.evaluate(method: m)
        let used = try run.recalibrateBatchNorm(method: m, images: calibrationImages)
        let recalibrated = try run.evaluate(method: m)
        guard try RunEvaluation.sha256(path: checkpoint) == digest else {
            throw BTError("\(checkpoint) changed while it was evaluated (a training resumed it?); run sweep eval again when it is done")
        }
        return RunEvaluation(checkpointSHA256: digest, step: run.checkpoint.header.step, method: m.rawValue,
                             calibrationImages: calibrationImages, calibrationUsed: used, metric: Metric.accuracy.name,
                             testImages: run.task?.testCount ?? 0, testMetric: decimal(recalibrated.metric),
                             testLoss: decimal(recalibrated.loss), storedTestMetric: decimal(stored.metric),
                             storedTestLoss: decimal(stored.loss), evaluatedAt: Self.timestamp())
    }

    /// A Float as the Double its printed text reads as (0.8506, not 0.85060000419...): eval --json's figure.
    static func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}
