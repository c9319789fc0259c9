import BTCore
import Kernels

/// He et al.'s basic block for CIFAR: conv1 (stride 1 or 2) + batch norm + ReLU, conv2 + batch norm, plus the
/// shortcut, then ReLU. Where the block halves the map and doubles the channels the shortcut is option A (the
/// CIFAR ResNets' parameter-free one, as akamaster/pytorch_resnet_cifar10's LambdaLayer): the input at every second
/// pixel of every second row, zero-padded with cout/4 channels on each side. The shortcut, the add and the ReLU are
/// one pass over the output; backward takes the ReLU's mask from the output and adds the shortcut's gradient
/// into conv1's input gradient, so neither is stored.
public final class ResidualBlock: Layer {
    /// "layer2.0": the block's layers are named under it.
    public let name: String
    public let conv1: any QuantizedLayer, bn1: BatchNorm, conv2: Conv3x3, bn2: BatchNorm
    public let cin, cout: Int
    /// Input size; the output is `outH` x `outW` (half, rounded up, where the block downsamples).
    public let h, w, outH, outW: Int
    public var downsamples: Bool { outH != h || cin != cout }
    /// The body's inference runs each batch norm inside the Winograd conv before it.
    public var fusedInference = true
    /// Set by the profiler to time the body's layers; nil in training.
    public var timer: StageTimer?
    public var outputSize: Int { outH * outW * cout }
    public var params: [Param] { body.params }
    public var label: String { "\(name) \(cin)->\(cout) @\(h)x\(w)" + (downsamples ? "/2" : "") }
    public var layers: [any Layer] { body.layers }

    private let body: Sequential
    private let out: FloatBuffer, masked: FloatBuffer
    private let workers: Int

    /// `stride` 2 halves the map and needs cout = 2 cin (option A pads cin/2 zero channels on each side).
    public init(name: String, cin: Int, cout: Int, h: Int, w: Int, stride: Int, maxBatch: Int,
                workers: Int = Workers.count) {
        precondition((stride == 1 && cin == cout) || (stride == 2 && cout == 2 * cin), "\(name): option A needs cout = 2 cin at stride 2")
        self.name = name; self.cin = cin; self.cout = cout; self.h = h; self.w = w; self.workers = workers
        if stride == 2 {
            conv1 = StridedConv3x3(name: name + ".conv1", cin: cin, cout: cout, h: h, w: w, maxBatch: maxBatch, workers: workers)
            outH = StridedIm2col.outputSide(h); outW = StridedIm2col.outputSide(w)
        } else {
            conv1 = Conv3x3(name: name + ".conv1", cin: cin, cout: cout, h: h, w: w, maxBatch: maxBatch, workers: workers)
            outH = h; outW = w
        }
        bn1 = BatchNorm(name: name + ".bn1", channels: cout, h: outH, w: outW, maxBatch: maxBatch, workers: workers)
        conv2 = Conv3x3(name: name + ".conv2", cin: cout, cout: cout, h: outH, w: outW, maxBatch: maxBatch, workers: workers)
        bn2 = BatchNorm(name: name + ".bn2", channels: cout, h: outH, w: outW, maxBatch: maxBatch, relu: false, workers: workers)
        body = Sequential([conv1, bn1, conv2, bn2], handOffPadded: true)
        out = FloatBuffer(count: maxBatch * outH * outW * cout)
        masked = FloatBuffer(count: maxBatch * outH * outW * cout)
    }

    /// The block for an exporter: the body, option A's shortcut where it downsamples, the add and the ReLU.
    public func writeInference<W: InferenceWriter>(_ x: W.Value, to w: inout W) throws -> W.Value {
        var y = w.relu(try w.batchNorm(try w.conv3x3(x, weight: conv1.weight, bias: nil, stride: outH == h ? 1 : 2), bn1))
        y = try w.batchNorm(try w.conv3x3(y, weight: conv2.weight, bias: nil, stride: 1), bn2)
        let shortcut = downsamples ? w.subsampledZeroPadded(x, padChannels: (cout - cin) / 2) : x
        return w.relu(w.add(y, shortcut))
    }

    public var batchNorms: [BatchNorm] { [bn1, bn2] }
    public var quantizedLayers: [any QuantizedLayer] { [conv1, conv2] }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        let b = body.forward(x, n: n, training: training, fuseBatchNorm: fusedInference, timer: timer)
        let y = out.ptr
        timed(timer, name + " add+relu", .forward) {
            eachImage(n) { img in self.addShortcut(x, b, y, img) }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        let y = out.ptr, g = masked.ptr, per = outputSize
        timed(timer, name + " add+relu", .backward) {
            eachImage(n) { img in
                for i in img * per..<(img + 1) * per { g[i] = y[i] > 0 ? dy[i] : 0 }
            }
        }
        guard let dx = body.backward(g, n: n, timer: timer) else { return nil }
        timed(timer, name + " shortcut", .backward) {
            eachImage(n) { img in self.addShortcutGradient(g, into: dx, img) }
        }
        return dx
    }

    /// Images split over the workers; each writes only its own.
    private func eachImage(_ n: Int, _ body: (Int) -> Void) {
        let workers = min(self.workers, n)
        parallelFor(workers) { wk in for img in workerRange(wk, of: workers, total: n) { body(img) } }
    }

    /// y = max(body + shortcut(x), 0) for one image.
    private func addShortcut(_ x: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ img: Int) {
        let (cin, cout) = (cin, cout), base = img * outH * outW
        guard downsamples else {
            for i in base * cout..<(base + outH * outW) * cout { y[i] = max(b[i] + x[i], 0) }
            return
        }
        let pad = (cout - cin) / 2
        for oy in 0..<outH {
            for ox in 0..<outW {
                let o = (base + oy * outW + ox) * cout, src = x + ((img * h + 2 * oy) * w + 2 * ox) * cin
                for c in 0..<pad { y[o + c] = max(b[o + c], 0) }
                for c in 0..<cin { y[o + pad + c] = max(b[o + pad + c] + src[c], 0) }
                for c in pad + cin..<cout { y[o + c] = max(b[o + c], 0) }
            }
        }
    }

    /// dx += shortcut's transpose applied to g, for one image.
    private func addShortcutGradient(_ g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ img: Int) {
        let (cin, cout) = (cin, cout), base = img * outH * outW
        guard downsamples else {
            for i in base * cout..<(base + outH * outW) * cout { dx[i] += g[i] }
            return
        }
        let pad = (cout - cin) / 2
        for oy in 0..<outH {
            for ox in 0..<outW {
                let o = g + (base + oy * outW + ox) * cout + pad, d = dx + ((img * h + 2 * oy) * w + 2 * ox) * cin
                for c in 0..<cin { d[c] += o[c] }
            }
        }
    }
}

/// The mean over every position of each channel: [n, h, w, c] to [n, c], summed in position order.
public final class GlobalAveragePool: Layer {
    public let channels: Int, positions: Int
    public var params: [Param] { [] }
    public var label: String { "avgpool \(channels)ch" }
    public var outputSize: Int { channels }
    private let out: FloatBuffer, dx: FloatBuffer

    public init(channels: Int, positions: Int, maxBatch: Int) {
        self.channels = channels; self.positions = positions
        out = FloatBuffer(count: maxBatch * channels)
        dx = FloatBuffer(count: maxBatch * positions * channels)
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        let y = out.ptr, c = channels, p = positions, scale = 1 / Float(p)
        for img in 0..<n {
            let row = y + img * c
            row.update(repeating: 0, count: c)
            for pos in 0..<p {
                let px = x + (img * p + pos) * c
                for ch in 0..<c { row[ch] += px[ch] }
            }
            for ch in 0..<c { row[ch] *= scale }
        }
        return y
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        let d = dx.ptr, c = channels, p = positions, scale = 1 / Float(p)
        for img in 0..<n {
            for pos in 0..<p {
                let px = d + (img * p + pos) * c, g = dy + img * c
                for ch in 0..<c { px[ch] = g[ch] * scale }
            }
        }
        return d
    }
}
