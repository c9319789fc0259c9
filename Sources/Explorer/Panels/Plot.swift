/// A line plot drawn with braille dots (2x4 per cell) or, in ASCII mode, one of ' - . : per cell.

struct PlotSeries {
    var xs: [Float]
    var ys: [Float]
    var style: Style
    /// Uses the right-hand axis with its own range (e.g. λ·R next to the task loss).
    var rightAxis = false
}

struct PlotMark {
    var x: Float
    var label: String
}

struct DotGrid {
    let w: Int, h: Int, sx: Int, sy: Int
    var bits: [UInt8]
    var styles: [Style?]
    init(w: Int, h: Int, ascii: Bool) {
        self.w = w; self.h = h; sx = ascii ? 1 : 2; sy = ascii ? 3 : 4
        bits = Array(repeating: 0, count: w * h); styles = Array(repeating: nil, count: w * h)
    }
    var dotsX: Int { w * sx }
    var dotsY: Int { h * sy }

    mutating func set(_ px: Int, _ py: Int, _ style: Style) {
        guard px >= 0, py >= 0, px < dotsX, py < dotsY else { return }
        let cx = px / sx, cy = py / sy, dx = px % sx, dy = py % sy
        let bit: UInt8
        if sx == 1 { bit = 1 << UInt8(dy) } else if dy < 3 { bit = dx == 0 ? 1 << UInt8(dy) : 1 << UInt8(dy + 3) } else { bit = dx == 0 ? 0x40 : 0x80 }
        bits[cy * w + cx] |= bit
        styles[cy * w + cx] = style  // the last series to touch a cell colours it
    }

    mutating func vspan(_ px: Int, _ a: Int, _ b: Int, _ style: Style) {
        for py in min(a, b)...max(a, b) { set(px, py, style) }
    }

    func glyph(_ b: UInt8) -> Unicode.Scalar {
        if sx == 2 { return Unicode.Scalar(0x2800 + UInt32(b))! }
        switch b {
        case 1: return "'"
        case 2: return "-"
        case 4: return "."
        default: return ":"
        }
    }
}

func autoRange(_ ys: [Float], includeZero: Bool = false) -> (Float, Float) {
    let f = ys.filter { $0.isFinite }
    var lo = f.min() ?? 0, hi = f.max() ?? 1
    if includeZero { lo = min(lo, 0) }
    if hi - lo < 1e-12 { let d = max(abs(hi) * 0.1, 1e-6); lo -= d; hi += d }
    return (lo, hi)
}

/// Draws the plot in `r`: y labels on the left (and right when a series uses the right axis),
/// step numbers on the bottom row. Vertical event marks go under the lines, the cursor over them.
func drawPlot(_ c: inout Canvas, _ r: Rect, series: [PlotSeries], xRange: (Float, Float),
              left: (Float, Float), right: (Float, Float)?, format: (Float) -> String,
              rightFormat: (Float) -> String, marks: [PlotMark], cursor: Float?, _ g: Glyphs) {
    guard r.h >= 3, r.w >= 16 else { return }
    let lw = 6, rw = right == nil ? 0 : 6
    let area = Rect(x: r.x + lw, y: r.y, w: r.w - lw - rw, h: r.h - 1)
    guard area.w > 2, area.h > 0 else { return }
    var grid = DotGrid(w: area.w, h: area.h, ascii: g.ascii)
    let (x0, x1) = xRange.1 > xRange.0 ? xRange : (xRange.0, xRange.0 + 1)
    func px(_ x: Float) -> Int { clampedInt(Double(((x - x0) / (x1 - x0) * Float(grid.dotsX - 1)).rounded()), -1, grid.dotsX) }
    func col(_ x: Float) -> Int? {
        guard x >= x0, x <= x1 else { return nil }
        return min(area.w - 1, max(0, px(x) / grid.sx))
    }

    // Event lines first, so the curves stay on top.
    for m in marks {
        guard let cx = col(m.x) else { continue }
        for y in area.y..<area.maxY { c.put(area.x + cx, y, g.ascii ? ":" : "┊", .event) }
    }

    for s in series {
        let (lo, hi) = s.rightAxis ? (right ?? left) : left
        func py(_ y: Float) -> Int {
            let t = hi > lo ? (hi - y) / (hi - lo) : 0.5
            return clampedInt(Double((t * Float(grid.dotsY - 1)).rounded()), 0, grid.dotsY - 1)
        }
        var prev: (Int, Int)? = nil
        for (x, y) in zip(s.xs, s.ys) {
            guard x.isFinite, y.isFinite, x >= x0, x <= x1 else { prev = nil; continue }
            let p = (px(x), py(y))
            if let q = prev, p.0 > q.0 {
                // Fill each dot column between the two points so steep lines stay connected.
                var lastY = q.1
                for xx in (q.0 + 1)...p.0 {
                    let t = Float(xx - q.0) / Float(p.0 - q.0)
                    let yy = clampedInt(Double((Float(q.1) + t * Float(p.1 - q.1)).rounded()), -1, grid.dotsY)
                    grid.vspan(xx, lastY, yy, s.style)
                    lastY = yy
                }
            } else if let q = prev, p.0 == q.0 {
                grid.vspan(p.0, q.1, p.1, s.style)
            } else {
                grid.set(p.0, p.1, s.style)
            }
            prev = p
        }
    }

    for cy in 0..<grid.h {
        for cx in 0..<grid.w where grid.bits[cy * grid.w + cx] != 0 {
            c.put(area.x + cx, area.y + cy, grid.glyph(grid.bits[cy * grid.w + cx]), grid.styles[cy * grid.w + cx] ?? .normal)
        }
    }

    if let cur = cursor, let cx = col(cur) {
        for y in area.y..<area.maxY where c[area.x + cx, y].ch == " " || c[area.x + cx, y].style == .event {
            c.put(area.x + cx, y, g.cursor, .accent)
        }
    }
    // Event labels along the top row, skipping any that would collide.
    var nextFree = area.x
    for m in marks.sorted(by: { $0.x < $1.x }) {
        guard let cx = col(m.x) else { continue }
        let x = min(area.x + cx + 1, area.maxX - m.label.count)
        if x < nextFree { continue }
        c.text(in: area, x, area.y, m.label, .event)
        nextFree = x + m.label.count + 1
    }

    // Axes: labels at top, middle (room permitting) and bottom.
    let rows = area.h >= 5 ? [0, area.h / 2, area.h - 1] : [0, area.h - 1]
    for row in rows {
        let t = area.h > 1 ? Float(row) / Float(area.h - 1) : 0
        let v = left.1 - t * (left.1 - left.0)
        c.text(r.x, area.y + row, pad(format(v), lw - 1), .dim, maxWidth: lw - 1)
        if let rr = right {
            let v2 = rr.1 - t * (rr.1 - rr.0)
            c.text(area.maxX + 1, area.y + row, rightFormat(v2), .series2, maxWidth: rw - 1)
        }
    }
    let by = r.maxY - 1
    c.text(area.x, by, Fmt.count(x0), .dim)
    let endLabel = Fmt.count(x1)
    c.text(area.maxX - endLabel.count, by, endLabel, .dim)
    let mid = "step"
    c.text(area.x + (area.w - mid.count) / 2, by, mid, .dim)
}

private func pad(_ s: String, _ w: Int) -> String {
    s.count >= w ? s : String(repeating: " ", count: w - s.count) + s
}
