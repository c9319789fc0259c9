/// Deterministic random numbers (xoshiro256**, seeded through SplitMix64).
/// Every random stream in btviz is derived from (seed, purpose, counter), so a run
/// resumed from a checkpoint draws exactly what the uninterrupted run would have.
public struct RNG: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(&x), splitmix(&x), splitmix(&x), splitmix(&x))
    }

    /// A stream for one purpose at one counter value, e.g. `RNG(seed, stream: .shuffle, 3)`.
    public init(seed: UInt64, stream: RNGStream, _ counter: UInt64 = 0) {
        self.init(seed: seed ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03) ^ (counter &* 0x9E37_79B9_7F4A_7C15))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<n.
    @inline(__always)
    public mutating func below(_ n: Int) -> Int {
        Int((next() >> 11) % UInt64(n))
    }

    /// Standard normal (Box-Muller; both outputs are used by `fillGaussian`).
    public mutating func gaussian() -> Float {
        var g: (Float, Float) = (0, 0)
        gaussianPair(&g)
        return g.0
    }

    @inline(__always)
    public mutating func gaussianPair(_ g: inout (Float, Float)) {
        let u1 = max(Float(next() >> 40) * (1.0 / 16_777_216.0), 1e-12)
        let u2 = Float(next() >> 40) * (1.0 / 16_777_216.0)
        let r = (-2 * logf(u1)).squareRoot()
        let t = 2 * Float.pi * u2
        g = (r * cosf(t), r * sinf(t))
    }

    public mutating func fillGaussian(_ out: UnsafeMutableBufferPointer<Float>, std: Float) {
        var i = 0
        var g: (Float, Float) = (0, 0)
        while i + 1 < out.count {
            gaussianPair(&g)
            out[i] = g.0 * std; out[i + 1] = g.1 * std
            i += 2
        }
        if i < out.count { out[i] = gaussian() * std }
    }

    /// Uniform in [-bound, bound).
    public mutating func fillUniform(_ out: UnsafeMutableBufferPointer<Float>, bound: Float) {
        for i in 0..<out.count { out[i] = (2 * uniform() - 1) * bound }
    }

    /// Fisher-Yates shuffle of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) } }
        return p
    }
}

/// Named random streams, so adding a new use of randomness never shifts an existing one.
public enum RNGStream: UInt64, Sendable {
    case initWeights = 1, shuffle, augment, regularizerNoise, synthetic, syntheticTest, calibration
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
