import CBLAS

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, through OpenBLAS.
/// The engine splits work across cores itself, so OpenBLAS runs single-threaded in each caller.
public enum Gemm {
    /// Runs once, on first use: OpenBLAS's own threads inside our workers oversubscribe the cores (measured: a
    /// K=8 training run inside XCTest, which never called the CLI's setup, ran about 10x slower).
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    public static func configure() { _ = singleThreaded }

    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
