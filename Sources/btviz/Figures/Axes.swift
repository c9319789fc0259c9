import Foundation
import Quantizers

/// A linear map from data values to SVG coordinates.
struct LinearScale {
    var lo: Double, hi: Double
    var from: Double, to: Double

    /// A degenerate domain (one value, or a damaged record's) is widened so the map stays finite.
    init(domain: (Double, Double), range: (Double, Double)) {
        var (a, b) = domain.0.isFinite && domain.1.isFinite ? (min(domain.0, domain.1), max(domain.0, domain.1)) : (0, 1)
        if b - a <= max(abs(a), abs(b)) * 1e-9 { let pad = a == 0 ? 1 : abs(a) * 0.5; a -= pad; b += pad }
        lo = a; hi = b; from = range.0; to = range.1
    }

    func callAsFunction(_ v: Double) -> Double { from + (v - lo) / (hi - lo) * (to - from) }
    func contains(_ v: Double) -> Bool { v >= lo && v <= hi }

    /// About `count` round ticks (steps of 1, 2 or 5 times a power of ten) inside the domain, and the decimals
    /// their labels need.
    func ticks(_ count: Int = 6) -> (values: [Double], decimals: Int) {
        let raw = (hi - lo) / Double(max(count, 1))
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        let first = (lo / step).rounded(.up)
        let last = (hi / step).rounded(.down)
        guard first <= last, last - first < 100 else { return ([], 0) }
        let values = stride(from: first, through: last, by: 1).map { $0 * step }
        return (values, max(0, -Int(floor(log10(step) + 1e-9))))
    }

    /// The domain widened by a share of its span on both sides, so points at the extremes stay off the frame.
    func padded(_ share: Double) -> LinearScale {
        let pad = (hi - lo) * share
        return LinearScale(domain: (lo - pad, hi + pad), range: (from, to))
    }

    /// The domain widened to round tick values (for a y axis whose top should be a labelled tick).
    func nice(_ count: Int = 5) -> LinearScale {
        let raw = (hi - lo) / Double(max(count, 1))
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        return LinearScale(domain: ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step), range: (from, to))
    }
}

/// How numbers read in figures: a true minus sign, 3 significant digits, powers of ten for tiny or huge values.
enum FigureFormat {
    static func fixed(_ v: Double, decimals: Int) -> String { minus(String(format: "%.\(decimals)f", v == 0 ? 0 : v)) }

    /// `digits` significant digits; below 0.001 or from 100,000 up as 3e−4. `trim` drops trailing zeros (for
    /// values a user typed, like λ).
    static func number(_ v: Double, digits: Int = 3, trim: Bool = false) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "−inf") }
        if v == 0 { return "0" }
        // printf rounds first, so 9.9999997e-5 (Float 1e-4) reads 1e−4, not 10e−5.
        let e = String(format: "%.\(digits - 1)e", v).split(separator: "e")
        guard e.count == 2, let exp = Int(e[1]) else { return String(v) }
        if exp <= -4 || exp >= 5 { return minus(trimmed(String(e[0])) + "e" + String(exp)) }
        let s = String(format: "%.\(max(0, digits - 1 - exp))f", v)
        return minus(trim ? trimmed(s) : s)
    }

    private static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// A run's λ as it was typed: 3e−4, 0.01.
    static func lambda(_ v: Float) -> String { number(Double(v), trim: true) }

    /// A record's method as a figure names it.
    static func method(_ raw: String) -> String {
        QuantMethod(recorded: raw) == .full ? "Full precision" : QuantMethod.label(recorded: raw)
    }

    static func signed(_ v: Double) -> String { v > 0 ? "+" + number(v) : number(v) }

    static func percent(_ share: Double) -> String {
        let p = share * 100
        return p == 0 ? "0%" : p < 0.1 ? String(format: "%.2f%%", p) : String(format: "%.1f%%", p)
    }

    static func minus(_ s: String) -> String { s.replacingOccurrences(of: "-", with: "\u{2212}") }
}

/// A label to place in rows above (or below) the plot, hanging off a mark at `x`.
struct RowLabel {
    enum Side { case centre, left, right }
    var x: Double
    var text: String
    /// Which way the text runs from its mark: left of it (anchored at its end), right of it, or centred on it.
    var side: Side = .centre
}

/// Places labels in as few rows as keep them apart. Each label goes in the first row where it clears the labels
/// already there; with `lines` (each mark is a line from the plot up to its label) also none of the other lines
/// may cross it, and its own line may cross none. Labels are taken in the order given: outermost marks first,
/// their text running outward, lets inner labels sit above the outer ones without crossing their lines.
/// Widths are estimated from the character count (a text file has no font metrics), generously, so an estimate
/// that is off still leaves a gap. Returns each label's row, the x its text starts at, and the x of its middle.
func placeLabels(_ labels: [RowLabel], size: Double, maxRows: Int, left: Double, right: Double, lines: Bool)
    -> [(row: Int, start: Double, mid: Double)] {
    let gap = 6.0
    var placed: [(row: Int, start: Double, mid: Double)?] = Array(repeating: nil, count: labels.count)
    for (i, l) in labels.enumerated() {
        let w = textWidth(l.text, size: size)
        let wanted = l.side == .left ? l.x - 3 - w : l.side == .right ? l.x + 3 : l.x - w / 2
        let start = max(min(wanted, right - w), left), end = start + w
        func fits(_ r: Int) -> Bool {
            placed.enumerated().allSatisfy { j, p in
                guard let p else { return true }
                let pEnd = p.start + textWidth(labels[j].text, size: size)
                if p.row == r && start < pEnd + gap && p.start < end + gap { return false }
                guard lines else { return true }
                if p.row > r && labels[j].x >= start - 2 && labels[j].x <= end + 2 { return false }  // its line crosses us
                if p.row < r && l.x >= p.start - 2 && l.x <= pEnd + 2 { return false }  // our line crosses it
                return true
            }
        }
        // No row is free of all crossings: the first whose labels at least do not overlap.
        let row = (0..<maxRows).first(where: fits)
            ?? (0..<maxRows).first { r in placed.enumerated().allSatisfy { j, p in
                p.map { $0.row != r || start >= $0.start + textWidth(labels[j].text, size: size) + gap || $0.start >= end + gap } ?? true } }
            ?? maxRows - 1
        placed[i] = (row, start, start + w / 2)
    }
    return placed.map { $0 ?? (0, 0, 0) }
}

/// An upper estimate of a text's width in a sans font.
func textWidth(_ s: String, size: Double) -> Double { Double(s.count) * size * 0.6 }

/// Comma-separated values: fields with a comma, quote or line break are quoted, quotes doubled.
enum CSV {
    static func row(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }

    /// The shortest text that reads back as the same Float.
    static func num(_ v: Float?) -> String { v.map { "\($0)" } ?? "" }
}
