import BTCore
import Kernels

/// Sub-pixel upsampling (PyTorch's PixelShuffle) in NHWC: [n, h, w, c*s*s] -> [n, h*s, w*s, c], where
/// out[y*s + i, x*s + j, k] = in[y, x, k*s*s + i*s + j]. A permutation: backward is its inverse.
public final class PixelShuffle: Layer {
    public let scale: Int, channels: Int
    public private(set) var h: Int, w: Int
    public var outputSize: Int { h * w * scale * scale * channels }
    public var params: [Param] { [] }
    public var label: String { "shuffle x\(scale) @\(h)x\(w)" }

    private let out: FloatBuffer, dx: FloatBuffer

    /// `channels` is the output's; room for `capacity` output floats, and for `trainCapacity` in backward
    /// (the training batch's; whole-image inference needs none).
    public init(scale: Int, channels: Int, h: Int, w: Int, capacity: Int, trainCapacity: Int? = nil) {
        self.scale = scale; self.channels = channels; self.h = h; self.w = w
        out = FloatBuffer(count: capacity)
        dx = FloatBuffer(count: trainCapacity ?? capacity)
    }

    /// The input's size.
    public func setSpatial(h: Int, w: Int) { self.h = h; self.w = w }

    public func forward(_ x: UnsafeMutablePointer<Float>, n: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        precondition(n * outputSize <= out.count, "\(label): \(n) samples do not fit")
        permute(n: n, input: x, output: out.ptr, forward: true)
        return out.ptr
    }

    public func backward(_ dy: UnsafeMutablePointer<Float>, n: Int) -> UnsafeMutablePointer<Float>? {
        precondition(n * outputSize <= dx.count, "\(label): training needs the size it was made for")
        permute(n: n, input: dx.ptr, output: dy, forward: false)
        return dx.ptr
    }

    /// Copies input -> output (forward) or back, split over the input's rows.
    private func permute(n: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, forward: Bool) {
        let (s, c, h, w) = (scale, channels, h, w), cs = c * s * s, rows = n * h
        let workers = min(Workers.count, rows)
        parallelFor(workers) { wk in
            for r in workerRange(wk, of: workers, total: rows) {
                let img = r / h, y = r % h
                for x in 0..<w {
                    let src = input + (r * w + x) * cs
                    for i in 0..<s {
                        for j in 0..<s {
                            let dst = output + ((img * h * s + y * s + i) * w * s + x * s + j) * c
                            let from = src + i * s + j
                            if forward {
                                for k in 0..<c { dst[k] = from[k * s * s] }
                            } else {
                                for k in 0..<c { from[k * s * s] = dst[k] }
                            }
                        }
                    }
                }
            }
        }
    }
}
