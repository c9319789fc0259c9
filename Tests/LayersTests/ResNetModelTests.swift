import BTCore
import Kernels
import Layers
import Models
import Quantizers
import XCTest

/// The CIFAR ResNet end to end: finite differences through the whole network, fused inference, and its MACs by hand.
final class ResNetModelTests: GradientChecking {
    /// The whole ResNet-8 (one block per stage), full precision, end to end: loss gradient w.r.t. a sample of every
    /// parameter tensor; batch 16 keeps batch norm smooth enough for central differences in Float32.
    func testWholeResNetFullPrecision() {
        let n = 16
        let model = ResNet(depth: 8, inputShape: [3, 8, 7], classes: 3, maxBatch: n)
        model.initialize(seed: 7, scheme: .pytorch)
        XCTAssertEqual(model.quantizedLayers.count, 6)
        XCTAssertEqual(model.weightedLayers.count, 8)
        var rng = RNG(seed: 8)
        let x = FloatBuffer(count: n * model.inputSize)
        rng.fillGaussian(x.buffer, std: 1)
        let labels: [Int32] = (0..<n).map { Int32($0 % 3) }
        for q in model.quantizedLayers { q.effective.copy(from: q.weight.value) }
        func loss() -> Double {
            for q in model.quantizedLayers { q.effective.copy(from: q.weight.value) }
            let z = model.forward(x.ptr, n: n, training: true)
            return Double(model.classification.loss.evaluate(logits: z, labels: labels, n: n).loss)
        }
        _ = loss()
        model.backward(model.classification.loss.grad.ptr, n: n)
        checkParameterGradients(model.params, samples: 12, "ResNet-8", loss: loss)
    }

    /// Eval-mode inference with each batch norm inside the conv before it gives the layer-by-layer logits.
    func testFusedInferenceChangesNothing() {
        let n = 3
        let model = ResNet(depth: 8, inputShape: [3, 11, 9], classes: 10, maxBatch: n)
        model.initialize(seed: 2, scheme: .pytorch)
        var rng = RNG(seed: 3)
        for bn in model.batchNorms {
            rng.fillUniform(bn.runningMean.buffer, bound: 0.5)
            for i in 0..<bn.channels { bn.runningVar[i] = 0.5 + Float(i % 5) * 0.2 }
        }
        for q in model.quantizedLayers { q.effective.copy(from: q.weight.value) }
        let x = FloatBuffer(count: n * model.inputSize)
        rng.fillGaussian(x.buffer, std: 1)
        model.fusedInference = true
        let fused = Array(UnsafeBufferPointer(start: model.forward(x.ptr, n: n, training: false), count: n * 10))
        model.fusedInference = false
        let plain = Array(UnsafeBufferPointer(start: model.forward(x.ptr, n: n, training: false), count: n * 10))
        XCTAssertLessThan(relativeDifference(fused, plain), 1e-5)
    }

    /// MACs per image, by hand for ResNet-20 on 3x32x32 (the figure the literature quotes as about 41M).
    func testResNet20MACs() {
        let model = ResNet(depth: 20, inputShape: [3, 32, 32], classes: 10, maxBatch: 1)
        let conv1 = 32 * 32 * 9 * 3 * 16
        let stage1 = 6 * 32 * 32 * 9 * 16 * 16
        let stage2 = 16 * 16 * 9 * 16 * 32 + 5 * 16 * 16 * 9 * 32 * 32
        let stage3 = 8 * 8 * 9 * 32 * 64 + 5 * 8 * 8 * 9 * 64 * 64
        XCTAssertEqual(model.forwardMACs, conv1 + stage1 + stage2 + stage3 + 64 * 10)
        XCTAssertEqual(model.forwardMACs, 40_551_040)
        XCTAssertEqual(model.quantizedLayers.count, 18)
        XCTAssertEqual(ResNet(depth: 20, inputShape: [3, 32, 32], classes: 10, maxBatch: 1, quantizeEnds: true).quantizedLayers.count, 20)
    }
}
