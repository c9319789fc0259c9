import BTCore
import Records
/// Everything btviz knows about one weight quantizer, declared in the method's own file and listed once in
/// `QuantizerRegistry.all`: its id and label, its options, its default λ, how to make its per-layer quantizer, how
/// its fits are named for reports, and what it stores beside the codes.
public struct QuantizerDefinition: Sendable {
    /// The id runs, checkpoints and the command line use ("bt").
    public var id: String
    /// As tables and the explorer show it ("BT").
    public var label: String
    /// One line for help texts.
    public var summary: String
    /// The method's own options (TWN and BT share one); the CLI spells each as --key-with-dashes.
    public var options: [QuantOption] = []
    /// The transition regularizer's default weight for this method (README, "The λ study").
    public var defaultLambda: Float
    /// Full precision has none: it is left out of `quantize`, what-if and the `m` key's cycle.
    public var hasTransitions = true
    /// A quantizer for one layer; `layer` names its tensors, `shape` is the weight's (output channels first).
    public var make: @Sendable (_ spec: QuantSpec, _ layer: String, _ shape: [Int]) -> any LayerQuantizer
    /// The names of a fit's transitions and scales, from its scales (LQ-Nets' basis has as many as its bits).
    public var describe: @Sendable (_ scales: [String: Float]) -> FitDescription
    /// Numbers stored beside one layer's codes (`summary`'s bytes): one scale per channel unless told.
    public var storedScales: @Sendable (_ fit: QuantFit) -> Int = { $0.channels }

    public var method: QuantMethod { QuantMethod(id: id) }

    public init(id: String, label: String, summary: String, options: [QuantOption] = [], defaultLambda: Float,
                hasTransitions: Bool = true,
                make: @escaping @Sendable (_ spec: QuantSpec, _ layer: String, _ shape: [Int]) -> any LayerQuantizer,
                describe: @escaping @Sendable (_ scales: [String: Float]) -> FitDescription,
                storedScales: @escaping @Sendable (_ fit: QuantFit) -> Int = { $0.channels }) {
        self.id = id; self.label = label; self.summary = summary; self.options = options
        self.defaultLambda = defaultLambda; self.hasTransitions = hasTransitions
        self.make = make; self.describe = describe; self.storedScales = storedScales
    }
}

extension FitDescription {
    /// The description of `method`'s fits with these scales, or `unnamed` for an unknown method id.
    public static func of(method id: String?, scales: [String: Float]) -> FitDescription {
        guard let id, let m = QuantMethod(rawValue: id) else { return unnamed }
        return m.definition.describe(scales)
    }
}

extension LayerRecord {
    /// The record's own description of its fit, or for records written before they carried one, what the
    /// registry says of `method`'s fits (the step's method id).
    public func fitDescription(method: String?) -> FitDescription {
        fit ?? FitDescription.of(method: method, scales: scales)
    }
}

extension QuantFit {
    /// How this fit names its transitions and scales.
    public var fitDescription: FitDescription { method.definition.describe(scales) }
}

/// One option of a quantizer: its key (config.json, checkpoints; the CLI's flag is --key-with-dashes), what it
/// means, its default and what it accepts.
public struct QuantOption: Sendable {
    public enum Kind: Sendable {
        /// A number strictly between the bounds.
        case real(default: Float, above: Float, below: Float)
        case integer(default: Int, range: ClosedRange<Int>)
        case choice(default: String, values: [String])
    }

    public var key: String
    public var help: String
    public var kind: Kind

    public init(key: String, help: String, kind: Kind) { self.key = key; self.help = help; self.kind = kind }

    public var defaultValue: QuantOptionValue {
        switch kind {
        case .real(let d, _, _): .real(d)
        case .integer(let d, _): .integer(d)
        case .choice(let d, _): .choice(d)
        }
    }

    /// "in (0, 2)", "in 1...4", "one of paper, lsq".
    public var accepted: String {
        switch kind {
        case .real(_, let a, let b): "in (\(QuantOptionValue.real(a)), \(QuantOptionValue.real(b)))"
        case .integer(_, let r): "in \(r.lowerBound)...\(r.upperBound)"
        case .choice(_, let v): "one of " + v.joined(separator: ", ")
        }
    }

    /// Nil if the value is accepted.
    public func problem(_ v: QuantOptionValue) -> QuantProblem? {
        let ok: Bool
        switch (kind, v) {
        case (.real(_, let a, let b), .real(let x)): ok = x > a && x < b
        case (.integer(_, let r), .integer(let x)): ok = r.contains(x)
        case (.choice(_, let values), .choice(let x)): ok = values.contains(x)
        default: ok = false
        }
        return ok ? nil : QuantProblem(key: key, accepted: accepted, value: "\(v)")
    }
}

/// An option's value.
public enum QuantOptionValue: Sendable, Equatable, Hashable, CustomStringConvertible {
    case real(Float), integer(Int), choice(String)

    public var real: Float? { if case .real(let x) = self { x } else { nil } }
    public var integer: Int? { if case .integer(let x) = self { x } else { nil } }
    public var choice: String? { if case .choice(let x) = self { x } else { nil } }

    public var description: String {
        switch self {
        case .real(let x): x == x.rounded() && abs(x) < 1e6 ? "\(Int(x))" : "\(x)"
        case .integer(let x): "\(x)"
        case .choice(let x): x
        }
    }
}

/// An option value out of range, named by its key: the command line names its flag, a config file its key.
public struct QuantProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var accepted: String
    public var value: String

    public func message(naming name: String) -> String { "\(name) must be \(accepted) (got \(value))" }
    public var description: String { message(naming: key) }
}

/// Every registry option's value, by key (defaults where not set).
public struct QuantOptions: Sendable, Equatable {
    public private(set) var values: [String: QuantOptionValue]

    public init() {
        values = Dictionary(uniqueKeysWithValues: QuantizerRegistry.options.map { ($0.key, $0.defaultValue) })
    }

    public subscript(key: String) -> QuantOptionValue? {
        get { values[key] }
        set { if let newValue { values[key] = newValue } }
    }

    public func real(_ key: String) -> Float { values[key]?.real ?? QuantizerRegistry.option(key)?.defaultValue.real ?? 0 }
    public func integer(_ key: String) -> Int { values[key]?.integer ?? QuantizerRegistry.option(key)?.defaultValue.integer ?? 0 }
    public func choice(_ key: String) -> String { values[key]?.choice ?? QuantizerRegistry.option(key)?.defaultValue.choice ?? "" }

    /// The first value out of range, in registry order.
    public var problem: QuantProblem? {
        for o in QuantizerRegistry.options { if let v = values[o.key], let p = o.problem(v) { return p } }
        return nil
    }

    /// Reads every registry option present under its key (a file written before an option existed keeps the default).
    public mutating func decode(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: OptionKey.self)
        for o in QuantizerRegistry.options {
            let k = OptionKey(o.key)
            switch o.kind {
            case .real: if let v = try c.decodeIfPresent(Float.self, forKey: k) { values[o.key] = .real(v) }
            case .integer: if let v = try c.decodeIfPresent(Int.self, forKey: k) { values[o.key] = .integer(v) }
            case .choice: if let v = try c.decodeIfPresent(String.self, forKey: k) { values[o.key] = .choice(v) }
            }
        }
    }

    /// Writes every option under its key, beside the encoder's other keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: OptionKey.self)
        for o in QuantizerRegistry.options {
            switch values[o.key] {
            case .real(let v): try c.encode(v, forKey: OptionKey(o.key))
            case .integer(let v): try c.encode(v, forKey: OptionKey(o.key))
            case .choice(let v): try c.encode(v, forKey: OptionKey(o.key))
            case nil: break
            }
        }
    }
}
