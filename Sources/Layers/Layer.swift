import Kernels

/// One stage of the network. Buffers are owned by the layer and sized for the largest batch once,
/// so a step allocates nothing. `forward` returns the layer's own output buffer; the input pointer
/// stays valid until the next forward, which is what `backward` relies on.
public protocol Layer: AnyObject {
    var params: [Param] { get }
    /// What the profiler calls this layer, e.g. "conv2 16->16 @28x28".
    var label: String { get }
    /// Floats per sample in the output.
    var outputSize: Int { get }
    func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float>
    /// Accumulates parameter gradients (overwrites them) and returns dL/dx, or nil for the first layer.
    func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>?
}

/// A layer with a weight tensor whose first dimension is the output (conv and linear): what
/// initialization walks over. The fan-in is the product of the other dimensions.
public protocol WeightedLayer: Layer {
    var weight: Param { get }
    var bias: Param? { get }
    /// Multiply-accumulates of one forward pass of one sample at the current size (`summary`, GFLOP/s reports).
    var macsPerSample: Int { get }
}

/// How `VGG6.initialize` draws the weights.
public enum InitScheme: String, Codable, CaseIterable, Sendable {
    case pytorch, he
}

/// A layer whose weights are quantized: the optimizer updates `weight` (the latent values), the passes use
/// `effective`, which the engine fills with Q(weight) each step. Backward leaves dL/d(effective) in weight.grad.
public protocol QuantizedLayer: WeightedLayer {
    var effective: FloatBuffer { get }
}
