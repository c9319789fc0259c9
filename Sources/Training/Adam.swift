import BTCore
import Kernels
import Layers

/// Adam over named tensors. Moments are made for a parameter the first time it is stepped (a quantizer's Wp
/// when TTQ is first used), each with its own step count for the bias correction, as PyTorch keeps it. Moments
/// are kept when the quantizer changes mid-run: the latent weights they belong to do not change.
public final class Adam {
    public final class Moments {
        public let m: FloatBuffer, v: FloatBuffer
        public var t = 0
        init(count: Int) { m = FloatBuffer(count: count); v = FloatBuffer(count: count) }
    }
    public private(set) var moments: [String: Moments] = [:]
    /// Names in the order their moments were made (the checkpoint's order).
    public private(set) var names: [String] = []
    public let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8

    public init() {}

    /// The moments of `name`, made (zero) if new.
    public func moments(for name: String, count: Int) -> Moments {
        if let s = moments[name] { return s }
        let s = Moments(count: count)
        moments[name] = s
        names.append(name)
        return s
    }

    /// The largest step count (what older checkpoints stored as one number).
    public var t: Int { moments.values.map(\.t).max() ?? 0 }

    /// Elements a block of the update holds: every parameter's elements are cut into blocks of this many, and the
    /// blocks of all parameters go out to the workers in one region. The update is elementwise, so the result is
    /// the same however it is cut or whoever runs a block.
    static let blockElements = 16_384

    public func step(_ params: [Param], lr: Float) {
        let (b1, b2, eps) = (beta1, beta2, eps)
        var factors: [(stepSize: Float, invC2: Float, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>)] = []
        for p in params {
            let s = moments(for: p.name, count: p.count)
            s.t += 1
            let c1 = 1 - powf(b1, Float(s.t)), c2 = 1 - powf(b2, Float(s.t))
            factors.append((lr / c1, 1 / c2, s.m.ptr, s.v.ptr))
        }
        parallelElements(Workers.count, counts: params.map(\.count), block: Self.blockElements) { i, range in
            let p = params[i], f = factors[i]
            let w = p.value.ptr, g = p.grad.ptr, mi = f.m, vi = f.v, stepSize = f.stepSize, invC2 = f.invC2
            for j in range {
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
