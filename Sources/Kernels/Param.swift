/// A trainable tensor: latent value, gradient, and what the optimizer and reports need to know.
/// Named by its path ("conv1", "bn1.gamma", "quant.ttq.conv1.wp"): the optimizer and the checkpoint key on it.
public final class Param: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let value: FloatBuffer
    public let grad: FloatBuffer
    /// Conv weights: quantized in the forward pass, latent values updated by the optimizer.
    public let quantized: Bool

    public init(name: String, shape: [Int], quantized: Bool = false) {
        self.name = name
        self.shape = shape
        self.quantized = quantized
        let n = shape.reduce(1, *)
        value = FloatBuffer(count: n)
        grad = FloatBuffer(count: n)
    }

    public var count: Int { value.count }
}

/// A named tensor that is state, not trained by gradient (BN running statistics, LQ-Nets' basis).
public struct NamedTensor {
    public let name: String
    public let buffer: FloatBuffer
    public init(_ name: String, _ buffer: FloatBuffer) { self.name = name; self.buffer = buffer }
}
