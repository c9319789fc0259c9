import Records

/// What the layer table draws: the layers at the step shown, how their fit names its figures, the run's
/// full-precision layers, and the recent steps its sparklines follow.
struct LayerTableView {
    /// "layers", or "layers of A" beside a second run.
    var title: String
    /// The quantized layers at the step shown; nil before the first step record.
    var layers: [LayerRecord]?
    var described: FitDescription
    var fullPrecision: [RunHeader.LayerShape]
    var selected: Int
    /// The run's flip share at this step (FlipShare: weighted by weights, as the board and compare print it).
    var flipShare: Float?
    /// The step shown is the first under a new method: `moved` compares two level sets there, not the weights.
    var atSwitch: Bool
    /// B's flip~ per layer at the same step (replay A B): the table is A's, with B's share beside A's.
    var comparedFlips: [Float]?
    /// The steps up to the one shown (the last), enough for the widest sparkline.
    var recent: ArraySlice<StepRecord>

    /// Steps a sparkline shows at most.
    static let sparkMax = 16
}

/// Which quantized layers the table lists: a page at a time, the page that holds the selected layer, so a layer
/// key moves through the rows and `{` `}` turn the page; the full-precision layers follow the last page where room
/// is left.
enum LayerTablePage {
    static func first(selected: Int, rows: Int) -> Int { rows > 0 ? max(0, selected) / rows * rows : 0 }
}

/// One row per quantized layer: shape, scales, thresholds and the flip/error/distance metrics, each with a
/// sparkline of its recent history (the last logged steps up to the time shown); then, where there is room, the
/// full-precision layers, marked as such. When the layers need more rows than the table has, its title says which
/// are shown.
func drawLayerTable(_ c: inout Canvas, _ r: Rect, _ v: LayerTableView, _ g: Glyphs) {
    guard r.h >= 2 else { return }
    guard let layers = v.layers else {
        drawTitle(&c, r, [(v.title, .title)], g)
        return
    }
    let rowsAvail = r.h - 2
    let first = LayerTablePage.first(selected: v.selected, rows: rowsAvail)
    let t = LayerTableText(v, layers: layers, width: r.w, g)
    let shown = layers.count > rowsAvail && rowsAvail > 0
        ? " \(first + 1)-\(min(layers.count, first + rowsAvail)) of \(layers.count)" : ""
    let share = v.flipShare.map { [("flip share " + Fmt.pct($0), Style.markerZero)] } ?? []
    drawTitle(&c, r, [(v.title + shown, .title)] + share + [
                      ("flip~: share flipped by the noise  moved: level changed since last log" + (t.sparkW > 0 ? "  sparks: last \(t.sparkW) logs, " + (g.ascii ? "|" : "┊") + " a method switch" : ""), .dim)], g)
    guard r.h >= 3 else { return }
    var x = r.x
    for col in t.columns {
        c.text(in: r, x, r.y + 1, col.title, .dim)
        x += col.width + (col.spark && t.sparkW > 0 ? t.sparkW + 1 : 0)
    }
    let pageRows = min(rowsAvail, layers.count - first)
    for (row, li) in (first..<layers.count).enumerated() where row < rowsAvail {
        drawLayerRow(&c, r, y: r.y + 2 + row, li, v, t, g)
    }
    for (row, l) in v.fullPrecision.enumerated() where pageRows + row < rowsAvail {
        let y = r.y + 2 + pageRows + row
        c.text(in: r, r.x, y, " " + l.name, .dim)
        c.text(in: r, r.x + t.columns[0].width, y, Fmt.shape(l.shape), .dim)
        c.text(in: r, r.x + t.columns[0].width + t.columns[1].width, y, "full precision (not quantized)", .dim)
    }
}

/// The table's columns and the texts of its figures: each figure formatted as a column, with one number of
/// decimals across the layers (see Fmt.column); the layers' names whole, or abbreviated when the row would not fit.
private struct LayerTableText {
    struct Column { var title: String; var width: Int; var spark: Bool }
    var columns: [Column] = []
    var names: [String] = []
    var scales: [String] = [], deltas: [String] = [], errors: [String] = [], distances: [String] = []
    /// Each sparkline's width (0: none).
    var sparkW = 0

    init(_ v: LayerTableView, layers: [LayerRecord], width: Int, _ g: Glyphs) {
        let d = v.described
        // The fit's headline scales in its order (BT's a1/a2/a_opt, TTQ's Wp/Wn, LQ-Nets' channel-mean basis).
        let scaleColumns = d.scales.map { key in Fmt.column(layers.map { $0.scales[key] ?? 0 }, d.scales.count > 1 ? 2 : 3) }
        let deltaColumn = Fmt.column(layers.map { l in d.threshold.flatMap { l.thresholds[$0] } ?? 0 })
        errors = Fmt.column(layers.map(\.quantError)); distances = Fmt.column(layers.map(\.meanTransitionDistance))
        scales = layers.indices.map { i in
            let present = d.scales.indices.filter { layers[i].scales[d.scales[$0]] != nil }
            return present.isEmpty ? "full" : present.map { scaleColumns[$0][i] }.joined(separator: "/")
        }
        deltas = layers.indices.map { i in d.threshold.flatMap({ layers[i].thresholds[$0] }) != nil ? deltaColumn[i] : g.dash }

        let shapeW = max(5, (layers.map(\.shape) + v.fullPrecision.map(\.shape)).map { Fmt.shape($0).count }.max() ?? 5)
        let scaleW = max(max(6, d.scaleTitle.count), scales.map(\.count).max() ?? 6)
        let numW = 7
        func nameWidth(_ names: [String]) -> Int { max(5, (names + v.fullPrecision.map(\.name)).map(\.count).max() ?? 5) + 2 }
        // Metrics that get a sparkline: scale, flip~, moved, qerr, dist.
        func fixed(_ nameW: Int) -> Int { nameW + shapeW + 1 + scaleW + 1 + numW * (v.comparedFlips == nil ? 5 : 6) + 6 }
        names = layers.map(\.name)
        if fixed(nameWidth(names)) > width { names = LayerNames.abbreviatedIfDistinct(names) }
        let nameW = nameWidth(names)
        let s = min(LayerTableView.sparkMax, max(0, (width - fixed(nameW)) / 5 - 1))
        sparkW = s >= 3 ? s : 0
        columns = [
            Column(title: "layer", width: nameW, spark: false),
            Column(title: "shape", width: shapeW + 1, spark: false),
            Column(title: d.scaleTitle, width: scaleW + 1, spark: true),
            Column(title: g.fold("Δ"), width: numW, spark: false),
            Column(title: v.comparedFlips == nil ? "flip~" : "A flip~", width: numW, spark: true),
            Column(title: "moved", width: numW, spark: true),
            Column(title: "qerr", width: numW, spark: true),
            Column(title: "dist", width: numW, spark: true),
        ] + (v.comparedFlips == nil ? [] : [Column(title: "B flip~", width: numW, spark: false)])
    }
}

/// Layer `li`'s row: its figures, each sparkline after its figure.
private func drawLayerRow(_ c: inout Canvas, _ r: Rect, y: Int, _ li: Int, _ v: LayerTableView, _ t: LayerTableText,
                          _ g: Glyphs) {
    let l = v.layers![li]
    let sel = li == v.selected
    if sel { c.fill(Rect(x: r.x, y: y, w: r.w, h: 1), " ", .accent) }
    let base: Style = sel ? .accent : .normal
    var x = r.x
    c.text(in: r, x, y, (sel ? (g.ascii ? ">" : "▸") : " ") + t.names[li], sel ? .accent : .bold)
    x += t.columns[0].width
    c.text(in: r, x, y, Fmt.shape(l.shape), sel ? .accent : .dim); x += t.columns[1].width
    let firstScale: (LayerRecord) -> Float = { l in v.described.scales.first.flatMap { l.scales[$0] } ?? 0 }
    // At a method switch `moved` compares two level sets, not the weights: it says so instead of a share. The last
    // field: a metric measured against the previous step, whose first value under a new method is the switch
    // itself (left out of its sparkline).
    let metrics: [(String, ((LayerRecord) -> Float)?, Style, Bool)] = [
        (t.scales[li], firstScale, base, false),
        (t.deltas[li], nil, base, false),
        (Fmt.pct(l.flipFraction), { $0.flipFraction }, sel ? .accent : .markerZero, false),
        (v.atSwitch ? "switch" : Fmt.pct(l.flipRatio), { $0.flipRatio }, v.atSwitch ? .dim : base, true),
        (t.errors[li], { $0.quantError }, base, false),
        (t.distances[li], { $0.meanTransitionDistance }, base, false),
    ] + (v.comparedFlips.map { b in [(b.indices.contains(li) ? Fmt.pct(b[li]) : g.dash, nil, sel ? .accent : .markerZero, false)] } ?? [])
    for (i, m) in metrics.enumerated() {
        let col = t.columns[i + 2]
        c.text(in: r, x, y, m.0, m.2)
        x += col.width
        if col.spark && t.sparkW > 0, let f = m.1 {
            // A method switch inside the window shows as a break: the values before it are another quantizer's.
            let h = v.recent.layerHistory(layer: li, endingAt: v.recent.endIndex - 1, count: t.sparkW, markingSwitches: true,
                                          droppingSwitchSteps: m.3, f)
            c.text(in: r, x, y, g.sparkline(h, width: t.sparkW), sel ? .accent : .series1)
            x += t.sparkW + 1
        }
    }
}
