import CBLAS
/// Winograd F(2x2, 3x3) convolution on zero-padded NHWC images (the same padded buffers DirectConv uses).
///
/// Why: each 2x2 block of outputs costs 16 multiply-adds per (input, output) channel pair instead of 36,
/// and at 16 to 64 channels the multiply-adds are most of the layer's cost. The 4x4 input patches
/// (stride 2) are transformed to V = Bt d B, sixteen small matrix products M = V U run against the
/// transformed weights U = G g Gt, and Y = At M A gives the outputs. Tiles go through all three steps a
/// chunk at a time, so V and M stay in L1. Error is a few ulps of the sums (the tests compare against
/// the GEMM path).
public enum Winograd {
    public typealias V = SIMD16<Float>

    /// With AVX-512 a V is one register and there are 32: the products take 32 output channels by up to six
    /// tiles (12 accumulators), which moves them from load-bound to FMA-bound. On AVX2 that tile would spill.
    nonisolated(unsafe) public static var wideTiles: Bool = btviz_cpu_has_avx512f() != 0

    /// Rows per call of the 16-channel `product` in F(4x4). On AVX2 a 16-float vector is two registers and six
    /// rows are the classic 6x16 tile (12 accumulators, 2 of U, 1 broadcast: 15 of 16 registers); measured
    /// on Zen 3, 6 rows cut VGG-6(16) inference 10% against 5. AVX-512 keeps the 5 it was tuned with.
    static let productRows = btviz_cpu_has_avx512f() != 0 ? 5 : 6

    /// Input channels in blocks of 8 (the transforms' vector width), output channels in blocks of 16.
    public static func supports(cin: Int, cout: Int) -> Bool { cin % 8 == 0 && cout % 16 == 0 }

    /// Tiles per chunk: V and M stay in L1 or L2, and 7x7's 16 tiles fit one chunk.
    static let chunk = 20

    /// Floats of scratch one worker needs.
    public static func scratchCount(cin: Int, cout: Int) -> Int { 16 * chunk * (cin + cout) }

    /// U[p, ci, co] = (G g Gt)[p] for the 3x3 kernel g of each (ci, co); `wt` is [9*cin, cout] as for
    /// DirectConv, `u` is [16, cin, cout].
    public static func transformWeights(_ wt: UnsafePointer<Float>, cin: Int, cout: Int, into u: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin {
            for co in 0..<cout {
                func g(_ ky: Int, _ kx: Int) -> Float { wt[((ky * 3 + kx) * cin + ci) * cout + co] }
                func store(_ i: Int, _ r: (Float, Float, Float, Float)) {
                    u[((i * 4) * cin + ci) * cout + co] = r.0
                    u[((i * 4 + 1) * cin + ci) * cout + co] = r.1
                    u[((i * 4 + 2) * cin + ci) * cout + co] = r.2
                    u[((i * 4 + 3) * cin + ci) * cout + co] = r.3
                }
                // G down each kernel column, then each row of the result times Gt.
                let c0 = gt(g(0, 0), g(1, 0), g(2, 0)), c1 = gt(g(0, 1), g(1, 1), g(2, 1)), c2 = gt(g(0, 2), g(1, 2), g(2, 2))
                store(0, gt(c0.0, c1.0, c2.0)); store(1, gt(c0.1, c1.1, c2.1))
                store(2, gt(c0.2, c1.2, c2.2)); store(3, gt(c0.3, c1.3, c2.3))
            }
        }
    }

    @inline(__always)
    static func gt(_ a: Float, _ b: Float, _ c: Float) -> (Float, Float, Float, Float) { (a, (a + b + c) / 2, (a - b + c) / 2, c) }

    @inline(__always)
    static func bt(_ d0: Vec8, _ d1: Vec8, _ d2: Vec8, _ d3: Vec8) -> (Vec8, Vec8, Vec8, Vec8) {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }

    @inline(__always)
    static func at(_ m0: Vec8, _ m1: Vec8, _ m2: Vec8, _ m3: Vec8) -> (Vec8, Vec8) { (m0 + m1 + m2, m1 - m2 - m3) }

    /// What inference does with a conv's output in the same pass (the batch norm after it, in eval mode):
    /// v = y * scale + shift per channel (one FMA, as BatchNorm's), ReLU, and a 2x2 max pool, which is exactly one
    /// F(2x2) output tile (and a quarter of an F(4x4) one: Winograd4 takes the same epilogue). Written to `out`, [n, oh, ow, c] or the interior of zero-padded [n, oh+2, ow+2, c]
    /// images (the next conv's input).
    public struct Epilogue {
        public let scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
        public let relu: Bool, pool: Bool
        public let out: UnsafeMutablePointer<Float>
        public let padded: Bool
        public init(scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, relu: Bool, pool: Bool,
                    out: UnsafeMutablePointer<Float>, padded: Bool) {
            self.scale = scale; self.shift = shift; self.relu = relu; self.pool = pool; self.out = out; self.padded = padded
        }
    }

    /// y[img] = conv3x3(x[img], g) for each image, from padded inputs `xp` ([n, h+2, w+2, cin]) and
    /// transformed weights `u`. `scratch` holds scratchCount floats for this worker. With an epilogue the
    /// output goes through it to its own destination instead of `y`.
    public static func forward(_ xp: UnsafePointer<Float>, images: Range<Int>, h: Int, w: Int, cin: Int, cout: Int,
                               u: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>,
                               epilogue: Epilogue? = nil) {
        let tw = (w + 1) / 2, tiles = ((h + 1) / 2) * tw
        let v = scratch, m = scratch + 16 * chunk * cin  // [16, chunk, cin] and [16, chunk, cout]
        for img in images {
            let src = xp + img * (h + 2) * (w + 2) * cin, dst = y + img * h * w * cout
            for first in stride(from: 0, to: tiles, by: chunk) {
                let count = min(chunk, tiles - first)
                transformInput(src, tiles: first..<first + count, tw: tw, h: h, w: w, c: cin, into: v, pointStride: chunk * cin)
                let wide = wideTiles && cout % 32 == 0
                for p in 0..<16 {
                    let up = u + p * cin * cout
                    if wide {
                        for cb in stride(from: 0, to: cout, by: 32) {
                            // Groups of up to six, balanced.
                            var t = 0, groups = (count + 5) / 6
                            while t < count {
                                let rows = (count - t + groups - 1) / groups
                                let vt = v + (p * chunk + t) * cin, mt = m + (p * chunk + t) * cout + cb
                                switch rows {
                                case 6: product32(vt, up + cb, k: cin, cout: cout, rows: 6, into: mt)
                                case 5: product32(vt, up + cb, k: cin, cout: cout, rows: 5, into: mt)
                                default: product32(vt, up + cb, k: cin, cout: cout, rows: rows, into: mt)
                                }
                                t += rows; groups -= 1
                            }
                        }
                        continue
                    }
                    for cb in stride(from: 0, to: cout, by: 16) {
                        // Groups of up to five, balanced (7x7's sixteen tiles go as four groups of four).
                        var t = 0, groups = (count + 4) / 5
                        while t < count {
                            let rows = (count - t + groups - 1) / groups
                            let vt = v + (p * chunk + t) * cin, mt = m + (p * chunk + t) * cout + cb
                            switch rows {
                            case 5: product(vt, up + cb, k: cin, cout: cout, rows: 5, into: mt)
                            case 4: product(vt, up + cb, k: cin, cout: cout, rows: 4, into: mt)
                            default: product(vt, up + cb, k: cin, cout: cout, rows: rows, into: mt)
                            }
                            t += rows; groups -= 1
                        }
                    }
                }
                for t in 0..<count {
                    if let e = epilogue {
                        transformOutput(m + t * cout, pointStride: chunk * cout, tile: first + t, tw: tw, h: h, w: w, c: cout,
                                        image: img, through: e)
                    } else {
                        transformOutput(m + t * cout, pointStride: chunk * cout, tile: first + t, tw: tw, h: h, w: w, c: cout, into: dst)
                    }
                }
            }
        }
    }

    /// Up to six consecutive rows of V times U, 16 output channels, accumulated in registers.
    @inline(__always)
    static func product(_ v: UnsafePointer<Float>, _ u: UnsafePointer<Float>, k: Int, cout: Int, rows: Int,
                        into out: UnsafeMutablePointer<Float>) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
        let (k2, k3, k4, k5) = (2 * k, 3 * k, 4 * k, 5 * k)
        for i in 0..<k {
            let uv = UnsafeRawPointer(u + i &* cout).loadUnaligned(as: V.self)
            let x = v + i
            a0.addProduct(V(repeating: x[0]), uv)
            if rows > 1 { a1.addProduct(V(repeating: x[k]), uv) }
            if rows > 2 { a2.addProduct(V(repeating: x[k2]), uv) }
            if rows > 3 { a3.addProduct(V(repeating: x[k3]), uv) }
            if rows > 4 { a4.addProduct(V(repeating: x[k4]), uv) }
            if rows > 5 { a5.addProduct(V(repeating: x[k5]), uv) }
        }
        func store(_ r: Int, _ a: V) {
            if r < rows { UnsafeMutableRawPointer(out + r * cout).storeBytes(of: a, as: V.self) }
        }
        store(0, a0); store(1, a1); store(2, a2); store(3, a3); store(4, a4); store(5, a5)
    }

    /// Up to six consecutive rows of V times U, 32 output channels (two registers a row), for AVX-512.
    @inline(__always)
    static func product32(_ v: UnsafePointer<Float>, _ u: UnsafePointer<Float>, k: Int, cout: Int, rows: Int,
                          into out: UnsafeMutablePointer<Float>) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
        var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V()
        let (k2, k3, k4, k5) = (2 * k, 3 * k, 4 * k, 5 * k)
        for i in 0..<k {
            let up = UnsafeRawPointer(u + i &* cout)
            let u0 = up.loadUnaligned(as: V.self), u1 = up.loadUnaligned(fromByteOffset: 64, as: V.self)
            let x = v + i
            let x0 = V(repeating: x[0])
            a0.addProduct(x0, u0); b0.addProduct(x0, u1)
            if rows > 1 { let x1 = V(repeating: x[k]); a1.addProduct(x1, u0); b1.addProduct(x1, u1) }
            if rows > 2 { let x2 = V(repeating: x[k2]); a2.addProduct(x2, u0); b2.addProduct(x2, u1) }
            if rows > 3 { let x3 = V(repeating: x[k3]); a3.addProduct(x3, u0); b3.addProduct(x3, u1) }
            if rows > 4 { let x4 = V(repeating: x[k4]); a4.addProduct(x4, u0); b4.addProduct(x4, u1) }
            if rows > 5 { let x5 = V(repeating: x[k5]); a5.addProduct(x5, u0); b5.addProduct(x5, u1) }
        }
        func store(_ r: Int, _ a: V, _ b: V) {
            guard r < rows else { return }
            let o = UnsafeMutableRawPointer(out + r * cout)
            o.storeBytes(of: a, as: V.self); o.storeBytes(of: b, toByteOffset: 64, as: V.self)
        }
        store(0, a0, b0); store(1, a1, b1); store(2, a2, b2); store(3, a3, b3); store(4, a4, b4); store(5, a5, b5)
    }

    /// Bt d B of the 4x4 padded patches of `tiles`, all channels, into rows `pointStride` apart (the
    /// first tile's at `out`). Neighbouring tiles share two patch columns, so each column's Bt is
    /// computed once. Patch rows and columns past the padded image (odd sizes) read as zero.
    static func transformInput(_ src: UnsafePointer<Float>, tiles: Range<Int>, tw: Int, h: Int, w: Int, c: Int,
                               into out: UnsafeMutablePointer<Float>, pointStride: Int) {
        let (ph, pw) = (h + 2, w + 2)
        for ch in stride(from: 0, to: c, by: 8) {
            var carried = (Vec8(), Vec8(), Vec8(), Vec8()), carried1 = carried, haveLeft = false
            for t in tiles {
                let (ty, tx) = (t / tw, t % tw)
                let patch = src + ((2 * ty) * pw + 2 * tx) * c + ch
                let (rowsLeft, colsLeft) = (ph - 2 * ty, pw - 2 * tx)  // patch rows/columns inside the image
                // Bt down patch column j.
                func column(_ j: Int) -> (Vec8, Vec8, Vec8, Vec8) {
                    let p = patch + j * c
                    if rowsLeft >= 4 && j < colsLeft {
                        return bt(p.load8(), (p + pw * c).load8(), (p + 2 * pw * c).load8(), (p + 3 * pw * c).load8())
                    }
                    func d(_ i: Int) -> Vec8 { i < rowsLeft && j < colsLeft ? (p + i * pw * c).load8() : Vec8() }
                    return bt(d(0), d(1), d(2), d(3))
                }
                let shared = haveLeft && tx > 0
                let c0 = shared ? carried : column(0), c1 = shared ? carried1 : column(1)
                let c2 = column(2), c3 = column(3)
                (carried, carried1, haveLeft) = (c2, c3, true)
                // Each row of Bt d times B.
                let o = out + (t - tiles.lowerBound) * c + ch, s = pointStride
                func store(_ i: Int, _ r: (Vec8, Vec8, Vec8, Vec8)) {
                    let q = o + 4 * i * s
                    q.store8(r.0); (q + s).store8(r.1); (q + 2 * s).store8(r.2); (q + 3 * s).store8(r.3)
                }
                store(0, bt(c0.0, c1.0, c2.0, c3.0)); store(1, bt(c0.1, c1.1, c2.1, c3.1))
                store(2, bt(c0.2, c1.2, c2.2, c3.2)); store(3, bt(c0.3, c1.3, c2.3, c3.3))
            }
        }
    }

    /// The tile's 2x2 outputs, At M A, from its 16 rows of M `pointStride` apart; outputs past an odd
    /// edge are cropped.
    @inline(__always)
    static func transformOutput(_ m: UnsafePointer<Float>, pointStride: Int, tile: Int, tw: Int, h: Int, w: Int, c: Int,
                                into y: UnsafeMutablePointer<Float>) {
        let (ty, tx) = (tile / tw, tile % tw)
        let corner = y + ((2 * ty) * w + 2 * tx) * c
        let (rows, cols) = (min(2, h - 2 * ty), min(2, w - 2 * tx))
        for ch in stride(from: 0, to: c, by: 8) {
            func mv(_ i: Int, _ j: Int) -> Vec8 { (m + (4 * i + j) * pointStride + ch).load8() }
            // At down each column, then each of the two rows times A.
            let c0 = at(mv(0, 0), mv(1, 0), mv(2, 0), mv(3, 0)), c1 = at(mv(0, 1), mv(1, 1), mv(2, 1), mv(3, 1))
            let c2 = at(mv(0, 2), mv(1, 2), mv(2, 2), mv(3, 2)), c3 = at(mv(0, 3), mv(1, 3), mv(2, 3), mv(3, 3))
            let r0 = at(c0.0, c1.0, c2.0, c3.0), r1 = at(c0.1, c1.1, c2.1, c3.1)
            let o = corner + ch
            if rows == 2 && cols == 2 {
                o.store8(r0.0); (o + c).store8(r0.1); (o + w * c).store8(r1.0); (o + (w + 1) * c).store8(r1.1)
            } else {
                o.store8(r0.0)
                if cols == 2 { (o + c).store8(r0.1) }
                if rows == 2 { (o + w * c).store8(r1.0) }
            }
        }
    }

    /// The tile's outputs through an epilogue: affine, ReLU, and either the 2x2 max (a partial tile at an odd edge
    /// has no pooled output: floor pooling) or the pixels themselves.
    static func transformOutput(_ m: UnsafePointer<Float>, pointStride: Int, tile: Int, tw: Int, h: Int, w: Int, c: Int,
                                image img: Int, through e: Epilogue) {
        let (ty, tx) = (tile / tw, tile % tw)
        let (rows, cols) = (min(2, h - 2 * ty), min(2, w - 2 * tx))
        if e.pool && (rows < 2 || cols < 2) { return }
        let (oh, ow) = e.pool ? (h / 2, w / 2) : (h, w)
        let (pad, rowLength) = e.padded ? (1, ow + 2) : (0, ow)
        let base = e.out + img * (oh + 2 * pad) * rowLength * c
        func pixel(_ y: Int, _ x: Int) -> UnsafeMutablePointer<Float> { base + ((y + pad) * rowLength + x + pad) * c }
        for ch in stride(from: 0, to: c, by: 8) {
            func mv(_ i: Int, _ j: Int) -> Vec8 { (m + (4 * i + j) * pointStride + ch).load8() }
            let c0 = at(mv(0, 0), mv(1, 0), mv(2, 0), mv(3, 0)), c1 = at(mv(0, 1), mv(1, 1), mv(2, 1), mv(3, 1))
            let c2 = at(mv(0, 2), mv(1, 2), mv(2, 2), mv(3, 2)), c3 = at(mv(0, 3), mv(1, 3), mv(2, 3), mv(3, 3))
            let r0 = at(c0.0, c1.0, c2.0, c3.0), r1 = at(c0.1, c1.1, c2.1, c3.1)
            let a = e.scale.load8(ch), b = e.shift.load8(ch)
            func v(_ x: Vec8) -> Vec8 { b.addingProduct(x, a) }
            func relu(_ x: Vec8) -> Vec8 { e.relu ? x.replacing(with: 0, where: x .< 0) : x }
            if e.pool {
                var best = v(r0.0)
                let others = (v(r0.1), v(r1.0), v(r1.1))
                best.replace(with: others.0, where: others.0 .> best)
                best.replace(with: others.1, where: others.1 .> best)
                best.replace(with: others.2, where: others.2 .> best)
                pixel(ty, tx).store8(relu(best), ch)
                continue
            }
            pixel(2 * ty, 2 * tx).store8(relu(v(r0.0)), ch)
            if cols == 2 { pixel(2 * ty, 2 * tx + 1).store8(relu(v(r0.1)), ch) }
            if rows == 2 { pixel(2 * ty + 1, 2 * tx).store8(relu(v(r1.0)), ch) }
            if rows == 2 && cols == 2 { pixel(2 * ty + 1, 2 * tx + 1).store8(relu(v(r1.1)), ch) }
        }
    }

    // MARK: weight gradient

    /// Floats of scratch one worker needs for `weightGrad` on h x w images.
    public static func weightGradScratchCount(h: Int, w: Int, cin: Int, cout: Int) -> Int {
        16 * ((h + 1) / 2) * ((w + 1) / 2) * (cin + cout) + 16 * cin * cout
    }

    /// Whether `weightGrad` handles these channel counts (register blocks of 4 or 5 input channels).
    public static func supportsWeightGrad(cin: Int, cout: Int) -> Bool {
        supports(cin: cin, cout: cout) && (cin % 5 == 0 || cin % 4 == 0)
    }

    /// dW = G^T (sum over tiles of V (x) DY) G, the gradient of the forward above: V = Bt d B as in forward,
    /// DY = A dy A^T for each tile's 2x2 output gradient. Per point the sum over tiles is a product with
    /// a long inner dimension (every tile of every image), 16 multiply-adds per tile and channel pair
    /// instead of 36. Accumulates into `dw`, laid out [9*cin, cout] as DirectConv's.
    public static func weightGrad(_ xp: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, images: Range<Int>,
                                  h: Int, w: Int, cin: Int, cout: Int, scratch: UnsafeMutablePointer<Float>,
                                  into dw: UnsafeMutablePointer<Float>) {
        let tw = (w + 1) / 2, tiles = ((h + 1) / 2) * tw
        let v = scratch, g = v + 16 * tiles * cin, acc = g + 16 * tiles * cout  // [16,T,cin] [16,T,cout] [16,cin,cout]
        acc.update(repeating: 0, count: 16 * cin * cout)
        for img in images {
            let src = xp + img * (h + 2) * (w + 2) * cin, grad = dy + img * h * w * cout
            transformInput(src, tiles: 0..<tiles, tw: tw, h: h, w: w, c: cin, into: v, pointStride: tiles * cin)
            for t in 0..<tiles {
                transformOutputGradient(grad, tile: t, tw: tw, h: h, w: w, c: cout, into: g + t * cout, pointStride: tiles * cout)
            }
            for p in 0..<16 {
                accumulate(v + p * tiles * cin, g + p * tiles * cout, tiles: tiles, cin: cin, cout: cout, into: acc + p * cin * cout)
            }
        }
        // G^T acc G per channel pair, added into dw.
        for ci in 0..<cin {
            for co in 0..<cout {
                func a(_ i: Int, _ j: Int) -> Float { acc[((4 * i + j) * cin + ci) * cout + co] }
                let rows = (gtT(a(0, 0), a(1, 0), a(2, 0), a(3, 0)), gtT(a(0, 1), a(1, 1), a(2, 1), a(3, 1)),
                            gtT(a(0, 2), a(1, 2), a(2, 2), a(3, 2)), gtT(a(0, 3), a(1, 3), a(2, 3), a(3, 3)))
                func add(_ ky: Int, _ r: (Float, Float, Float)) {
                    dw[((ky * 3) * cin + ci) * cout + co] += r.0
                    dw[((ky * 3 + 1) * cin + ci) * cout + co] += r.1
                    dw[((ky * 3 + 2) * cin + ci) * cout + co] += r.2
                }
                add(0, gtT(rows.0.0, rows.1.0, rows.2.0, rows.3.0))
                add(1, gtT(rows.0.1, rows.1.1, rows.2.1, rows.3.1))
                add(2, gtT(rows.0.2, rows.1.2, rows.2.2, rows.3.2))
            }
        }
    }

    /// G^T times a column of four.
    @inline(__always)
    static func gtT(_ a: Float, _ b: Float, _ c: Float, _ d: Float) -> (Float, Float, Float) {
        (a + (b + c) / 2, (b - c) / 2, (b + c) / 2 + d)
    }

    /// A times a column of two (the adjoint of At).
    @inline(__always)
    static func aT(_ d0: Vec8, _ d1: Vec8) -> (Vec8, Vec8, Vec8, Vec8) { (d0, d0 + d1, d0 - d1, -d1) }

    /// DY = A dy A^T for the tile's 2x2 block of output gradients (zero past an odd edge), all channels,
    /// into 16 rows `pointStride` apart.
    @inline(__always)
    static func transformOutputGradient(_ dy: UnsafePointer<Float>, tile: Int, tw: Int, h: Int, w: Int, c: Int,
                                        into out: UnsafeMutablePointer<Float>, pointStride: Int) {
        let (ty, tx) = (tile / tw, tile % tw)
        let corner = dy + ((2 * ty) * w + 2 * tx) * c
        let (rows, cols) = (min(2, h - 2 * ty), min(2, w - 2 * tx))
        for ch in stride(from: 0, to: c, by: 8) {
            let o = corner + ch
            let d00 = o.load8(), d01 = cols == 2 ? (o + c).load8() : Vec8()
            let d10 = rows == 2 ? (o + w * c).load8() : Vec8()
            let d11 = rows == 2 && cols == 2 ? (o + (w + 1) * c).load8() : Vec8()
            // A down each of the two columns, then each of the four rows times A^T.
            let c0 = aT(d00, d10), c1 = aT(d01, d11)
            func store(_ i: Int, _ r: (Vec8, Vec8, Vec8, Vec8)) {
                let q = out + 4 * i * pointStride + ch
                q.store8(r.0); (q + pointStride).store8(r.1); (q + 2 * pointStride).store8(r.2); (q + 3 * pointStride).store8(r.3)
            }
            store(0, aT(c0.0, c1.0)); store(1, aT(c0.1, c1.1)); store(2, aT(c0.2, c1.2)); store(3, aT(c0.3, c1.3))
        }
    }

    /// acc[ci, co] += sum over tiles of v[t, ci] * g[t, co] for one Winograd point: v is [tiles, cin], g is
    /// [tiles, cout], acc is [cin, cout] (the weight gradients of both tile sizes).
    static func accumulate(_ v: UnsafePointer<Float>, _ g: UnsafePointer<Float>, tiles: Int, cin: Int, cout: Int,
                           into acc: UnsafeMutablePointer<Float>) {
        let wide = wideTiles && cout % 32 == 0, five = cin % 5 == 0
        for cb in stride(from: 0, to: cout, by: wide ? 32 : 16) {
            for ci in stride(from: 0, to: cin, by: five ? 5 : 4) {
                let (x, d, a) = (v + ci, g + cb, acc + ci * cout + cb)
                // Constant row counts let the kernels drop their row checks.
                switch (wide, five) {
                case (true, true): outerSum32(x, d, tiles: tiles, cin: cin, cout: cout, rows: 5, into: a)
                case (true, false): outerSum32(x, d, tiles: tiles, cin: cin, cout: cout, rows: 4, into: a)
                case (false, true): outerSum(x, d, tiles: tiles, cin: cin, cout: cout, rows: 5, into: a)
                case (false, false): outerSum(x, d, tiles: tiles, cin: cin, cout: cout, rows: 4, into: a)
                }
            }
        }
    }

    /// acc[r, co..co+16] += sum over tiles of v[t, r] * g[t, co..co+16] for `rows` consecutive input
    /// channels r: the tiles are the long inner dimension, so the accumulators stay in registers.
    @inline(__always)
    static func outerSum(_ v: UnsafePointer<Float>, _ g: UnsafePointer<Float>, tiles: Int, cin: Int, cout: Int,
                         rows: Int, into acc: UnsafeMutablePointer<Float>) {
        func load(_ r: Int) -> V { UnsafeRawPointer(acc + r * cout).loadUnaligned(as: V.self) }
        var a0 = load(0), a1 = load(1), a2 = load(2), a3 = load(3), a4 = rows > 4 ? load(4) : V()
        var x = v, d = g
        for _ in 0..<tiles {
            let gv = UnsafeRawPointer(d).loadUnaligned(as: V.self)
            a0.addProduct(V(repeating: x[0]), gv)
            a1.addProduct(V(repeating: x[1]), gv)
            a2.addProduct(V(repeating: x[2]), gv)
            a3.addProduct(V(repeating: x[3]), gv)
            if rows > 4 { a4.addProduct(V(repeating: x[4]), gv) }
            x += cin
            d += cout
        }
        func store(_ r: Int, _ a: V) { UnsafeMutableRawPointer(acc + r * cout).storeBytes(of: a, as: V.self) }
        store(0, a0); store(1, a1); store(2, a2); store(3, a3)
        if rows > 4 { store(4, a4) }
    }

    /// outerSum for 32 output channels (two registers a row), for AVX-512: 7 loads per 10 FMAs instead of 6 per 5.
    @inline(__always)
    static func outerSum32(_ v: UnsafePointer<Float>, _ g: UnsafePointer<Float>, tiles: Int, cin: Int, cout: Int,
                           rows: Int, into acc: UnsafeMutablePointer<Float>) {
        func load(_ r: Int, _ half: Int) -> V { UnsafeRawPointer(acc + r * cout + 16 * half).loadUnaligned(as: V.self) }
        var a0 = load(0, 0), a1 = load(1, 0), a2 = load(2, 0), a3 = load(3, 0), a4 = rows > 4 ? load(4, 0) : V()
        var b0 = load(0, 1), b1 = load(1, 1), b2 = load(2, 1), b3 = load(3, 1), b4 = rows > 4 ? load(4, 1) : V()
        var x = v, d = g
        for _ in 0..<tiles {
            let raw = UnsafeRawPointer(d)
            let g0 = raw.loadUnaligned(as: V.self), g1 = raw.loadUnaligned(fromByteOffset: 64, as: V.self)
            let x0 = V(repeating: x[0]), x1 = V(repeating: x[1]), x2 = V(repeating: x[2]), x3 = V(repeating: x[3])
            a0.addProduct(x0, g0); b0.addProduct(x0, g1)
            a1.addProduct(x1, g0); b1.addProduct(x1, g1)
            a2.addProduct(x2, g0); b2.addProduct(x2, g1)
            a3.addProduct(x3, g0); b3.addProduct(x3, g1)
            if rows > 4 { let x4 = V(repeating: x[4]); a4.addProduct(x4, g0); b4.addProduct(x4, g1) }
            x += cin
            d += cout
        }
        func store(_ r: Int, _ a: V, _ b: V) {
            let o = UnsafeMutableRawPointer(acc + r * cout)
            o.storeBytes(of: a, as: V.self); o.storeBytes(of: b, toByteOffset: 64, as: V.self)
        }
        store(0, a0, b0); store(1, a1, b1); store(2, a2, b2); store(3, a3, b3)
        if rows > 4 { store(4, a4, b4) }
    }
}
