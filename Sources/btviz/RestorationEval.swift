import BTCore
import Foundation
import Restoration
import Training

extension Eval {
    /// A super-resolution or denoising run: PSNR per benchmark set beside bicubic (or the noisy input), and
    /// beside a full-precision run's where --reference names one.
    func evaluateRestoration(ckpt: Checkpoint, config: TrainConfig) throws {
        let task = config.restorationTask
        let names = sets.map { $0.split(separator: ",").map(String.init) }
            ?? (config.task == .sr ? ["set5", "set14", "bsd100", "urban100"] : ["set5", "set14"])
        let chosen = try names.map { n -> RestorationSet in
            guard let s = RestorationSet(name: n), s != .t91 else {
                throw BTError("unknown set \(n); choose from set5, set14, bsd100, urban100")
            }
            return s
        }
        let reference = try self.reference.map { try Checkpoint.load(path: $0 + "/checkpoint.bin") }
        if let r = reference?.header.config, r.task != config.task || r.scale != config.scale || r.sigma != config.sigma {
            throw BTError("--reference \(self.reference!) is not a run of the same task (\(task))")
        }
        let side = 640
        let run = try RestorationTraining.load(ckpt, evalSide: side)
        let ref = try reference.map { try RestorationTraining.load($0, evalSide: side) }
        struct Row { var set: String; var images: Int; var baseline: Double; var psnr: Double; var reference: Double? }
        var rows: [Row] = []
        for set in chosen {
            let pairs = try RestorationTraining.pairs(set: set, task: task, dataDir: dataDir ?? config.dataDir)
            let baseline = pairs.map(\.baselinePSNR).reduce(0, +) / Double(pairs.count)
            rows.append(Row(set: set.rawValue, images: pairs.count, baseline: baseline,
                            psnr: RestorationTraining.measure(run.net, on: pairs).psnr,
                            reference: ref.map { RestorationTraining.measure($0.net, on: pairs).psnr }))
        }
        let h = ckpt.header, base = config.task == .sr ? "bicubic" : "noisy"
        if json {
            let items = rows.map { r in
                "{\"set\":\"\(r.set)\",\"images\":\(r.images),\"\(base)\":\(round2(r.baseline)),\"psnr\":\(round2(r.psnr))"
                    + (r.reference.map { ",\"reference_psnr\":\(round2($0))" } ?? "") + "}"
            }
            let what = config.task == .sr ? "\"scale\":\(config.scale)" : "\"sigma\":\(config.sigma)"
            print("{\"task\":\"\(config.task.rawValue)\",\(what),\"step\":\(h.step),\"method\":\"\(h.method.rawValue)\",\"sets\":[\(items.joined(separator: ","))]}")
            return
        }
        print("\(runDir)/checkpoint.bin: step \(h.step), \(task) trained with \(h.method.label), lambda \(h.lambda); PSNR (dB) on Y\(config.task == .sr ? ", \(config.scale) pixels shaved" : "")")
        let refName = reference.map { "full (\($0.header.method.rawValue), --reference)" }
        var table = [["set", "images", base, h.method.rawValue] + (refName.map { [$0] } ?? [])]
        for r in rows {
            table.append([r.set, "\(r.images)", String(format: "%.2f", r.baseline), String(format: "%.2f", r.psnr)]
                         + (r.reference.map { [String(format: "%.2f", $0)] } ?? []))
        }
        printAligned(table, lastColumnLeft: false)
    }

    private func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}
