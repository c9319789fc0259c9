import BTCore
import Foundation

/// Measures this machine's fused multiply-add throughput, so benchmarks can report the share of peak
/// they reach on the machine they ran on rather than on a datasheet.
public enum FMAPeak {
    /// GFLOP/s (2 flops per lane per FMA) on `threads` threads.
    public static func measure(threads: Int, iterations: Int = 20_000_000) -> Double {
        let start = Date()
        parallelFor(threads) { _ in
            var sink = chain(iterations)
            withUnsafeMutablePointer(to: &sink) { blackHole($0) }
        }
        let seconds = Date().timeIntervalSince(start)
        return Double(threads) * Double(iterations) * 8 * 16 * 2 / seconds / 1e9
    }

    // Eight independent accumulators hide the FMA latency.
    @inline(never)
    static func chain(_ n: Int) -> SIMD16<Float> {
        let a = SIMD16<Float>(repeating: 0.999_999), b = SIMD16<Float>(repeating: 1e-7)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0
        for _ in 0..<n {
            c0 = c0.addingProduct(a, b); c1 = c1.addingProduct(a, b)
            c2 = c2.addingProduct(a, b); c3 = c3.addingProduct(a, b)
            c4 = c4.addingProduct(a, b); c5 = c5.addingProduct(a, b)
            c6 = c6.addingProduct(a, b); c7 = c7.addingProduct(a, b)
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7
    }

    @inline(never)
    static func blackHole(_ p: UnsafeMutablePointer<SIMD16<Float>>) {}
}
