import ArgumentParser
import BTCore
import Foundation
import Quantizers
import Training

/// The command line's name for a setting of a run (its config.json key): `--key-with-dashes`, but for the few
/// flags named otherwise. The one place a setting becomes a flag: train's declarations take their exceptions from
/// here, and every message the library writes naming settings (`ConfigProblem`, `QuantProblem`, a `BTError`'s
/// settings) is spelled by it when the command line reports it.
enum Flags {
    /// Settings whose flag is not their key with dashes.
    static let exceptions = ["histogram_bins": "bins"]

    /// `--batch-size` for `batch_size`.
    static func name(_ key: String) -> String { "--" + long(key) }

    /// The flag without its dashes, as `@Option(name: .customLong(...))` takes it.
    static func long(_ key: String) -> String { exceptions[key] ?? key.replacingOccurrences(of: "_", with: "-") }

    /// A problem's one line, with its settings spelled as flags.
    static func message(_ p: ConfigProblem) -> String { p.message(naming: name) }
}

/// A command's options as ArgumentParser declares them, read from its own typed description of the command (the
/// JSON of `--experimental-dump-help`, which the man page is made from too), not from its help or error text.
struct DeclaredOptions {
    struct Option {
        /// The long name, without its dashes.
        var name: String
        /// False for a switch (a `@Flag`).
        var takesValue: Bool
        /// False for a hidden option.
        var shown: Bool
    }

    let byName: [String: Option]

    init(_ command: any ParsableArguments.Type) {
        var byName: [String: Option] = [:]
        if let dump = try? JSONDecoder().decode(Dump.self, from: Data(command._dumpHelp().utf8)) {
            for a in dump.command.arguments ?? [] where a.kind != "positional" {
                for n in a.names ?? [] where n.kind == "long" {
                    byName[n.name] = Option(name: n.name, takesValue: a.kind == "option", shown: a.shouldDisplay ?? true)
                }
            }
        }
        self.byName = byName
    }

    subscript(name: String) -> Option? { byName[name] }

    /// The shown options' names, sorted.
    var shownNames: [String] { byName.values.filter(\.shown).map(\.name).sorted() }

    /// The few fields of ArgumentParser's ToolInfoV0 read here.
    private struct Dump: Decodable {
        struct Command: Decodable { var arguments: [Argument]? }
        struct Argument: Decodable { var kind: String; var names: [Name]?; var shouldDisplay: Bool? }
        struct Name: Decodable { var kind: String; var name: String }
        var command: Command
    }
}

/// A training option's default for its help, read from `TrainConfig`'s declaration per task, so a changed default
/// changes the help: "default 128; 16 for sr/denoise".
enum TrainDefaults {
    static func text<V: Equatable>(_ key: KeyPath<TrainConfig, V>, _ show: (V) -> String = { "\($0)" }) -> String {
        "default " + show(TrainConfig()[keyPath: key]) + (otherTasks(key, show).map { "; " + $0 } ?? "")
    }

    /// "16 for sr/denoise": the tasks whose default differs from classification's, or nil.
    static func otherTasks<V: Equatable>(_ key: KeyPath<TrainConfig, V>, _ show: (V) -> String = { "\($0)" }) -> String? {
        let classify = TrainConfig()[keyPath: key]
        var groups: [(value: V, tasks: [String])] = []
        for task in TrainTask.allCases where task != .classify {
            let v = TrainConfig.defaults(for: task)[keyPath: key]
            guard v != classify else { continue }
            if let i = groups.firstIndex(where: { $0.value == v }) { groups[i].tasks.append(task.rawValue) } else { groups.append((v, [task.rawValue])) }
        }
        return groups.isEmpty ? nil : groups.map { show($0.value) + " for " + $0.tasks.joined(separator: "/") }.joined(separator: ", ")
    }
}

extension Flags {
    /// An error as the command line reports it, every setting it names spelled as a flag: the one place the
    /// library's settings become flags in a message. `parser` words what ArgumentParser itself threw.
    static func report(_ error: Error, parser: any ParsableArguments.Type) -> String {
        (error as? BTError)?.message(naming: name) ?? (error as? ConfigProblem).map(message)
            ?? (error as? QuantProblem).map(QuantizerOptions.message) ?? parser.message(for: error)
    }
}
