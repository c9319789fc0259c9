import BTCore
import Foundation
import Yams

/// A sweep as the user wrote it: a name and a grid of `btviz train` options, in the grid form of W&B's sweep
/// configuration (`method: grid`, `parameters: {key: {value: X} | {values: [...]}}`). Values stay the text that was
/// written (`3e-4` stays `3e-4`): they become train arguments and run names, and `btviz train` parses them. A
/// number is spelled one way only (`SweepValue.canonical`: `00` and `+0` are `0`), so one value is one run.
public struct SweepSpec: Equatable, Sendable {
    public struct Parameter: Equatable, Sendable {
        public var key: String
        public var values: [String]
        public init(key: String, values: [String]) { self.key = key; self.values = values }
    }

    public var name: String
    /// The grid's parameters (empty for a random search, whose parameters are `search`'s).
    public var parameters: [Parameter]
    /// W&B's `metric: {name, goal}`; nil when the spec names none (the runs' test metric).
    public var metric: SweepMetric?
    /// `method: random`: the distributions, the seed, the run cap and successive halving; nil for a grid.
    public var search: SearchSpace?

    public init(name: String, parameters: [Parameter], metric: SweepMetric? = nil) throws {
        self.name = name
        self.parameters = parameters
        self.metric = metric
        try check()
    }

    /// A random search.
    public init(name: String, search: SearchSpace, metric: SweepMetric? = nil) throws {
        self.name = name
        self.parameters = []
        self.metric = metric
        self.search = search
        try check()
    }

    /// The most runs a search may start: a run cap past it is refused (sweep.json holds every run).
    public static var maxRunCap: Int { maxRuns }

    /// The most runs a grid may have, even with --yes: sweep.json holds every run (a few hundred bytes each), and
    /// every reader of the folder reads it whole.
    public static let maxRuns = 100_000

    /// The most values one parameter may list (counted before any is read or expanded).
    public static let maxValues = maxRuns

    /// The largest spec file, and the most its YAML aliases may expand it to.
    public static let maxBytes = 1 << 20

    /// The keys a sweep sets itself: a spec that names them is refused.
    public static let reserved: [String: String] = [
        "run-dir": "each run's folder is DIR/<run name>", "resume": "sweep run resumes interrupted runs itself",
        "replace": "a sweep never starts a finished run over", "headless": "sweep runs are always headless",
        "threads": "sweep run splits the cores (--jobs, --threads)", "ascii": "sweep runs draw no screen",
        "help": "not a training option", "version": "not a training option",
        "stop-after-epoch": "successive halving pauses runs itself (early_terminate)",
    ]

    /// Reads a spec file (at most 1 MB: a spec is a few lines).
    public static func read(path: String) throws -> SweepSpec {
        let bytes = try RegularFile(path).readAll(limit: maxBytes, what: "a sweep spec")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw BTError("\(path): the sweep spec is not UTF-8 text") }
        let fallback = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(yaml: text, source: path, defaultName: fallback)
    }

    /// Parses W&B's grid form. Every problem is one line naming the key it is about.
    public static func parse(yaml given: String, source: String, defaultName: String) throws -> SweepSpec {
        // A byte-order mark is no part of the YAML (editors on Windows write one).
        let yaml = given.hasPrefix("\u{FEFF}") ? String(given.dropFirst()) : given
        do { try YAMLShape.check(yaml, maxExpandedBytes: maxBytes) } catch let e as BTError {
            throw BTError("\(source): not a sweep spec: \(e.description)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw BTError("\(source): YAML syntax error: \(syntaxProblem(error))")
        }
        guard let root, case .mapping(let top) = root else {
            throw BTError("\(source): a sweep spec is a YAML mapping with name, method and parameters")
        }
        var name = defaultName, parameterNode: Node?, metric: SweepMetric?, seen = Set<String>()
        var random = false, runCap: Int?, seed: UInt64 = 0, earlyTerminate: SuccessiveHalving?
        for (k, v) in top {
            guard let key = k.scalar?.string else { throw BTError("\(source): a key that is not text") }
            guard seen.insert(key).inserted else { throw BTError("\(source): key '\(key)' is given twice") }
            switch key {
            case "name":
                guard let s = v.scalar?.string, !s.isEmpty else { throw BTError("\(source): 'name' must be text") }
                name = s
            case "method":
                switch v.scalar?.string {
                case "grid": random = false
                case "random": random = true
                case let other:
                    throw BTError("\(source): method '\(other ?? "?")' is not offered: btviz sweeps are grid or random (random with early_terminate: hyperband stops poor runs early)")
                }
            case "run_cap":
                guard let text = v.scalar?.string, let n = Int(text), (1...maxRunCap).contains(n) else {
                    throw BTError("\(source): run_cap must be a whole number of runs from 1 to \(maxRunCap)")
                }
                runCap = n
            case "seed":
                guard let text = v.scalar?.string, let n = UInt64(text) else {
                    throw BTError("\(source): seed (the search's) must be a whole number from 0 to \(UInt64.max)")
                }
                seed = n
            case "early_terminate":
                earlyTerminate = try halving(v, source: source)
            case "description", "program", "project", "entity":
                continue  // W&B's bookkeeping keys: nothing to do with the grid
            case "metric":
                metric = try metricSetting(v, source: source)
            case "parameters":
                guard case .mapping = v else { throw BTError("\(source): 'parameters' must be a mapping of option: {value|values|distribution}") }
                parameterNode = v
            default:
                throw BTError("\(source): unknown key '\(key)' (a sweep spec has name, method, description, metric, parameters, and for method: random run_cap, seed and early_terminate)")
            }
        }
        guard let parameterNode, case .mapping(let ps) = parameterNode else {
            throw BTError("\(source): no 'parameters': the \(random ? "search" : "grid") is empty")
        }
        guard random else {
            for (key, _) in [("run_cap", runCap != nil), ("early_terminate", earlyTerminate != nil)] where seen.contains(key) {
                throw BTError("\(source): '\(key)' belongs to a random search (method: random); a grid runs every run")
            }
            let parameters = try ps.map { pk, pv in
                guard let key = pk.scalar?.string else { throw BTError("\(source): a parameter key that is not text") }
                return Parameter(key: key, values: try values(of: pv, key: key, source: source))
            }
            do { return try SweepSpec(name: name, parameters: parameters, metric: metric) } catch let e as BTError {
                throw BTError("\(source): \(e.description)")
            }
        }
        let sampled = try ps.map { pk, pv in
            guard let key = pk.scalar?.string else { throw BTError("\(source): a parameter key that is not text") }
            return SearchSpace.Parameter(key: key, distribution: try ParameterDistribution.parse(pv, key: key, source: source))
        }
        // W&B's random search without a cap runs until stopped; a run folder per run needs a number.
        guard let runCap else { throw BTError("\(source): a random search needs run_cap (how many runs to start; sweep run --run-cap raises it)") }
        let search = SearchSpace(seed: seed, runCap: runCap, parameters: sampled, earlyTerminate: earlyTerminate)
        do { return try SweepSpec(name: name, search: search, metric: metric) } catch let e as BTError {
            throw BTError("\(source): \(e.description)")
        }
    }

    /// `early_terminate: {type: hyperband, min_iter, eta}` (W&B's key; eta 3 when absent, as W&B's default).
    private static func halving(_ node: Node, source: String) throws -> SuccessiveHalving {
        guard case .mapping(let m) = node else {
            throw BTError("\(source): early_terminate must be a mapping {type: hyperband, min_iter, eta}")
        }
        var type: String?, minIter: Int?, eta = 3
        for (k, v) in m {
            let key = k.scalar?.string ?? "?"
            guard let text = v.scalar?.string else { throw BTError("\(source): early_terminate: '\(key)' must be a single value") }
            switch key {
            case "type": type = text
            case "min_iter":
                guard let n = Int(text), n >= 1 else { throw BTError("\(source): early_terminate: min_iter must be a whole number of epochs, at least 1") }
                minIter = n
            case "eta":
                guard let n = Int(text), n >= 2, n <= 1000 else { throw BTError("\(source): early_terminate: eta must be a whole number from 2 to 1000 (each rung keeps the top 1/eta)") }
                eta = n
            case "max_iter", "s":
                throw BTError("\(source): early_terminate: '\(key)' is not used: the rungs are min_iter·eta^k up to the runs' epochs (give min_iter and eta)")
            default:
                throw BTError("\(source): early_terminate: unknown key '\(key)' (it has type, min_iter and eta)")
            }
        }
        guard type == "hyperband" else {
            throw BTError("\(source): early_terminate: type '\(type ?? "")' is not offered; btviz's is hyperband (asynchronous successive halving)")
        }
        guard let minIter else { throw BTError("\(source): early_terminate: min_iter is missing (the first rung's epochs)") }
        return SuccessiveHalving(minIter: minIter, eta: eta)
    }

    /// W&B's `metric: {name: test_accuracy, goal: maximize}` (goal optional; W&B's `target` is accepted and unused,
    /// since a grid runs every run whatever the figures).
    private static func metricSetting(_ node: Node, source: String) throws -> SweepMetric {
        guard case .mapping(let m) = node else { throw BTError("\(source): 'metric' must be a mapping {name, goal}") }
        var name: String?, goal: String?
        for (k, v) in m {
            let key = k.scalar?.string ?? ""
            guard ["name", "goal", "target"].contains(key) else {
                throw BTError("\(source): metric: unknown key '\(key)' (it has name, goal and target)")
            }
            guard let text = v.scalar?.string else { throw BTError("\(source): metric: '\(key)' must be a single value") }
            if key == "name" { name = text } else if key == "goal" { goal = text }
        }
        guard let name else { throw BTError("\(source): metric has no 'name'") }
        do { return try SweepMetric.parse(name: name, goal: goal) } catch let e as BTError {
            throw BTError("\(source): \(e.description)")
        }
    }

    /// "line 5, column 1: did not find expected ',' or '}' (while parsing a flow mapping at line 4, column 6)".
    private static func syntaxProblem(_ error: Error) -> String {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _)?, .parser(let context, let problem, let mark, _)?,
             .composer(let context, let problem, let mark, _)?:
            let why = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(why)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }

    /// `{value: X}`, `{values: [X, ...]}`, or for short a bare scalar or list.
    private static func values(of node: Node, key: String, source: String) throws -> [String] {
        func scalar(_ n: Node) throws -> String {
            guard case .scalar(let s) = n, !(s.style == .plain && ["~", "null", "Null", "NULL", ""].contains(s.string)) else {
                throw BTError("\(source): parameter '\(key)': a value must be a number, text or true/false, not a list, mapping or null")
            }
            return s.string
        }
        // The count is known before any value is read: a list too long for any grid is refused at once.
        func list(_ seq: Node.Sequence) throws -> [String] {
            guard seq.count <= maxValues else {
                throw BTError("\(source): parameter '\(key)' lists \(seq.count) values, over the \(maxValues) a sweep may have")
            }
            return try seq.map(scalar)
        }
        switch node {
        case .scalar: return [try scalar(node)]
        case .sequence(let seq): return try list(seq)
        case .mapping(let m):
            var out: [String]?, given: String?
            for (k, v) in m {
                let which = k.scalar?.string
                if let which, which == "value" || which == "values", let first = given {
                    throw BTError(first == which ? "\(source): parameter '\(key)' gives '\(which)' twice"
                                  : "\(source): parameter '\(key)' gives both 'value' and 'values'; give one")
                }
                switch which {
                case "value": out = [try scalar(v)]
                case "values":
                    guard case .sequence(let seq) = v else { throw BTError("\(source): parameter '\(key)': 'values' must be a list") }
                    out = try list(seq)
                case let other:
                    throw BTError("\(source): parameter '\(key)': '\(other ?? "?")' is not supported; a grid takes 'value' or 'values'")
                }
                given = which
            }
            guard let out else { throw BTError("\(source): parameter '\(key)' has neither 'value' nor 'values'") }
            return out
        }
    }

    /// The CLI shorthand's grid: each option a comma list, an integer range `0-2` standing for 0,1,2.
    public static func shorthand(name: String, options: [(key: String, text: String)]) throws -> SweepSpec {
        try SweepSpec(name: name, parameters: options.map { o in
            let items = o.text.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingCharacters(in: .whitespaces)
            }
            // Each range's length first: a list too long for any grid is refused before it is spelled out.
            var ranges: [ClosedRange<Int>?] = [], count = 0
            for s in items {
                let ends = s.split(separator: "-", omittingEmptySubsequences: false)
                if ends.count == 2, !ends[0].isEmpty, let a = Int(ends[0]), let b = Int(ends[1]) {
                    guard a <= b, b - a < maxValues else { throw BTError("--\(o.key): the range \(s) is empty or too long") }
                    ranges.append(a...b)
                    count += b - a + 1
                } else {
                    ranges.append(nil)
                    count += 1
                }
                guard count <= maxValues else {
                    throw BTError("--\(o.key) lists more than \(maxValues) values, over the \(maxValues) a sweep may have")
                }
            }
            return Parameter(key: o.key, values: zip(items, ranges).flatMap { s, r in r.map { $0.map(String.init) } ?? [s] })
        })
    }

    /// Problems no grid may have, each naming its key. The run count comes first: nothing is spelled out for a
    /// grid too large to run.
    private mutating func check() throws {
        guard !name.isEmpty, name.utf8.count <= 200, !name.contains(where: { $0.isNewline }) else {
            throw BTError("the sweep's name must be one line of 1-200 bytes")
        }
        if let search { return try Self.check(search) }
        guard !parameters.isEmpty else { throw BTError("no parameters: the grid is empty") }
        for p in parameters {
            if let why = SweepSpec.keyProblem(p.key) { throw BTError("parameter '\(p.key)' is not an option name: \(why)") }
            guard !p.values.isEmpty else { throw BTError("parameter '\(p.key)' has no values: the grid is empty") }
        }
        guard let count = runCount, count <= SweepSpec.maxRuns else {
            throw BTError("the grid has \(runCount.map(String.init) ?? "more than \(Int.max)") runs, over the \(SweepSpec.maxRuns) a sweep may have")
        }
        var seen = Set<String>()
        for i in parameters.indices {
            let p = parameters[i]
            try Self.checkFlag(p.key, seen: &seen)
            parameters[i].values = try Self.canonicalValues(p.values, key: p.key)
        }
    }

    /// A key's flag is given once and is not one the sweep sets itself.
    private static func checkFlag(_ key: String, seen: inout Set<String>) throws {
        let flag = flagName(key)
        guard seen.insert(flag).inserted else { throw BTError("parameter '\(key)' is given twice") }
        if let why = reserved[flag] { throw BTError("parameter '\(key)' cannot be swept: \(why)") }
    }

    /// The values as train will get them: each one line without control characters or a leading `--`, spelt one
    /// way (`00`, `+0` and `0` are one seed), and each once, checked in one pass.
    private static func canonicalValues(_ given: [String], key: String) throws -> [String] {
        var spelled: [SweepValue.Identity: String] = [:]
        var values: [String] = []
        values.reserveCapacity(given.count)
        for text in given {
            guard !text.isEmpty else { throw BTError("parameter '\(key)' has an empty value") }
            guard !text.contains(where: { $0.isNewline }) else { throw BTError("parameter '\(key)': a value must be one line") }
            if let c = text.unicodeScalars.first(where: TerminalText.isControl) {
                throw BTError("parameter '\(key)': a value has the control character U+\(String(format: "%04X", c.value))")
            }
            guard !text.hasPrefix("--") else {
                throw BTError("parameter '\(key)': the value '\(text)' starts with '--', which train would read as an option")
            }
            let v = SweepValue.canonical(text)
            if let earlier = spelled.updateValue(text, forKey: SweepValue.identity(v)) {
                throw BTError(earlier == text ? "parameter '\(key)' lists \(text) twice"
                              : "parameter '\(key)' lists \(earlier) and \(text), the same value")
            }
            values.append(v)
        }
        return values
    }

    /// A random search's problems, each naming its key: the keys as a grid's, each value a distribution may give
    /// as a grid's values (categorical and constant values are train arguments too).
    private static func check(_ search: SearchSpace) throws {
        guard !search.parameters.isEmpty else { throw BTError("no parameters: the search is empty") }
        guard (1...maxRunCap).contains(search.runCap) else { throw BTError("run_cap must be from 1 to \(maxRunCap)") }
        var seen = Set<String>()
        for p in search.parameters {
            if let why = keyProblem(p.key) { throw BTError("parameter '\(p.key)' is not an option name: \(why)") }
            try checkFlag(p.key, seen: &seen)
            _ = try canonicalValues(p.distribution.texts, key: p.key)
        }
        if let h = search.earlyTerminate, h.eta < 2 { throw BTError("early_terminate: eta must be at least 2") }
    }

    /// Why a parameter key is not an option name, or nil: train's options are letters, digits, `_` and `-`,
    /// starting with a letter or digit, and written without their dashes.
    static func keyProblem(_ key: String) -> String? {
        if key.isEmpty { return "it is empty" }
        if key.hasPrefix("-") { return key.allSatisfy({ $0 == "-" }) ? "it has no letters" : "write it without its dashes ('\(key.drop { $0 == "-" })')" }
        if key.contains(where: { $0.isWhitespace }) { return "it has a blank" }
        if key.unicodeScalars.contains(where: TerminalText.isControl) { return "it has a control character" }
        guard key.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "_" || $0 == "-" }) else {
            return "letters, digits, _ and - only"
        }
        return nil
    }

    /// `batch_size` and `batch-size` are both `--batch-size`.
    public static func flagName(_ key: String) -> String { key.replacingOccurrences(of: "_", with: "-") }

    /// How many runs the grid has, or nil past Int.max.
    public var runCount: Int? {
        parameters.reduce(Int?.some(1)) { n, p in n.flatMap { n in
            let (r, o) = n.multipliedReportingOverflow(by: p.values.count)
            return o ? nil : r
        } }
    }

    /// The spec as YAML in W&B's grid form (how the CLI shorthand is written to DIR/spec.yaml).
    public var yaml: String {
        func quoted(_ s: String) -> String {
            // Plain when YAML reads it back as the same text: at once for words and numbers (a grid may have
            // 100,000 values), else as Yams reads it.
            let word = s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._+-/".unicodeScalars.contains($0)) }
            if word, let f = s.unicodeScalars.first, CharacterSet.alphanumerics.contains(f) { return s }
            if let n = try? Yams.compose(yaml: "v: " + s), case .mapping(let m) = n, m["v"]?.scalar?.string == s,
               !s.contains("#"), !s.hasPrefix("[") , !s.hasPrefix("{") { return s }
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var out = "name: \(quoted(name))\nmethod: grid\nparameters:\n"
        for p in parameters {
            out += p.values.count == 1 ? "  \(p.key): {value: \(quoted(p.values[0]))}\n"
                : "  \(p.key): {values: [\(p.values.map(quoted).joined(separator: ", "))]}\n"
        }
        return out
    }
}
