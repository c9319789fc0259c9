import Records

/// One row per quantized layer: shape, scales, thresholds and the flip/error/distance metrics,
/// each with a sparkline of its recent history (the last logged steps up to the time shown); then, where
/// there is room, the full-precision layers, marked as such.
/// In an A/B view, `compared` holds B's layers at the same step: the table is A's (and says so), with B's flip
/// share beside A's.
func drawLayerTable(_ c: inout Canvas, _ r: Rect, model: RunModel, stepIndex: Int?, selected: Int,
                    compared: [LayerRecord]? = nil, _ g: Glyphs) {
    guard r.h >= 2 else { return }
    let title = compared == nil ? "layers" : "layers of A"
    guard let si = stepIndex, si < model.steps.count else {
        drawTitle(&c, r, [(title, .title)], g)
        return
    }
    let layers = model.steps[si].layers
    // The fit's headline scales in its order (BT's a1/a2/a_opt, TTQ's Wp/Wn, LQ-Nets' channel-mean basis), as the
    // records describe them.
    let described = layers.first?.fitDescription(method: model.steps[si].method) ?? .unnamed
    // Each figure is formatted as a column, with one number of decimals across the layers (see Fmt.column).
    let scaleColumns = described.scales.map { key in Fmt.column(layers.map { $0.scales[key] ?? 0 }, described.scales.count > 1 ? 2 : 3) }
    let deltaColumn = Fmt.column(layers.map { l in described.threshold.flatMap { l.thresholds[$0] } ?? 0 })
    let errorColumn = Fmt.column(layers.map(\.quantError)), distanceColumn = Fmt.column(layers.map(\.meanTransitionDistance))
    func index(_ l: LayerRecord) -> Int { layers.firstIndex { $0.name == l.name } ?? 0 }
    func scaleText(_ l: LayerRecord) -> String {
        let present = described.scales.indices.filter { l.scales[described.scales[$0]] != nil }
        return present.isEmpty ? "full" : present.map { scaleColumns[$0][index(l)] }.joined(separator: "/")
    }
    func deltaText(_ l: LayerRecord) -> String {
        described.threshold.flatMap({ l.thresholds[$0] }) != nil ? deltaColumn[index(l)] : g.dash
    }
    func firstScale(_ l: LayerRecord) -> Float { described.scales.first.flatMap { l.scales[$0] } ?? 0 }
    let scaleTitle = described.scaleTitle

    let fullPrecision = model.header.fullPrecisionLayers ?? []
    let nameW = max(5, (layers.map(\.name) + fullPrecision.map(\.name)).map(\.count).max() ?? 5) + 2
    let shapeW = max(5, (layers.map(\.shape) + fullPrecision.map(\.shape)).map { Fmt.shape($0).count }.max() ?? 5)
    let scaleW = max(max(6, scaleTitle.count), layers.map { scaleText($0).count }.max() ?? 6)
    let numW = 7
    // Metrics that get a sparkline: scale, flip~, moved, qerr, dist.
    let fixed = nameW + shapeW + 1 + scaleW + 1 + numW * (compared == nil ? 5 : 6) + 6
    let sparkW = min(16, max(0, (r.w - fixed) / 5 - 1))
    let sw = sparkW >= 3 ? sparkW : 0

    // The run's flip share at this step (FlipShare: weighted by weights, as the board and compare print it) beside
    // the per-layer flip~ column.
    let share = FlipShare.of(model.steps[si]).map { [("flip share " + Fmt.pct($0), Style.markerZero)] } ?? []
    drawTitle(&c, r, [(title, .title)] + share + [
                      ("flip~: share flipped by the noise  moved: level changed since last log" + (sw > 0 ? "  sparks: last \(sw) logs, " + (g.ascii ? "|" : "┊") + " a method switch" : ""), .dim)], g)
    guard r.h >= 3 else { return }

    struct Col { var title: String; var width: Int; var spark: Bool }
    let cols: [Col] = [
        Col(title: "layer", width: nameW, spark: false),
        Col(title: "shape", width: shapeW + 1, spark: false),
        Col(title: scaleTitle, width: scaleW + 1, spark: true),
        Col(title: g.fold("Δ"), width: numW, spark: false),
        Col(title: compared == nil ? "flip~" : "A flip~", width: numW, spark: true),
        Col(title: "moved", width: numW, spark: true),
        Col(title: "qerr", width: numW, spark: true),
        Col(title: "dist", width: numW, spark: true),
    ] + (compared == nil ? [] : [Col(title: "B flip~", width: numW, spark: false)])
    var x = r.x
    for col in cols {
        c.text(in: r, x, r.y + 1, col.title, .dim)
        x += col.width + (col.spark && sw > 0 ? sw + 1 : 0)
    }

    let rowsAvail = r.h - 2
    let quantizedRows = min(rowsAvail, layers.count)
    for (row, l) in fullPrecision.enumerated() where quantizedRows + row < rowsAvail {
        let y = r.y + 2 + quantizedRows + row
        c.text(in: r, r.x, y, " " + l.name, .dim)
        c.text(in: r, r.x + cols[0].width, y, Fmt.shape(l.shape), .dim)
        c.text(in: r, r.x + cols[0].width + cols[1].width, y, "full precision (not quantized)", .dim)
    }
    let first = selected >= rowsAvail ? selected - rowsAvail + 1 : 0
    for (row, li) in (first..<layers.count).enumerated() where row < rowsAvail {
        let l = layers[li]
        let y = r.y + 2 + row
        let sel = li == selected
        if sel { c.fill(Rect(x: r.x, y: y, w: r.w, h: 1), " ", .accent) }
        let base: Style = sel ? .accent : .normal
        var x = r.x
        c.text(in: r, x, y, (sel ? (g.ascii ? ">" : "▸") : " ") + l.name, sel ? .accent : .bold)
        x += cols[0].width
        c.text(in: r, x, y, Fmt.shape(l.shape), sel ? .accent : .dim); x += cols[1].width
        // At a method switch `moved` compares two level sets, not the weights: it says so instead of a share.
        let switched = model.isSwitchStep(si)
        // The last field: a metric measured against the previous step, whose first value under a new method is
        // the switch itself (left out of its sparkline).
        let metrics: [(String, ((LayerRecord) -> Float)?, Style, Bool)] = [
            (scaleText(l), firstScale, base, false),
            (deltaText(l), nil, base, false),
            (Fmt.pct(l.flipFraction), { $0.flipFraction }, sel ? .accent : .markerZero, false),
            (switched ? "switch" : Fmt.pct(l.flipRatio), { $0.flipRatio }, switched ? .dim : base, true),
            (errorColumn[li], { $0.quantError }, base, false),
            (distanceColumn[li], { $0.meanTransitionDistance }, base, false),
        ] + (compared.map { b in [(b.indices.contains(li) ? Fmt.pct(b[li].flipFraction) : g.dash, nil, sel ? .accent : .markerZero, false)] } ?? [])
        for (i, m) in metrics.enumerated() {
            let col = cols[i + 2]
            c.text(in: r, x, y, m.0, m.2)
            x += col.width
            if col.spark && sw > 0, let f = m.1 {
                // A method switch inside the window shows as a break: the values before it are another quantizer's.
                let h = model.history(layer: li, endingAt: si, count: sw, markingSwitches: true, droppingSwitchSteps: m.3, f)
                c.text(in: r, x, y, g.sparkline(h, width: sw), sel ? .accent : .series1)
                x += sw + 1
            }
        }
    }
}
