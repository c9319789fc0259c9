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
    /// Multiply-accumulates of one forward pass of one sample (for GFLOP/s reports).
    var forwardMACs: Int { get }
    /// The output for `n` samples.
    func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float>
    /// Backpropagates dL/doutput; every parameter's `grad` is overwritten.
    func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int)
}

extension Model {
    /// Everything that restores the model exactly: parameters, then state.
    public var allTensors: [NamedTensor] { params.map { NamedTensor($0.name, $0.value) } + stateTensors }
}
