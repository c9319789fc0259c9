import BTCore
/// An in-memory character grid. Panels draw into it; only CursesScreen turns it into ncurses
/// calls, so every panel can be tested by reading the grid back as text.

/// What a cell means; CursesScreen maps each to a colour pair and/or attribute.
public enum Style: UInt8, Sendable, CaseIterable {
    case normal, dim, bold, title, accent
    case keyCap            // key names in the key bar
    case markerZero        // transition at 0 (BWN, BT)
    case markerInner       // ±Δ (TWN), ±(a1−d1) (BT)
    case markerOuter       // ±(a1+d1) (BT)
    case level             // quantized levels and their occupancy
    case bar               // histogram bars
    case series1, series2  // first and second curve of a plot
    case event             // method / λ change markers
    case good, warn, bad
    case faint             // raw series behind their smoothed line
    case cursor            // the replay time cursor
}

public struct Cell: Equatable, Sendable {
    public var ch: Unicode.Scalar
    public var style: Style
    public init(_ ch: Unicode.Scalar = " ", _ style: Style = .normal) { self.ch = ch; self.style = style }
}

public struct Rect: Equatable, Sendable {
    public var x, y, w, h: Int
    public init(x: Int, y: Int, w: Int, h: Int) { self.x = x; self.y = y; self.w = max(0, w); self.h = max(0, h) }
    public var maxX: Int { x + w }
    public var maxY: Int { y + h }
    public var isEmpty: Bool { w <= 0 || h <= 0 }
    /// Splits off `n` rows from the top: (top, rest).
    public func takeTop(_ n: Int) -> (Rect, Rect) {
        let k = min(max(0, n), h)
        return (Rect(x: x, y: y, w: w, h: k), Rect(x: x, y: y + k, w: w, h: h - k))
    }
    public func takeBottom(_ n: Int) -> (Rect, Rect) {
        let k = min(max(0, n), h)
        return (Rect(x: x, y: y + h - k, w: w, h: k), Rect(x: x, y: y, w: w, h: h - k))
    }
    public func takeLeft(_ n: Int) -> (Rect, Rect) {
        let k = min(max(0, n), w)
        return (Rect(x: x, y: y, w: k, h: h), Rect(x: x + k, y: y, w: w - k, h: h))
    }
    public func inset(dx: Int, dy: Int) -> Rect { Rect(x: x + dx, y: y + dy, w: w - 2 * dx, h: h - 2 * dy) }
}

public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
    }

    /// Writes one cell; silently clipped to the canvas and to `clip` when given.
    public mutating func put(_ x: Int, _ y: Int, _ ch: Unicode.Scalar, _ style: Style = .normal, clip: Rect? = nil) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        if let c = clip, x < c.x || x >= c.maxX || y < c.y || y >= c.maxY { return }
        cells[y * width + x] = Cell(TerminalText.isControl(ch) ? "?" : ch, style)
    }

    public mutating func setStyle(_ x: Int, _ y: Int, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x].style = style
    }

    /// Writes `s` from (x, y), at most `maxWidth` cells; returns the x after the last cell written.
    @discardableResult
    public mutating func text(_ x: Int, _ y: Int, _ s: String, _ style: Style = .normal, maxWidth: Int = .max) -> Int {
        var cx = x
        for u in TerminalText.escape(s).unicodeScalars {  // text from a run's files is data, never a control sequence
            if cx - x >= maxWidth { break }
            put(cx, y, u, style)
            cx += 1
        }
        return cx
    }

    /// Writes `s` clipped to the rectangle's row `y` (absolute), starting at `x`.
    @discardableResult
    public mutating func text(in r: Rect, _ x: Int, _ y: Int, _ s: String, _ style: Style = .normal) -> Int {
        guard y >= r.y, y < r.maxY, x < r.maxX else { return x }
        var cx = x
        for u in TerminalText.escape(s).unicodeScalars {
            if cx >= r.maxX { break }
            if cx >= r.x { put(cx, y, u, style) }
            cx += 1
        }
        return cx
    }

    public mutating func fill(_ r: Rect, _ ch: Unicode.Scalar = " ", _ style: Style = .normal) {
        for y in r.y..<r.maxY { for x in r.x..<r.maxX { put(x, y, ch, style) } }
    }

    public mutating func hline(_ x: Int, _ y: Int, _ w: Int, _ ch: Unicode.Scalar, _ style: Style = .dim) {
        for i in 0..<max(0, w) { put(x + i, y, ch, style) }
    }

    /// One row as a string, trailing spaces kept.
    public func row(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].ch) }
        return String(s)
    }

    /// The whole grid as text, one line per row, trailing spaces trimmed.
    public var text: String {
        (0..<height).map { row($0).replacingTrailingSpaces() }.joined(separator: "\n")
    }

    /// Cells with the given style, for tests and debugging.
    public func positions(of style: Style) -> [(x: Int, y: Int)] {
        var out: [(Int, Int)] = []
        for y in 0..<height { for x in 0..<width where cells[y * width + x].style == style { out.append((x, y)) } }
        return out.map { (x: $0.0, y: $0.1) }
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
