import Kernels

/// One quantized layer's quantizer: an object that lives as long as the run, because some methods carry
/// trained parameters (TTQ's Wp and Wn) or state (LQ-Nets' basis). A step goes:
/// fit (on the clean latent weights) -> Q(W) from the fit -> forward/backward -> `backward` turns dL/dQ into
/// dL/dW and fills the quantizer's own gradients -> `update` (training steps only) -> the optimizer.
public protocol LayerQuantizer: AnyObject {
    var method: QuantMethod { get }
    /// The table of levels and transitions for these weights (reads the quantizer's parameters, changes nothing).
    func fit(_ w: UnsafeBufferPointer<Float>) -> QuantFit
    /// On entry `grad` holds dL/dQ; on return dL/dW. The quantizer's own parameters' gradients are overwritten.
    func backward(weights w: UnsafeBufferPointer<Float>, fit: QuantFit, grad: UnsafeMutableBufferPointer<Float>)
    /// Non-gradient state (LQ-Nets' basis), after the step's forward pass; never called in evaluation.
    func update(weights w: UnsafeBufferPointer<Float>, fit: QuantFit)
    /// Sets the parameters and state as well as possible for these weights without training (first use, and
    /// `btviz quantize`): TTQ's least-squares scales, LQ-Nets' alternating least squares.
    func calibrate(weights w: UnsafeBufferPointer<Float>, toConvergence: Bool)
    /// Trained by the optimizer and checkpointed, named "quant.<method>.<layer>.<what>".
    var parameters: [Param] { get }
    /// Checkpointed, not trained.
    var state: [NamedTensor] { get }
}

/// Methods with no parameters of their own: the identity straight-through estimator, nothing to update.
public protocol StatelessQuantizer: LayerQuantizer {}

extension StatelessQuantizer {
    public func backward(weights w: UnsafeBufferPointer<Float>, fit: QuantFit, grad: UnsafeMutableBufferPointer<Float>) {}
    public func update(weights w: UnsafeBufferPointer<Float>, fit: QuantFit) {}
    public func calibrate(weights w: UnsafeBufferPointer<Float>, toConvergence: Bool) {}
    public var parameters: [Param] { [] }
    public var state: [NamedTensor] { [] }
}

/// A method with its options: what a run, a checkpoint and `btviz quantize` need to build a quantizer.
/// Coded as {"method": "bt", "delta_ratio": 0.66, ...}: every registry option under its key.
public struct QuantSpec: Codable, Sendable, Equatable {
    public var method: QuantMethod
    /// Every method's options (a run may switch methods), defaults where not set.
    public var options = QuantOptions()

    public init(method: QuantMethod, options: QuantOptions = QuantOptions()) {
        self.method = method; self.options = options
    }

    public init(method: QuantMethod, deltaRatio: Float = 0.66, ttqT: Float = 0.05, lqBits: Int = 2, btScale: BTScale = .paper) {
        self.method = method
        self.deltaRatio = deltaRatio; self.ttqT = ttqT; self.lqBits = lqBits; self.btScale = btScale
    }

    /// Typed views of the first methods' options (the definitions read them so; newer methods read `options`).
    public var deltaRatio: Float { get { options.real("delta_ratio") } set { options["delta_ratio"] = .real(newValue) } }
    public var ttqT: Float { get { options.real("ttq_t") } set { options["ttq_t"] = .real(newValue) } }
    public var lqBits: Int { get { options.integer("lq_bits") } set { options["lq_bits"] = .integer(newValue) } }
    public var btScale: BTScale {
        get { BTScale(rawValue: options.choice("bt_scale")) ?? .paper }
        set { options["bt_scale"] = .choice(newValue.rawValue) }
    }

    enum CodingKeys: String, CodingKey { case method }

    /// Specs written before an option existed read it as its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(QuantMethod.self, forKey: .method))
        try options.decode(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try options.encode(to: encoder)
    }

    /// A quantizer for one layer; `layer` names its tensors, `shape` is the weight's (output channels first).
    public func make(layer: String, shape: [Int]) -> any LayerQuantizer {
        method.definition.make(self, layer, shape)
    }

    /// A fitted quantizer for a weight array with no training behind it (`btviz quantize`, tests).
    public func fitStandalone(_ w: UnsafeBufferPointer<Float>, shape: [Int]) -> QuantFit {
        let q = make(layer: "w", shape: shape)
        q.calibrate(weights: w, toConvergence: true)
        return q.fit(w)
    }

    /// The first option out of range, named by its key (the command line names its flag).
    public var problem: QuantProblem? { options.problem }
}
