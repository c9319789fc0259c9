/// An error a user can act on: its description is one line, printed as `btviz: <description>`.
/// Control characters (from a damaged file's bytes, say) are shown escaped, so the line stays one line and
/// cannot drive the terminal; very long descriptions are cut.
/// An error that names settings of a run (`init(settings:)`) names them by their config.json keys; each front end
/// spells them its own way (`message(naming:)`: the command line as its flags).
public struct BTError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The message with its settings marked, or nil when it names none.
    private let text: SettingText?

    public init(_ description: String) { self.description = BTError.printable(description); text = nil }

    /// `BTError(settings: "lower \(setting: "batch_size")")`: described as "lower batch_size".
    public init(settings text: SettingText) {
        self.text = text
        description = BTError.printable(text.spelled { $0 })
    }

    /// The message with each setting spelled by `name` (the description where it names none).
    public func message(naming name: (String) -> String) -> String {
        text.map { BTError.printable($0.spelled(name)) } ?? description
    }

    static func printable(_ s: String) -> String {
        let out = TerminalText.escape(s)
        return out.count > 500 ? String(out.prefix(500)) + "…" : out
    }
}

/// A message that names settings of a run by their config.json keys, marked where they appear:
/// `"pass \(setting: "data_dir")"`. Other interpolations are text.
public struct SettingText: ExpressibleByStringInterpolation, Sendable {
    public enum Part: Sendable, Equatable { case text(String), setting(String) }
    public private(set) var parts: [Part]

    public init(stringLiteral value: String) { parts = [.text(value)] }
    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    public struct Interpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { if !literal.isEmpty { parts.append(.text(literal)) } }
        public mutating func appendInterpolation<T>(_ value: T) { parts.append(.text("\(value)")) }
        public mutating func appendInterpolation(setting key: String) { parts.append(.setting(key)) }
        /// Another such text, its settings kept.
        public mutating func appendInterpolation(_ text: SettingText) { parts += text.parts }
    }

    /// The text with each setting spelled by `name`.
    public func spelled(_ name: (String) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let t): t
            case .setting(let key): name(key)
            }
        }.joined()
    }

    public var isEmpty: Bool { parts.allSatisfy { $0 == .text("") } }
}

/// Text from a file is data: printed to a terminal, its control characters (ESC among them, which would drive
/// the terminal) are shown escaped as \xNN and a newline as a space, so one field stays on one line.
public enum TerminalText {
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if isControl(u) {
                out += u.value == 0x0A ? " " : "\\x" + String(u.value, radix: 16, uppercase: true).leftPadded(2)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    public static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value)
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
