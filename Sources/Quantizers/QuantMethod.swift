import Records

/// A weight quantizer's id ("bt"), as runs, checkpoints and the command line spell it. The methods themselves,
/// their order and everything about them are in the registry (`QuantizerRegistry.all`); this is only the name, so a
/// config.json or checkpoint stores a plain string and a method not in the registry does not decode.
public struct QuantMethod: RawRepresentable, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// A method of the registry, or nil.
    public init?(rawValue: String) {
        guard QuantizerRegistry.all.contains(where: { $0.id == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// For the definitions' own `static let`s (unchecked: the registry may not exist yet).
    public init(id: String) { rawValue = id }

    /// The registry's methods, in its order.
    public static var allCases: [QuantMethod] { QuantizerRegistry.all.map(\.method) }

    /// The method's definition in the registry.
    public var definition: QuantizerDefinition { QuantizerRegistry.definition(self) }

    public var label: String { definition.label }

    /// The method a record names: records carry the registry id; the earliest runs wrote the label, in any case.
    /// The one parser of a recorded method (steps, events, what-if fits, the run's status).
    public init?(recorded s: String) {
        let l = s.lowercased()
        guard let m = QuantMethod.allCases.first(where: { $0.rawValue == l || $0.label.lowercased() == l }) else { return nil }
        self = m
    }

    /// A recorded method's label, or the record's own spelling for a method not in the registry.
    public static func label(recorded s: String) -> String { QuantMethod(recorded: s)?.label ?? s }
    public var description: String { rawValue }
}

extension TrainerControl {
    /// Asks the trainer to switch to `m` (the mailbox below the registry carries its id).
    public func requestMethod(_ m: QuantMethod) { requestMethod(m.rawValue) }
}
