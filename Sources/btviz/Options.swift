import ArgumentParser
import BTCore
import Layers
import Quantizers

extension QuantMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension RegReduction: ExpressibleByArgument {}
extension InitScheme: ExpressibleByArgument {}
extension BTScale: ExpressibleByArgument {}

/// Options shared by commands that draw the explorer.
struct ScreenOptions: ParsableArguments {
    @Flag(help: "Draw with plain ASCII (for fonts without block or braille characters).")
    var ascii = false
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
