import BTCore
import Kernels
import Layers

/// VGG-6(K): 2x(K-C3) + MP2 + 2x(2K-C3) + MP2 + 2x(4K-C3) + MP2 + FC(8K) + FC(classes),
/// batch norm and ReLU after each conv and the first FC. Conv weights are quantized; FC layers are not.
public final class VGG6: Model {
    public let k: Int
    public let inputShape: [Int]   // [channels, height, width]
    public let classes: Int
    public let maxBatch: Int
    public let chain: Sequential
    public var layers: [any Layer] { chain.layers }
    public let convs: [Conv3x3]
    public let batchNorms: [BatchNorm]
    public let classification: CrossEntropyAccuracy
    public var objective: any Objective { classification }
    public var loss: SoftmaxCrossEntropy { classification.loss }
    public var title: String { "VGG-6(\(k))" }
    public var quantizedLayers: [any QuantizedLayer] { convs }
    /// Set by the profiler to time every layer; nil in training.
    public var timer: StageTimer?

    /// `handOffPadded`: each batch norm writes straight into the next conv's zero-padded input where that
    /// conv has one (off only in the test that checks it changes nothing).
    public init(k: Int, inputShape: [Int], classes: Int, maxBatch: Int, handOffPadded: Bool = true) {
        precondition(k >= 1 && inputShape.count == 3 && classes >= 2 && maxBatch >= 1)
        self.k = k; self.inputShape = inputShape; self.classes = classes; self.maxBatch = maxBatch
        var (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        var layers: [any Layer] = []
        var convs: [Conv3x3] = []
        var bns: [BatchNorm] = []
        for (stage, width) in [k, 2 * k, 4 * k].enumerated() {
            for i in 0..<2 {
                let name = "conv\(stage * 2 + i + 1)"
                let conv = Conv3x3(name: name, cin: c, cout: width, h: h, w: w, maxBatch: maxBatch,
                                   needsInputGrad: !convs.isEmpty)
                // The pool closing each stage is fused into the batch norm before it.
                let bn = BatchNorm(name: "bn\(stage * 2 + i + 1)", channels: width, h: h, w: w, maxBatch: maxBatch,
                                   pool: i == 1)
                layers += [conv, bn]; convs.append(conv); bns.append(bn)
                c = width
            }
            h /= 2; w /= 2
        }
        let fc1 = Linear(name: "fc1", inFeatures: h * w * c, outFeatures: 8 * k, bias: false, maxBatch: maxBatch)
        let bn7 = BatchNorm(name: "bn7", channels: 8 * k, positions: 1, maxBatch: maxBatch)
        let fc2 = Linear(name: "fc2", inFeatures: 8 * k, outFeatures: classes, bias: true, maxBatch: maxBatch)
        layers += [fc1, bn7, fc2]
        bns.append(bn7)
        chain = Sequential(layers, handOffPadded: handOffPadded)
        self.convs = convs
        self.batchNorms = bns
        classification = CrossEntropyAccuracy(classes: classes, maxBatch: maxBatch)
    }

    public var params: [Param] { layers.flatMap(\.params) }

    /// Floats per input sample.
    public var inputSize: Int { inputShape.reduce(1, *) }

    /// Weights from the seed; BN starts at identity (`initializeWeights`).
    public func initialize(seed: UInt64, scheme: InitScheme = .pytorch) {
        initializeWeights(weightedLayers, seed: seed, scheme: scheme)
    }

    /// Inference runs each batch norm inside the Winograd conv before it (off only in the test that checks it
    /// changes nothing).
    public var fusedInference = true

    /// Logits for `n` NHWC samples.
    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        chain.forward(x, n: n, training: training, fuseBatchNorm: fusedInference, timer: timer)
    }

    /// Backpropagates dL/dlogits; every parameter's `grad` is overwritten.
    public func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int) {
        chain.backward(dOut, n: n, timer: timer)
    }

    public var weightedLayers: [any WeightedLayer] { layers.compactMap { $0 as? any WeightedLayer } }

    /// Batch-norm running statistics ("bn1.running_mean", each named by its batch norm).
    public var stateTensors: [NamedTensor] { batchNorms.flatMap(\.stateTensors) }
}

extension VGG6 {
    private var fcs: [Linear] { layers.compactMap { $0 as? Linear } }

    /// Samples/pytorch/vgg6.py's names: nn.Sequential `features` ([conv, bn, relu] x 2 + maxpool per stage, so stage
    /// s's convs sit at 7s and 7s + 3), fc1, bn7, fc2; fc1 takes the features flattened CHW.
    public func torchNames() throws -> [TorchTensorName] {
        var n = TorchNaming()
        for (i, c) in convs.enumerated() {
            let index = 7 * (i / 2) + 3 * (i % 2)
            n.conv("features.\(index)", c.weight, bias: nil)
            n.batchNorm("features.\(index + 1)", batchNorms[i])
        }
        let last = convs[convs.count - 1]
        n.linear("fc1", fcs[0], layout: .flattenedHWC(c: last.cout, h: last.h / 2, w: last.w / 2))
        n.batchNorm("bn7", batchNorms[6])
        n.linear("fc2", fcs[1])
        return n.names
    }

    public func writeInference<W: InferenceWriter>(to w: inout W) throws {
        var x = w.normalized(w.input("input", shape: [nil] + inputShape))
        for (i, conv) in convs.enumerated() {
            x = w.relu(try w.batchNorm(try w.conv3x3(x, weight: conv.weight, bias: nil, stride: 1), batchNorms[i]))
            if i % 2 == 1 { x = w.maxPool2x2(x) }
        }
        x = w.relu(try w.batchNorm(try w.linear(w.flatten(x), weight: fcs[0].weight, bias: nil), batchNorms[6]))
        w.output(try w.linear(x, weight: fcs[1].weight, bias: fcs[1].bias), name: "logits", shape: [nil, classes])
    }
}

extension ModelDefinition {
    /// VGG-6(K), the paper's classifier.
    public static let vgg6 = ModelDefinition(
        id: "vgg6", summary: "the paper's VGG-6(K): 2x(K-C3) + MP2 + 2x(2K-C3) + MP2 + 2x(4K-C3) + MP2 + FC(8K) + FC",
        task: .classification, metric: .accuracy,
        options: [ModelOption(key: "k", help: "VGG-6 width K", kind: .integer(default: 16, range: 1...512))],
        title: { "VGG-6(\($0.options.integer("k")))" },
        make: { VGG6(k: $0.options.integer("k"), inputShape: $0.inputShape, classes: $0.classes, maxBatch: $0.maxBatch) },
        memoryBytes: { VGG6.memoryBytes(k: $0.options.integer("k"), inputShape: $0.inputShape, classes: $0.classes, batch: $0.maxBatch) })
}
