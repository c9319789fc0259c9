import BTCore
import Kernels
import Layers

/// The CIFAR ResNets of He et al. 2016 (section 4.2), ResNet-20/32/44/56: conv 3x3 (16) + batch norm + ReLU, three
/// stages of (depth - 2) / 6 basic blocks at 16, 32 and 64 channels (the second and third halve the map in their
/// first block, with option A's zero-padding shortcut), global average pool, FC. Named as
/// akamaster/pytorch_resnet_cifar10 names its modules (conv1, bn1, layer1.0.conv1, ..., linear), so a PyTorch
/// state_dict maps one to one. Every 3x3 conv but the first is quantized; the first conv and the FC stay float32
/// (TTQ's convention) unless `quantizeEnds`.
public final class ResNet: Model {
    public let depth: Int
    public let inputShape: [Int]
    public let classes: Int
    public let maxBatch: Int
    public let quantizeEnds: Bool
    public let conv1: Conv3x3
    public let bn1: BatchNorm
    public let blocks: [ResidualBlock]
    public let pool: GlobalAveragePool
    public let linear: Linear
    public let chain: Sequential
    public var layers: [any Layer] { chain.layers }
    public let classification: CrossEntropyAccuracy
    public var objective: any Objective { classification }
    public var title: String { "ResNet-\(depth)" }
    public var timer: StageTimer? {
        didSet { for b in blocks { b.timer = timer } }
    }

    /// Blocks per stage for a depth: 6n + 2 layers with weights.
    public static func blocksPerStage(depth: Int) -> Int { (depth - 2) / 6 }
    public static let depths = [20, 32, 44, 56, 110]

    public init(depth: Int, inputShape: [Int], classes: Int, maxBatch: Int, quantizeEnds: Bool = false) {
        precondition(depth >= 8 && (depth - 2) % 6 == 0 && inputShape.count == 3 && classes >= 2 && maxBatch >= 1)
        self.depth = depth; self.inputShape = inputShape; self.classes = classes; self.maxBatch = maxBatch
        self.quantizeEnds = quantizeEnds
        var (h, w) = (inputShape[1], inputShape[2])
        conv1 = Conv3x3(name: "conv1", cin: inputShape[0], cout: 16, h: h, w: w, maxBatch: maxBatch,
                        needsInputGrad: false, quantized: quantizeEnds)
        bn1 = BatchNorm(name: "bn1", channels: 16, h: h, w: w, maxBatch: maxBatch)
        var blocks: [ResidualBlock] = []
        var c = 16
        for (stage, width) in [16, 32, 64].enumerated() {
            for i in 0..<Self.blocksPerStage(depth: depth) {
                let stride = stage > 0 && i == 0 ? 2 : 1
                let block = ResidualBlock(name: "layer\(stage + 1).\(i)", cin: c, cout: width, h: h, w: w, stride: stride,
                                          maxBatch: maxBatch)
                blocks.append(block)
                (h, w, c) = (block.outH, block.outW, width)
            }
        }
        self.blocks = blocks
        pool = GlobalAveragePool(channels: c, positions: h * w, maxBatch: maxBatch)
        linear = Linear(name: "linear", inFeatures: c, outFeatures: classes, bias: true, maxBatch: maxBatch, quantized: quantizeEnds)
        chain = Sequential([conv1, bn1] + blocks + [pool, linear], handOffPadded: true)
        classification = CrossEntropyAccuracy(classes: classes, maxBatch: maxBatch)
    }

    public var params: [Param] { chain.params }
    public var inputSize: Int { inputShape.reduce(1, *) }
    public var batchNorms: [BatchNorm] { [bn1] + blocks.flatMap(\.batchNorms) }
    public var stateTensors: [NamedTensor] { batchNorms.flatMap(\.stateTensors) }
    public var quantizedLayers: [any QuantizedLayer] {
        (quantizeEnds ? [conv1] : []) + blocks.flatMap(\.quantizedLayers) + (quantizeEnds ? [linear] : [])
    }
    /// Every layer with weights, in order: what initialization walks over.
    public var weightedLayers: [any WeightedLayer] { [conv1] + blocks.flatMap(\.quantizedLayers) + [linear] }

    public func initialize(seed: UInt64, scheme: InitScheme = .pytorch) {
        initializeWeights(weightedLayers, seed: seed, scheme: scheme)
    }

    /// Inference runs each batch norm inside the Winograd conv before it.
    public var fusedInference = true {
        didSet { for b in blocks { b.fusedInference = fusedInference } }
    }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        chain.forward(x, n: n, training: training, fuseBatchNorm: fusedInference, timer: timer)
    }

    public func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int) {
        chain.backward(dOut, n: n, timer: timer)
    }

    /// Bytes for a ResNet at `batch`, or nil if the count overflows. Counted as VGG-6's: each conv's output, input
    /// gradient and two padded copies and its weight gradient's per-block partials; each batch norm's output and input
    /// gradient; each block's output and masked gradient; parameters with their gradient, quantized copy and Adam
    /// moments.
    public static func memoryBytes(depth: Int, inputShape: [Int], classes: Int, batch: Int) -> Int? {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 && $0 <= 1 << 14 }), batch >= 1, batch <= 1 << 20,
              classes <= 1 << 20, depth <= 1000 else { return nil }
        var (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        var perSample = h * w * 2 * (c + 16) + h * w * 2 * 16, params = 9 * c * 16, partials = 0
        c = 16
        for (stage, width) in [16, 32, 64].enumerated() {
            for i in 0..<blocksPerStage(depth: depth) {
                if stage > 0 && i == 0 { h = (h - 1) / 2 + 1; w = (w - 1) / 2 + 1 }
                // Two convs (outputs, input gradients, padded copies), two batch norms, the block's two buffers.
                perSample += h * w * (2 * (c + width) + 2 * (2 * width) + 2 * 2 * width + 2 * width)
                params += 9 * c * width + 9 * width * width
                partials += min(batch, Partition.maxBlocks) * (9 * c * width + 9 * width * width)
                c = width
            }
        }
        params += c * classes + classes
        partials += min(batch, Partition.maxBlocks) * (c * classes + classes)  // the FC's per-group partials
        let (act, o) = perSample.multipliedReportingOverflow(by: batch * 4)
        return o ? nil : act + params * 5 * 4 + partials * 4
    }
}

extension ResNet {
    /// Samples/pytorch/resnet.py's names, akamaster/pytorch_resnet_cifar10's: btviz names its layers the same.
    public func torchNames() throws -> [TorchTensorName] {
        var n = TorchNaming()
        n.conv("conv1", conv1.weight, bias: nil)
        n.batchNorm("bn1", bn1)
        for b in blocks {
            n.conv(b.name + ".conv1", b.conv1.weight, bias: nil)
            n.batchNorm(b.name + ".bn1", b.bn1)
            n.conv(b.name + ".conv2", b.conv2.weight, bias: nil)
            n.batchNorm(b.name + ".bn2", b.bn2)
        }
        n.linear("linear", linear)
        return n.names
    }

    public func writeInference<W: InferenceWriter>(to w: inout W) throws {
        var x = w.normalized(w.input("input", shape: [nil] + inputShape))
        x = w.relu(try w.batchNorm(try w.conv3x3(x, weight: conv1.weight, bias: nil, stride: 1), bn1))
        for b in blocks { x = try b.writeInference(x, to: &w) }
        x = w.flatten(w.globalAveragePool(x))
        w.output(try w.linear(x, weight: linear.weight, bias: linear.bias), name: "logits", shape: [nil, classes])
    }
}

extension ModelDefinition {
    /// The CIFAR ResNets every quantization paper reports.
    public static let resnet = ModelDefinition(
        id: "resnet", summary: "He et al.'s CIFAR ResNet-20/32/44/56/110: 3 stages of (depth-2)/6 basic blocks at 16/32/64 channels, option-A shortcuts",
        task: .classification, metric: .accuracy,
        options: [
            ModelOption(key: "depth", help: "ResNet depth, 6n+2", kind: .integer(default: 20, range: 20...110, allowed: ResNet.depths)),
            ModelOption(key: "quantize_ends", help: "quantize the first conv and the FC too (TTQ's convention keeps them float32)",
                        kind: .flag(default: false)),
        ],
        title: { "ResNet-\($0.options.integer("depth"))" },
        make: { ResNet(depth: $0.options.integer("depth"), inputShape: $0.inputShape, classes: $0.classes, maxBatch: $0.maxBatch,
                       quantizeEnds: $0.options.flag("quantize_ends")) },
        memoryBytes: { ResNet.memoryBytes(depth: $0.options.integer("depth"), inputShape: $0.inputShape, classes: $0.classes, batch: $0.maxBatch) })
}
