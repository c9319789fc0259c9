import Records
import ArgumentParser
import BTCore
import Datasets
import Foundation
import Quantizers
import Training

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test accuracy of a run's checkpoint under every quantizer, applied to the same latent weights; for a super-resolution or denoising run, PSNR per benchmark set under every quantizer.",
        discussion: """
        Batch-norm running statistics belong to the quantizer they were gathered under, so by default each \
        quantizer gets its own, re-estimated on a fixed draw of training images (--calibration-images) before \
        it is evaluated. The checkpoint's stored statistics are shown beside them.
        """)

    @Argument(help: "Run directory (or --weights FILE instead).", completion: .directory) var runFolder: String?
    @OptionGroup(title: "A weights file instead of a run") var weightsFile: WeightsEvalOptions
    var runDir: String { runFolder ?? "" }
    @Option(help: "Folder with the dataset's files, if it moved since training.", completion: .directory) var dataDir: String?
    @Option(parsing: .unconditional, help: "Training images used to re-estimate the batch-norm statistics for each quantizer.")
    var calibrationImages = 512
    @Flag(help: "Evaluate with the checkpoint's stored batch-norm statistics only.") var noRecalibrate = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "sr/denoise runs: comma-separated sets (default set5,set14,bsd100,urban100 for sr, set5,set14 for denoise).")
    var sets: String?
    @Option(help: "sr/denoise runs: a full-precision run of the same task to show beside.", completion: .directory) var reference: String?
    @Option(help: "sr/denoise runs: comma-separated methods to evaluate (default all six, the trained one first).")
    var methods: String?
    @OptionGroup var threads: ThreadOptions

    struct Row { var method: QuantMethod; var stored: (metric: Float, loss: Float); var recalibrated: (metric: Float, loss: Float)? }

    func run() throws {
        try threads.apply()
        if weightsFile.weights != nil {
            guard runFolder == nil else { throw BTError("give a run directory or --weights FILE, not both") }
            return try weightsFile.evaluate(methods: methods, dataDir: dataDir)
        }
        guard runFolder != nil else { throw BTError("give a run directory to evaluate (or --weights FILE)") }
        guard calibrationImages >= 2 else { throw BTError("--calibration-images must be at least 2 (got \(calibrationImages))") }
        let folder = RunFolder(runDir)
        let ckpt = try folder.loadCheckpoint()
        if let holder = folder.holder {
            // Read-only: the checkpoint is replaced atomically, so this one is whole; it may be a few steps old.
            FileHandle.standardError.write(Data("btviz: note: \(runDir) is in use by \(holder); evaluating its latest checkpoint (step \(ckpt.header.step))\n".utf8))
        }
        var config = ckpt.header.config
        if let dataDir { config.dataDir = dataDir }
        if config.task.isRestoration { return try evaluateRestoration(ckpt: ckpt, config: config) }
        if sets != nil || reference != nil || methods != nil {
            throw BTError("--sets, --reference and --methods are for super-resolution and denoising runs")
        }
        let run = try folder.openForEvaluation(dataDir: dataDir)
        var rows: [Row] = []
        var used = 0
        for m in QuantMethod.allCases {
            // A stateful method the run never trained starts from its best fit to these weights.
            _ = run.engine.quantizers(for: m, toConvergence: true)
            var row = Row(method: m, stored: try run.evaluate(method: m), recalibrated: nil)
            if !noRecalibrate {
                used = try run.recalibrateBatchNorm(method: m, images: calibrationImages)
                row.recalibrated = try run.evaluate(method: m)
                try run.restoreStored()  // the stored statistics back
            }
            rows.append(row)
        }
        if json { try printJSON(rows, ckpt: ckpt, used: used); return }
        let h = ckpt.header
        print("\(runDir)/checkpoint.bin: step \(h.step), trained with \(h.method.label), lambda \(h.lambda), \(config.dataset) test split (\(run.task?.testCount ?? 0) images)")
        if !noRecalibrate {
            print("batch-norm statistics re-estimated for each method on \(used) training images; 'stored' uses the checkpoint's")
        }
        let acc = Metric.accuracy
        var table = [noRecalibrate ? ["method", "test \(acc.label)", "test loss", ""]
                                   : ["method", "test \(acc.label)", "test loss", "stored \(acc.label)", "stored loss", ""]]
        for r in rows {
            var cells = [r.method.rawValue]
            if let rc = r.recalibrated { cells += [acc.format(rc.metric), Metric.loss.format(rc.loss)] }
            cells += [acc.format(r.stored.metric), Metric.loss.format(r.stored.loss), r.method == h.method ? "(trained)" : ""]
            table.append(cells)
        }
        printAligned(table)
    }

    private func printJSON(_ rows: [Row], ckpt: Checkpoint, used: Int) throws {
        let results = rows.map { r -> [String: Any] in
            var o: [String: Any] = ["method": r.method.rawValue, "stored_bn_test_acc": JSONOutput.finite(r.stored.metric),
                                    "stored_bn_test_loss": JSONOutput.finite(r.stored.loss)]
            if let rc = r.recalibrated { o["test_acc"] = JSONOutput.finite(rc.metric); o["test_loss"] = JSONOutput.finite(rc.loss) }
            return o
        }
        print(try JSONOutput.string(object: ["step": ckpt.header.step, "trained_with": ckpt.header.method.rawValue,
                                             "calibration_images": used, "results": results] as [String: Any]))
    }
}

/// Prints rows as columns: the first left-aligned, the rest right-aligned, the last (a note) left-aligned
/// unless `lastColumnLeft` is false.
func printAligned(_ rows: [[String]], lastColumnLeft: Bool = true) {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    for r in rows where !r.isEmpty {
        let cells = r.enumerated().map { i, c -> String in
            let pad = String(repeating: " ", count: widths[i] - c.count)
            return i == 0 || (lastColumnLeft && i == columns - 1) ? c + pad : pad + c
        }
        print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
}
