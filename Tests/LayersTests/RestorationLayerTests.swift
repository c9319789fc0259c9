import BTCore
import Kernels
import Layers
import Models
import XCTest

/// The layers of the super-resolution and denoising net: gradient checks, the pixel shuffle's order, image
/// sizes that change between calls, and the whole net's tiled evaluation.
final class RestorationLayerTests: GradientChecking {
    func testConvBiasAndFusedReLUGradients() {
        for relu in [false, true] {
            let conv = Conv3x3(name: "c", cin: 16, cout: 16, h: 5, w: 4, maxBatch: 2, bias: true, relu: relu, quantized: false)
            var rng = RNG(seed: 5)
            rng.fillGaussian(conv.weight.value.buffer, std: 0.2)
            rng.fillGaussian(conv.bias!.value.buffer, std: 0.5)
            check("conv+bias relu \(relu)", n: 2, inputSize: 5 * 4 * 16, outputSize: conv.outputSize, params: conv.params,
                  eps: 1e-3, forward: { conv.forward($0, n: 2, training: true) }, backward: { conv.backward($0, n: 2) })
        }
    }

    func testNarrowConvGradients() {
        let conv = NarrowConv3x3(name: "last", cin: 16, cout: 2, h: 5, w: 6, maxBatch: 3)
        var rng = RNG(seed: 6)
        rng.fillGaussian(conv.weight.value.buffer, std: 0.2)
        rng.fillGaussian(conv.bias!.value.buffer, std: 0.5)
        check("narrow conv", n: 3, inputSize: 5 * 6 * 16, outputSize: conv.outputSize, params: conv.params,
              forward: { conv.forward($0, n: 3, training: true) }, backward: { conv.backward($0, n: 3) })
    }

    /// The narrow conv is the same convolution as Conv3x3's im2col + GEMM path, forward and backward.
    func testNarrowConvMatchesGEMMConv() {
        let (n, h, w) = (2, 7, 9)
        let narrow = NarrowConv3x3(name: "n", cin: 32, cout: 1, h: h, w: w, maxBatch: n)
        let gemm = Conv3x3(name: "g", cin: 32, cout: 1, h: h, w: w, maxBatch: n, bias: true, allowDirect: false)
        var rng = RNG(seed: 7)
        rng.fillGaussian(narrow.weight.value.buffer, std: 0.2)
        rng.fillGaussian(narrow.bias!.value.buffer, std: 0.5)
        gemm.effective.copy(from: narrow.weight.value); gemm.bias!.value.copy(from: narrow.bias!.value)
        let x = FloatBuffer(count: n * h * w * 32), dy = FloatBuffer(count: n * h * w)
        rng.fillGaussian(x.buffer, std: 1); rng.fillGaussian(dy.buffer, std: 1)
        let ya = Array(UnsafeBufferPointer(start: narrow.forward(x.ptr, n: n, training: true), count: n * h * w))
        let yb = Array(UnsafeBufferPointer(start: gemm.forward(x.ptr, n: n, training: true), count: n * h * w))
        XCTAssertLessThan(relativeDifference(ya, yb), 1e-5)
        let dxa = Array(UnsafeBufferPointer(start: narrow.backward(dy.ptr, n: n)!, count: n * h * w * 32))
        let dxb = Array(UnsafeBufferPointer(start: gemm.backward(dy.ptr, n: n)!, count: n * h * w * 32))
        XCTAssertLessThan(relativeDifference(dxa, dxb), 1e-5)
        XCTAssertLessThan(relativeDifference(narrow.weight.grad.array, gemm.weight.grad.array), 1e-5)
        XCTAssertLessThan(relativeDifference(narrow.bias!.grad.array, gemm.bias!.grad.array), 1e-5)
    }

    /// PyTorch's order, worked by hand: out[y*s + i, x*s + j, k] = in[y, x, k*s*s + i*s + j].
    func testPixelShuffleOrderAndAdjoint() {
        let shuffle = PixelShuffle(scale: 2, channels: 2, h: 1, w: 2, capacity: 16)
        // in[0, x, ch]: ch = k*4 + i*2 + j, value 10*x + ch.
        let x = FloatBuffer((0..<2).flatMap { px in (0..<8).map { Float(10 * px + $0) } })
        let y = Array(UnsafeBufferPointer(start: shuffle.forward(x.ptr, n: 1, training: false), count: 16))
        // Output 2 x 4 pixels of 2 channels; row 0: (x0,i0,j0) (x0,i0,j1) (x1,i0,j0) (x1,i0,j1).
        XCTAssertEqual(y, [0, 4, 1, 5, 10, 14, 11, 15,
                           2, 6, 3, 7, 12, 16, 13, 17])
        let dy = FloatBuffer((0..<16).map { Float($0 * $0 % 7) })
        let dx = shuffle.backward(dy.ptr, n: 1)!
        var a: Float = 0, b: Float = 0
        for i in 0..<16 { a += y[i] * dy[i]; b += x[i] * dx[i] }
        XCTAssertEqual(a, b)  // a permutation's backward is its inverse
    }

    /// A conv used at another size, and back, gives what a conv made for each size gives: no stale borders.
    func testConvSizeChangesBetweenCalls() {
        for (cin, cout) in [(1, 16), (16, 32), (64, 64)] {
            let shared = Conv3x3(name: "s", cin: cin, cout: cout, h: 6, w: 6, maxBatch: 2, bias: true, evalSide: 11)
            var rng = RNG(seed: UInt64(cin))
            rng.fillGaussian(shared.effective.buffer, std: 0.2)
            rng.fillGaussian(shared.bias!.value.buffer, std: 0.2)
            for (h, w, n) in [(6, 6, 2), (11, 9, 1), (3, 10, 1), (6, 6, 2)] {
                let fresh = Conv3x3(name: "f", cin: cin, cout: cout, h: h, w: w, maxBatch: n, bias: true)
                fresh.effective.copy(from: shared.effective); fresh.bias!.value.copy(from: shared.bias!.value)
                let x = FloatBuffer(count: n * h * w * cin)
                rng.fillGaussian(x.buffer, std: 1)
                shared.setSpatial(h: h, w: w)
                let a = Array(UnsafeBufferPointer(start: shared.forward(x.ptr, n: n, training: false), count: n * h * w * cout))
                let b = Array(UnsafeBufferPointer(start: fresh.forward(x.ptr, n: n, training: false), count: n * h * w * cout))
                XCTAssertEqual(a, b, "\(cin)->\(cout) at \(h)x\(w)")
            }
        }
    }

    func testRestorationNetGradients() {
        for (task, bn, gain) in [(RestorationNet.Task.superResolution(scale: 2), false, false), (.denoise, false, false),
                                  (.superResolution(scale: 3), true, false), (.superResolution(scale: 2), false, true)] {
            let net = RestorationNet(task: task, patch: 4, maxBatch: 2, batchNorm: bn, channelGain: gain)
            net.initialize(seed: 1)
            var rng = RNG(seed: 4)
            for conv in net.body + net.upsamplers.map(\.conv) { if let g = conv.gain { rng.fillUniform(g.value.buffer, bound: 2) } }
            // Check a sample of every layer's parameters through the whole net (the straight-through estimator's
            // gradient: the quantized layers compute with a copy of their latent weights here). This checks the
            // wiring (each layer is checked closely above): through seven Float layers with ReLU kinks, central
            // differences agree to a few percent, while a wrong connection or sign is off by about 100%.
            check("\(net.title) bn \(bn) gain \(gain)", n: 2, inputSize: net.inputSize, outputSize: net.outputSize, params: net.params,
                  checkInput: false, eps: 1e-3, tolerance: 0.1, samples: 12,
                  forward: { x in
                      for layer in net.quantizedLayers { layer.effective.copy(from: layer.weight.value) }
                      return net.forward(x, n: 2, training: true)
                  },
                  backward: { net.backward($0, n: 2); return nil })
        }
    }

    /// Whole-image prediction in overlapping tiles equals one pass over the image, at every scale.
    func testTiledPredictionEqualsOnePass() {
        for (task, bn) in [(RestorationNet.Task.superResolution(scale: 2), false), (.superResolution(scale: 3), false),
                           (.superResolution(scale: 4), false), (.denoise, false), (.superResolution(scale: 2), true)] {
            let whole = RestorationNet(task: task, patch: 8, maxBatch: 1, evalSide: 48, batchNorm: bn)
            let tiled = RestorationNet(task: task, patch: 8, maxBatch: 1, evalSide: 20, batchNorm: bn)
            whole.initialize(seed: 2); tiled.initialize(seed: 2)
            for (a, b) in zip(whole.quantizedLayers, tiled.quantizedLayers) {
                a.effective.copy(from: a.weight.value); b.effective.copy(from: b.weight.value)
            }
            var rng = RNG(seed: 3)
            for (a, b) in zip(whole.batchNorms, tiled.batchNorms) {
                rng.fillGaussian(a.runningMean.buffer, std: 0.1); b.runningMean.copy(from: a.runningMean)
            }
            let (h, w) = (45, 31)
            let image = FloatBuffer(count: h * w)
            rng.fillUniform(image.buffer, bound: 1)
            let a = whole.predict(image.ptr, h: h, w: w), b = tiled.predict(image.ptr, h: h, w: w)
            XCTAssertEqual(a.count, h * w * whole.scale * whole.scale)
            XCTAssertLessThan(relativeDifference(a, b), 1e-6, whole.title)
        }
    }
}
