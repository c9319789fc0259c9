import Kernels
import Layers

/// Adam over a fixed list of parameters. Its moments are part of the checkpoint, and they are kept
/// when the quantizer changes mid-run (the latent weights they belong to do not change).
public final class Adam {
    public let params: [Param]
    public let m: [FloatBuffer]
    public let v: [FloatBuffer]
    public var t: Int = 0
    public let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8

    public init(params: [Param]) {
        self.params = params
        m = params.map { FloatBuffer(count: $0.count) }
        v = params.map { FloatBuffer(count: $0.count) }
    }

    public func step(lr: Float) {
        t += 1
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        let (b1, b2, eps) = (beta1, beta2, eps)
        let stepSize = lr / c1, invC2 = 1 / c2
        for (i, p) in params.enumerated() {
            let w = p.value.ptr, g = p.grad.ptr, mi = m[i].ptr, vi = v[i].ptr
            for j in 0..<p.count {
                let gj = g[j]
                mi[j] = b1 * mi[j] + (1 - b1) * gj
                vi[j] = b2 * vi[j] + (1 - b2) * gj * gj
                w[j] -= stepSize * mi[j] / ((vi[j] * invC2).squareRoot() + eps)
            }
        }
    }
}

/// Cosine decay from `base` to 0 over `total` steps.
public func cosineLearningRate(base: Float, step: Int, total: Int) -> Float {
    guard total > 0 else { return base }
    return base * 0.5 * (1 + cosf(Float.pi * Float(min(step, total)) / Float(total)))
}

#if canImport(Glibc)
import Glibc
#endif
