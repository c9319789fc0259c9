import Foundation

/// One spelling per number among a parameter's values: a value names its run's folder and is what train reads,
/// so `0`, `00` and `+0` (one seed to train) must be one value, not three runs averaged as three seeds.
enum SweepValue {
    /// A decimal number as written: sign, digits, an optional fraction, an optional exponent.
    private static func parts(_ s: Substring) -> (sign: String, int: Substring, frac: Substring, exp: Substring?)? {
        var rest = s[...]
        var sign = ""
        if let f = rest.first, f == "+" || f == "-" { sign = f == "-" ? "-" : ""; rest = rest.dropFirst() }
        let digits: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        let int = rest.prefix(while: digits)
        rest = rest.dropFirst(int.count)
        var frac: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            frac = rest.prefix(while: digits)
            rest = rest.dropFirst(frac.count)
        }
        guard !int.isEmpty || !frac.isEmpty else { return nil }
        var exp: Substring?
        if let e = rest.first, e == "e" || e == "E" {
            rest = rest.dropFirst()
            let expSign = rest.first.flatMap { $0 == "+" || $0 == "-" ? $0 : nil }
            if expSign != nil { rest = rest.dropFirst() }
            let d = rest.prefix(while: digits)
            guard !d.isEmpty else { return nil }
            rest = rest.dropFirst(d.count)
            let trimmed = d.drop { $0 == "0" }
            exp = (expSign == "-" && !trimmed.isEmpty ? "-" : "") + (trimmed.isEmpty ? "0" : trimmed)
        }
        guard rest.isEmpty else { return nil }
        return (sign, int, frac, exp)
    }

    /// The value's one spelling. Text that is not a decimal number is kept as written. An integer is its decimal
    /// form (`00`, `+0`, `-0` are `0`); any other number keeps the user's notation without what does not change
    /// it: a `+` sign, leading zeros, trailing fraction zeros, a zero exponent (`3.0e-04` is `3e-4`, `0.10` is
    /// `0.1`, and `1.0` is `1`).
    static func canonical(_ text: String) -> String {
        guard let p = parts(text[...]) else { return text }
        var int = String(p.int.drop { $0 == "0" })
        let frac = String(p.frac.reversed().drop { $0 == "0" }.reversed())
        if int.isEmpty { int = "0" }
        var out = int + (frac.isEmpty ? "" : "." + frac)
        if let e = p.exp, e != "0", out != "0" { out += "e" + e }
        return (out == "0" ? "" : p.sign) + out
    }

    /// What makes two values the same: the number for numbers (`3e-4` and `0.0003` are one value), else the text.
    enum Identity: Hashable {
        case integer(Int), real(Double), text(String)
    }

    /// `canonical`'s output's identity.
    static func identity(_ canonical: String) -> Identity {
        guard parts(canonical[...]) != nil else { return .text(canonical) }
        if let i = Int(canonical) { return .integer(i) }
        guard let d = Double(canonical), d.isFinite else { return .text(canonical) }
        if d == d.rounded(), abs(d) < 9.0e18 { return .integer(Int(d)) }
        return .real(d)
    }
}
