import ArgumentParser
import Models
import Training

/// The network and its own options (the definitions in `ModelRegistry` say what each means, its default and range;
/// here each gets its flag). VGG-6's --k and the restoration net's --batch-norm and --channel-gain keep their groups.
struct ModelChoiceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The network: \(ModelRegistry.all.map { "\($0.id) (\($0.task.rawValue))" }.joined(separator: ", ")); default \(TrainConfig().model), \(TrainConfig.restoration(.sr).model) for --task sr/denoise.",
                               valueName: "id"), completion: .list(ModelRegistry.ids))
    var model: String?
    @Option(parsing: .unconditional, help: ModelChoiceOptions.help("depth")) var depth: Int?
    @Flag(help: ModelChoiceOptions.help("quantize_ends")) var quantizeEnds = false

    func apply(to c: inout TrainConfig) {
        if let model { c.model = model.lowercased() }
        if let depth { c.modelOptions["depth"] = .integer(depth) }
        if quantizeEnds { c.modelOptions["quantize_ends"] = .flag(true) }
    }

    static func help(_ key: String) -> ArgumentHelp {
        guard let o = ModelRegistry.option(key) else { return ArgumentHelp() }
        let owners = ModelRegistry.all.filter { d in d.options.contains { $0.key == key } }.map(\.id).joined(separator: ", ")
        switch o.kind {
        case .integer: return ArgumentHelp("\(owners): \(o.help), \(o.accepted) (default \(o.defaultValue)).")
        case .flag: return ArgumentHelp("\(owners): \(o.help).")
        }
    }
}
