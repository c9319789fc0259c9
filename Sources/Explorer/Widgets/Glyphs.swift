import Foundation

/// The characters panels draw with: Unicode blocks and braille, or plain ASCII for fonts without them.
public struct Glyphs: Sendable {
    public let ascii: Bool
    /// Vertical fill, 0 (empty) ... 8 (full cell).
    public let vblocks: [Unicode.Scalar]
    /// Sparkline ramp, lowest to highest.
    public let spark: [Unicode.Scalar]
    public let hline: Unicode.Scalar
    public let vline: Unicode.Scalar
    public let marker: Unicode.Scalar
    public let levelMark: Unicode.Scalar
    public let progressFull: Unicode.Scalar
    public let progressEmpty: Unicode.Scalar
    public let cursor: Unicode.Scalar
    /// Change marks on the curves (never the cursor's glyph, nor a curve's).
    public let eventMark: Unicode.Scalar
    /// ASCII curve glyphs, one per series, so series stay apart without colour.
    public let seriesGlyphs: [Unicode.Scalar]
    /// Legend samples of the solid and the dashed line.
    public let solidSample: String
    public let dashedSample: String
    public let lambda: String
    public let plusMinus: String
    public let dash: String
    public let dot: String
    public let left: String
    public let right: String
    public let minus: String

    public init(ascii: Bool) {
        self.ascii = ascii
        if ascii {
            vblocks = Array(" .,:-=+*#".unicodeScalars)
            spark = Array("_.,-=+*#".unicodeScalars)
            hline = "-"; vline = "|"; marker = "|"; levelMark = "^"
            progressFull = "#"; progressEmpty = "."; cursor = "#"; eventMark = "|"
            seriesGlyphs = ["*", "o", "+", "x"]; solidSample = "*"; dashedSample = "o"
            lambda = "lam"; plusMinus = "+-"; dash = "-"; dot = "."; left = "<-"; right = "->"; minus = "-"
        } else {
            vblocks = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
            spark = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
            hline = "─"; vline = "│"; marker = "┃"; levelMark = "▲"
            progressFull = "█"; progressEmpty = "░"; cursor = "▐"; eventMark = "┊"
            seriesGlyphs = []; solidSample = "━"; dashedSample = "┅"
            lambda = "λ"; plusMinus = "±"; dash = "—"; dot = "·"; left = "←"; right = "→"; minus = "−"
        }
    }

    /// Replaces the few non-ASCII symbols used in labels when drawing plain ASCII.
    public func fold(_ s: String) -> String {
        guard ascii else { return s }
        var out = s
        for (u, a) in [("λ", "lam"), ("Δ", "D"), ("±", "+-"), ("−", "-"), ("·", "*"), ("×", "x"), ("÷", "/"),
                       ("…", "..."), ("—", "-"), ("→", "->"), ("←", "<-")] {
            out = out.replacingOccurrences(of: u, with: a)
        }
        return String(String.UnicodeScalarView(out.unicodeScalars.map { $0.isASCII ? $0 : "?" }))
    }

    /// A sparkline of the last `width` values (or fewer), scaled to their own min..max. A NaN is a break (a method
    /// switch): drawn as a thin mark, not a value.
    public func sparkline(_ values: [Float], width: Int) -> String {
        guard width > 0 else { return "" }
        let window = values.suffix(width).filter { $0.isFinite || $0.isNaN }
        let v = window.filter { $0.isFinite }
        guard let lo = v.min(), let hi = v.max() else { return "" }
        var s = String.UnicodeScalarView()
        for x in window {
            if x.isNaN { s.append(ascii ? "|" : "┊"); continue }
            let t = hi > lo ? (x - lo) / (hi - lo) : 0.5
            s.append(spark[clampedInt(Double((t * Float(spark.count - 1)).rounded()), 0, spark.count - 1)])
        }
        return String(s)
    }
}
