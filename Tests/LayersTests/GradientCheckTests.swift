import BTCore
import Kernels
import Layers
import Models
import Quantizers
import XCTest

/// Finite-difference checks of every layer's backward pass against its forward pass.
/// The loss is L = sum(y * r) for a fixed random r, so dL/dy = r.
final class GradientCheckTests: GradientChecking {
    func testConv3x3() {
        let conv = Conv3x3(name: "c", cin: 3, cout: 5, h: 6, w: 5, maxBatch: 4)
        var rng = RNG(seed: 1)
        rng.fillGaussian(conv.weight.value.buffer, std: 0.3)
        conv.effective.copy(from: conv.weight.value)
        check("conv", n: 4, inputSize: 6 * 5 * 3, outputSize: conv.outputSize, params: [],
              forward: { conv.forward($0, n: 4, training: true) }, backward: { conv.backward($0, n: 4) })
        // Weight gradient: perturb the effective weights (the STE passes their gradient to the latent ones).
        let x = FloatBuffer(count: 4 * 6 * 5 * 3), r = FloatBuffer(count: 4 * conv.outputSize)
        rng.fillGaussian(x.buffer, std: 1); rng.fillGaussian(r.buffer, std: 1)
        func loss() -> Double {
            let y = conv.forward(x.ptr, n: 4, training: true)
            return (0..<r.count).reduce(0) { $0 + Double(y[$1]) * Double(r[$1]) }
        }
        _ = loss(); _ = conv.backward(r.ptr, n: 4)
        let analytic = conv.weight.grad.array
        for i in stride(from: 0, to: analytic.count, by: 3) {
            let old = conv.effective[i]
            conv.effective[i] = old + 1e-2; let lp = loss()
            conv.effective[i] = old - 1e-2; let lm = loss()
            conv.effective[i] = old
            let numeric = Float((lp - lm) / 2e-2)
            XCTAssertEqual(numeric, analytic[i], accuracy: 2e-2 * max(1, abs(numeric)), "conv weight \(i)")
        }
    }

    /// A conv with a gain per output channel: the gain's gradient, and dL/dQ (what the straight-through estimator
    /// passes on) through gain ⊙ Q, on the GEMM path (3->5) and the Winograd path (16->16).
    func testConv3x3WithGain() {
        for (cin, cout) in [(3, 5), (16, 16)] {
            let conv = Conv3x3(name: "c", cin: cin, cout: cout, h: 6, w: 5, maxBatch: 2, bias: true, gain: true)
            var rng = RNG(seed: 5)
            rng.fillGaussian(conv.weight.value.buffer, std: 0.3)
            rng.fillUniform(conv.gain!.value.buffer, bound: 2)
            conv.effective.copy(from: conv.weight.value)
            let effective = Param(name: "Q", shape: conv.weight.shape)
            effective.value.copy(from: conv.weight.value)
            check("conv \(cin)->\(cout) with gain", n: 2, inputSize: 6 * 5 * cin, outputSize: conv.outputSize,
                  params: [conv.gain!, conv.bias!], eps: 1e-2, tolerance: 1e-2,
                  forward: { conv.forward($0, n: 2, training: true) }, backward: { conv.backward($0, n: 2) })
            // dL/dQ: perturb Q itself (`effective`), compare with weight.grad.
            check("conv \(cin)->\(cout) dL/dQ", n: 2, inputSize: 6 * 5 * cin, outputSize: conv.outputSize,
                  params: [effective], checkInput: false, eps: 1e-2, tolerance: 1e-2,
                  forward: { x in conv.effective.copy(from: effective.value); return conv.forward(x, n: 2, training: true) },
                  backward: { dy in _ = conv.backward(dy, n: 2); effective.grad.copy(from: conv.weight.grad); return nil })
        }
    }

    /// The direct kernels (channels in multiples of 16) agree with im2col + GEMM, forward and backward,
    /// at awkward sizes (odd widths, fewer pixels than a register tile, a single image per worker).
    /// The three ways a conv can run (Winograd, direct, im2col + GEMM) agree forward and backward, on
    /// shapes with odd sizes (cropped Winograd tiles), one pixel, and every channel-count case.
    /// Both register tilings of the Winograd products (16 output channels, and AVX-512's 32) agree with GEMM,
    /// whichever this CPU would pick: the wide one runs, slower, on AVX2 too.
    func testConvPathsAgree() {
        let saved = Winograd.wideTiles
        defer { Winograd.wideTiles = saved }
        for wide in [false, true] {
            Winograd.wideTiles = wide
            convPathsAgree()
        }
    }

    func convPathsAgree() {
        for (cin, cout, h, w, n) in [(16, 16, 7, 5, 3), (1, 16, 28, 28, 2), (16, 32, 3, 3, 2), (3, 64, 14, 14, 4),
                                     (16, 64, 2, 9, 1), (16, 16, 1, 1, 2), (16, 16, 2, 2, 3), (32, 32, 14, 14, 2),
                                     (32, 64, 7, 7, 3), (8, 16, 5, 6, 2), (32, 16, 9, 4, 2), (40, 96, 7, 7, 2),
                                     (64, 32, 5, 5, 3)] {
            let paths = [Conv3x3(name: "w4", cin: cin, cout: cout, h: h, w: w, maxBatch: n),
                         Conv3x3(name: "w2", cin: cin, cout: cout, h: h, w: w, maxBatch: n, allowWinograd4: false),
                         Conv3x3(name: "d", cin: cin, cout: cout, h: h, w: w, maxBatch: n, allowWinograd: false),
                         Conv3x3(name: "g", cin: cin, cout: cout, h: h, w: w, maxBatch: n, allowDirect: false)]
            var rng = RNG(seed: UInt64(cin * 100 + cout))
            rng.fillGaussian(paths[0].effective.buffer, std: 0.2)
            for p in paths.dropFirst() { p.effective.copy(from: paths[0].effective) }
            let x = FloatBuffer(count: n * h * w * cin), dy = FloatBuffer(count: n * h * w * cout)
            rng.fillGaussian(x.buffer, std: 1); rng.fillGaussian(dy.buffer, std: 1)
            let ys = paths.map { Array(UnsafeBufferPointer(start: $0.forward(x.ptr, n: n, training: true), count: n * $0.outputSize)) }
            let dxs = paths.map { p in p.backward(dy.ptr, n: n).map { Array(UnsafeBufferPointer(start: $0, count: n * h * w * cin)) } }
            for i in 0..<3 {
                let what = "\(paths[i].weight.name) vs GEMM, \(cin)->\(cout) \(h)x\(w), wide tiles \(Winograd.wideTiles)"
                XCTAssertLessThan(relativeDifference(ys[i], ys[3]), 1e-5, "forward " + what)
                XCTAssertLessThan(relativeDifference(paths[i].weight.grad.array, paths[3].weight.grad.array), 1e-5, "dW " + what)
                if let a = dxs[i], let b = dxs[3] { XCTAssertLessThan(relativeDifference(a, b), 1e-5, "dx " + what) }
            }
        }
    }

    func testConvSingleWorkerMatchesTwo() {
        let a = Conv3x3(name: "a", cin: 4, cout: 6, h: 7, w: 7, maxBatch: 6, workers: 1)
        let b = Conv3x3(name: "b", cin: 4, cout: 6, h: 7, w: 7, maxBatch: 6, workers: 2)
        var rng = RNG(seed: 3)
        rng.fillGaussian(a.effective.buffer, std: 0.3)
        b.effective.copy(from: a.effective)
        let x = FloatBuffer(count: 6 * 7 * 7 * 4)
        rng.fillGaussian(x.buffer, std: 1)
        let ya = Array(UnsafeBufferPointer(start: a.forward(x.ptr, n: 6, training: true), count: 6 * a.outputSize))
        let yb = Array(UnsafeBufferPointer(start: b.forward(x.ptr, n: 6, training: true), count: 6 * b.outputSize))
        for i in 0..<ya.count { XCTAssertEqual(ya[i], yb[i], accuracy: 1e-4) }
    }

    func testBatchNormWithAndWithoutReLU() {
        for relu in [false, true] {
            let bn = BatchNorm(name: "bn", channels: 3, positions: 4, maxBatch: 5, relu: relu)
            var rng = RNG(seed: 2)
            rng.fillGaussian(bn.gamma.value.buffer, std: 0.3)
            for j in 0..<3 { bn.gamma.value[j] += 1 }
            rng.fillGaussian(bn.beta.value.buffer, std: 0.2)
            check("bn relu=\(relu)", n: 5, inputSize: 12, outputSize: 12, params: bn.params, eps: 1e-3,
                  tolerance: 1e-2,
                  forward: { bn.forward($0, n: 5, training: true) }, backward: { bn.backward($0, n: 5) })
        }
    }

    func testBatchNormEvalUsesRunningStatistics() {
        let bn = BatchNorm(name: "bn", channels: 2, positions: 1, maxBatch: 4, relu: false)
        bn.runningMean[0] = 1; bn.runningMean[1] = -2
        bn.runningVar[0] = 4; bn.runningVar[1] = 9
        let x = FloatBuffer([3, 1, 1, -2, 5, 4, -1, -5])
        let y = bn.forward(x.ptr, n: 4, training: false)
        XCTAssertEqual(y[0], (3 - 1) / (4 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(y[1], (1 + 2) / (9 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(y[7], (-5 + 2) / (9 + 1e-5).squareRoot(), accuracy: 1e-5)
    }

    /// BN + ReLU + 2x2 pool, fused: odd heights and widths (a dropped row or column), and channel counts
    /// with and without a partial block of eight.
    func testBatchNormWithPool() {
        for (h, w, c) in [(5, 4, 3), (4, 5, 11), (6, 6, 8)] {
            for relu in [false, true] {
                let bn = BatchNorm(name: "bn", channels: c, h: h, w: w, maxBatch: 3, relu: relu, pool: true)
                var rng = RNG(seed: 4)
                rng.fillGaussian(bn.gamma.value.buffer, std: 0.3)
                for j in 0..<c { bn.gamma.value[j] += j % 3 == 2 ? -1 : 1 }  // a negative scale flips the winner
                rng.fillGaussian(bn.beta.value.buffer, std: 0.2)
                check("bn+pool \(h)x\(w)x\(c) relu=\(relu)", n: 3, inputSize: h * w * c, outputSize: bn.outputSize,
                      params: bn.params, eps: 1e-3, tolerance: 1e-2,
                      forward: { bn.forward($0, n: 3, training: true) }, backward: { bn.backward($0, n: 3) })
            }
        }
    }

    /// The fused pool gives what normalizing and then pooling gives, in training and in eval.
    func testPooledBatchNormEqualsNormThenPool() {
        let (n, h, w, c) = (2, 5, 7, 10)
        let fused = BatchNorm(name: "a", channels: c, h: h, w: w, maxBatch: n, pool: true)
        let plain = BatchNorm(name: "b", channels: c, h: h, w: w, maxBatch: n)
        var rng = RNG(seed: 8)
        rng.fillGaussian(fused.gamma.value.buffer, std: 1)
        rng.fillGaussian(fused.beta.value.buffer, std: 0.5)
        plain.gamma.value.copy(from: fused.gamma.value); plain.beta.value.copy(from: fused.beta.value)
        let x = FloatBuffer(count: n * h * w * c)
        rng.fillGaussian(x.buffer, std: 2)
        for training in [true, false] {
            let yf = fused.forward(x.ptr, n: n, training: training)
            let yp = plain.forward(x.ptr, n: n, training: training)
            for img in 0..<n { for oy in 0..<h / 2 { for ox in 0..<w / 2 { for j in 0..<c {
                var best = -Float.infinity
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    best = max(best, yp[((img * h + 2 * oy + dy) * w + 2 * ox + dx) * c + j])
                }
                XCTAssertEqual(yf[((img * (h / 2) + oy) * (w / 2) + ox) * c + j], best, accuracy: 1e-5)
            } } } }
        }
        XCTAssertEqual(fused.runningMean.array, plain.runningMean.array)
        XCTAssertEqual(fused.runningVar.array, plain.runningVar.array)
    }

    /// Batch statistics stay exact when the mean dwarfs the spread (the one-pass sums are shifted).
    func testBatchNormStatisticsUnderLargeOffset() {
        let bn = BatchNorm(name: "bn", channels: 2, positions: 1, maxBatch: 4000, relu: false)
        var rng = RNG(seed: 9)
        let x = FloatBuffer(count: 4000 * 2)
        rng.fillGaussian(x.buffer, std: 1)
        for i in 0..<4000 { x[2 * i] += 1000; x[2 * i + 1] = x[2 * i + 1] * 0.01 - 50 }
        func moments(_ p: UnsafeMutablePointer<Float>, _ j: Int) -> (mean: Double, variance: Double) {
            var s: Double = 0, s2: Double = 0
            for i in 0..<4000 { s += Double(p[2 * i + j]); s2 += Double(p[2 * i + j]) * Double(p[2 * i + j]) }
            return (s / 4000, s2 / 4000 - (s / 4000) * (s / 4000))
        }
        let inputVariance = (0..<2).map { moments(x.ptr, $0).variance }
        let y = bn.forward(x.ptr, n: 4000, training: true)
        for j in 0..<2 {
            let v = inputVariance[j], m = moments(y, j)
            XCTAssertEqual(m.mean, 0, accuracy: 1e-3, "channel \(j) mean")
            XCTAssertEqual(m.variance, v / (v + 1e-5), accuracy: 1e-3, "channel \(j) variance")
            XCTAssertEqual(Double(bn.runningVar[j]), 0.9 + 0.1 * v * 4000 / 3999, accuracy: 1e-4 * max(v, 1))
        }
    }

    func testLinear() {
        let fc = Linear(name: "fc", inFeatures: 7, outFeatures: 4, bias: true, maxBatch: 3)
        var rng = RNG(seed: 5)
        rng.fillGaussian(fc.weight.value.buffer, std: 0.5)
        rng.fillGaussian(fc.bias!.value.buffer, std: 0.5)
        check("linear", n: 3, inputSize: 7, outputSize: 4, params: fc.params,
              forward: { fc.forward($0, n: 3, training: true) }, backward: { fc.backward($0, n: 3) })
    }

    func testSoftmaxCrossEntropy() {
        let ce = SoftmaxCrossEntropy(classes: 4, maxBatch: 3)
        var rng = RNG(seed: 6)
        let z = FloatBuffer(count: 12)
        rng.fillGaussian(z.buffer, std: 2)
        let labels: [Int32] = [0, 3, 2]
        let base = ce.evaluate(logits: z.ptr, labels: labels, n: 3)
        let g = ce.grad.array
        for i in 0..<12 {
            let old = z[i]
            z[i] = old + 1e-2; let lp = ce.evaluate(logits: z.ptr, labels: labels, n: 3, withGrad: false).loss
            z[i] = old - 1e-2; let lm = ce.evaluate(logits: z.ptr, labels: labels, n: 3, withGrad: false).loss
            z[i] = old
            XCTAssertEqual((lp - lm) / 2e-2, g[i], accuracy: 2e-3)
        }
        // Uniform logits give log(classes).
        let flat = FloatBuffer(count: 12)
        XCTAssertEqual(ce.evaluate(logits: flat.ptr, labels: labels, n: 3).loss, logf(4), accuracy: 1e-6)
        // The loss itself, by hand in Double: mean of log-sum-exp minus the label's logit.
        var expected = 0.0
        for (i, y) in labels.enumerated() {
            let row = (0..<4).map { Double(z[i * 4 + $0]) }
            expected += log(row.map { exp($0) }.reduce(0, +)) - row[Int(y)]
        }
        XCTAssertEqual(Double(base.loss), expected / 3, accuracy: 1e-5)
    }

    /// The whole network, end to end: loss gradient w.r.t. a sample of every parameter tensor.
    /// Batch 16 keeps batch norm smooth enough for central differences in Float32.
    func testWholeVGG6FullPrecision() {
        let n = 16
        let model = VGG6(k: 2, inputShape: [2, 8, 8], classes: 3, maxBatch: n)
        model.initialize(seed: 7)
        var rng = RNG(seed: 8)
        let x = FloatBuffer(count: n * model.inputSize)
        rng.fillGaussian(x.buffer, std: 1)
        let labels: [Int32] = (0..<n).map { Int32($0 % 3) }
        func loss() -> Double {
            quantize(model, .full)
            let z = model.forward(x.ptr, n: n, training: true)
            return Double(model.loss.evaluate(logits: z, labels: labels, n: n).loss)
        }
        _ = loss()
        model.backward(model.loss.grad.ptr, n: n)
        checkParameterGradients(model.params, samples: 16, "VGG6", loss: loss)
    }

    /// Batch norms writing straight into the next conv's padded input change nothing: the same logits in
    /// training and eval, and the same gradients, to the bit (odd sizes, so pooled outputs are cropped).
    func testPaddedHandOffChangesNothing() {
        let n = 5
        let models = [true, false].map { VGG6(k: 16, inputShape: [1, 13, 11], classes: 10, maxBatch: n, handOffPadded: $0) }
        XCTAssertEqual(models[0].convs.filter(\.inputArrivesPadded).count, 5)
        XCTAssertEqual(models[1].convs.filter(\.inputArrivesPadded).count, 0)
        var rng = RNG(seed: 5)
        let x = FloatBuffer(count: n * models[0].inputSize)
        rng.fillGaussian(x.buffer, std: 1)
        let labels: [Int32] = (0..<n).map { Int32($0 % 10) }
        var results: [[Float]] = []
        for model in models {
            model.initialize(seed: 9)
            quantize(model, .bt)
            var r = Array(UnsafeBufferPointer(start: model.forward(x.ptr, n: n, training: true), count: n * 10))
            _ = model.loss.evaluate(logits: model.forward(x.ptr, n: n, training: true), labels: labels, n: n)
            model.backward(model.loss.grad.ptr, n: n)
            r += model.params.flatMap(\.grad.array)
            r += Array(UnsafeBufferPointer(start: model.forward(x.ptr, n: n, training: false), count: n * 10))
            results.append(r)
        }
        XCTAssertEqual(results[0], results[1])
    }

    /// Inference with each batch norm (+ReLU, +pool) inside the conv before it (Winograd, or direct for conv1)
    /// gives the logits of the layer-by-layer pass: odd sizes (partial tiles, floor pooling), RGB, the padded
    /// hand-off on and off, trained-looking statistics; and the fused convs really are the fast ones.
    func testFusedInferenceChangesNothing() {
        for (k, shape, handOff) in [(16, [1, 28, 28], true), (8, [3, 13, 11], true), (32, [3, 32, 32], false)] {
            let n = 3
            let models = [true, false].map { fused -> VGG6 in
                let m = VGG6(k: k, inputShape: shape, classes: 10, maxBatch: n, handOffPadded: handOff)
                m.fusedInference = fused
                return m
            }
            let fusing = zip(models[0].convs, models[0].batchNorms).filter { $0.fusesEpilogue(pooling: $1.pool) }
            XCTAssertEqual(fusing.count, k == 8 ? 4 : 6, "K=8's 8-channel conv1 and conv2 run im2col and GEMM, which fuse nothing")
            var rng = RNG(seed: 11)
            let x = FloatBuffer(count: n * models[0].inputSize)
            rng.fillGaussian(x.buffer, std: 1)
            var logits: [[Float]] = []
            for model in models {
                model.initialize(seed: 4)
                var stats = RNG(seed: 12)
                for bn in model.batchNorms {
                    stats.fillGaussian(bn.runningMean.buffer, std: 0.2)
                    stats.fillUniform(bn.runningVar.buffer, bound: 1)
                    for i in 0..<bn.runningVar.count { bn.runningVar[i] += 1 }
                    stats.fillGaussian(bn.gamma.value.buffer, std: 0.5)
                    stats.fillGaussian(bn.beta.value.buffer, std: 0.5)
                }
                quantize(model, .bt)
                logits.append(Array(UnsafeBufferPointer(start: model.forward(x.ptr, n: n, training: false), count: n * 10)))
            }
            // Both passes run the same Winograd products (F(4x4) where the channels allow), and the epilogue does
            // the batch norm's own FMA: the same logits to the bit.
            XCTAssertEqual(logits[0], logits[1], "VGG-6(\(k)) on \(shape)")
        }
    }
}

/// Q(W) of every conv under `method`, as the step engine loads it.
func quantize(_ model: VGG6, _ method: QuantMethod) {
    for conv in model.convs {
        let w = UnsafeBufferPointer(conv.weight.value.buffer)
        QuantSpec(method: method).make(layer: conv.weight.name, shape: conv.weight.shape).fit(w)
            .quantize(w, into: conv.effective.buffer)
    }
}
