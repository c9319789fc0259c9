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
/// `make` is the registry: a new method is one file plus one line here.
public struct QuantSpec: Codable, Sendable, Equatable {
    public var method: QuantMethod
    /// TWN's and BT's threshold ratio (the paper's 0.66).
    public var deltaRatio: Float = 0.66
    /// TTQ's threshold as a fraction of max|W| (the reference's 0.05).
    public var ttqT: Float = 0.05
    /// LQ-Nets' bits per weight (1 to 4).
    public var lqBits: Int = 2
    /// BT's one scale: the paper's a_opt, or the least-squares scale of the same codes.
    public var btScale: BTScale = .paper

    enum CodingKeys: String, CodingKey {
        case method, deltaRatio = "delta_ratio", ttqT = "ttq_t", lqBits = "lq_bits", btScale = "bt_scale"
    }

    public init(method: QuantMethod, deltaRatio: Float = 0.66, ttqT: Float = 0.05, lqBits: Int = 2, btScale: BTScale = .paper) {
        self.method = method; self.deltaRatio = deltaRatio; self.ttqT = ttqT; self.lqBits = lqBits; self.btScale = btScale
    }

    /// Specs written before a field existed read it as its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(method: try c.decode(QuantMethod.self, forKey: .method))
        deltaRatio = try c.decodeIfPresent(Float.self, forKey: .deltaRatio) ?? deltaRatio
        ttqT = try c.decodeIfPresent(Float.self, forKey: .ttqT) ?? ttqT
        lqBits = try c.decodeIfPresent(Int.self, forKey: .lqBits) ?? lqBits
        btScale = try c.decodeIfPresent(BTScale.self, forKey: .btScale) ?? btScale
    }

    /// A quantizer for one layer; `layer` names its tensors, `shape` is the weight's (output channels first).
    public func make(layer: String, shape: [Int]) -> any LayerQuantizer {
        switch method {
        case .full: FullPrecision()
        case .bwn: BWN()
        case .twn: TWN(deltaRatio: deltaRatio)
        case .bt: BT(deltaRatio: deltaRatio, scale: btScale)
        case .ttq: TTQ(layer: layer, t: ttqT)
        case .lq: LQNets(layer: layer, outputChannels: shape.first ?? 1, fanIn: shape.dropFirst().reduce(1, *), bits: lqBits)
        }
    }

    /// A fitted quantizer for a weight array with no training behind it (`btviz quantize`, tests).
    public func fitStandalone(_ w: UnsafeBufferPointer<Float>, shape: [Int]) -> QuantFit {
        let q = make(layer: "w", shape: shape)
        q.calibrate(weights: w, toConvergence: true)
        return q.fit(w)
    }

    /// What is wrong with these options, as a one-line error, or nil.
    public var problem: String? {
        guard deltaRatio > 0, deltaRatio < 2 else { return "--delta-ratio must be in (0, 2) (got \(deltaRatio))" }
        guard ttqT > 0, ttqT < 1 else { return "--ttq-t must be in (0, 1) (got \(ttqT))" }
        guard (1...4).contains(lqBits) else { return "--lq-bits must be in 1...4 (got \(lqBits))" }
        return nil
    }
}
