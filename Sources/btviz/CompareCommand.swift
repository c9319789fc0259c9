import Records
import ArgumentParser
import BTCore
import Datasets
import Foundation
import Sweeps
import Training

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs side by side: final test accuracy or PSNR (mean ± sd over the seeds of one configuration), flip share and distance to transitions.",
        discussion: """
        Runs are grouped by their whole configuration: every option in config.json except seed, data_dir, log_every \
        and histogram_bins (where the data is and what is logged do not change what is trained). A run \
        that switched method or λ mid-run, did not finish, was named twice (by any path to the same folder) or repeats \
        another's configuration and seed is \
        flagged and left out of its group's means; --include-flagged counts switched and unfinished runs, but a run \
        is never counted twice. A path that is not a run is skipped with a warning on stderr.

        --json prints {"rows": [...], "groups": [...], "include_flagged", "within_epochs"}.
        A row: run (as given), path (resolved), group (its index in groups), dataset, k, epochs, method, lambda, \
        seed (from config.json), final_method and final_lambda (of the last step record, null without one), status \
        (finished, stopped, nan or unfinished), step (the last recorded), total_steps, metric (accuracy, ...), \
        test_metric (of the last epoch record, a fraction for accuracy; null before the first epoch), test_epoch \
        (from 1), flip_share (the share of the quantized weights the regularizer's noise would flip, each layer \
        weighted by its weight count, at the last step record after step 0: the sweep board's and TensorBoard's \
        train/flip_share; null without one), mean_transition_distance and near_transition_share (the last 5 logged \
        steps, all layers; null without step records), skipped_lines (malformed lines of metrics.jsonl), flags (unfinished, \
        switched_method, switched_lambda, duplicate), reasons (the flags in words) and counted (in its group's means).
        A group: group, config (the options that define it), dataset, k, epochs, method, lambda, metric, n (runs \
        counted), runs (their paths as given), excluded ([{run, reasons}]), and test_metric, flip_share, \
        mean_transition_distance and near_transition_share, each {mean, sd, n} over the counted runs (sd null for one \
        run, the whole object null for none). Full precision has no transitions: its lambda, flips and distances are \
        null (– in the table). Two runs of the same configuration and seed are one run made twice: the second is \
        flagged duplicate and not counted.

        --csv prints one table, a line per row and per group: kind (row or group), group, run, path, dataset, k, \
        epochs, method, lambda, seed, status, step, total_steps, metric, test_metric, test_metric_sd, flip_share, \
        flip_share_sd, mean_transition_distance, mean_transition_distance_sd, near_transition_share, \
        near_transition_share_sd, n, counted, flags, reasons. A row leaves the *_sd columns and n empty; a group \
        leaves run, path, seed, status, step, total_steps and counted empty, and its flags and reasons are those of \
        the runs it excluded. Lists are joined by ";".
        """)

    @Argument(help: "Run directories, or sweep folders (each stands for its runs that have started).", completion: .directory) var runs: [String]
    @Option(parsing: .unconditional, help: "Measure the flip share at the last step logged in the first N epochs, and distances over the last 5 logged there (how fast the regularizer acts), instead of at the run's end.")
    var withinEpochs: Int?
    @Flag(help: "Count runs that switched method or λ, or did not finish, in the group means (they are flagged either way).")
    var includeFlagged = false
    @Option(help: "stored (test_metric of the last epoch record, the checkpoint's batch-norm statistics; default) or recalibrated (RUN/eval.json from btviz sweep eval, statistics re-estimated under the run's method; a run without one matching its checkpoint is flagged not_evaluated and not counted).")
    var metric: TableMetric = .stored
    @Flag(help: "Print rows and groups as JSON (fields described above).") var json = false
    @Flag(help: "Print rows and groups as one CSV table (fields described above).") var csv = false

    struct Row {
        var run: String, path: String
        var config: TrainConfig, header: RunHeader
        var identity: RunIdentity
        var finalMethod: String?, finalLambda: Float?
        /// Where the records put the run (`RunState.phase`): done, interrupted or failed; nil while they cannot
        /// tell (it goes on, or was cut off).
        var phase: RunPhase?, step: Int
        var metric = Metric.accuracy.name, testMetric: Float?, testEpoch: Int?
        var flip: Float?, distance: Float?, near: Float?
        var skipped = 0
        var flags: [String] = [], reasons: [String] = []
        var counted = false, group = 0

        /// compare's word for the phase, as its JSON and CSV `status` spell it.
        var statusWord: String {
            switch phase {
            case .done?: return "finished"
            case .interrupted?: return "stopped"
            case .failed?: return "nan"
            default: return "unfinished"
            }
        }

        var statusText: String {
            switch phase {
            case .done?: return "finished"
            case .interrupted?: return "stopped at step \(step) of \(header.totalSteps)"
            case .failed?: return "NaN at step \(step) of \(header.totalSteps)"
            default: return "unfinished at step \(step) of \(header.totalSteps)"
            }
        }
    }

    struct Group {
        var index: Int, identity: RunIdentity, members: [Int]
        var counted: [Int] = []
    }

    func validate() throws {
        if let n = withinEpochs, n < 1 { throw ValidationError("--within-epochs must be at least 1 (got \(n))") }
        if json && csv { throw ValidationError("--json and --csv cannot go together; choose one") }
    }

    func run() throws {
        guard !runs.isEmpty else { throw BTError("name at least one run directory") }
        var rows: [Row] = [], problems: [String] = []
        var firstByPath: [String: Int] = [:]
        for dir in try Self.expandingSweeps(runs) {
            // The same folder by another spelling (a symlink, a relative path, a trailing slash) is one run.
            let path = realpath(dir, nil).map { p in defer { free(p) }; return String(cString: p) } ?? dir
            if let first = firstByPath[path] {
                var dup = rows[first]
                dup.run = dir
                dup.flags = ["duplicate"]
                dup.reasons = ["the same run as \(rows[first].run)"]
                rows.append(dup)
                continue
            }
            do {
                rows.append(try Self.load(dir, path: path, withinEpochs: withinEpochs, figure: metric))
                firstByPath[path] = rows.count - 1
            } catch {
                problems.append("\(error)")
            }
        }
        guard !rows.isEmpty else {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more path(s) that are not runs)" : ""
            throw BTError("no run to compare: \(problems.first ?? "none given")\(more)")
        }
        for p in problems { FileHandle.standardError.write(Data("btviz: warning: \(p); skipped\n".utf8)) }

        let groups = makeGroups(&rows)
        if json {
            try printJSON(rows, groups)
        } else if csv {
            printCSV(rows, groups)
        } else {
            printText(rows, groups)
        }
    }

    /// The run folders named: a sweep folder (one with sweep.json) stands for its runs in the plan's order, those
    /// not started yet (no folder) left out with a note on stderr; anything else is taken as a run folder.
    static func expandingSweeps(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for p in paths {
            let folder = SweepFolder(p)
            guard SweepFolder.entryType(folder.planPath) != nil else { out.append(p); continue }
            let plan = try folder.plan()
            let started = plan.runs.filter { SweepFolder.entryType(folder.runPath($0.name)) != nil }
            out += started.map { folder.runPath($0.name) }
            if started.count < plan.runs.count {
                let note = "btviz: note: \(p): \(plan.runs.count - started.count) of \(plan.runs.count) runs of the sweep have not started"
                FileHandle.standardError.write(Data((TerminalText.escape(note) + "\n").utf8))
            }
        }
        return out
    }

    /// Reads one run: its configuration, its status and flags, and the figures of its last records.
    static func load(_ dir: String, path: String, withinEpochs: Int?, figure: TableMetric = .stored) throws -> Row {
        let folder = RunFolder(dir)
        let file = try folder.readConfig()
        // No metrics.jsonl: a run that never started a step, shown as unfinished at step 0.
        let (records, skipped) = try folder.readRecords()
        var epochs: [EpochRecord] = [], steps: [StepRecord] = [], events: [EventRecord] = []
        for r in records {
            switch r {
            case .epoch(let e): epochs.append(e)
            case .step(let s): steps.append(s)
            case .event(let e): events.append(e)
            }
        }
        let state = RunState(records: records)
        let last = state.step
        // Done only once its last step ran: a done event short of it is a run cut short.
        let phase = state.phase == .done && last < file.header.totalSteps ? nil : state.phase

        var row = Row(run: dir, path: path, config: file.config, header: file.header,
                      identity: try groupIdentity(file.config, data: file.header.data), finalMethod: steps.last?.method, finalLambda: steps.last?.lambda,
                      phase: phase, step: last, skipped: skipped)
        if let e = epochs.last { row.metric = e.metric; row.testMetric = e.testMetric; row.testEpoch = e.epoch + 1 }
        if phase != .done { row.flags.append("unfinished"); row.reasons.append(row.statusText) }
        if figure == .recalibrated, row.testMetric != nil {
            let (e, why) = RunEvaluation.current(runDir: dir, calibrationImages: nil)
            row.testMetric = e.map { Float($0.testMetric) }
            if e == nil { row.flags.append("not_evaluated"); row.reasons.append("\(why): btviz sweep eval evaluates a sweep's runs") }
        }
        for (kind, flag, what) in [(EventKind.method, "switched_method", "method"), (.lambda, "switched_lambda", "λ")] {
            let changes = events.filter { $0.kind == kind }
            guard !changes.isEmpty else { continue }
            row.flags.append(flag)
            let list = changes.map { "\($0.from ?? "?") -> \($0.to ?? "?") at step \($0.step)" }.joined(separator: ", ")
            row.reasons.append("switched \(what) \(list)")
        }
        // The flip share as the board and TensorBoard define it (FlipShare); distances over the last five logged
        // steps, all layers.
        let measured = withinEpochs.map { n in steps.filter { $0.epoch < n } } ?? steps
        let layers = measured.suffix(5).flatMap(\.layers)
        if hasTransitions(file.config) { row.flip = FlipShare(records: records, withinEpochs: withinEpochs).value }
        if !layers.isEmpty && hasTransitions(file.config) {
            let n = Float(layers.count)
            row.distance = layers.map(\.meanTransitionDistance).reduce(0, +) / n
            row.near = layers.map { $0.nearTransitionShare() }.reduce(0, +) / n
        }
        return row
    }

    /// What makes runs comparable: the run's identity (`RunIdentity`) less the seed (what a group averages over),
    /// plus what the data is: the identity the run recorded (its files' checksums and counts), so the full set and
    /// a subset never share a group. A run from before that record is told apart by its data folder instead.
    static func groupIdentity(_ c: TrainConfig, data: DataIdentity?) throws -> RunIdentity {
        let identity = try RunIdentity(c).removing("seed")
        guard !c.task.isRestoration else { return identity }
        return identity.adding("data", data.map { "\($0.fingerprint) (\($0.train)/\($0.test) images)" } ?? "folder \(c.dataDir ?? "default")")
    }

    /// Groups the rows (setting each row's group and whether it counts), ordered by dataset, K, epochs, method, λ.
    func makeGroups(_ rows: inout [Row]) -> [Group] {
        let keys = Dictionary(grouping: rows.indices) { rows[$0].identity.key }
        let sorted = keys.keys.sorted { a, b in
            let x = rows[keys[a]![0]].config, y = rows[keys[b]![0]].config
            let hx = rows[keys[a]![0]].header, hy = rows[keys[b]![0]].header
            return (Self.dataLabel(x, hx), x.k, x.epochs, x.method.rawValue, x.lambda, a)
                < (Self.dataLabel(y, hy), y.k, y.epochs, y.method.rawValue, y.lambda, b)
        }
        var groups: [Group] = []
        for key in sorted {
            var g = Group(index: groups.count + 1, identity: rows[keys[key]![0]].identity, members: keys[key]!)
            // The same configuration and seed is the same run made twice (training is deterministic), not another
            // seed: the first counts, the others are flagged.
            var firstBySeed: [UInt64: Int] = [:]
            for i in g.members where !rows[i].flags.contains("duplicate") {
                if let first = firstBySeed[rows[i].config.seed] {
                    rows[i].flags.append("duplicate")
                    rows[i].reasons.append("the same configuration and seed (\(rows[i].config.seed)) as \(rows[first].run): a repeat, not another seed")
                } else {
                    firstBySeed[rows[i].config.seed] = i
                }
            }
            for i in g.members {
                rows[i].group = g.index
                let r = rows[i]
                rows[i].counted = r.testMetric != nil && !r.flags.contains("duplicate") && (r.flags.isEmpty || includeFlagged)
                if rows[i].counted { g.counted.append(i) }
            }
            groups.append(g)
        }
        return groups
    }

    /// Why a row is not in its group's means.
    func exclusion(_ r: Row) -> [String] {
        r.reasons + (r.testMetric == nil && !r.flags.contains("not_evaluated") ? ["no epoch finished yet"] : [])
    }

    /// Mean, sample standard deviation (nil for one value: one run says nothing about the spread) and n; nil for none.
    static func meanSD(_ xs: [Float?]) -> (mean: Double, sd: Double?, n: Int)? {
        MeanSD.of(xs.compactMap { $0 }.map(Double.init)).map { ($0.mean, $0.sd, $0.n) }
    }

    struct Stats { var test, flip, distance, near: (mean: Double, sd: Double?, n: Int)? }

    func stats(_ g: Group, _ rows: [Row]) -> Stats {
        let c = g.counted.map { rows[$0] }
        return Stats(test: Self.meanSD(c.map(\.testMetric)), flip: Self.meanSD(c.map(\.flip)),
                     distance: Self.meanSD(c.map(\.distance)), near: Self.meanSD(c.map(\.near)))
    }

    // MARK: text

    func printText(_ rows: [Row], _ groups: [Group]) {
        func f(_ v: Float?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        var lines = [["run", "group", "dataset", "K", "epochs", "method", "lambda", "seed", "status", "test",
                      "flip share", "dist/a", "<0.1a", "flags"]]
        for r in rows {
            let flags = r.flags.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
            let t = Self.hasTransitions(r.config)
            lines.append([Self.shorten(r.run), "\(r.group)", Self.dataLabel(r.config, r.header), Self.kLabel(r.config), "\(r.config.epochs)",
                          r.config.method.rawValue, Self.lambdaLabel(r.config), "\(r.config.seed)", r.statusText,
                          r.testMetric.map { Metric.printing(r.metric).format($0) } ?? "-",
                          t ? r.flip.map(Self.share) ?? "-" : Self.notApplicable, t ? f(r.distance, "%.4f") : Self.notApplicable,
                          t ? f(r.near, "%.3f") : Self.notApplicable, flags])
        }
        Self.table(lines, right: [1, 3, 4, 6, 7, 9, 10, 11, 12]).forEach { print($0) }
        for r in rows where r.skipped > 0 && !r.flags.contains("duplicate") {
            print(TerminalText.escape("\(r.run)/metrics.jsonl: skipped \(r.skipped) malformed line(s)"))
        }
        if let n = withinEpochs { print("flip share: the last step logged in the first \(n) epoch(s); dist/a and <0.1a: the last 5 logged there, all layers") }
        if metric == .recalibrated { print("test: with batch-norm statistics re-estimated under each run's method (RUN/eval.json, btviz sweep eval)") }
        if rows.contains(where: { Self.dataLabel($0.config, $0.header).contains(" of ") }) {
            print("dataset: A/B of C/D: trained on the first A and tested on the first B of the C/D images read (--train-limit, --test-limit)")
        }

        // Options other than the shown ones that tell groups apart.
        let shown: Set<String> = ["dataset", "k", "epochs", "method", "lambda"]
        let keys = Set(groups.flatMap(\.identity.fields.keys)).subtracting(shown).sorted().filter { k in
            Set(groups.map { $0.identity.fields[k] ?? "null" }).count > 1
        }
        print("")
        var glines = [["group", "dataset", "K", "epochs", "method", "lambda", "n", "test (mean ± sd)",
                       "flip share (mean ± sd)", "dist/a (mean ± sd)", "<0.1a (mean ± sd)", keys.isEmpty ? "" : "other options"]]
        for g in groups {
            let c = rows[g.members[0]].config, s = stats(g, rows), metric = rows[g.members[0]].metric
            let transitions = Self.hasTransitions(c)
            // n = 1 prints no ± (a single run has no spread to show); the n column says how many runs each mean has.
            func ms(_ v: (mean: Double, sd: Double?, n: Int)?, _ d: Int) -> String {
                guard transitions else { return Self.notApplicable }
                return v.map { $0.sd.map { sd in String(format: "%.\(d)f ± %.\(d)f", v!.mean, sd) } ?? String(format: "%.\(d)f", $0.mean) } ?? "-"
            }
            let test = s.test.map { Metric.printing(metric).format(mean: $0.mean, sd: $0.sd) } ?? "-"
            func share(_ v: (mean: Double, sd: Double?, n: Int)?) -> String {
                guard transitions else { return Self.notApplicable }
                return v.map { Self.share(Float($0.mean)) + ($0.sd.map { String(format: " ± %.2f", 100 * $0) } ?? "") } ?? "-"
            }
            let other = keys.map { "\($0)=\(g.identity.fields[$0] ?? "none")" }.joined(separator: " ")
            glines.append(["\(g.index)", Self.dataLabel(c, rows[g.members[0]].header), Self.kLabel(c), "\(c.epochs)", c.method.rawValue, Self.lambdaLabel(c),
                           g.counted.count == g.members.count ? "\(g.counted.count)" : "\(g.counted.count) of \(g.members.count)",
                           test, share(s.flip), ms(s.distance, 4), ms(s.near, 3), other])
        }
        Self.table(glines, right: [0, 2, 3, 5, 6]).forEach { print($0) }

        let excluded = rows.filter { !$0.counted }
        if !excluded.isEmpty {
            print("\nnot in the means\(includeFlagged ? "" : " (--include-flagged counts switched and unfinished runs)"):")
            for r in excluded { print(TerminalText.escape("  \(r.run) (group \(r.group)): \(exclusion(r).joined(separator: "; "))")) }
        }
        let flaggedIn = rows.filter { $0.counted && !$0.flags.isEmpty }
        if !flaggedIn.isEmpty {
            print("\nflagged but counted (--include-flagged):")
            for r in flaggedIn { print(TerminalText.escape("  \(r.run) (group \(r.group)): \(r.reasons.joined(separator: "; "))")) }
        }
    }

    /// Columns padded to their widest cell; `right` columns (numbers) align right.
    static func table(_ rawLines: [[String]], right: Set<Int>) -> [String] {
        let lines = rawLines.map { $0.map(TerminalText.escape) }  // cells may hold text from the runs' files
        let widths = lines[0].indices.map { i in lines.map { $0[i].count }.max() ?? 0 }
        return lines.map { cells in
            var out = ""
            for (i, s) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - s.count)
                out += (i > 0 ? "  " : "") + (right.contains(i) ? pad + s : s + pad)
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
    }

    /// What a run learned from: its dataset, or for super-resolution and denoising the task and its training
    /// images ("sr x2 T91"; their config's dataset is an unused default).
    static func dataLabel(_ c: TrainConfig, _ h: RunHeader) -> String {
        let images = c.trainData.map { ($0 as NSString).lastPathComponent } ?? "T91"
        switch c.task {
        case .classify:
            // The counts read, and whether the files are the official release: the full set and a subset differ here.
            // The one spelling `sweep table` prints too (the counts trained and tested on, then what they were
            // taken from); a run from before the data identity was recorded shows its dataset's name.
            guard let d = h.data else { return c.dataset }
            return d.label(dataset: c.dataset, trainLimit: c.trainLimit, testLimit: c.testLimit)
        case .sr: return "sr x\(c.scale) \(images)"
        case .denoise: return "denoise σ\(c.sigma) \(images)"
        }
    }

    /// A flip share as a percentage with two decimals (the JSON and CSV hold the fraction).
    static func share(_ v: Float) -> String { String(format: "%.2f%%", 100 * Double(v)) }

    /// Shown where a figure does not exist for the method (full precision has no transitions, so no λ, flips or
    /// distances), as opposed to "-" for a figure not recorded yet.
    static let notApplicable = "–"

    /// Full precision has no transitions: the regularizer, flips and distances mean nothing for it.
    static func hasTransitions(_ c: TrainConfig) -> Bool { c.method != .full }

    static func lambdaLabel(_ c: TrainConfig) -> String { hasTransitions(c) ? "\(c.lambda)" : notApplicable }
    static func lambdaValue(_ c: TrainConfig) -> Any { hasTransitions(c) ? number(c.lambda) : NSNull() }

    /// VGG-6's width; the restoration net has none.
    static func kLabel(_ c: TrainConfig) -> String { c.task.isRestoration ? "-" : "\(c.k)" }
    static func kValue(_ c: TrainConfig) -> Any { c.task.isRestoration ? NSNull() : c.k }

    /// A long path keeps its end, where runs differ.
    static func shorten(_ s: String, to n: Int = 40) -> String { s.count <= n ? s : "…" + s.suffix(n - 1) }

    // MARK: machine output

    /// A Float as the short decimal it prints as (0.0003, not 0.00029999999); null when absent or not finite.
    static func number(_ v: Float?) -> Any { v.flatMap { $0.isFinite ? Double("\($0)") : nil } ?? NSNull() }
    static func number(_ v: Double?) -> Any { v.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }

    func rowObject(_ r: Row) -> [String: Any] {
        ["run": r.run, "path": r.path, "group": r.group, "dataset": Self.dataLabel(r.config, r.header), "k": Self.kValue(r.config),
         "epochs": r.config.epochs, "method": r.config.method.rawValue, "lambda": Self.lambdaValue(r.config),
         "seed": r.config.seed, "final_method": r.finalMethod ?? NSNull(), "final_lambda": Self.number(r.finalLambda),
         "status": r.statusWord, "step": r.step, "total_steps": r.header.totalSteps, "metric": r.metric,
         "test_metric": Self.number(r.testMetric), "test_epoch": r.testEpoch ?? NSNull(),
         "flip_share": Self.number(r.flip), "mean_transition_distance": Self.number(r.distance),
         "near_transition_share": Self.number(r.near), "skipped_lines": r.skipped, "flags": r.flags,
         "reasons": r.reasons, "counted": r.counted]
    }

    func groupObject(_ g: Group, _ rows: [Row]) -> [String: Any] {
        let c = rows[g.members[0]].config, s = stats(g, rows)
        func ms(_ v: (mean: Double, sd: Double?, n: Int)?) -> Any {
            v.map { ["mean": Self.number($0.mean), "sd": Self.number($0.sd), "n": $0.n] } ?? NSNull()
        }
        return ["group": g.index, "config": g.identity.jsonObject, "dataset": Self.dataLabel(c, rows[g.members[0]].header), "k": Self.kValue(c), "epochs": c.epochs,
                "method": c.method.rawValue, "lambda": Self.lambdaValue(c), "metric": rows[g.members[0]].metric,
                "n": g.counted.count, "runs": g.counted.map { rows[$0].run },
                "excluded": g.members.filter { !rows[$0].counted }.map { ["run": rows[$0].run, "reasons": exclusion(rows[$0])] },
                "test_metric": ms(s.test), "flip_share": ms(s.flip), "mean_transition_distance": ms(s.distance),
                "near_transition_share": ms(s.near)]
    }

    func printJSON(_ rows: [Row], _ groups: [Group]) throws {
        let out: [String: Any] = ["rows": rows.map(rowObject), "groups": groups.map { groupObject($0, rows) },
                                  "include_flagged": includeFlagged, "within_epochs": withinEpochs ?? NSNull(),
                                  "figure": metric.rawValue]
        print(try JSONOutput.string(object: out, .pretty))
    }

    static let csvColumns = ["kind", "group", "run", "path", "dataset", "k", "epochs", "method", "lambda", "seed", "status",
                             "step", "total_steps", "metric", "test_metric", "test_metric_sd", "flip_share",
                             "flip_share_sd", "mean_transition_distance", "mean_transition_distance_sd",
                             "near_transition_share", "near_transition_share_sd", "n", "counted", "flags", "reasons"]

    func printCSV(_ rows: [Row], _ groups: [Group]) {
        func cell(_ v: Any?) -> String {
            switch v {
            case nil, is NSNull: return ""
            case let list as [String]: return cell(list.joined(separator: ";"))
            case let b as Bool: return b ? "true" : "false"
            case let raw as String:
                let s = TerminalText.escape(raw)
                return s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            case let v?: return "\(v)"
            }
        }
        print(Self.csvColumns.joined(separator: ","))
        for r in rows {
            var o = rowObject(r)
            o["kind"] = "row"
            print(Self.csvColumns.map { cell(o[$0]) }.joined(separator: ","))
        }
        for g in groups {
            var o = groupObject(g, rows)
            o["kind"] = "group"
            for name in ["test_metric", "flip_share", "mean_transition_distance", "near_transition_share"] {
                let v = o[name] as? [String: Any]
                o[name] = v?["mean"]
                o[name + "_sd"] = v?["sd"]
            }
            let excluded = g.members.filter { !rows[$0].counted }.map { rows[$0] }
            o["flags"] = Array(Set(excluded.flatMap(\.flags))).sorted()
            o["reasons"] = excluded.map { "\($0.run): \(exclusion($0).joined(separator: ", "))" }
            print(Self.csvColumns.map { cell(o[$0]) }.joined(separator: ","))
        }
    }
}
