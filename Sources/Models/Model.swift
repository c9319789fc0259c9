import BTCore
import Kernels
import Layers

/// A trainable network: its layers, which of them are quantized, and its objective. The step engine, the
/// checkpoint, the profiler and the trainer see only this, so a second family (super-resolution, denoising) is
/// one more conforming file.
public protocol Model: AnyObject {
    /// What reports and the explorer call it, e.g. "VGG-6(16)".
    var title: String { get }
    /// Floats per input sample.
    var inputSize: Int { get }
    var maxBatch: Int { get }
    /// Every trained tensor, named.
    var params: [Param] { get }
    /// The layers whose weights a quantizer replaces, in order.
    var quantizedLayers: [any QuantizedLayer] { get }
    /// State a checkpoint must hold besides the parameters (batch-norm running statistics).
    var stateTensors: [NamedTensor] { get }
    /// Batch norms, for re-estimating their statistics under another quantizer.
    var batchNorms: [BatchNorm] { get }
    var objective: any Objective { get }
    /// Set by the profiler to time every layer; nil in training.
    var timer: StageTimer? { get set }
    /// Inference runs each batch norm inside the conv before it where the kernel can (off only to measure it).
    var fusedInference: Bool { get set }
    /// Every layer with weights, in order: what initialization, `summary` and export walk over.
    var weightedLayers: [any WeightedLayer] { get }
    /// Multiply-accumulates of one forward pass of one sample (for GFLOP/s reports).
    var forwardMACs: Int { get }
    /// The output for `n` samples.
    func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float>
    /// Backpropagates dL/doutput; every parameter's `grad` is overwritten.
    func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int)
    /// Weights drawn from the seed; batch norms start at identity.
    func initialize(seed: UInt64, scheme: InitScheme)
    /// Its tensors under PyTorch's state_dict names, in state_dict order (safetensors export, `--init-from`,
    /// `eval --weights`); throws a one-line reason when its reference in Samples/pytorch has no such network.
    func torchNames() throws -> [TorchTensorName]
    /// Its inference, for an exporter (ONNX): from the input through the output, as operations.
    func writeInference<W: InferenceWriter>(to w: inout W) throws
}

extension Model {
    /// The weighted layers' multiply-accumulates, summed (the shortcut's add, pooling and batch norm are not MACs).
    public var forwardMACs: Int { weightedLayers.reduce(0) { $0 + $1.macsPerSample } }

    /// Everything that restores the model exactly: parameters, then state.
    public var allTensors: [NamedTensor] { params.map { NamedTensor($0.name, $0.value) } + stateTensors }
}

/// Weights from the seed, layer by layer in order. `.pytorch` is PyTorch's default for Conv2d and Linear
/// (kaiming_uniform with a = sqrt(5): uniform within ±1/sqrt(fan_in), biases too). `.he` is He-normal
/// (std sqrt(2/fan_in), zero biases): about 2.45x larger weights, which with Adam's fixed step size makes
/// latent weights move relatively slower (measured on VGG-6: 2-3 points lower test accuracy at lr 1e-3).
public func initializeWeights(_ layers: [any WeightedLayer], seed: UInt64, scheme: InitScheme) {
    var rng = RNG(seed: seed, stream: .initWeights)
    for layer in layers {
        let w = layer.weight, fanIn = w.shape.dropFirst().reduce(1, *)
        let bound = 1 / Float(fanIn).squareRoot()
        switch scheme {
        case .pytorch:
            rng.fillUniform(w.value.buffer, bound: bound)
            if let b = layer.bias { rng.fillUniform(b.value.buffer, bound: bound) }
        case .he:
            rng.fillGaussian(w.value.buffer, std: (2 / Float(fanIn)).squareRoot())
            layer.bias?.value.buffer.update(repeating: 0)
        }
    }
}
