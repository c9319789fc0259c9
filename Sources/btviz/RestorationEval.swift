import BTCore
import Foundation
import Quantizers
import Records
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
        let reference = try self.reference.map { try RunFolder($0).open(evalSide: 640) }
        if let r = reference?.config, r.task != config.task || r.scale != config.scale || r.sigma != config.sigma {
            throw BTError("--reference \(self.reference!) is not a run of the same task (\(task))")
        }
        let side = 640
        let run = try RunFolder(runDir).open(checkpoint: ckpt, evalSide: side)
        guard let net = run.restorationNet else { throw BTError("\(runDir) holds no restoration net") }
        let refNet = reference?.restorationNet
        let trained = ckpt.header.method
        let methods = try methodList(trained: trained)
        struct Row { var set: String; var images: Int; var baseline: Double; var psnr: [QuantMethod: Double]; var reference: Double? }
        var rows: [Row] = []
        let started = Date()
        for set in chosen {
            let pairs = try RestorationTraining.pairs(set: set, task: task, dataDir: dataDir ?? config.dataDir)
            let baseline = pairs.map(\.baselinePSNR).reduce(0, +) / Double(pairs.count)
            var row = Row(set: set.rawValue, images: pairs.count, baseline: baseline, psnr: [:], reference: nil)
            for m in methods {
                // A stateful method the run never trained starts from its best fit to these weights (as for VGG-6).
                let t0 = Date()
                _ = run.engine.quantizers(for: m, toConvergence: true)
                run.engine.quantize(m)
                row.psnr[m] = RestorationTraining.measure(net, on: pairs).psnr
                progress("\(set.rawValue) \(m.rawValue) \(Metric.psnr.format(row.psnr[m]!)) (\(pairs.count) images, \(seconds(since: t0)))")
            }
            if let refNet {
                let t0 = Date()
                row.reference = RestorationTraining.measure(refNet, on: pairs).psnr
                progress("\(set.rawValue) reference \(Metric.psnr.format(row.reference!)) (\(pairs.count) images, \(seconds(since: t0)))")
            }
            rows.append(row)
        }
        progress("evaluated \(methods.count) method\(methods.count == 1 ? "" : "s") on \(rows.count) set\(rows.count == 1 ? "" : "s") in \(seconds(since: started))")
        let h = ckpt.header, base = config.task == .sr ? "bicubic" : "noisy"
        if json {
            // "psnr" stays the trained method's; "methods" holds every method's.
            let sets = rows.map { r -> [String: Any] in
                var o: [String: Any] = ["set": r.set, "images": r.images, base: JSONOutput.finite(round2(r.baseline)),
                                        "methods": Dictionary(uniqueKeysWithValues: methods.map { ($0.rawValue, JSONOutput.finite(round2(r.psnr[$0]!))) })]
                if let p = r.psnr[trained] { o["psnr"] = JSONOutput.finite(round2(p)) }
                if let p = r.reference { o["reference_psnr"] = JSONOutput.finite(round2(p)) }
                return o
            }
            var out: [String: Any] = ["task": config.task.rawValue, "step": h.step, "method": trained.rawValue, "sets": sets]
            if config.task == .sr { out["scale"] = config.scale } else { out["sigma"] = config.sigma }
            print(try JSONOutput.string(object: out))
            return
        }
        print("\(runDir)/checkpoint.bin: step \(h.step), \(task) trained with \(trained.label), lambda \(h.lambda); \(Metric.psnr.titleWithUnit) on Y\(config.task == .sr ? ", \(config.scale) pixels shaved" : "") under each method, * the trained one")
        let refName = reference.map { "full (\($0.trainedMethod.rawValue), --reference)" }
        var table = [["set", "images", base] + methods.map { $0 == trained ? $0.rawValue + "*" : $0.rawValue } + (refName.map { [$0] } ?? [])]
        for r in rows {
            table.append([r.set, "\(r.images)", Metric.psnr.number(r.baseline)] + methods.map { Metric.psnr.number(r.psnr[$0]!) }
                         + (r.reference.map { [Metric.psnr.number($0)] } ?? []))
        }
        printAligned(table, lastColumnLeft: false)
    }

    /// --methods, or every method with the trained one first.
    private func methodList(trained: QuantMethod) throws -> [QuantMethod] {
        guard let methods else { return [trained] + QuantMethod.allCases.filter { $0 != trained } }
        return try methods.split(separator: ",").map { n in
            guard let m = QuantMethod(rawValue: String(n)) else {
                throw BTError("unknown method \(n) in --methods; choose from \(QuantMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return m
        }
    }

    /// One line on stderr per finished step, so a long evaluation shows where it is (stdout keeps the table or JSON).
    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("btviz: \(line)\n".utf8))
    }

    private func seconds(since t: Date) -> String { String(format: "%.1f s", Date().timeIntervalSince(t)) }

    private func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}
