import Foundation

/// JSON as btviz writes it, in every file and every `--json`: keys sorted (the same value is the same bytes, whatever
/// a dictionary's order), `/` not escaped (paths read as typed), one line or indented two spaces. Non-finite floats
/// of an `Encodable` value are the strings "inf", "-inf", "nan" (metrics.jsonl's convention); a dictionary built for
/// JSONSerialization holds NSNull where a figure is missing.
public enum JSONOutput {
    public enum Layout: Sendable {
        /// One line: a metrics.jsonl record, a header inside a binary file, a printed report.
        case line
        /// Indented: files a person opens (config.json, sweep.json, eval.json) and reports printed for reading.
        case pretty
    }

    public static func data<T: Encodable>(_ value: T, _ layout: Layout = .line) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = layout == .pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                                                     : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    public static func string<T: Encodable>(_ value: T, _ layout: Layout = .line) throws -> String {
        String(decoding: try data(value, layout), as: UTF8.self)
    }

    /// A value built of JSONSerialization's types (dictionaries, arrays, strings, numbers, NSNull), top level or not.
    public static func data(object: Any, _ layout: Layout = .line) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: layout == .pretty
            ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
            : [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    }

    public static func string(object: Any, _ layout: Layout = .line) throws -> String {
        String(decoding: try data(object: object, layout), as: UTF8.self)
    }

    /// A figure for such a dictionary: null where it is missing or not finite (JSON has no inf or nan).
    public static func finite<F: BinaryFloatingPoint>(_ x: F?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
}
