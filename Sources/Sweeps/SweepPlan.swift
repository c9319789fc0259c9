import BTCore
import Foundation

/// The expansion of a spec: every run of the grid with its name, options and `btviz train` arguments. It is
/// DIR/sweep.json, the file every other part of a sweep (task, status, table, watch, the launchers) reads.
public struct SweepPlan: Codable, Equatable, Sendable {
    public struct Values: Codable, Equatable, Sendable {
        public var key: String
        public var values: [String]
    }

    public struct Run: Codable, Equatable, Sendable {
        /// The varying options as `key=value` joined by `,` in spec order (a path by its last component when that
        /// tells it apart): the run's folder under DIR.
        public var name: String
        /// Every parameter of the run, as its text.
        public var options: [String: String]
        /// The `btviz train` arguments that make it (without --run-dir, --headless and --threads).
        public var args: [String]

        public init(name: String, options: [String: String], args: [String]) {
            self.name = name; self.options = options; self.args = args
        }
    }

    public var version = 1
    public var name: String
    public var parameters: [Values]
    public var varying: [String]
    public var runs: [Run]
    /// The spec's `metric:` (absent: the runs' test metric).
    public var metric: SweepMetric?
    /// A random search's space (absent: a grid). Its runs are r000, r001, … in the order they were drawn.
    public var search: SearchSpace?

    /// Runs past this need `--yes`: a typo in a range should not start a month of training.
    public static let confirmAbove = 10_000

    /// Options whose values are paths: they reach runs on other nodes (Slurm) and other working directories.
    public static let pathFlags: Set<String> = ["data-dir", "test-dir", "train-data"]

    public enum Paths: Sendable {
        /// Relative paths are made absolute against this folder (the local backend: the children share it).
        case resolve(against: String)
        /// Relative paths are refused (Slurm: a path relative to the submitting shell means nothing on a node).
        case requireAbsolute

        /// A path value as the runs must see it: an absolute one as written; a relative one (or `~`) made absolute
        /// against the base and standardized, or refused for Slurm.
        func absolute(_ value: String, parameter key: String) throws -> String {
            guard !value.hasPrefix("/") else { return value }
            switch self {
            case .requireAbsolute:
                throw BTError("parameter '\(key)': '\(value)' is relative to this shell; the Slurm backend needs an absolute path on a filesystem the nodes share")
            case .resolve(let base):
                let expanded = (value as NSString).expandingTildeInPath
                return URL(fileURLWithPath: expanded.hasPrefix("/") ? expanded : base + "/" + expanded).standardizedFileURL.path
            }
        }
    }

    /// Expands `spec` into its runs, first parameter slowest. `flags` are train's options that take no value
    /// (given as true or false). `previous` is the plan this folder had: a key that varied there is still named in
    /// run names, so adding values never renames a run that exists. `folder` is the sweep folder, absolute
    /// (`tensorboard: true` puts each run's events in its folder there).
    public static func expand(_ spec: SweepSpec, flags: Set<String>, paths: Paths, previous: SweepPlan? = nil,
                              confirmed: Bool = false, folder: String? = nil) throws -> SweepPlan {
        // Counted before anything is expanded or reserved (SweepSpec refuses past maxRuns already; a spec
        // built otherwise is checked again here).
        guard let count = spec.runCount, count <= SweepSpec.maxRuns else {
            let n = spec.runCount.map(String.init) ?? "more than \(Int.max)"
            throw BTError("the grid has \(n) runs, over the \(SweepSpec.maxRuns) a sweep may have")
        }
        guard count <= confirmAbove || confirmed else {
            throw BTError("the grid has \(count) runs, over \(confirmAbove): add --yes to start them all")
        }
        let wasVarying = Set(previous?.varying ?? [])
        let varying = spec.parameters.filter { $0.values.count > 1 || wasVarying.contains($0.key) }.map(\.key)
        // Each parameter's value as train arguments, checked once per value rather than once per run.
        var argsByValue: [[[String]]] = []
        for p in spec.parameters {
            let flag = SweepSpec.flagName(p.key)
            argsByValue.append(try p.values.map { v in
                if flags.contains(flag) {
                    switch v.lowercased() {
                    case "true": return ["--" + flag]
                    case "false": return []
                    default: throw BTError("parameter '\(p.key)' is a switch: its values are true or false, not '\(v)'")
                    }
                }
                if pathFlags.contains(flag) { return ["--" + flag, try paths.absolute(v, parameter: p.key)] }
                return ["--" + flag, v]
            })
        }
        var runs: [Run] = []
        runs.reserveCapacity(count)
        var index = [Int](repeating: 0, count: spec.parameters.count)
        let named = spec.parameters.map { varying.contains($0.key) }
        let labels = spec.parameters.map { p in nameLabels(p.values, isPath: pathFlags.contains(SweepSpec.flagName(p.key))) }
        for _ in 0..<count {
            var options: [String: String] = [:], args: [String] = [], parts: [String] = []
            for (i, p) in spec.parameters.enumerated() {
                let v = p.values[index[i]]
                options[p.key] = v
                args += argsByValue[i][index[i]]
                if named[i] { parts.append(escape(p.key) + "=" + labels[i][index[i]]) }
            }
            let name = parts.isEmpty ? "run" : parts.joined(separator: ",")
            guard name.utf8.count <= 255 else {
                throw BTError("the run name '\(name.prefix(60))…' is \(name.utf8.count) bytes, over the 255 a folder name may have; shorten the values")
            }
            // Each run its own TensorBoard folder, named after it (SweepTensorBoard.swift).
            args = try placingTensorBoard(args, run: name, paths: paths, folder: folder)
            runs.append(Run(name: name, options: options, args: args))
            // The last parameter moves fastest.
            var j = spec.parameters.count - 1
            while j >= 0 {
                index[j] += 1
                if index[j] < spec.parameters[j].values.count { break }
                index[j] = 0
                j -= 1
            }
        }
        return SweepPlan(name: spec.name, parameters: spec.parameters.map { Values(key: $0.key, values: $0.values) },
                         varying: varying, runs: runs, metric: spec.metric)
    }

    /// A random search's runs: run i (named `r00i`) takes the values drawn for it (`SearchSpace.sample`), spelt as
    /// train arguments the way a grid's are.
    public static func sample(_ spec: SweepSpec, flags: Set<String>, paths: Paths, folder: String? = nil) throws -> SweepPlan {
        guard let search = spec.search else { throw BTError("the sweep '\(spec.name)' is a grid, not a random search") }
        guard search.runCap <= SweepSpec.maxRunCap else {
            throw BTError("run_cap \(search.runCap) is over the \(SweepSpec.maxRunCap) runs a sweep may have")
        }
        var runs: [Run] = []
        runs.reserveCapacity(search.runCap)
        var seen: [String: [String]] = [:], firstSeen: [String: Set<String>] = [:]
        for i in 0..<search.runCap {
            var options: [String: String] = [:], args: [String] = []
            for (key, sample) in search.sample(run: i) {
                let flag = SweepSpec.flagName(key)
                let v = SweepValue.canonical(sample.text)
                options[key] = v
                if flags.contains(flag) {
                    switch v.lowercased() {
                    case "true": args.append("--" + flag)
                    case "false": break
                    default: throw BTError("parameter '\(key)' is a switch: its values are true or false, not '\(v)'")
                    }
                } else if pathFlags.contains(flag) {
                    args += ["--" + flag, try paths.absolute(v, parameter: key)]
                } else {
                    args += ["--" + flag, v]
                }
                if firstSeen[key, default: []].insert(v).inserted { seen[key, default: []].append(v) }
            }
            let name = SearchSpace.runName(i)
            args = try placingTensorBoard(args, run: name, paths: paths, folder: folder)
            runs.append(Run(name: name, options: options, args: args))
        }
        return SweepPlan(name: spec.name, parameters: search.parameters.map { Values(key: $0.key, values: seen[$0.key] ?? []) },
                         varying: search.sampledKeys, runs: runs, metric: spec.metric, search: search)
    }

    /// How each value is spelt in run names, escaped: a path by its last component when no other value of the
    /// parameter ends the same way (`data-dir=fashion-subset`, not the whole path; sweep.json keeps the full
    /// value), otherwise the whole value.
    static func nameLabels(_ values: [String], isPath: Bool) -> [String] {
        let whole = values.map(escape)
        guard isPath else { return whole }
        let last = values.map { v -> String in
            let parts = v.split(separator: "/")
            return parts.last.map(String.init) ?? ""
        }
        // Unique among the distinct values (a value listed twice names the same runs either way).
        var owners: [String: Set<String>] = [:]
        for (v, l) in zip(values, last) { owners[l, default: []].insert(v) }
        return values.indices.map { i in
            let l = last[i]
            return !l.isEmpty && owners[l]!.count == 1 ? escape(l) : whole[i]
        }
    }

    /// Percent-escapes everything but letters, digits and `. _ + -`: a value's `/`, `,` or `=` cannot break a name.
    public static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "._+-".contains(c)) { out.append(c) } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out.hasPrefix(".") ? "%2E" + out.dropFirst() : out
    }

    public func run(named name: String) -> Run? { runs.first { $0.name == name } }

    /// sweep.json's text: keys sorted, so a rewrite of the same plan is the same file.
    public func encoded() throws -> Data {
        try JSONOutput.data(self, .pretty)
    }

    public static func decode(_ data: Data, path: String) throws -> SweepPlan {
        let plan: SweepPlan
        do {
            plan = try JSONDecoder().decode(SweepPlan.self, from: data)
        } catch {
            throw BTError("\(path) is damaged: not a sweep expansion")
        }
        guard plan.version == 1 else { throw BTError("\(path) is version \(plan.version) of the sweep format; this btviz reads version 1") }
        if let why = plan.problem() { throw BTError("\(path) is damaged: \(why)") }
        return plan
    }

    /// The sweep folder's own entries, which no run may be named.
    public static let folderEntries: Set<String> = ["spec.yaml", "sweep.json", "slurm"]

    /// What makes a plan unsafe to act on, whoever wrote the file: every run name is used as a folder under DIR,
    /// every argument goes to a child's argv. Checked in one pass over the runs.
    func problem() -> String? {
        guard runs.count <= SweepSpec.maxRuns else { return "\(runs.count) runs, over the \(SweepSpec.maxRuns) a sweep may have" }
        if let search {
            // The scheduler loops over the rungs and runs these say: bounds as the spec's, whoever wrote the file.
            guard search.runCap == runs.count else { return "run_cap \(search.runCap) but \(runs.count) runs" }
            for (i, r) in runs.enumerated() where r.name != SearchSpace.runName(i) {
                return "the search's run \(i) is named '\(r.name.prefix(80))', not \(SearchSpace.runName(i))"
            }
            if let h = search.earlyTerminate {
                guard h.minIter >= 1, (2...1000).contains(h.eta), let e = search.epochs, e > h.minIter else {
                    return "early_terminate min_iter \(h.minIter), eta \(h.eta), epochs \(search.epochs.map(String.init) ?? "none") are not a search's"
                }
            }
        }
        var keys = Set<String>()
        for p in parameters where !keys.insert(p.key).inserted { return "the parameter '\(p.key.prefix(80))' is listed twice" }
        var varied = Set<String>()
        for k in varying where !keys.contains(k) || !varied.insert(k).inserted {
            return "'varying' names '\(k.prefix(80))' twice or names no parameter"
        }
        var names = Set<String>()
        for r in runs {
            if let why = PathComponent.problem(r.name) { return "the run name '\(r.name.prefix(80))' is not a folder name: \(why)" }
            if Self.folderEntries.contains(r.name) || r.name.hasPrefix(".") {
                return "the run name '\(r.name)' is one of the sweep folder's own entries"
            }
            guard names.insert(r.name).inserted else { return "the run '\(r.name)' is listed twice" }
            if let k = r.options.keys.first(where: { !keys.contains($0) }) {
                return "the run '\(r.name)' has the option '\(k.prefix(80))', which is no parameter of the sweep"
            }
            for a in r.args {
                if a.unicodeScalars.contains(where: { $0.value == 0 || $0 == "\n" }) {
                    return "an argument of the run '\(r.name)' has a NUL or a line break"
                }
                // The options a sweep sets itself (--run-dir above all): an argument may not set them again.
                if a.hasPrefix("--"), SweepSpec.reserved[String(a.dropFirst(2).prefix { $0 != "=" })] != nil {
                    return "the run '\(r.name)' sets \(a.prefix(80)), which only the sweep sets"
                }
            }
        }
        return nil
    }
}
