import ArgumentParser
import BTCore
import Layers
import Quantizers
import Training

extension QuantMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }

    /// "full, bwn, ... or bt": the registry's ids for help texts.
    static func list(_ methods: [QuantMethod] = allCases) -> String {
        let ids = methods.map(\.rawValue)
        return ids.count > 1 ? ids.dropLast().joined(separator: ", ") + " or " + ids.last! : ids.joined()
    }

    /// "1e-4 for bwn, 0 for ttq, 3e-4 otherwise": the definitions' default λs, the most common last.
    static var lambdaDefaults: String {
        let values = allCases.map(\.definition.defaultLambda)
        let common = Set(values).max { a, b in values.filter { $0 == a }.count < values.filter { $0 == b }.count }
        var seen: [Float] = [], parts: [String] = []
        for v in values where v != common && !seen.contains(v) {
            seen.append(v)
            parts.append(number(v) + " for " + list(allCases.filter { $0.definition.defaultLambda == v }))
        }
        return (parts + (common.map { [number($0) + " otherwise"] } ?? [])).joined(separator: ", ")
    }

    private static func number(_ v: Float) -> String {
        v == 0 ? "0" : String(format: "%g", Double(v)).replacingOccurrences(of: "e-0", with: "e-")
    }
}

extension RegReduction: ExpressibleByArgument {}
extension InitScheme: ExpressibleByArgument {}
extension BTScale: ExpressibleByArgument {}

/// Options shared by commands that draw the explorer.
struct ScreenOptions: ParsableArguments {
    @Flag(help: "Draw with plain ASCII (for fonts without block or braille characters).")
    var ascii = false
}

/// Every quantizer's own options, declared once: train, bench and quantize take this group. The options
/// themselves (meaning, default, range) are the methods' definitions; here each gets its flag, --key-with-dashes.
/// Unset ones keep the run's values (a resumed run) or the defaults.
struct QuantizerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: QuantizerOptions.help(.deltaRatio)) var deltaRatio: Float?
    @Option(parsing: .unconditional, help: QuantizerOptions.help(.ttqT)) var ttqT: Float?
    @Option(parsing: .unconditional, help: QuantizerOptions.help(.lqBits)) var lqBits: Int?
    @Option(help: QuantizerOptions.help(.btScale)) var btScale: BTScale?
    @Option(parsing: .unconditional, help: QuantizerOptions.help(LSQ.bitsOption)) var lsqBits: Int?

    /// The given values by option key.
    var given: [String: QuantOptionValue] {
        let all: [(String, QuantOptionValue?)] = [
            (QuantOption.deltaRatio.key, deltaRatio.map { .real($0) }), (QuantOption.ttqT.key, ttqT.map { .real($0) }),
            (QuantOption.lqBits.key, lqBits.map { .integer($0) }), (QuantOption.btScale.key, btScale.map { .choice($0.rawValue) }),
            (LSQ.bitsOption.key, lsqBits.map { .integer($0) }),
        ]
        return all.reduce(into: [:]) { d, kv in if let v = kv.1 { d[kv.0] = v } }
    }

    /// `options` with the given values in.
    func applied(to options: QuantOptions) -> QuantOptions {
        var o = options
        for (k, v) in given { o[k] = v }
        return o
    }

    func validate() throws {
        for o in QuantizerRegistry.options { if let v = given[o.key], let p = o.problem(v) { throw ValidationError(Self.message(p)) } }
    }

    /// A problem with an option, naming its flag.
    static func message(_ p: QuantProblem) -> String { p.message(naming: Flags.name(p.key)) }

    static func help(_ o: QuantOption) -> ArgumentHelp {
        ArgumentHelp("\(o.help), \(o.accepted) (default \(o.defaultValue); methods: "
                     + QuantizerRegistry.all.filter { d in d.options.contains { $0.key == o.key } }.map(\.id).joined(separator: ", ") + ").")
    }
}

/// `--threads N` of train, eval and bench: how many workers split the work. The result is the same on any count.
struct ThreadOptions: ParsableArguments {
    @Option(name: .customLong("threads"), parsing: .unconditional,
            help: "Worker threads, 1...\(Workers.limit) (default: BTVIZ_THREADS, else the cores this process may use: its CPU affinity mask and cgroup CPU quota).")
    var value: Int?

    func validate() throws {
        if let value, !(1...Workers.limit).contains(value) {
            throw ValidationError("--threads must be in 1...\(Workers.limit)")
        }
    }

    /// Sets `Workers.count` from --threads, else BTVIZ_THREADS, else the cores available, and returns it.
    @discardableResult
    func apply() throws -> Int {
        let n = try value ?? Workers.fromEnvironment() ?? min(Workers.available, Workers.limit)
        Workers.count = n
        return n
    }
}
