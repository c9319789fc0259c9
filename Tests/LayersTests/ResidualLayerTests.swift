import BTCore
import Kernels
import Layers
import Models
import Quantizers
import XCTest

/// The layers residual networks are made of (the stride-2 conv, the basic block with option A's shortcut, the global
/// average pool), checked by finite differences and by hand-worked equivalences.
final class ResidualLayerTests: GradientChecking {
    /// A stride-2 conv is the stride-1 conv read at every second pixel of every second row (odd and even sizes: the
    /// output is ceil(h/2) x ceil(w/2), as PyTorch's Conv2d(3, stride 2, padding 1)).
    func testStridedConvIsTheStrideOneConvSubsampled() {
        for (h, w) in [(8, 8), (7, 5), (9, 6)] {
            let (cin, cout, n) = (3, 16, 2)
            let strided = StridedConv3x3(name: "s", cin: cin, cout: cout, h: h, w: w, maxBatch: n, quantized: false)
            let dense = Conv3x3(name: "d", cin: cin, cout: cout, h: h, w: w, maxBatch: n, quantized: false)
            var rng = RNG(seed: 3)
            rng.fillGaussian(strided.weight.value.buffer, std: 0.3)
            dense.weight.value.copy(from: strided.weight.value)
            let x = FloatBuffer(count: n * h * w * cin)
            rng.fillGaussian(x.buffer, std: 1)
            let ys = strided.forward(x.ptr, n: n, training: false), yd = dense.forward(x.ptr, n: n, training: false)
            XCTAssertEqual(strided.outH, (h + 1) / 2); XCTAssertEqual(strided.outW, (w + 1) / 2)
            var worst: Float = 0
            for img in 0..<n {
                for oy in 0..<strided.outH {
                    for ox in 0..<strided.outW {
                        for c in 0..<cout {
                            let a = ys[((img * strided.outH + oy) * strided.outW + ox) * cout + c]
                            let b = yd[((img * h + 2 * oy) * w + 2 * ox) * cout + c]
                            worst = max(worst, abs(a - b))
                        }
                    }
                }
            }
            XCTAssertLessThan(worst, 1e-4, "\(h)x\(w)")
        }
    }

    func testStridedConvGradients() {
        let (cin, cout, h, w, n) = (3, 4, 7, 6, 3)
        let conv = StridedConv3x3(name: "s", cin: cin, cout: cout, h: h, w: w, maxBatch: n, quantized: false)
        var rng = RNG(seed: 4)
        rng.fillGaussian(conv.weight.value.buffer, std: 0.3)
        check("strided conv", n: n, inputSize: h * w * cin, outputSize: conv.outputSize, params: [conv.weight],
              forward: { conv.forward($0, n: n, training: true) }, backward: { conv.backward($0, n: n) })
    }

    func testGlobalAveragePoolGradient() {
        let pool = GlobalAveragePool(channels: 5, positions: 6, maxBatch: 2)
        check("pool", n: 2, inputSize: 30, outputSize: 5, params: [],
              forward: { pool.forward($0, n: 2, training: true) }, backward: { pool.backward($0, n: 2) })
    }

    /// Both blocks, in training mode (batch statistics), every parameter and the input: the identity block and the
    /// one that halves the map and pads the shortcut with zero channels.
    func testResidualBlockGradients() {
        for (cin, cout, stride) in [(16, 16, 1), (16, 32, 2)] {
            let (h, w, n) = (6, 5, 8)
            let block = ResidualBlock(name: "b", cin: cin, cout: cout, h: h, w: w, stride: stride, maxBatch: n)
            var rng = RNG(seed: 6)
            for q in block.quantizedLayers {
                rng.fillGaussian(q.weight.value.buffer, std: 0.2)
                q.effective.copy(from: q.weight.value)
            }
            for bn in block.batchNorms { rng.fillUniform(bn.beta.value.buffer, bound: 0.5) }
            XCTAssertEqual(block.outputSize, (stride == 2 ? 3 * 3 : 6 * 5) * cout)
            check("block \(cin)->\(cout)", n: n, inputSize: h * w * cin, outputSize: block.outputSize,
                  params: block.batchNorms.flatMap(\.params), eps: 1e-2, tolerance: 3e-2,
                  forward: { block.forward($0, n: n, training: true) }, backward: { block.backward($0, n: n) })
        }
    }

    /// Option A's shortcut, hand-worked: with zero conv weights and batch norm's beta 0, the body's output is 0 and
    /// the block's is relu(shortcut(x)): input channel c at pixel (2y, 2x) lands in output channel c + cout/4, and
    /// the outer channels are zero.
    func testOptionAShortcutPadsChannelsAndSubsamples() {
        let (cin, cout, h, w) = (16, 32, 4, 4)
        let block = ResidualBlock(name: "b", cin: cin, cout: cout, h: h, w: w, stride: 2, maxBatch: 2)
        for q in block.quantizedLayers { q.effective.zero() }
        let x = FloatBuffer(count: 2 * h * w * cin)
        for i in 0..<x.count { x[i] = Float(i % 97) / 10 }
        let y = block.forward(x.ptr, n: 2, training: false)
        for img in 0..<2 {
            for oy in 0..<2 {
                for ox in 0..<2 {
                    for c in 0..<cout {
                        let got = y[((img * 2 + oy) * 2 + ox) * cout + c]
                        let want: Float = (8..<24).contains(c) ? x[((img * h + 2 * oy) * w + 2 * ox) * cin + c - 8] : 0
                        XCTAssertEqual(got, want, "image \(img) (\(oy), \(ox)) channel \(c)")
                    }
                }
            }
        }
    }
}
