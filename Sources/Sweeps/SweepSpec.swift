import BTCore
import Foundation
import Yams

/// A sweep as the user wrote it: a name and a grid of `btviz train` options, in the grid form of W&B's sweep
/// configuration (`method: grid`, `parameters: {key: {value: X} | {values: [...]}}`). Values stay the text that was
/// written (`3e-4` stays `3e-4`): they become train arguments and run names, and `btviz train` parses them.
public struct SweepSpec: Equatable, Sendable {
    public struct Parameter: Equatable, Sendable {
        public var key: String
        public var values: [String]
        public init(key: String, values: [String]) { self.key = key; self.values = values }
    }

    public var name: String
    public var parameters: [Parameter]

    public init(name: String, parameters: [Parameter]) throws {
        self.name = name
        self.parameters = parameters
        try check()
    }

    /// The keys a sweep sets itself: a spec that names them is refused.
    public static let reserved: [String: String] = [
        "run-dir": "each run's folder is DIR/<run name>", "resume": "sweep run resumes interrupted runs itself",
        "replace": "a sweep never starts a finished run over", "headless": "sweep runs are always headless",
        "threads": "sweep run splits the cores (--jobs, --threads)", "ascii": "sweep runs draw no screen",
        "help": "not a training option", "version": "not a training option",
    ]

    /// Reads a spec file (at most 1 MB: a spec is a few lines).
    public static func read(path: String) throws -> SweepSpec {
        let bytes = try RegularFile(path).readAll(limit: 1 << 20, what: "a sweep spec")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw BTError("\(path): the sweep spec is not UTF-8 text") }
        let fallback = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(yaml: text, source: path, defaultName: fallback)
    }

    /// Parses W&B's grid form. Every problem is one line naming the key it is about.
    public static func parse(yaml: String, source: String, defaultName: String) throws -> SweepSpec {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw BTError("\(source): YAML syntax error: \(syntaxProblem(error))")
        }
        guard let root, case .mapping(let top) = root else {
            throw BTError("\(source): a sweep spec is a YAML mapping with name, method and parameters")
        }
        var name = defaultName, parameters: [Parameter]?, seen = Set<String>()
        for (k, v) in top {
            guard let key = k.scalar?.string else { throw BTError("\(source): a key that is not text") }
            guard seen.insert(key).inserted else { throw BTError("\(source): key '\(key)' is given twice") }
            switch key {
            case "name":
                guard let s = v.scalar?.string, !s.isEmpty else { throw BTError("\(source): 'name' must be text") }
                name = s
            case "method":
                guard v.scalar?.string == "grid" else {
                    throw BTError("\(source): method '\(v.scalar?.string ?? "?")' is not supported: btviz sweeps are grids (method: grid)")
                }
            case "description", "program", "project", "entity":
                continue  // W&B's bookkeeping keys: nothing to do with the grid
            case "parameters":
                guard case .mapping(let ps) = v else { throw BTError("\(source): 'parameters' must be a mapping of option: {value|values}") }
                parameters = try ps.map { pk, pv in
                    guard let key = pk.scalar?.string else { throw BTError("\(source): a parameter key that is not text") }
                    return Parameter(key: key, values: try values(of: pv, key: key, source: source))
                }
            default:
                throw BTError("\(source): unknown key '\(key)' (a sweep spec has name, method: grid, description and parameters)")
            }
        }
        guard let parameters else { throw BTError("\(source): no 'parameters': the grid is empty") }
        do { return try SweepSpec(name: name, parameters: parameters) } catch let e as BTError {
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
        switch node {
        case .scalar: return [try scalar(node)]
        case .sequence(let seq): return try seq.map(scalar)
        case .mapping(let m):
            var out: [String]?
            for (k, v) in m {
                switch k.scalar?.string {
                case "value": out = [try scalar(v)]
                case "values":
                    guard case .sequence(let seq) = v else { throw BTError("\(source): parameter '\(key)': 'values' must be a list") }
                    out = try seq.map(scalar)
                case let other:
                    throw BTError("\(source): parameter '\(key)': '\(other ?? "?")' is not supported; a grid takes 'value' or 'values'")
                }
            }
            guard let out else { throw BTError("\(source): parameter '\(key)' has neither 'value' nor 'values'") }
            return out
        default:
            throw BTError("\(source): parameter '\(key)': expected {value: X} or {values: [...]}")
        }
    }

    /// The CLI shorthand's grid: each option a comma list, an integer range `0-2` standing for 0,1,2.
    public static func shorthand(name: String, options: [(key: String, text: String)]) throws -> SweepSpec {
        try SweepSpec(name: name, parameters: options.map { o in
            Parameter(key: o.key, values: try o.text.split(separator: ",", omittingEmptySubsequences: false).flatMap { item -> [String] in
                let s = String(item).trimmingCharacters(in: .whitespaces)
                let ends = s.split(separator: "-", omittingEmptySubsequences: false)
                if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), !ends[0].isEmpty {
                    guard a <= b, b - a < 100_000 else { throw BTError("--\(o.key): the range \(s) is empty or too long") }
                    return (a...b).map(String.init)
                }
                return [s]
            })
        })
    }

    /// Problems no grid may have, each naming its key.
    private func check() throws {
        guard !name.isEmpty, name.utf8.count <= 200, !name.contains(where: { $0.isNewline }) else {
            throw BTError("the sweep's name must be one line of 1-200 bytes")
        }
        guard !parameters.isEmpty else { throw BTError("no parameters: the grid is empty") }
        var seen = Set<String>()
        for p in parameters {
            let flag = SweepSpec.flagName(p.key)
            guard !p.key.isEmpty, p.key.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "_" || $0 == "-" }) else {
                throw BTError("parameter '\(p.key)' is not an option name (letters, digits, _ and -)")
            }
            guard seen.insert(flag).inserted else { throw BTError("parameter '\(p.key)' is given twice") }
            if let why = SweepSpec.reserved[flag] { throw BTError("parameter '\(p.key)' cannot be swept: \(why)") }
            guard !p.values.isEmpty else { throw BTError("parameter '\(p.key)' has no values: the grid is empty") }
            for v in p.values {
                guard !v.isEmpty else { throw BTError("parameter '\(p.key)' has an empty value") }
                guard !v.contains(where: { $0.isNewline }) else { throw BTError("parameter '\(p.key)': a value must be one line") }
            }
            if let dup = p.values.first(where: { v in p.values.filter { $0 == v }.count > 1 }) {
                throw BTError("parameter '\(p.key)' lists \(dup) twice")
            }
        }
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
            // Quoted unless YAML reads it back as the same plain text.
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
