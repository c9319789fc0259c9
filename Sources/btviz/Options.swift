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
