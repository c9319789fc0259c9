import BTCore
import Kernels
import XCTest

final class KernelTests: XCTestCase {
    /// OpenBLAS through the wrapper agrees with a naive triple loop, for every transpose combination.
    func testGemmMatchesNaive() {
        var rng = RNG(seed: 1)
        let (m, n, k) = (7, 5, 9)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
            rng.fillGaussian(a.buffer, std: 1); rng.fillGaussian(b.buffer, std: 1)
            Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a.ptr, lda: ta ? m : k, b: b.ptr, ldb: tb ? k : n,
                       c: c.ptr, ldc: n)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]) }
                    XCTAssertEqual(c[i * n + j], s, accuracy: 1e-4)
                }
            }
        }
    }

    /// col2im is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)> for random x and y.
    func testIm2colAdjoint() {
        var rng = RNG(seed: 2)
        for c in [1, 3, 16] {
            let (imgs, h, w) = (2, 5, 4)
            let x = FloatBuffer(count: imgs * h * w * c), cols = FloatBuffer(count: imgs * h * w * 9 * c)
            let y = FloatBuffer(count: cols.count), back = FloatBuffer(count: x.count)
            rng.fillGaussian(x.buffer, std: 1); rng.fillGaussian(y.buffer, std: 1)
            Im2col.forward(x.ptr, images: imgs, h: h, w: w, c: c, into: cols.ptr)
            Im2col.backward(y.ptr, images: imgs, h: h, w: w, c: c, into: back.ptr)
            let lhs = (0..<cols.count).reduce(0.0) { $0 + Double(cols[$1]) * Double(y[$1]) }
            let rhs = (0..<x.count).reduce(0.0) { $0 + Double(x[$1]) * Double(back[$1]) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)))
        }
    }

    /// A hand-worked patch: the centre pixel's row holds its 3x3 neighbourhood, zero-padded at borders.
    func testIm2colPatch() {
        let x = FloatBuffer((1...9).map(Float.init))  // 3x3, one channel
        let cols = FloatBuffer(count: 81)
        Im2col.forward(x.ptr, images: 1, h: 3, w: 3, c: 1, into: cols.ptr)
        XCTAssertEqual(Array(cols.buffer[36..<45]), (1...9).map(Float.init))      // centre (1,1)
        XCTAssertEqual(Array(cols.buffer[0..<9]), [0, 0, 0, 0, 1, 2, 0, 4, 5])   // corner (0,0)
    }
}
