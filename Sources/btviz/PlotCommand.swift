import Records
import ArgumentParser
import BTCore
import Foundation
import Training

/// Figures for a paper from a run's metrics.jsonl: one layer's latent-weight histogram with its quantizer, or the
/// training curves; SVG, or the same data as CSV.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a figure of a run as SVG (or its data as CSV): a layer's latent-weight histogram, or the training curves.",
        discussion: """
        --layer L draws that layer's histogram at the last logged step at or before --step (default: the last), \
        with the quantizer's transitions as labelled lines and the levels, with their share of weights, on the \
        axis. --curves draws task loss and λ·R over the steps and the train and test metric over the epochs, with \
        method and λ changes marked.
        """)

    @Argument(help: "Run directory.", completion: .directory) var runDir: String
    @Option(help: "The layer whose latent-weight histogram to draw (conv1, conv2, ...).") var layer: String?
    @Option(parsing: .unconditional, help: "Draw the histogram at the last logged step at or before N (default: the last logged step).")
    var step: Int?
    @Flag(help: "Draw the loss and accuracy curves instead of a histogram.") var curves = false
    @Flag(help: "Write the figure's data as CSV instead of SVG.") var csv = false
    @Option(help: "Write here (atomically, making its folder if missing) instead of to stdout.", completion: .file()) var out: String?

    func run() throws {
        switch (layer, curves) {
        case (nil, false): throw BTError("name a figure: --layer L for a histogram, or --curves")
        case (.some, true): throw BTError("--layer and --curves are two figures; name one")
        default: break
        }
        if curves, step != nil { throw BTError("--step picks the histogram's record; --curves draws the whole run") }

        let folder = RunFolder(runDir)
        let header = try folder.readConfig().header
        let metricsPath = folder.metricsPath
        guard FileManager.default.fileExists(atPath: metricsPath) else { throw BTError("\(runDir) has no metrics.jsonl yet") }
        let (records, skipped) = try folder.readRecords()  // a FIFO in its place is refused, not waited on
        if skipped > 0 { FileHandle.standardError.write(Data("btviz: note: skipped \(skipped) malformed line(s) of \(metricsPath)\n".utf8)) }
        let steps = records.compactMap { if case .step(let s) = $0 { s } else { nil } }
        guard let last = steps.last else { throw BTError("\(runDir) has no step records yet (the first is written after --log-every steps)") }

        let text: String, what: String
        if let name = layer {
            let record = try Self.record(steps, atOrBefore: step, default: last)
            guard let l = record.layers.first(where: { $0.name == name }) else {
                throw BTError("no layer '\(name)' in \(runDir) at step \(record.step); its quantized layers: "
                              + (record.layers.isEmpty ? "none" : record.layers.map(\.name).joined(separator: ", ")))
            }
            guard l.histogram.counts.count >= 1 else { throw BTError("layer \(name) at step \(record.step) has an empty histogram") }
            let figure = HistogramFigure(layer: l, record: record, header: header)
            text = csv ? figure.csv() : figure.svg()
            what = "\(name) at step \(record.step)"
        } else {
            let figure = CurvesFigure(records: records, header: header)
            text = csv ? figure.csv() : figure.svg()
            what = "curves over \(figure.steps.count) steps, \(figure.epochs.count) epochs, \(figure.changes.count) changes"
        }
        if let out {
            try Self.write(text, to: out)
            print("wrote \(out) (\(what))")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Writes the figure whole, making the folders `path` names first (`--out fig/x.svg` with no fig/ yet); a
    /// failed write takes away the folders it made.
    static func write(_ text: String, to path: String) throws {
        let folder = parentPath(path)
        // Only a folder that is missing is made: anything else at its name is AtomicFile's to refuse, in its words.
        var st = stat()
        let missing = !folder.isEmpty && lstat(folder, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)
        let made = missing ? try OutputFolder.create(folder, what: "the --out folder") : []
        do { try AtomicFile.write(text, to: path) } catch {
            for dir in made { rmdir(dir) }
            throw error
        }
    }

    /// The last logged record at or before `n` (a resumed run may log a step twice: the later one is the one the
    /// run went on from), or `fallback` without `n`.
    static func record(_ steps: [StepRecord], atOrBefore n: Int?, default fallback: StepRecord) throws -> StepRecord {
        guard let n else { return fallback }
        guard let best = steps.map(\.step).filter({ $0 <= n }).max(), let r = steps.last(where: { $0.step == best }) else {
            throw BTError("--step \(n) is before the first logged step, \(steps.map(\.step).min() ?? 0)")
        }
        return r
    }
}
