import Foundation
import Quantizers
import Records

extension SweepRenderer {
    /// Side by side: one layer's latent-weight histogram with its transitions, for every run of the selected run's
    /// group (the runs that differ only in the compared option: conv4 under BWN, TWN and BT), all at one step and on
    /// one axis, so the same weight sits in the same column in every panel.
    /// `models`: the group's runs by name (a run not started has none).
    public static func renderMultiples(_ board: SweepBoard, view: SweepViewState, models: [String: RunModel],
                                       width: Int, height: Int, options: ExplorerOptions) -> Canvas {
        var c = Canvas(width: width, height: height)
        let g = Glyphs(ascii: options.ascii)
        guard width >= ExplorerLayout.minWidth, height >= ExplorerLayout.minHeight else {
            drawTooSmall(&c)
            return c
        }
        let group = view.group(in: board)
        let key = view.comparedKey(in: board) ?? ""
        let keyIndex = board.varying.firstIndex(of: key)
        let runs = group.map { board.rows[$0] }
        let loaded = runs.compactMap { models[$0.name] }.filter { !$0.steps.isEmpty }
        let layerNames = loaded.first?.layerNames ?? []
        let layer = layerNames.isEmpty ? 0 : min(max(0, view.layer), layerNames.count - 1)
        let step = view.step ?? loaded.compactMap { $0.steps.last?.step }.min()

        // Header: what is compared and what is held fixed, then the layer and the step.
        let all = Rect(x: 0, y: 0, w: width, h: height)
        var (header, area) = all.takeTop(2)
        let keys: Rect
        (keys, area) = area.takeBottom(1)
        let fixed = board.rows.indices.contains(view.selected)
            ? zip(board.varying, board.rows[view.selected].values).filter { $0.0 != key }.map { "\($0.0)=\($0.1)" } : []
        let sep = " \(g.vline) "
        var x = c.text(in: header, 0, 0, "btviz sweep watch", .title)
        x = c.text(in: header, x, 0, sep + g.fold(board.name) + sep, .dim)
        x = c.text(in: header, x, 0, "side by side: " + key, .accent)
        if !fixed.isEmpty { c.text(in: header, x, 0, " at " + g.fold(fixed.joined(separator: ", ")), .normal) }
        let layerText = layerNames.isEmpty ? "no step records yet" : layerNames[layer] + " [\(layer + 1)/\(layerNames.count)]"
        x = c.text(in: header, 0, 1, layerText, .bold)
        if let s = step {
            let total = loaded.compactMap { $0.steps.last?.totalSteps }.max() ?? 0
            x = c.text(in: header, x, 1, "  step \(s)" + (total > 0 ? "/\(total)" : ""), .bold)
            c.text(in: header, x, 1, view.step == nil ? "  (the newest step all of them have reached; following)" : "  (each run at its last record at or before it)", .dim)
        }

        // Panels at least 26 wide, in as few rows as that allows, balanced (4 runs: 2 x 2, not 3 + 1).
        let n = max(1, runs.count)
        var cols = max(1, min(n, area.w / 26))
        while cols < n && (n + cols - 1) / cols * 7 > area.h { cols += 1 }
        let rowsN = (n + cols - 1) / cols
        cols = (n + rowsN - 1) / rowsN
        let cw = area.w / cols, ch = area.h / rowsN
        // One axis for all: the widest this layer has been in any of the runs.
        let range = loaded.compactMap { $0.weightRange.indices.contains(layer) ? $0.weightRange[layer] : nil }.max()
        for (i, run) in runs.enumerated() {
            let cell = Rect(x: area.x + (i % cols) * cw, y: area.y + (i / cols) * ch, w: cw - 1, h: ch)
            // The compared option's value alone: the header names the option, and a narrow panel needs the room.
            let label = keyIndex.flatMap { run.values.indices.contains($0) ? run.values[$0] : nil } ?? run.name
            let selected = group[i] == view.selected
            guard let model = models[run.name], let s = step, let si = model.stepIndex(atOrBefore: s),
                  model.steps[si].layers.indices.contains(layer) else {
                drawTitle(&c, cell, [(g.fold(label), selected ? .accent : .title)], g)
                let why: String
                if case .failed(let reason) = run.state { why = "failed: " + reason } else { why = run.state.word + ", no step record yet" }
                c.text(in: cell, cell.x + 1, cell.y + 2, g.fold(why), run.state.style)
                continue
            }
            let rec = model.steps[si]
            let l = rec.layers[layer]
            let method = QuantMethod(recorded: rec.method)
            drawWeightHistogram(&c, cell, WeightHistogramView(layer: l, index: layer, count: rec.layers.count, method: method,
                                                              range: range.map { max($0, 1e-12) }), markersOverBars: options.noColor, g)
            // The panel's title names the run and the step it shows in place of the histogram's own long one.
            c.fill(Rect(x: cell.x, y: cell.y, w: cell.w, h: 1), " ")
            drawTitle(&c, cell, [(g.fold(label), selected ? .accent : .title), ("step \(rec.step)", .normal),
                                 ("flip~ " + Fmt.pct(l.flipFraction), .markerZero)], g)
        }
        drawKeys(&c, keys, [("q", "quit"), ("m/Esc", "board"), (g.left + g.right, "step"), ("Home/End", ""),
                            (g.ascii ? "Up/Dn" : "↑↓", "layer"), ("c", "compare another option")], g)
        return c
    }
}
