import BTCore
import Foundation
import Kernels
import Layers
import Quantizers
import Training

/// Where one training step's time goes, layer by layer: the same calls StepEngine makes, timed one by one.
enum StepProfile {
    struct Row { var name: String; var forward: Double = 0; var backward: Double = 0 }

    static func run(engine: StepEngine, x: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, n: Int,
                    method: QuantMethod, lambda: Float, steps: Int) -> [Row] {
        let model = engine.model
        var rows = model.layers.map { Row(name: name(of: $0)) }
        var other = Row(name: "quantize+loss+reg+adam")
        for s in 0..<steps {
            var t = Date()
            let fits = model.quantize(method)
            other.forward += Date().timeIntervalSince(t)
            var h = x
            for (i, layer) in model.layers.enumerated() {
                t = Date()
                h = layer.forward(h, n: n, training: true)
                rows[i].forward += Date().timeIntervalSince(t)
            }
            t = Date()
            _ = model.loss.evaluate(logits: h, labels: labels, n: n)
            other.forward += Date().timeIntervalSince(t)
            var g: UnsafeMutablePointer<Float>? = model.loss.grad.ptr
            for (i, layer) in model.layers.enumerated().reversed() {
                guard let gi = g else { break }
                t = Date()
                g = layer.backward(gi, n: n)
                rows[i].backward += Date().timeIntervalSince(t)
            }
            t = Date()
            var noise = [Float](repeating: 0, count: model.convs.map(\.weight.count).max()!)
            var rng = RNG(seed: UInt64(s))
            for (i, conv) in model.convs.enumerated() where lambda > 0 {
                let w = UnsafeBufferPointer(conv.weight.value.buffer)
                _ = noise.withUnsafeMutableBufferPointer { engine.regularizer.measure(fit: fits[i], weights: w, noise: $0, rng: &rng) }
                engine.regularizer.addGradient(fit: fits[i], weights: w, lambda: lambda, into: conv.weight.grad.buffer)
            }
            engine.optimizer.step(lr: 1e-4)
            other.backward += Date().timeIntervalSince(t)
        }
        return (rows + [other]).map { Row(name: $0.name, forward: $0.forward / Double(steps), backward: $0.backward / Double(steps)) }
    }

    static func name(of layer: any Layer) -> String {
        switch layer {
        case let c as Conv3x3: "\(c.weight.name) \(c.cin)->\(c.cout) @\(c.h)x\(c.w)"
        case let b as BatchNorm: "\(b.gamma.name.split(separator: ".")[0])\(b.relu ? "+relu" : "") \(b.channels)ch"
        case let p as MaxPool2: "maxpool \(p.h)x\(p.w)x\(p.c)"
        case let l as Linear: "\(l.weight.name.split(separator: ".")[0]) \(l.inFeatures)->\(l.outFeatures)"
        default: "\(type(of: layer))"
        }
    }
}
