import Foundation

/// A small SVG document: elements are appended in drawing order (later ones on top) and rendered as plain text.
/// Every attribute value and text is escaped for XML, so names read from a run's files cannot break the document.
struct SVG {
    let width: Double, height: Double
    private var body: [String] = []
    private var depth = 1

    init(width: Double, height: Double) { self.width = width; self.height = height }

    /// One attribute; nil values are left out, so callers can pass optional styling as it is.
    typealias Attr = (String, String?)

    mutating func element(_ name: String, _ attrs: [Attr], text: String? = nil) {
        let open = "<" + name + SVG.attributes(attrs)
        let line = text.map { open + ">" + SVG.escape($0) + "</" + name + ">" } ?? open + "/>"
        body.append(String(repeating: "  ", count: depth) + line)
    }

    /// A `<g>` around what `draw` appends: one class for a figure's parts, so tests and readers can find them.
    mutating func group(_ attrs: [Attr], _ draw: (inout SVG) -> Void) {
        body.append(String(repeating: "  ", count: depth) + "<g" + SVG.attributes(attrs) + ">")
        depth += 1
        draw(&self)
        depth -= 1
        body.append(String(repeating: "  ", count: depth) + "</g>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, _ extra: [Attr] = []) {
        element("rect", [("x", SVG.num(x)), ("y", SVG.num(y)), ("width", SVG.num(max(0, width))),
                         ("height", SVG.num(max(0, height))), ("fill", fill)] + extra)
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                       dash: String? = nil, _ extra: [Attr] = []) {
        element("line", [("x1", SVG.num(x1)), ("y1", SVG.num(y1)), ("x2", SVG.num(x2)), ("y2", SVG.num(y2)),
                         ("stroke", stroke), ("stroke-width", SVG.num(width)), ("stroke-dasharray", dash)] + extra)
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, dash: String? = nil,
                           _ extra: [Attr] = []) {
        guard !points.isEmpty else { return }
        element("polyline", [("points", SVG.points(points)), ("fill", "none"), ("stroke", stroke),
                             ("stroke-width", SVG.num(width)), ("stroke-linejoin", "round"), ("stroke-dasharray", dash)] + extra)
    }

    mutating func polygon(_ points: [(Double, Double)], fill: String, _ extra: [Attr] = []) {
        element("polygon", [("points", SVG.points(points)), ("fill", fill)] + extra)
    }

    mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String, stroke: String? = nil, _ extra: [Attr] = []) {
        element("circle", [("cx", SVG.num(cx)), ("cy", SVG.num(cy)), ("r", SVG.num(r)), ("fill", fill), ("stroke", stroke)] + extra)
    }

    enum Anchor: String { case start, middle, end }

    /// Text at a baseline point; `rotate` turns it about that point (-90 for a y-axis title).
    mutating func text(_ s: String, x: Double, y: Double, size: Double = 11, anchor: Anchor = .start,
                       fill: String = "#222", bold: Bool = false, rotate: Double? = nil, _ extra: [Attr] = []) {
        element("text", [("x", SVG.num(x)), ("y", SVG.num(y)), ("font-size", SVG.num(size)),
                         ("text-anchor", anchor == .start ? nil : anchor.rawValue), ("fill", fill),
                         ("font-weight", bold ? "bold" : nil),
                         ("transform", rotate.map { "rotate(\(SVG.num($0)) \(SVG.num(x)) \(SVG.num(y)))" })] + extra,
                text: s)
    }

    func render(title: String) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(SVG.num(width))\" height=\"\(SVG.num(height))\" "
            + "viewBox=\"0 0 \(SVG.num(width)) \(SVG.num(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        out += "  <title>" + SVG.escape(title) + "</title>\n"
        out += "  <rect x=\"0\" y=\"0\" width=\"\(SVG.num(width))\" height=\"\(SVG.num(height))\" fill=\"white\"/>\n"
        out += body.joined(separator: "\n") + "\n</svg>\n"
        return out
    }

    /// A coordinate with at most 2 decimals; a non-finite one (a damaged record's) becomes 0 rather than "nan",
    /// which would make the document invalid.
    static func num(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    static func points(_ ps: [(Double, Double)]) -> String { ps.map { num($0.0) + "," + num($0.1) }.joined(separator: " ") }

    /// XML-escapes text and drops characters XML 1.0 does not allow at all (control characters other than tab,
    /// newline and return), which no escape can carry.
    static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    private static func attributes(_ attrs: [Attr]) -> String {
        attrs.compactMap { k, v in v.map { " \(k)=\"\(escape($0))\"" } }.joined()
    }
}
