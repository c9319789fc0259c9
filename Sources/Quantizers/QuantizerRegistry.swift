/// Every weight quantizer btviz knows, one line each, in the order every list shows them (the explorer's keys
/// 1, 2, ..., the help, `eval`, what-if, `compare`). A new method is one file that declares a
/// `QuantizerDefinition` and one line here; nothing else in the tree knows a method's name.
public enum QuantizerRegistry {
    public static let all: [QuantizerDefinition] = [.full, .bwn, .twn, .ttq, .lq, .bt, .lsq]

    public static var ids: [String] { all.map(\.id) }

    /// The methods with transitions: every one but full precision (`quantize`, what-if, the `m` key).
    public static var quantizing: [QuantizerDefinition] { all.filter(\.hasTransitions) }

    public static func definition(_ method: QuantMethod) -> QuantizerDefinition {
        guard let d = all.first(where: { $0.id == method.rawValue }) else { preconditionFailure("no quantizer '\(method.rawValue)'") }
        return d
    }

    /// Every method's options, each once (TWN and BT share the threshold ratio), in registry order.
    public static var options: [QuantOption] {
        var seen = Set<String>(), out: [QuantOption] = []
        for d in all { for o in d.options where seen.insert(o.key).inserted { out.append(o) } }
        return out
    }

    public static func option(_ key: String) -> QuantOption? { options.first { $0.key == key } }
}
