import Kernels
import Layers
import Quantizers

/// One quantizer per quantized layer for every method a run has used. A method's quantizers are made on first
/// use, calibrated on the weights of that moment, and kept, so switching back to TTQ finds its trained Wp and Wn.
public final class QuantizerBank {
    public let spec: QuantSpec
    private let layers: [(name: String, shape: [Int])]
    private var made: [QuantMethod: [any LayerQuantizer]] = [:]
    /// The methods with quantizers, in the order they were first used (the checkpoint's order).
    public private(set) var methods: [QuantMethod] = []

    public init(spec: QuantSpec, layers: [any QuantizedLayer]) {
        self.spec = spec
        self.layers = layers.map { ($0.weight.name, $0.weight.shape) }
    }

    public func has(_ method: QuantMethod) -> Bool { made[method] != nil }

    /// `method`'s quantizers; made and calibrated on `weights` (one buffer per layer) when first asked for.
    public func quantizers(_ method: QuantMethod, weights: [UnsafeBufferPointer<Float>],
                           toConvergence: Bool = false) -> [any LayerQuantizer] {
        if let q = made[method] { return q }
        var s = spec
        s.method = method
        let q = layers.map { s.make(layer: $0.name, shape: $0.shape) }
        for (quantizer, w) in zip(q, weights) { quantizer.calibrate(weights: w, toConvergence: toConvergence) }
        made[method] = q
        methods.append(method)
        return q
    }

    /// Makes `method`'s quantizers without calibrating (a checkpoint is about to fill them).
    func prepare(_ method: QuantMethod) {
        guard made[method] == nil else { return }
        var s = spec
        s.method = method
        made[method] = layers.map { s.make(layer: $0.name, shape: $0.shape) }
        methods.append(method)
    }

    /// Every quantizer's trained parameters, across methods.
    public var parameters: [Param] { methods.flatMap { made[$0]!.flatMap(\.parameters) } }

    /// Parameter values and state of every method with quantizers: what a checkpoint holds.
    public var tensors: [NamedTensor] { tensors(of: methods) }

    /// Parameter values and state of these methods' quantizers (those that exist).
    public func tensors(of methods: [QuantMethod]) -> [NamedTensor] {
        methods.flatMap { m in
            (made[m] ?? []).flatMap { q in q.parameters.map { NamedTensor($0.name, $0.value) } + q.state }
        }
    }
}
