import Foundation

/// Int of a value that may be huge, infinite or NaN (a damaged record's): clamped before converting, which would
/// otherwise trap. NaN gives `lo`.
func clampedInt(_ x: Double, _ lo: Int, _ hi: Int) -> Int {
    guard !x.isNaN else { return lo }
    return Int(min(max(x, Double(lo)), Double(hi)))
}

/// Short number formats: every table cell is a few characters wide.
enum Fmt {
    /// 3 significant digits, no exponent for ordinary magnitudes: 0.0521, 1.23, 153.
    static func sig(_ v: Float, _ digits: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == 0 { return "0" }
        let a = abs(Double(v))
        if a >= 1e5 || a < 9.995e-5 { return String(format: "%.\(max(0, digits - 1))e", Double(v)) }
        let mag = Int(floor(log10(a)))
        let decimals = max(0, digits - 1 - mag)
        return String(format: "%.\(decimals)f", Double(v))
    }

    /// `sig` without the leading zero (.0521), for narrow table cells.
    static func compact(_ v: Float, _ digits: Int = 3) -> String {
        let s = sig(v, digits)
        if s.hasPrefix("0.") { return String(s.dropFirst()) }
        if s.hasPrefix("-0.") { return "-" + s.dropFirst(2) }
        return s
    }

    /// A column of numbers with one number of decimals, enough for `digits` significant digits of its smallest
    /// nonzero value (at most 5), leading zeros dropped as `compact` does: `1.00/0.998` rather than `1.0/0.998`,
    /// whose differing lengths read as differing precision. Values that need an exponent keep `compact`'s form.
    static func column(_ values: [Float], _ digits: Int = 3) -> [String] {
        let sized = values.filter { $0.isFinite && $0 != 0 }.map { abs(Double($0)) }
        guard !sized.isEmpty, sized.allSatisfy({ $0 < 1e5 && $0 >= 9.995e-5 }) else { return values.map { compact($0, digits) } }
        let decimals = min(5, sized.map { max(0, digits - 1 - Int(floor(log10($0)))) }.max()!)
        return values.map { v in
            guard v.isFinite else { return sig(v) }
            let s = String(format: "%.\(decimals)f", Double(v))
            if s.hasPrefix("0.") { return String(s.dropFirst()) }
            if s.hasPrefix("-0.") { return "-" + s.dropFirst(2) }
            return s
        }
    }

    /// The most of `v` (up to `digits` significant) that fits in `width` characters, for axis labels:
    /// 0.0012, then .0012, then 1.2e-3, then 1e-3. Cutting a longer label would show a different number.
    static func fit(_ v: Float, width: Int, digits: Int = 2) -> String {
        func exponent(_ d: Int) -> String {  // 1.2e-3: without printf's '+' and zero padding
            let s = String(format: "%.\(d)e", Double(v))
            guard v.isFinite, let e = s.firstIndex(of: "e"), let x = Int(s[s.index(after: e)...]) else { return s }
            return String(s[..<e]) + "e\(x)"
        }
        let tries = [sig(v, digits), compact(v, digits), exponent(max(0, digits - 1)), exponent(0)]
        return tries.first { $0.count <= width } ?? tries[3]
    }

    /// `sig` without trailing zeros (0.1, 0.05, 0.0125), for values a user typed or stepped.
    static func trim(_ v: Float) -> String {
        var s = sig(v, 3)
        guard s.contains("."), !s.contains("e") else { return s }
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A share 0...1 as a percentage: 3.1%, 52%, 0.04%.
    static func pct(_ v: Float) -> String {
        guard v.isFinite else { return "nan" }
        let p = Double(v) * 100
        if p == 0 { return "0%" }
        if p < 0.1 { return String(format: "%.2f%%", p) }
        if p < 10 { return String(format: "%.1f%%", p) }
        return String(format: "%.0f%%", p)
    }

    static func signed(_ v: Float) -> String { v > 0 ? "+" + sig(v) : sig(v) }

    /// Seconds as 1h02m, 3m05s, 42s.
    static func duration(_ s: Float) -> String {
        guard s.isFinite, s >= 0, s < 1e9 else { return "--" }  // a damaged record's ETA can be anything
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }

    static func count(_ n: Float) -> String {
        guard n.isFinite else { return "--" }
        if n >= 10_000 { return String(format: "%.1fk", Double(n) / 1000) }
        return String(format: "%.0f", Double(n))
    }

    static func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }
}
