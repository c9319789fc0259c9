import Foundation
import Records

/// Renders `sweep watch`'s screens into a Canvas. Pure: no terminal, so tests call it directly.
public enum SweepRenderer {
    /// The board: one row per run (its varying options, status, progress, ETA, test metric and flip share with
    /// sparklines), the grid's progress and ETA on top, the selected run's details and the keys below.
    public static func renderBoard(_ board: SweepBoard, view: SweepViewState, width: Int, height: Int,
                                   options: ExplorerOptions) -> Canvas {
        var c = Canvas(width: width, height: height)
        let g = Glyphs(ascii: options.ascii)
        guard width >= ExplorerLayout.minWidth, height >= ExplorerLayout.minHeight else {
            drawTooSmall(&c)
            return c
        }
        let all = Rect(x: 0, y: 0, w: width, h: height)
        var (header, rest) = all.takeTop(2)
        let footer: Rect
        (footer, rest) = rest.takeBottom(3)
        drawSweepHeader(&c, header, board, title: "btviz sweep watch", g)
        drawRunTable(&c, rest, board, selected: view.selected, g)
        // Footer: what the grid ETA rests on, the selected run in full, the keys.
        let eta = board.eta
        c.text(in: footer, footer.x, footer.y, "grid ETA: " + g.fold(eta.basis), .dim)
        if board.rows.indices.contains(view.selected) {
            let r = board.rows[view.selected]
            // A run at a rung waits for the search, not for the next sweep run.
            let detail = r.rung.map { $0.hasPrefix("stopped") ? "not in its rung's top 1/eta (successive halving)"
                : $0.hasPrefix("paused") ? "promoted if it ranks in its rung's top 1/eta" : r.state.detail } ?? r.state.detail
            var x = c.text(in: footer, footer.x, footer.y + 1, g.fold(r.name), .bold)
            x = c.text(in: footer, x, footer.y + 1, ": " + (r.rung ?? r.state.word), r.state.style)
            if !detail.isEmpty { c.text(in: footer, x, footer.y + 1, " " + g.dash + " " + g.fold(detail), r.state.style == .bad ? .bad : .dim) }
        }
        if let n = view.notice ?? board.notice { c.text(in: footer, footer.x, footer.y + 1, g.fold(n) + "   ", .warn) }
        let keys = [("q", "quit"), (g.ascii ? "Up/Dn" : "↑↓", "run"), ("Enter", "open in the explorer"),
                    ("m", "side by side"), ("p", "search plot")]
        // The paging keys only where they fit beside the others whole.
        let paging = keys + [("PgUp/PgDn Home/End", "")]
        drawKeys(&c, Rect(x: 0, y: footer.y + 2, w: width, h: 1), keyBarWidth(paging) <= width ? paging : keys, g)
        return c
    }
}

/// `btviz sweep watch │ NAME │ 18 runs │ 47% │ ETA 2m10s ▕████░░░▏` over the count of runs in each state.
func drawSweepHeader(_ c: inout Canvas, _ r: Rect, _ board: SweepBoard, title: String, _ g: Glyphs) {
    let sep = " \(g.vline) "
    let eta = board.eta.seconds.map { Fmt.duration($0) } ?? "--"
    var x = c.text(in: r, r.x, r.y, title, .title)
    for (s, style) in [(g.fold(board.name), Style.bold), ("\(board.rows.count) runs", .normal),
                       ("\(clampedInt(Double(board.progress * 100).rounded(.down), 0, 100))%", .normal), ("ETA " + eta, .accent)] {
        x = c.text(in: r, x, r.y, sep, .dim)
        x = c.text(in: r, x, r.y, s, style)
    }
    // The grid's progress bar (the mean of the runs' shares) in what is left of the row.
    let barW = r.maxX - x - 4
    if barW >= 8 { drawBar(&c, x + 2, r.y, width: barW, fraction: board.progress, done: board.progress >= 1, g) }
    guard r.h > 1 else { return }
    x = r.x
    // A search's runs paused or stopped at a rung are interrupted runs: say how many, beside that count.
    let atRungs: [String] = board.rows.compactMap { row in row.rung.map { String($0.prefix { $0 != " " }) } }
    let rungNote = ["paused", "stopped"].compactMap { w -> String? in
        let n = atRungs.filter { $0 == w }.count
        return n > 0 ? "\(n) \(w) at a rung" : nil
    }.joined(separator: ", ")
    for (i, (phase, n)) in board.counts.enumerated() {
        if i > 0 { x = c.text(in: r, x, r.y + 1, " \(g.dot) ", .dim) }
        x = c.text(in: r, x, r.y + 1, "\(n) \(phase.word)", phase.style)
        if case .interrupted = phase, !rungNote.isEmpty { x = c.text(in: r, x, r.y + 1, " (\(rungNote))", .dim) }
    }
}

/// `▕████░░░░▏`: `width` cells between the two ends.
func drawBar(_ c: inout Canvas, _ x: Int, _ y: Int, width: Int, fraction: Float, done: Bool, dim: Bool = false, _ g: Glyphs) {
    c.put(x, y, g.ascii ? "[" : "▕", .dim)
    let fillN = clampedInt(Double((min(1, max(0, fraction)) * Float(width)).rounded(.down)), 0, width)
    for i in 0..<max(0, width) {
        let full = i < fillN
        c.put(x + 1 + i, y, full ? g.progressFull : g.progressEmpty, full ? (done ? .good : dim ? .dim : .series1) : .dim)
    }
    c.put(x + 1 + width, y, g.ascii ? "]" : "▏", .dim)
}

/// A key bar: `q quit  ↑↓ run ...`, labels dropped from the end when they do not fit.
func drawKeys(_ c: inout Canvas, _ r: Rect, _ items: [(String, String)], _ g: Glyphs) {
    var shown = items
    var i = shown.count - 1
    while keyBarWidth(shown) > r.w && i > 0 { shown[i].1 = ""; i -= 1 }
    var x = r.x
    for (k, label) in shown {
        if x + k.unicodeScalars.count > r.maxX { break }
        x = c.text(in: r, x, r.y, k, .keyCap)
        x = (label.isEmpty ? x : c.text(in: r, x + 1, r.y, label, .normal)) + 2
    }
}

/// The columns a key bar takes with every label shown.
func keyBarWidth(_ items: [(String, String)]) -> Int {
    items.reduce(0) { $0 + $1.0.unicodeScalars.count + ($1.1.isEmpty ? 0 : $1.1.unicodeScalars.count + 1) + 2 }
}

/// The run table: a title row of column names, then one row per run, scrolled to keep the selected row in view.
private func drawRunTable(_ c: inout Canvas, _ r: Rect, _ board: SweepBoard, selected: Int, _ g: Glyphs) {
    guard r.h >= 2 else { return }
    let rows = board.rows
    // Column widths: each varying option as wide as its name or longest value (at most 16), then fixed ones.
    let optionW = board.varying.indices.map { i in
        min(16, max(board.varying[i].count, rows.map { $0.values.indices.contains(i) ? $0.values[i].count : 0 }.max() ?? 0))
    }
    // The test column: the loss under the spec's `metric: test_loss`, else the runs' metric; a percentage to one
    // decimal in 6 columns, anything else to its own decimals in 9.
    let shown = board.shownMetric
    let metricW = shown.unit == .percent ? 6 : 9
    let statusW = 11, etaW = 6, flipW = 6, gutter = 2
    let fixed = gutter + optionW.reduce(0) { $0 + $1 + 1 } + statusW + 1 + 5 + 3 + etaW + 1 + metricW + 1 + flipW + 1
    // What is left goes to the progress bar (2/5) and the two sparklines (3/10 each).
    let spare = max(0, r.w - fixed - 2)
    let barW = max(4, spare * 2 / 5), sparkW = max(0, (spare - barW) / 2)
    let testTitle = "test " + shown.label

    // Title row.
    let y0 = r.y
    var x = r.x + gutter
    for (i, k) in board.varying.enumerated() { x = c.text(in: r, x, y0, g.fold(String(k.prefix(optionW[i]))), .bold); x = r.x + gutter + optionW.prefix(i + 1).reduce(0) { $0 + $1 + 1 } }
    let statusX = x
    let progressX = statusX + statusW + 1
    let etaX = progressX + barW + 3 + 5
    let metricX = etaX + etaW + 1
    let flipX = metricX + metricW + sparkW + 2
    c.text(in: r, statusX, y0, "status", .bold)
    c.text(in: r, progressX, y0, "progress", .bold)
    c.text(in: r, etaX, y0, "ETA", .bold)
    c.text(in: r, metricX, y0, testTitle, .bold)
    c.text(in: r, flipX, y0, "flip share", .bold)

    // Rows, scrolled so the selected one is in view (kept in the middle once the list is longer than the room).
    let room = r.h - 1
    let top = rows.count <= room ? 0 : min(max(0, selected - room / 2), rows.count - room)
    for (line, i) in (top..<min(rows.count, top + room)).enumerated() {
        let row = rows[i], y = r.y + 1 + line
        let sel = i == selected
        if sel { c.text(in: r, r.x, y, g.ascii ? ">" : "▸", .accent) }
        var cx = r.x + gutter
        for (j, w) in optionW.enumerated() {
            let v = row.values.indices.contains(j) ? row.values[j] : ""
            c.text(in: Rect(x: cx, y: y, w: w, h: 1), cx, y, g.fold(v), sel ? .accent : .normal)
            cx += w + 1
        }
        c.text(in: r, statusX, y, row.rung ?? row.state.word, row.rung?.hasPrefix("stopped") == true ? .dim : row.state.style)
        if case .failed(let reason) = row.state {
            // The reason where the figures would be: a failed run has no progress worth a bar.
            c.text(in: r, progressX, y, g.fold(reason), .bad)
            continue
        }
        if case .stale(let reason) = row.state {
            c.text(in: r, progressX, y, g.fold(reason), .warn)
            continue
        }
        let d = row.digest
        let started: Bool = { if case .notStarted = row.state { return false } else { return d.step != nil } }()
        if started || row.state == .done {
            let running = row.state.isLive
            drawBar(&c, progressX, y, width: barW, fraction: row.progress, done: row.state == .done, dim: !running, g)
            c.text(in: r, progressX + barW + 3, y, pctWhole(row.progress), .normal)
            if running { c.text(in: r, etaX, y, d.etaS.map { Fmt.duration($0) } ?? "--", .normal) }
        }
        let figures = board.showsLoss ? d.testLosses : d.testMetrics
        if let last = figures.last {
            let metric = board.showsLoss ? Metric.loss : Metric.printing(d.metricName)
            c.text(in: r, metricX, y, metric.format(last, decimals: metric.unit == .percent ? 1 : nil), .normal)
            if sparkW >= 3 { c.text(in: r, metricX + metricW + 1, y, g.sparkline(figures, width: sparkW), .series1) }
        }
        if let share = d.flipShare {
            c.text(in: r, flipX, y, Fmt.pct(share), .markerZero)
            if sparkW >= 3 { c.text(in: r, flipX + flipW + 1, y, g.sparkline(d.flipShares, width: sparkW), .series2) }
        } else if started, d.step != nil {
            c.text(in: r, flipX, y, g.dash, .dim)   // full precision (nothing to flip), or no step trained yet
        }
    }
    if rows.isEmpty { c.text(in: r, r.x + gutter, r.y + 1, "the sweep has no runs", .dim) }
}

/// 0...1 as a whole percentage, right-aligned in 4: ` 37%`, `100%`.
private func pctWhole(_ v: Float) -> String {
    let s = "\(clampedInt(Double(v * 100).rounded(.down), 0, 100))%"
    return String(repeating: " ", count: max(0, 4 - s.count)) + s
}
