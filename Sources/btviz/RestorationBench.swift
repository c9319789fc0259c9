import ArgumentParser
import BTCore
import Foundation
import Kernels
import Models
import Quantizers
import Training

extension Bench {
    /// The restoration net: training steps on batches of random patches, and inference on one image of
    /// --infer-size (in one piece: the net is built with room for it).
    func runRestoration() throws {
        // Read once: the timed closures below use them every step.
        let c = config
        let (scale, patch, batch, method, lambda, spec) = (c.scale, c.patch, c.batchSize, c.method, c.lambda, c.spec)
        let s = task == .sr ? scale : 1
        // Built as training builds it, from the definition and the run's model options (batch norm, channel gains).
        let built = try (c.modelDefinition ?? .restoration).build(
            ModelBuild(options: c.modelOptions, inputShape: [1, patch / s, patch / s], classes: 0, maxBatch: batch,
                       upscale: s, evalSide: mode == "train" ? 0 : inferSize))
        // Whole-image inference resizes the net's maps (`setSpatial`), which only the restoration net has.
        guard let model = built as? RestorationNet else { throw BTError("bench --task \(task) needs a restoration model") }
        model.initialize(seed: 0)
        let engine = StepEngine(model: model, spec: spec, seed: 0)
        var rng = RNG(seed: 1)
        let x = FloatBuffer(count: batch * model.inputSize), target = FloatBuffer(count: batch * model.outputSize)
        rng.fillUniform(x.buffer, bound: 1)
        rng.fillUniform(target.buffer, bound: 1)
        let peak = FMAPeak.measure(threads: threads)
        var results: [(String, Double, Double)] = []  // (what, samples/s, GFLOP/s)
        var inferMs = 0.0

        func trainStep(_ i: Int) {
            _ = engine.step(x: x.ptr, targets: .values(target.ptr), n: batch, method: method, lambda: lambda,
                            lr: 1e-4, stepIndex: i, measure: false)
        }
        if mode != "infer" {
            let sps = rate(samplesPerCall: batch, trainStep)
            results.append(("train", sps, sps * Double(model.forwardMACs) * 6 / 1e9))
        }
        let image = FloatBuffer(count: inferSize * inferSize)
        rng.fillUniform(image.buffer, bound: 1)
        func infer(_: Int) {
            model.setSpatial(h: inferSize, w: inferSize)
            _ = model.forward(image.ptr, n: 1, training: false)
        }
        if mode != "train" {
            engine.quantize(method)
            let ips = rate(samplesPerCall: 1, infer)
            inferMs = 1000 / ips
            results.append(("infer", ips, ips * Double(model.forwardMACs(h: inferSize, w: inferSize)) * 2 / 1e9))
        }
        if profile && !json {
            let profileSteps = max(steps, 5)
            if mode != "infer" {
                model.setSpatial(h: patch / s, w: patch / s)
                printProfile("one training step", StepProfile.run(steps: profileSteps, step: trainStep, on: model), profileSteps)
            }
            if mode != "train" {
                printProfile("one \(inferSize)x\(inferSize) image", StepProfile.run(steps: profileSteps, step: infer, on: model), profileSteps)
            }
        }
        let rssMB = peakResidentMB()
        if json {
            var fields: [String: Any] = ["task": task.rawValue, "scale": s, "patch": patch, "infer_size": inferSize,
                                         "method": method.rawValue, "lambda": lambda, "batch": batch, "threads": threads,
                                         "forward_macs": model.forwardMACs, "fma_peak_gflops": JSONOutput.finite(r(peak)),
                                         "peak_rss_mb": JSONOutput.finite(r(rssMB))]
            fields.merge(resultFields(results, peak: peak, digits: 2)) { a, _ in a }
            if mode != "train" { fields["infer_ms"] = JSONOutput.finite(r(inferMs, 2)) }
            print(try JSONOutput.string(object: fields))
            return
        }
        print("\(model.title), \(patch)x\(patch) patches (input \(patch / s)x\(patch / s)), batch \(batch), \(method.label) lambda \(lambda), \(threads) threads")
        print(String(format: "measured FMA peak: %.0f GFLOP/s", peak))
        for (what, sps, gf) in results {
            let unit = what == "infer" ? "images/s (\(inferSize)x\(inferSize) in, " + String(format: "%.1f ms)", inferMs) : "patches/s"
            print(String(format: "%@: %8.2f %@  %6.1f GFLOP/s  %4.1f%% of peak", what, sps, unit, gf, 100 * gf / peak))
        }
        print(String(format: "peak resident memory: %.0f MB", rssMB))
    }
}

extension TrainTask: ExpressibleByArgument {}
