import ArgumentParser
import BTCore
import Foundation
import Quantizers
import Sweeps
import Training

/// `btviz sweep`: a grid of trainings defined once (a W&B-style grid spec or the CLI shorthand), run locally or
/// on Slurm, resumed after anything, and printed as the paper's tables.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a grid of trainings (a sweep) and print its table.",
        discussion: "docs/sweeps.md describes the spec, the sweep folder and every command.",
        subcommands: [SweepRun.self, SweepStatus.self, SweepEval.self, SweepTableCommand.self, SweepBest.self, SweepPlot.self, SweepWatch.self, SweepTaskCommand.self,
                      SweepEvalTaskCommand.self])
}

/// Where a sweep's runs are trained.
enum SweepBackend: String, ExpressibleByArgument, CaseIterable {
    case local, slurm
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train every run of a sweep that is not done yet: start missing runs, resume interrupted ones, skip finished ones and runs in use.",
        discussion: """
        SPEC is a YAML file in W&B's grid form:
          name: table1-fashion
          method: grid
          parameters:
            method: {values: [full, bwn, twn, ttq, lq, bt]}
            seed: {values: [0, 1, 2]}
            epochs: {value: 15}
        Every `btviz train` option can be a parameter (batch_size or batch-size; a switch such as no_crop takes \
        true or false). Without SPEC the grid comes from train's options on this command line, each a comma list \
        or an integer range: btviz sweep run --out DIR --method bwn,twn,bt --lambda 0,3e-4 --seed 0-2. \
        Every run's options are checked by train's own parser before anything starts. Each run trains in \
        DIR/<its varying options>, e.g. DIR/method=bt,seed=0. Run the same command again after an interruption, \
        or after adding values to the grid: only what is missing is trained.
        """)

    @Option(help: "The sweep folder (created if needed; refused if it holds anything but this sweep).", completion: .directory) var out: String
    @Option(help: "local (child processes on this machine; default) or slurm (an sbatch job array).") var backend: SweepBackend = .local
    @Option(parsing: .unconditional, help: "local: runs at once (default: one per core of --threads, one thread each; measured faster in docs/sweeps.md).") var jobs: Int?
    @Option(parsing: .unconditional, help: "local: threads shared by the runs at once, split evenly (default: the cores this process may use).") var threads: Int?
    @Option(help: "The sweep's name for the CLI shorthand (default: the --out folder's name).") var name: String?
    @Flag(help: "Start a grid of more than \(SweepPlan.confirmAbove) runs.") var yes = false
    @Flag(help: "Check the grid, write nothing and print what would run (slurm: the job script).") var dryRun = false
    @OptionGroup(title: "Slurm (--backend slurm)") var slurm: SlurmOptions
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("A spec file, or train options as a grid (--method bwn,bt --seed 0-2).", valueName: "spec | --option values"))
    var grid: [String] = []

    /// 1 run × 2 threads finished a 4-run grid (fashion subset, K=16, 3 epochs) sooner than 2 runs × 1 thread in
    /// both of two alternating pairs on the 2-core VM (docs/sweeps.md; by 3-5%, under other load).

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let threads, !(1...Workers.limit).contains(threads) { throw ValidationError("--threads must be in 1...\(Workers.limit)") }
        if backend == .slurm { _ = try SlurmSubmission.launcher(out: out, options: slurm) }
        // A Slurm option on this machine would be ignored: --ntasks-per-node would not make MPI jobs, --time no limit.
        if backend == .local, let flag = slurm.givenFlags.first {
            throw ValidationError("\(flag) is an option of --backend slurm; the local backend starts one process per run (for one run over several ranks here: mpirun -n N btviz train ...)")
        }
    }

    func run() throws {
        let (spec, specText) = try readSpec()
        let absoluteOut = Train.absolute(out)  // where `tensorboard: true` puts each run's events
        let plan = try SweepValidation.plan(spec, backend: backend, previous: nil, confirmed: yes, folder: absoluteOut)
        // --dry-run checks the folder as the real run would, and writes nothing.
        let (folder, previous) = try dryRun ? (SweepFolder(out), SweepFolder.inspect(out, name: spec.name).previous) : SweepFolder.prepare(out, name: spec.name)
        // Expanded again with the folder's previous plan: a key that varied there keeps naming the runs.
        let final = previous == nil ? plan : try SweepValidation.plan(spec, backend: backend, previous: previous, confirmed: yes,
                                                                      folder: absoluteOut)
        // Before anything is renamed, written or counted as done: the folder's runs must be this spec's.
        try SweepStaleness.refuseStale(final, in: folder)
        if dryRun && backend == .local {
            for r in final.runs {
                print(TerminalText.escape("\(RunStatus.state(of: folder.runPath(r.name)).word)  \(r.name)  btviz train \(r.args.map(Train.shellWord).joined(separator: " "))"))
            }
            return
        }
        if !dryRun {
            for r in final.runs { folder.adoptRenamedRun(r, previous: previous) }
            try folder.write(plan: final, specText: specText ?? spec.yaml)
        }
        var todo: [String] = [], counts: [String: Int] = [:]
        for r in final.runs {
            let state = RunStatus.state(of: folder.runPath(r.name))
            counts[state.word, default: 0] += 1
            switch state {
            case .done: continue
            case .running(let holder): print(TerminalText.escape("in use: \(r.name) (\(holder))"))
            default: todo.append(r.name)
            }
        }
        let words = ["done", "running", "interrupted", "failed", "pending"].compactMap { w in counts[w].map { "\($0) \(w)" } }
        // A successive-halving search decides as it goes which runs train further.
        let toTrain = final.search?.earlyTerminate == nil ? "; \(todo.count) to train" : ""
        print(TerminalText.escape("sweep \(final.name): \(final.runs.count) runs in \(folder.path) (\(words.joined(separator: ", ")))\(toTrain)"))
        switch backend {
        case .local where final.search?.earlyTerminate != nil:
            try runSearch(folder, final)
        case .local:
            try runLocal(folder, todo)
        case .slurm where final.search?.earlyTerminate != nil:
            try runSlurmSearch(folder, final)
        case .slurm:
            try SlurmSubmission.submit(folder: folder, sweepName: final.name, runs: todo, options: slurm, dryRun: dryRun)
        }
    }

    private func runLocal(_ folder: SweepFolder, _ todo: [String]) throws {
        guard !todo.isEmpty else { print("nothing to train"); return }
        let (jobs, perRun) = localShare(runs: todo.count)
        print("local: \(jobs) at once, \(perRun) thread(s) each")
        let launcher = LocalLauncher(folder: folder, executable: "/proc/self/exe", jobs: jobs, threads: perRun)
        let summary = launcher.run(todo) { print(TerminalText.escape($0)) }
        let parts = ["\(summary.done) done", "\(summary.failed) failed", "\(summary.interrupted) interrupted"]
            + (summary.skipped > 0 ? ["\(summary.skipped) in use elsewhere"] : [])
            + (summary.notStarted > 0 ? ["\(summary.notStarted) not started"] : [])
        if let sig = summary.stoppedBy {
            print("stopped by \(StopSignals.name(sig)): \(parts.joined(separator: ", ")); run the same command again to resume")
            throw ExitCode(128 + sig)
        }
        print("finished: \(parts.joined(separator: ", ")); btviz sweep table \(Train.shellWord(folder.path))")
        if summary.failed > 0 { throw ExitCode(1) }
    }

    /// A successive-halving search: as many runs at once as the cores allow, each to its next rung.
    private func runSearch(_ folder: SweepFolder, _ plan: SweepPlan) throws {
        let progress = try SearchProgress(folder: folder, plan: plan)
        let (jobs, perRun) = localShare(runs: plan.runs.count)
        print("local: successive halving, \(progress.rungSummary); \(jobs) at once, \(perRun) thread(s) each")
        let summary = SearchLauncher(progress: progress, executable: "/proc/self/exe", jobs: jobs, threads: perRun).run { print(TerminalText.escape($0)) }
        let parts = ["\(summary.started) started", "\(summary.promoted) promoted", "\(summary.complete) trained to the end",
                     "\(summary.failed) failed"] + (summary.interrupted > 0 ? ["\(summary.interrupted) interrupted"] : [])
        if let sig = summary.stoppedBy {
            print("stopped by \(StopSignals.name(sig)): \(parts.joined(separator: ", ")); run the same command again to continue the search")
            throw ExitCode(128 + sig)
        }
        print("search finished: \(parts.joined(separator: ", ")); \(Self.epochsSpent(progress)); btviz sweep table \(Train.shellWord(folder.path))")
        if summary.failed > 0 { throw ExitCode(1) }
    }

    /// A successive-halving search on Slurm: this process schedules, each decision a one-task job array.
    private func runSlurmSearch(_ folder: SweepFolder, _ plan: SweepPlan) throws {
        let progress = try SearchProgress(folder: folder, plan: plan)
        let launcher = try SlurmSubmission.launcher(out: folder.path, options: slurm)
        let jobs = slurm.maxParallel ?? self.jobs ?? 4
        if dryRun {
            guard let d = progress.next(busy: Set(SlurmQueue.tasks(folder).filter { $0.value.isLive }.keys)) else { print("nothing to submit"); return }
            print("slurm: successive halving, \(progress.rungSummary); would submit \(d.run.name) to epoch \(d.toEpoch) first, as:")
            for line in launcher.script(runs: [d.run.name], sweepName: plan.name, submission: launcher.nextSubmission(), untilEpoch: d.toEpoch)
                .split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                print(TerminalText.escape(String(line)))
            }
            return
        }
        print("slurm: successive halving, \(progress.rungSummary); up to \(jobs) tasks at once, scheduled from this process (Ctrl-C leaves the submitted tasks to finish; the same command continues the search)")
        let summary = try SlurmSearchLauncher(progress: progress, launcher: launcher, sweepName: plan.name, jobs: jobs)
            .run { print(TerminalText.escape($0)) }
        if let sig = summary.stoppedBy {
            print("stopped by \(StopSignals.name(sig)): \(summary.submitted) tasks submitted, \(summary.promoted) of them promotions; the queued ones go on; run the same command again to continue the search")
            throw ExitCode(128 + sig)
        }
        print("search finished: \(summary.submitted) tasks submitted (\(summary.promoted) promotions); \(Self.epochsSpent(progress)); btviz sweep table \(Train.shellWord(folder.path))")
    }

    /// How many runs train at once here and with how many threads each. By default one run per core, one thread
    /// each: on the 2-core VM a grid finished 14-25% sooner than one run on both cores (docs/sweeps.md);
    /// independent runs need no synchronization between threads.
    private func localShare(runs: Int) -> (jobs: Int, perRun: Int) {
        let cores = threads ?? min(Workers.available, Workers.limit)
        let jobs = min(self.jobs ?? cores, runs)
        return (jobs, max(1, cores / jobs))
    }

    /// "26 of 108 epochs (24%) a full grid of these runs would train": what a finished search cost, either backend.
    private static func epochsSpent(_ progress: SearchProgress) -> String {
        let spent = progress.epochsSpent(), full = progress.plan.runs.count * progress.epochs
        return "\(spent) of \(full) epochs (\(Int((100 * Double(spent) / Double(max(full, 1))).rounded()))%) a full grid of these runs would train"
    }

    /// The spec and its file's text, or the shorthand on this command line (nil: written out as YAML once the grid
    /// has passed its checks).
    private func readSpec() throws -> (SweepSpec, String?) {
        var file: String?, options: [(key: String, text: String)] = []
        var i = 0
        while i < grid.count {
            let token = grid[i]
            if token.hasPrefix("--") {
                var key = String(token.dropFirst(2)), value: String?
                if let eq = key.firstIndex(of: "=") { value = String(key[key.index(after: eq)...]); key = String(key[..<eq]) }
                if value == nil, i + 1 < grid.count, !grid[i + 1].hasPrefix("--") { value = grid[i + 1]; i += 1 }
                options.append((key, value ?? "true"))
            } else if file == nil {
                file = token
            } else {
                throw BTError("unexpected argument '\(token)': give one spec file, or the grid as options")
            }
            i += 1
        }
        if let file {
            var spec = try SweepSpec.read(path: file)
            // With a spec file, --run-cap and --seed are a random search's own settings (raise the cap to continue it).
            for o in options {
                guard ["run-cap", "seed"].contains(o.key) else {
                    throw BTError("give a spec file or the grid as options (--\(o.key) ...), not both")
                }
                guard var search = spec.search else {
                    throw BTError("--\(o.key) with a spec file is a random search's setting; \(file) is a grid (method: grid)")
                }
                if o.key == "run-cap" {
                    guard let n = Int(o.text), (1...SweepSpec.maxRunCap).contains(n) else {
                        throw BTError("--run-cap must be a whole number of runs from 1 to \(SweepSpec.maxRunCap)")
                    }
                    search.runCap = n
                } else {
                    guard let n = UInt64(o.text) else { throw BTError("--seed (the search's) must be a whole number from 0 to \(UInt64.max)") }
                    search.seed = n
                }
                spec = try SweepSpec(name: spec.name, search: search, metric: spec.metric)
            }
            let text = try String(decoding: RegularFile(file).readAll(limit: SweepSpec.maxBytes, what: "a sweep spec"), as: UTF8.self)
            return (spec, text)
        }
        guard !options.isEmpty else { throw BTError("no grid: give a spec file or train options (--method bwn,bt --seed 0-2)") }
        let spec = try SweepSpec.shorthand(name: name ?? URL(fileURLWithPath: out).standardizedFileURL.lastPathComponent, options: options)
        return (spec, nil)
    }
}

/// Checks a spec against `btviz train` itself: every key is one of its options, every value parses, and every
/// run's combination is one train would start. Nothing is written or started before this passes.
enum SweepValidation {
    static func plan(_ spec: SweepSpec, backend: SweepBackend, previous: SweepPlan?, confirmed: Bool, folder: String) throws -> SweepPlan {
        var switches = Set<String>()
        for p in spec.parameters.map(\.key) + (spec.search?.parameters.map(\.key) ?? []) {
            let flag = SweepSpec.flagName(p)
            guard let option = trainOptions[flag] else {
                // config.json's key of an option whose flag is named otherwise (histogram_bins is --bins).
                let viaKey = Flags.long(p.replacingOccurrences(of: "-", with: "_"))
                if viaKey != flag, trainOptions[viaKey] != nil {
                    throw BTError("parameter '\(p)' is config.json's name; the train option is '\(viaKey)'")
                }
                // The nearest option, spelt as the key was (lr_min -> lr_min's style, batch-size -> batch-size).
                if let near = CommandNames.nearest(flag, among: trainOptionNames) {
                    let spelt = p.contains("_") || !p.contains("-") ? near.replacingOccurrences(of: "-", with: "_") : near
                    throw BTError("parameter '\(p)' is not a btviz train option; did you mean '\(spelt)'?")
                }
                throw BTError("parameter '\(p)' is not a btviz train option (btviz help train lists them)")
            }
            if !option.takesValue { switches.insert(flag) }
        }
        let paths: SweepPlan.Paths = backend == .slurm ? .requireAbsolute : .resolve(against: FileManager.default.currentDirectoryPath)
        var plan = spec.search == nil
            ? try SweepPlan.expand(spec, flags: switches, paths: paths, previous: previous, confirmed: confirmed, folder: folder)
            : try SweepPlan.sample(spec, flags: switches, paths: paths, folder: folder)
        for run in plan.runs {
            if let message = problem(run.args) { throw BTError("\(plan.runs.count == 1 ? "the run" : "run \(run.name)"): \(message)") }
        }
        if let halving = plan.search?.earlyTerminate {
            let epochs = try budget(of: plan, halving)
            plan.search?.epochs = epochs
        }
        return plan
    }

    /// Successive halving's budget: the runs' epochs as train reads them, one for all (the last rung), above min_iter.
    static func budget(of plan: SweepPlan, _ halving: SuccessiveHalving) throws -> Int {
        if let p = plan.search?.parameters.first(where: { SweepSpec.flagName($0.key) == "epochs" && $0.distribution.isSampled }) {
            throw BTError("early_terminate needs one budget: '\(p.key)' is the last rung, so give it one value, not a distribution")
        }
        var epochs: Int?
        for run in plan.runs {
            let e = try Train.parse(run.args).newConfig.epochs
            if let epochs, epochs != e {
                throw BTError("early_terminate needs one budget: the runs' epochs differ (\(epochs) and \(e)); give epochs one value")
            }
            epochs = e
        }
        guard let epochs, halving.minIter < epochs else {
            throw BTError("early_terminate: min_iter \(halving.minIter) is not below the runs' \(epochs ?? 0) epochs, so no run would pause at a rung")
        }
        return epochs
    }

    /// Train's options as its parser declares them.
    static let trainOptions = DeclaredOptions(Train.self)

    /// The names a misspelt parameter is matched against: train's shown options, less those a sweep sets itself.
    static let trainOptionNames: [String] = trainOptions.shownNames.filter { SweepSpec.reserved[$0] == nil }

    /// What train says about these arguments (its parser, its option groups' checks, then the config's), or nil.
    static func problem(_ args: [String]) -> String? {
        do {
            let train = try Train.parse(args)
            try train.newConfig.validate()
            return nil
        } catch {
            // Train's checks name options as train's flags, as `btviz train` would print them.
            let text = Flags.report(error, parser: Train.self)
            return text.split(separator: "\n").first.map(String.init) ?? text
        }
    }
}
