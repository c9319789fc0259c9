import BTCore
import Kernels
import Layers

/// The paper's network for super-resolution and denoising, on the Y channel, fully convolutional:
/// conv_first (1 -> 64) + ReLU, 4 x [body conv (64 -> 64) + ReLU] (the ReLUs fused into the convs), for super-resolution a sub-pixel upsampler
/// (conv 64 -> 64 s^2 + pixel shuffle; x4 is two x2 stages), then conv_last (64 -> 1). Every conv has a bias
/// and none has batch norm (`batchNorm` puts one after the first and body convs instead of their biases: the
/// choice was measured, see the changelog). Learning is residual: super-resolution adds the net's output to the bicubic
/// upscaling of the input; denoising subtracts it (the net predicts the noise). The first and last convs stay
/// full precision; the body and upsampler convs are quantized.
public final class RestorationNet: Model {
    public enum Task: Equatable, Sendable {
        case superResolution(scale: Int)
        case denoise
    }

    public let task: Task
    public let channels = 64
    /// Low-resolution side of a training patch, and the largest image side evaluated in one piece.
    public let patch: Int, evalSide: Int
    public let maxBatch: Int
    public private(set) var h: Int, w: Int
    public var scale: Int { if case .superResolution(let s) = task { return s }; return 1 }
    public var title: String {
        switch task {
        case .superResolution(let s): return "SRNet-64 x\(s)"
        case .denoise: return "DnNet-64"
        }
    }

    public let convFirst: Conv3x3
    public let body: [Conv3x3]
    public let upsamplers: [(conv: Conv3x3, shuffle: PixelShuffle)]
    public let convLast: NarrowConv3x3
    /// The convs (and batch norms) in order, before the residual; no padded hand-off: whole-image evaluation
    /// resizes every buffer between passes.
    public let chain: Sequential
    public var layers: [any Layer] { chain.layers }
    public let regression: MeanSquaredErrorPSNR
    public var objective: any Objective { regression }
    public var quantizedLayers: [any QuantizedLayer] { body + upsamplers.map(\.conv) }
    public let batchNorms: [BatchNorm]
    public var stateTensors: [NamedTensor] {
        batchNorms.flatMap(\.stateTensors)
    }
    public var timer: StageTimer?
    /// Its convs carry their own bias and ReLU: there is no batch norm to run inside them.
    public var fusedInference: Bool {
        get { false }
        set {}
    }

    private let output: FloatBuffer
    /// Denoising's dL/d(net output) is the negated output gradient.
    private let negatedGrad: FloatBuffer
    private var bicubic: [Int: BicubicResize] = [:]

    /// `channelGain` gives each quantized conv a learned gain per output channel (`Conv3x3.gain`).
    public init(task: Task, patch: Int, maxBatch: Int, evalSide: Int = 0, batchNorm: Bool = false, channelGain: Bool = false) {
        let s: Int
        if case .superResolution(let sc) = task { s = sc } else { s = 1 }
        precondition([1, 2, 3, 4].contains(s) && patch >= 4 && maxBatch >= 1)
        self.task = task; self.patch = patch; self.maxBatch = maxBatch; self.evalSide = max(evalSide, patch)
        h = patch; w = patch
        let c = channels, side = self.evalSide
        func floats(_ perPixel: Int, scale f: Int) -> Int {
            max(maxBatch * patch * patch, side * side) * f * f * perPixel
        }
        let own = !batchNorm  // bias and ReLU in the conv, or in the batch norm after it
        convFirst = Conv3x3(name: "conv_first", cin: 1, cout: c, h: patch, w: patch, maxBatch: maxBatch,
                            needsInputGrad: false, bias: own, relu: own, quantized: false, evalSide: side)
        body = (1...4).map {
            Conv3x3(name: "body\($0)", cin: c, cout: c, h: patch, w: patch, maxBatch: maxBatch, bias: own, relu: own,
                    gain: channelGain, evalSide: side)
        }
        batchNorms = batchNorm ? (1...5).map {
            BatchNorm(name: "bn\($0)", channels: c, h: patch, w: patch, maxBatch: maxBatch, evalSide: side)
        } : []
        var ups: [(Conv3x3, PixelShuffle)] = []
        var f = 1
        let stages = s == 4 ? [2, 2] : s > 1 ? [s] : []
        for (i, stage) in stages.enumerated() {
            let conv = Conv3x3(name: "upsample\(i + 1)", cin: c, cout: c * stage * stage, h: patch * f, w: patch * f,
                               maxBatch: maxBatch, bias: true, gain: channelGain, evalSide: side * f)
            ups.append((conv, PixelShuffle(scale: stage, channels: c, h: patch * f, w: patch * f,
                                           capacity: floats(c, scale: f * stage),
                                           trainCapacity: maxBatch * patch * patch * f * f * stage * stage * c)))
            f *= stage
        }
        upsamplers = ups
        convLast = NarrowConv3x3(name: "conv_last", cin: c, cout: 1, h: patch * s, w: patch * s, maxBatch: maxBatch,
                                 evalSide: side * s)
        var layers: [any Layer] = []
        for (i, conv) in ([convFirst] + body).enumerated() {
            layers.append(conv)
            if batchNorm { layers.append(batchNorms[i]) }
        }
        for u in ups { layers += [u.0, u.1] }
        layers.append(convLast)
        chain = Sequential(layers, handOffPadded: false)
        output = FloatBuffer(count: floats(1, scale: s))
        negatedGrad = FloatBuffer(count: task == .denoise ? maxBatch * patch * patch : 0)
        regression = MeanSquaredErrorPSNR(valuesPerSample: patch * patch * s * s, capacity: floats(1, scale: s))
    }

    public var params: [Param] { layers.flatMap(\.params) }
    public var inputSize: Int { h * w }
    public var outputSize: Int { h * w * scale * scale }

    /// Images of h x w (low resolution) the buffers take in one forward pass.
    public func capacity(h: Int, w: Int) -> Int {
        var n = min(convFirst.capacity(h: h, w: w), output.count / (h * w * scale * scale))
        for conv in body { n = min(n, conv.capacity(h: h, w: w)) }
        var f = 1
        for u in upsamplers { n = min(n, u.conv.capacity(h: h * f, w: w * f)); f *= u.shuffle.scale }
        return min(n, convLast.capacity(h: h * scale, w: w * scale))
    }

    /// Sets the (low-resolution) input size of the following passes; training needs the patch size.
    public func setSpatial(h: Int, w: Int) {
        precondition(capacity(h: h, w: w) >= 1, "\(title): no room for a \(h)x\(w) image")
        self.h = h; self.w = w
        convFirst.setSpatial(h: h, w: w)
        for conv in body { conv.setSpatial(h: h, w: w) }
        for bn in batchNorms { bn.setSpatial(h: h, w: w) }
        var f = 1
        for u in upsamplers {
            u.conv.setSpatial(h: h * f, w: w * f); u.shuffle.setSpatial(h: h * f, w: w * f)
            f *= u.shuffle.scale
        }
        convLast.setSpatial(h: h * scale, w: w * scale)
        regression.valuesPerSample = outputSize
    }

    /// PyTorch's default Conv2d initialization (uniform within ±1/sqrt(fan_in), biases too).
    public func initialize(seed: UInt64, scheme: InitScheme = .pytorch) { initialize(seed: seed) }

    public func initialize(seed: UInt64) {
        var rng = RNG(seed: seed, stream: .initWeights)
        for case let layer as any WeightedLayer in layers {
            let bound = 1 / Float(layer.weight.shape.dropFirst().reduce(1, *)).squareRoot()
            rng.fillUniform(layer.weight.value.buffer, bound: bound)
            if let b = layer.bias { rng.fillUniform(b.value.buffer, bound: bound) }
        }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        let y = output.ptr, count = n * outputSize, net = chain.forward(x, n: n, training: training, timer: timer)
        timed(timer, "residual", .forward) {
            switch task {
            case .denoise:
                for i in 0..<count { y[i] = x[i] - net[i] }
            case .superResolution(let s):
                let up = bicubicResize(s)
                let (inCount, outCount) = (h * w, outputSize)
                parallelBlocks(min(Workers.count, n), total: n, block: 1) { _, r in
                    for img in r {
                        up.apply(x + img * inCount, into: y + img * outCount)
                    }
                }
                for i in 0..<count { y[i] += net[i] }
            }
        }
        return y
    }

    private func bicubicResize(_ s: Int) -> BicubicResize {
        let key = h << 32 | w
        if let r = bicubic[key] { return r }
        let r = BicubicResize(inH: h, inW: w, upscale: s)
        bicubic[key] = r
        return r
    }

    /// The residual's gradient is the output's (denoising negates it); the input needs none.
    public func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int) {
        var g = dOut
        if task == .denoise {
            let neg = negatedGrad.ptr
            for i in 0..<n * outputSize { neg[i] = -dOut[i] }
            g = neg
        }
        chain.backward(g, n: n, timer: timer)
    }

    /// Multiply-accumulates of one forward pass of one training patch.
    public var forwardMACs: Int { forwardMACs(h: patch, w: patch) }
    public var weightedLayers: [any WeightedLayer] { layers.compactMap { $0 as? any WeightedLayer } }

    /// Multiply-accumulates of the convolutions for one h x w input.
    public func forwardMACs(h: Int, w: Int) -> Int {
        var macs = h * w * 9 * channels * (1 + 4 * channels)
        var f = 1
        for u in upsamplers { macs += h * f * w * f * 9 * channels * u.conv.cout; f *= u.shuffle.scale }
        return macs + h * scale * w * scale * 9 * channels
    }

    /// The prediction for one whole h x w image (Y / 255, row-major), in tiles of at most evalSide with
    /// `margin` pixels of overlap. Each output pixel's receptive field is inside its tile (the net sees 7
    /// low-resolution pixels around it), and tile edges that are image edges pad as the whole image does,
    /// so the result equals a single pass over the whole image.
    public func predict(_ image: UnsafePointer<Float>, h: Int, w: Int) -> [Float] {
        let s = scale, margin = 8, core = evalSide - 2 * margin
        var out = [Float](repeating: 0, count: h * w * s * s)
        let tile = FloatBuffer(count: evalSide * evalSide)
        let ys = h <= evalSide ? [0] : Array(stride(from: 0, to: h, by: core))
        let xs = w <= evalSide ? [0] : Array(stride(from: 0, to: w, by: core))
        for y0 in ys {
            let y1 = h <= evalSide ? h : min(h, y0 + core)
            let ty0 = max(0, y0 - margin), ty1 = min(h, y1 + margin)
            for x0 in xs {
                let x1 = w <= evalSide ? w : min(w, x0 + core)
                let tx0 = max(0, x0 - margin), tx1 = min(w, x1 + margin)
                let th = ty1 - ty0, tw = tx1 - tx0
                for r in 0..<th { (tile.ptr + r * tw).update(from: image + (ty0 + r) * w + tx0, count: tw) }
                setSpatial(h: th, w: tw)
                let y = forward(tile.ptr, n: 1, training: false)
                for r in (y0 - ty0) * s..<(y1 - ty0) * s {
                    for c in (x0 - tx0) * s..<(x1 - tx0) * s {
                        out[(ty0 * s + r) * w * s + tx0 * s + c] = y[r * tw * s + c]
                    }
                }
            }
        }
        setSpatial(h: patch, w: patch)
        return out
    }
}

extension ModelDefinition {
    /// The paper's super-resolution and denoising net (SRNet-64, DnNet-64).
    public static let restoration = ModelDefinition(
        id: "srnet", summary: "the paper's super-resolution and denoising net: conv 1->64, 4 body convs 64->64, sub-pixel upsampler, conv 64->1",
        task: .restoration, metric: .psnr,
        options: [
            ModelOption(key: "batch_norm", help: "batch norm after the first and body convs instead of their biases (off by default: measured worse)",
                        kind: .flag(default: false)),
            ModelOption(key: "channel_gain", help: "a learned gain per output channel on each quantized conv's weights",
                        kind: .flag(default: false)),
        ],
        title: { $0.upscale > 1 ? "SRNet-64 x\($0.upscale)" : "DnNet-64" },
        make: {
            RestorationNet(task: $0.upscale > 1 ? .superResolution(scale: $0.upscale) : .denoise, patch: $0.inputShape[1],
                           maxBatch: $0.maxBatch, evalSide: $0.evalSide, batchNorm: $0.options.flag("batch_norm"),
                           channelGain: $0.options.flag("channel_gain"))
        },
        memoryBytes: { RestorationNet.memoryBytes($0) })
}

extension RestorationNet {
    /// An estimate (not measured like VGG-6's): every conv's output, input gradient and two padded copies at 64
    /// channels over the largest of the training batch and one whole image, at the output scale, plus 5 copies of the
    /// parameters. It only has to refuse absurd sizes before they are allocated.
    public static func memoryBytes(_ b: ModelBuild) -> Int? {
        guard b.inputShape.count == 3, b.upscale >= 1, b.upscale <= 4 else { return nil }
        let side = b.inputShape[1]
        let (p, o1) = b.maxBatch.multipliedReportingOverflow(by: side * side)
        guard !o1, side <= 1 << 14, b.evalSide <= 1 << 14 else { return nil }
        let pixels = max(p, b.evalSide * b.evalSide) * b.upscale * b.upscale
        let (act, o2) = pixels.multipliedReportingOverflow(by: 64 * 4 * 8 * 4)
        let params = 9 * 64 * 64 * 8 * 5 * 4
        return o2 ? nil : act + params
    }
}

extension RestorationNet {
    /// Samples/pytorch/srnet.py's names: conv_first, body.i, up_convs.i, conv_last, each with its bias.
    public func torchNames() throws -> [TorchTensorName] {
        guard batchNorms.isEmpty, body.allSatisfy({ $0.gain == nil }) else {
            throw BTError("this run's network has batch norm or per-channel gains, which Samples/pytorch/srnet.py does not")
        }
        var n = TorchNaming()
        n.conv("conv_first", convFirst.weight, bias: convFirst.bias)
        for (i, b) in body.enumerated() { n.conv("body.\(i)", b.weight, bias: b.bias) }
        for (i, u) in upsamplers.enumerated() { n.conv("up_convs.\(i)", u.conv.weight, bias: u.conv.bias) }
        n.conv("conv_last", convLast.weight, bias: convLast.bias)
        return n.names
    }

    /// The residual net on the Y channel (Y / 255): super-resolution adds the net's output to the bicubic upscaling
    /// of the input, denoising subtracts it from the input.
    public func writeInference<W: InferenceWriter>(to w: inout W) throws {
        _ = try torchNames()  // the same refusal: a net srnet.py cannot express
        let input = w.input("input", shape: [nil, 1, nil, nil])
        var x = w.relu(try w.conv3x3(input, weight: convFirst.weight, bias: convFirst.bias, stride: 1))
        for b in body { x = w.relu(try w.conv3x3(x, weight: b.weight, bias: b.bias, stride: 1)) }
        for u in upsamplers {
            x = w.depthToSpace(try w.conv3x3(x, weight: u.conv.weight, bias: u.conv.bias, stride: 1), blockSize: u.shuffle.scale)
        }
        let residual = try w.conv3x3(x, weight: convLast.weight, bias: convLast.bias, stride: 1)
        let out = scale > 1 ? w.add(w.bicubicUpscaled(input, scale: scale), residual) : w.subtract(input, residual)
        w.output(out, name: "output", shape: [nil, 1, nil, nil])
    }
}
