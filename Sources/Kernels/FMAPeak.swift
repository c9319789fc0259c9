import BTCore
import Foundation

/// Measures this machine's fused multiply-add throughput, so benchmarks can report the share of peak
/// they reach on the machine they ran on rather than on a datasheet.
public enum FMAPeak {
    /// GFLOP/s (2 flops per lane per FMA) on `threads` threads.
    /// The best of three short runs, so a clock still ramping up or a passing interruption does not count.
    public static func measure(threads: Int, iterations: Int = 10_000_000) -> Double {
        var best = 0.0
        for _ in 0..<3 {
            let start = Date()
            parallelFor(threads) { _ in
                var sink = chain(iterations)
                withUnsafeMutablePointer(to: &sink) { blackHole($0) }
            }
            let seconds = Date().timeIntervalSince(start)
            best = max(best, Double(threads) * Double(iterations) * 6 * 16 * 2 / seconds / 1e9)
        }
        return best
    }

    // Six independent 16-lane accumulators (twelve AVX2 registers, no spills) hide the FMA latency.
    @inline(never)
    static func chain(_ n: Int) -> SIMD16<Float> {
        let a = SIMD16<Float>(repeating: 0.999_999), b = SIMD16<Float>(repeating: 1e-7)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        for _ in 0..<n {
            c0 = c0.addingProduct(a, b); c1 = c1.addingProduct(a, b)
            c2 = c2.addingProduct(a, b); c3 = c3.addingProduct(a, b)
            c4 = c4.addingProduct(a, b); c5 = c5.addingProduct(a, b)
        }
        return c0 + c1 + c2 + c3 + c4 + c5
    }

    @inline(never)
    static func blackHole(_ p: UnsafeMutablePointer<SIMD16<Float>>) {}
}
