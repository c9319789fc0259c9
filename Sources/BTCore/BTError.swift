/// An error a user can act on: its description is one line, printed as `btviz: <description>`.
/// Control characters (from a damaged file's bytes, say) are shown escaped, so the line stays one line and
/// cannot drive the terminal; very long descriptions are cut.
public struct BTError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = BTError.printable(description) }

    static func printable(_ s: String) -> String {
        let out = TerminalText.escape(s)
        return out.count > 500 ? String(out.prefix(500)) + "…" : out
    }
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
