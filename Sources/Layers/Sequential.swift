import Kernels

/// Layers applied in order, with the wiring every chain of them needs, written once: a batch norm hands its output
/// straight into the next conv's zero-padded input (`handOffPadded`), inference can run a batch norm inside the
/// Winograd conv before it, and each layer's pass is timed by name when a profiler's timer is given.
public final class Sequential {
    public let layers: [any Layer]

    /// `handOffPadded` is off where the spatial size changes between passes (the restoration net's whole-image
    /// evaluation resizes every buffer) and in the test that checks it changes nothing.
    public init(_ layers: [any Layer], handOffPadded: Bool) {
        self.layers = layers
        for (bn, next) in zip(layers, layers.dropFirst()) where handOffPadded {
            if let bn = bn as? BatchNorm, let conv = next as? Conv3x3, let buffer = conv.paddedInputBuffer {
                bn.paddedOutput = buffer
                conv.inputArrivesPadded = true
            }
        }
    }

    public var params: [Param] { layers.flatMap(\.params) }

    /// The chain's output for `n` samples. With `fuseBatchNorm` (inference only), each conv whose kernel can take a
    /// batch norm (and its pool) as the epilogue of its output transform runs both in one pass.
    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool, fuseBatchNorm: Bool = false,
                        timer: StageTimer? = nil) -> UnsafeMutablePointer<Float> {
        var h = x
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            if !training && fuseBatchNorm, let conv = layer as? Conv3x3, i + 1 < layers.count,
               let bn = layers[i + 1] as? BatchNorm, conv.fusesEpilogue(pooling: bn.pool) {
                h = timed(timer, conv.label + " +" + bn.label, .forward) { conv.infer(h, n: n, epilogue: bn.inferenceEpilogue()) }
                i += 2
                continue
            }
            h = timed(timer, layer.label, .forward) { layer.forward(h, n: n, training: training) }
            i += 1
        }
        return h
    }

    /// Backpropagates `dOut` through every layer (each overwrites its parameters' gradients); returns dL/dx, or nil
    /// where the first layer computes none.
    @discardableResult
    public func backward(_ dOut: UnsafeMutablePointer<Float>, n: Int, timer: StageTimer? = nil) -> UnsafeMutablePointer<Float>? {
        var g: UnsafeMutablePointer<Float>? = dOut
        for layer in layers.reversed() {
            guard let gi = g else { break }
            g = timed(timer, layer.label, .backward) { layer.backward(gi, n: n) }
        }
        return g
    }
}
