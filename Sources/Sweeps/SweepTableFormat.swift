import BTCore
import Foundation

/// A SweepTable printed as Markdown, LaTeX, CSV or JSON.
public enum SweepTableFormat: String, CaseIterable, Sendable {
    case md, latex, csv, json

    public func render(_ t: SweepTable) throws -> String {
        switch self {
        case .md: return markdown(t)
        case .latex: return latex(t)
        case .csv: return csv(t)
        case .json: return try json(t)
        }
    }

    static func number(_ v: Double, decimals: Int = 2) -> String { String(format: "%.\(decimals)f", v) }

    static func figure(_ c: SweepTable.Cell, spread: SpreadRule, decimals: Int = 2) -> String {
        var parts: [String] = []
        if let s = c.stats {
            parts.append(figure(s, spread: spread, decimals: decimals))
        }
        if !c.left.isEmpty {
            let counts = Dictionary(grouping: c.left, by: \.state).map { "\($0.value.count) \($0.key)" }.sorted()
            parts.append((c.stats == nil ? "" : "+ ") + counts.joined(separator: ", "))
        }
        return parts.isEmpty ? "–" : parts.joined(separator: " ")
    }

    static func label(_ keys: [String], _ values: [String]) -> String {
        keys.count == 1 ? values[0] : zip(keys, values).map { "\($0)=\($1)" }.joined(separator: ", ")
    }

    static func signed(_ v: Double) -> String { (v >= 0 ? "+" : "−") + number(abs(v)) }

    /// The header and body cells, with a paper and a Δ column after each column when --paper is given.
    static func grid(_ t: SweepTable, bold: (String) -> String) -> (header: [String], body: [[String]]) {
        var header = t.rowKeys.isEmpty ? [""] : t.rowKeys
        for c in t.columns {
            let l = label(t.columnKeys, c)
            header.append(l.isEmpty ? "all" : l)
            if t.paper != nil { header += ["paper", "Δ"] }
        }
        var body: [[String]] = []
        let datasetIndex = t.rowKeys.firstIndex(of: "dataset")
        for r in t.rows {
            var line = t.rowKeys.isEmpty ? ["all"] : r
            // The dataset as the row's runs read it, not the bare option.
            if let i = datasetIndex, let label = t.dataLabels[r] { line[i] = label }
            for c in t.columns {
                guard let cell = t.cell(r, c) else { continue }
                // † : trained differently from the paper's setup (the caption says how).
                let f = figure(cell, spread: t.spread, decimals: t.decimals) + (cell.differences.isEmpty ? "" : " " + paperMark)
                line.append(cell.best ? bold(f) : f)
                if t.paper != nil { line += [cell.paper.map { number($0) } ?? "–", cell.delta.map(signed) ?? "–"] }
            }
            body.append(line)
        }
        return (header, body)
    }

    /// The mark of a cell whose runs were trained differently from the paper's setup.
    static let paperMark = "†"

    static func notes(_ t: SweepTable) -> [String] {
        let what = "test " + (t.figureMetric?.titleWithUnit ?? "")  // "test accuracy (%)", "test PSNR (dB)", "test loss"
        // A loss is better lower.
        let (most, more) = t.figureMetric?.direction == .lowerIsBetter ? ("lowest", "lower") : ("highest", "higher")
        let bold: String
        switch t.boldRule {
        case .none: bold = "no cell is bold"
        case .best: bold = "bold: the \(most) mean among the quantized methods of cells that differ only by method, whatever the spread"
        case .significant: bold = "bold: the quantized method whose mean is \(more) than every other quantized method's among cells that differ only by method by Welch's t-test, p < \(BoldRule.alpha) two-sided (none where a cell has n < 2 or there is one candidate)"
        }
        var notes = ["Each cell: mean ± \(t.spread.caption) of the \(what) \(figureCaption(t)), over the seeds of its finished runs (n); \(bold)."]
        if t.figure == .flipShare {
            notes = ["Each cell: mean ± \(t.spread.caption) of the runs' flip share (%): the share of a run's quantized weights the regularizer's noise would flip at its last step record, each layer weighted by its weight count (as sweep watch, compare and TensorBoard's train/flip_share), over the seeds of its finished runs (n); full precision has none; \(bold)."]
        } else {
            if let n = t.figureNote { notes.append(n) }
            let differ = t.cells.filter(\.figuresDiffer)
            if !differ.isEmpty {
                notes.append("Stored and re-estimated batch-norm statistics disagree by more than the cell's \(t.spread.symbol) in "
                    + differ.map { c in
                        "\(cellName(t, c)): stored \(figure(c.stored!, spread: t.spread, decimals: t.decimals)), re-estimated \(figure(c.recalibrated!, spread: t.spread, decimals: t.decimals))"
                    }.joined(separator: "; ") + ".")
            } else if t.cells.contains(where: { $0.stored != nil && $0.recalibrated?.n == $0.stored?.n }) {
                notes.append("Stored and re-estimated batch-norm statistics agree within every cell's \(t.spread.symbol).")
            }
        }
        if let m = t.sweepMetric { notes.append("The sweep's metric (spec.yaml's metric:): \(m.name), \(m.goal.rawValue).") }
        if let p = t.paper {
            notes.append("paper: Ozkan & Akar, \(p.title); Δ = this sweep − paper. The published runs used the full datasets and the paper's training; this sweep's options are in spec.yaml.")
            notes += t.paperCaption
        }
        if let d = t.dataNote { notes.append("data as read: " + d) }
        let left = t.cells.flatMap(\.left)
        if !left.isEmpty {
            notes.append("Not counted: " + left.map { "\($0.name) (\($0.state)\($0.reason.map { ": " + $0 } ?? ""))" }.joined(separator: "; "))
        }
        return notes.map(TerminalText.escape)
    }

    /// What the figure is, for the caption's first line.
    static func figureCaption(_ t: SweepTable) -> String {
        switch t.statistics {
        case .stored:
            return "with the batch-norm statistics each checkpoint stored, as logged at each run's last epoch"
        case .recalibrated:
            let images = t.calibrationImages.map { "\($0)" }.joined(separator: " or ")
            return "with batch-norm statistics re-estimated under each run's method on \(images.isEmpty ? "" : images + " ")training images (btviz sweep eval, RUN/eval.json)"
        }
    }

    /// "mean ± spread (n=3)" of one figure.
    static func figure(_ s: MeanSD, spread: SpreadRule, decimals: Int = 2) -> String {
        number(s.mean, decimals: decimals) + (spread.value(s).map { " ± " + number($0, decimals: decimals) } ?? "") + " (n=\(s.n))"
    }

    /// A cell as a note names it: "dataset=fashion, k=16 / bt".
    static func cellName(_ t: SweepTable, _ c: SweepTable.Cell) -> String {
        [label(t.rowKeys, c.row), label(t.columnKeys, c.column)].filter { !$0.isEmpty }.joined(separator: " / ")
    }

    func markdown(_ t: SweepTable) -> String {
        let (header, body) = Self.grid(t) { "**\($0)**" }
        func line(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        var out = [line(header), line(header.map { _ in "---" })] + body.map(line)
        out.append("")
        out += Self.notes(t)
        return out.map(TerminalText.escape).joined(separator: "\n")
    }

    func latex(_ t: SweepTable) -> String {
        func esc(_ s: String) -> String {
            var o = ""
            for ch in s {
                switch ch {
                case "\\": o += "\\textbackslash{}"
                case "&", "%", "$", "#", "_", "{", "}": o += "\\" + String(ch)
                case "~": o += "\\textasciitilde{}"
                case "^": o += "\\textasciicircum{}"
                // A control character from a file (an escape sequence) is neither LaTeX nor safe on a terminal.
                case _ where ch.unicodeScalars.contains(where: TerminalText.isControl):
                    o += ch.unicodeScalars.map { TerminalText.isControl($0) ? "\\textbackslash{}x" + String(format: "%02X", $0.value) : String($0) }.joined()
                case "±": o += "$\\pm$"
                case "Δ": o += "$\\Delta$"
                case "−": o += "$-$"
                case "–": o += "--"
                case "†": o += "$^\\dagger$"
                default: o.append(ch)
                }
            }
            return o
        }
        let (header, body) = Self.grid(t) { "\u{1}" + $0 }
        func cell(_ s: String) -> String { s.hasPrefix("\u{1}") ? "\\textbf{" + esc(String(s.dropFirst())) + "}" : esc(s) }
        var out = ["\\begin{tabular}{" + String(repeating: "l", count: max(1, t.rowKeys.count)) + String(repeating: "r", count: header.count - max(1, t.rowKeys.count)) + "}",
                   "\\toprule", header.map(cell).joined(separator: " & ") + " \\\\", "\\midrule"]
        out += body.map { $0.map(cell).joined(separator: " & ") + " \\\\" }
        out += ["\\bottomrule", "\\end{tabular}"]
        out += Self.notes(t).map { "% " + $0 }
        return out.joined(separator: "\n")
    }

    static let csvColumns = ["row", "column", "mean", "sd", "n", "best", "paper", "delta", "not_counted", "stored_mean", "stored_sd",
                             "stored_n", "recalibrated_mean", "recalibrated_sd", "recalibrated_n", "figures_differ"]

    func csv(_ t: SweepTable) -> String {
        func q(_ s: String) -> String {
            let e = TerminalText.escape(s)
            return e.contains(where: { ",\"\n".contains($0) }) ? "\"" + e.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : e
        }
        let keys = t.rowKeys + t.columnKeys
        let differs = t.paper != nil
        var out = [(keys + Array(Self.csvColumns.dropFirst(2)) + (differs ? ["differs_from_paper"] : [])).map(q).joined(separator: ",")]
        for c in t.cells {
            let fields = c.row + c.column + [c.stats.map { "\($0.mean)" } ?? "", c.stats?.sd.map { "\($0)" } ?? "",
                                             "\(c.stats?.n ?? 0)", c.best ? "true" : "false", c.paper.map { "\($0)" } ?? "",
                                             c.delta.map { "\($0)" } ?? "",
                                             c.left.map { "\($0.name): \($0.state)\($0.reason.map { " (" + $0 + ")" } ?? "")" }.joined(separator: "; ")]
                + [c.stored, c.recalibrated].flatMap { s in [s.map { "\($0.mean)" } ?? "", s?.sd.map { "\($0)" } ?? "", s.map { "\($0.n)" } ?? ""] }
                + [c.figuresDiffer ? "true" : "false"]
                + (differs ? [c.differences.map(\.text).joined(separator: "; ")] : [])
            out.append(fields.map(q).joined(separator: ","))
        }
        return out.joined(separator: "\n")
    }

    /// {mean, sd, spread, n} of one figure, or null.
    static func object(_ s: MeanSD?, _ spread: SpreadRule) -> Any {
        s.map { ["mean": $0.mean, "sd": $0.sd ?? NSNull(), "spread": spread.value($0) ?? NSNull(), "n": $0.n] as [String: Any] } ?? NSNull()
    }

    func json(_ t: SweepTable) throws -> String {
        let cells: [[String: Any]] = t.cells.map { c in
            ["row": Dictionary(uniqueKeysWithValues: zip(t.rowKeys, c.row)),
             "column": Dictionary(uniqueKeysWithValues: zip(t.columnKeys, c.column)),
             "mean": c.stats?.mean ?? NSNull(), "sd": c.stats?.sd ?? NSNull(), "n": c.stats?.n ?? 0, "best": c.best,
             "spread": c.stats.flatMap(t.spread.value) ?? NSNull(),
             "paper": c.paper ?? NSNull(), "delta": c.delta ?? NSNull(),
             "differs_from_paper": c.differences.map { ["setting": $0.setting, "ours": $0.ours, "paper": $0.paper, "method": $0.method] },
             "not_counted": c.left.map { ["run": $0.name, "state": $0.state, "reason": $0.reason ?? NSNull()] as [String: Any] },
             "stored": Self.object(c.stored, t.spread), "recalibrated": Self.object(c.recalibrated, t.spread),
             "figures_differ": c.figuresDiffer]
        }
        let out: [String: Any] = ["metric": t.metric.name, "unit": t.figureMetric?.symbol ?? "%", "figure": t.figure.rawValue,
                                  "rows": t.rowKeys, "columns": t.columnKeys, "paper": t.paper?.id ?? NSNull(), "cells": cells,
                                  "spread": t.spread.rawValue, "bold": t.boldRule.rawValue, "alpha": BoldRule.alpha,
                                  "statistics": t.statistics.rawValue, "calibration_images": t.calibrationImages, "caption": Self.notes(t),
                                  "data": t.dataNote.map { [$0] } ?? t.rows.compactMap { t.dataLabels[$0] }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }, "paper_caption": t.paperCaption]
        return try JSONOutput.string(object: out, .pretty)
    }
}
