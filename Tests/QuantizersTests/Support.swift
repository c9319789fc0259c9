import Kernels
import Quantizers

extension Array where Element == Float {
    /// The fit of `method` to these weights as one output channel per `channels` rows (no training behind it).
    func fitted(_ method: QuantMethod, deltaRatio: Float = 0.66, channels: Int = 1, bits: Int = 2) -> QuantFit {
        withUnsafeBufferPointer {
            QuantSpec(method: method, deltaRatio: deltaRatio, lqBits: bits).fitStandalone($0, shape: [channels, count / channels])
        }
    }
}

extension QuantFit {
    /// Q(x) for a weight of channel c.
    func value(_ x: Float, channel c: Int = 0) -> Float { level(levelIndex(x, channel: c), channel: c) }
}
