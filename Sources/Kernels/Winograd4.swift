/// Winograd F(4x4, 3x3) forward convolution on zero-padded NHWC images (the buffers DirectConv uses).
///
/// Why: each 4x4 block of outputs costs 36 multiply-adds per (input, output) channel pair, 2.25 a pixel
/// against F(2x2)'s 4 and the direct 9, so on wide layers (64 to 256 channels) where the products are
/// nearly all the work it does about half F(2x2)'s arithmetic. The price is larger transforms (6x6 patches
/// at stride 4) and a little more rounding error: the matrices are Lavin & Gray's, points 0, ±1, ±2, ∞
/// (the ±1/2 set measured the same in Float). As in Winograd, tiles go through the three steps a chunk at
/// a time so V and M stay in cache; chunks run across image boundaries, so small images still give the
/// products enough tiles to reuse each panel of U.
///
///     Bt = [4  0 -5  0  1  0]    G = [ 1/4     0     0]    At = [1  1  1  1  1  0]
///          [0 -4 -4  1  1  0]        [-1/6  -1/6  -1/6]         [0  1 -1  2 -2  0]
///          [0  4 -4 -1  1  0]        [-1/6   1/6  -1/6]         [0  1  1  4  4  0]
///          [0 -2 -1  2  1  0]        [1/24  1/12   1/6]         [0  1 -1  8 -8  1]
///          [0  2 -1 -2  1  0]        [1/24 -1/12   1/6]
///          [0  4  0 -5  0  1]        [   0     0     1]
public enum Winograd4 {
    public typealias V = SIMD16<Float>

    /// Input channels in blocks of 8 (the transforms' narrowest vector), output channels in blocks of 16.
    public static func supports(cin: Int, cout: Int) -> Bool { cin % 8 == 0 && cout % 16 == 0 }

    /// Tiles per chunk, a multiple of 6 (the product's row tile): 24 reuses each U panel from L1 and keeps V and
    /// M ([36, chunk, cin] and [36, chunk, cout]) in L2 at 64 channels (12 to 72 measured the same there). From
    /// 256x256 channels U ([36, cin, cout], 9 MB and up) lives in L3 or memory and each chunk streams all of it:
    /// 96 tiles cut that traffic by four (conv6 512->512 at 8x8: 112 -> 71 ms forward).
    public static func chunk(cin: Int, cout: Int) -> Int { cin * cout >= 256 * 256 ? 96 : 24 }

    /// Floats of scratch one worker needs: V, M, and one tile's half-transformed patch.
    public static func scratchCount(cin: Int, cout: Int) -> Int { 36 * chunk(cin: cin, cout: cout) * (cin + cout) + 36 * max(cin, cout) }

    /// Tiles (4x4 output blocks) per h x w image; `forward(tiles:)` numbers them image by image, row-major.
    public static func tileCount(h: Int, w: Int) -> Int { ((h + 3) / 4) * ((w + 3) / 4) }

    /// U[p, ci, co] = (G g Gt)[p] for the 3x3 kernel g of each (ci, co); `wt` is [9*cin, cout] as for
    /// DirectConv, `u` is [36, cin, cout]. Computed in Double, so U carries one rounding, not three.
    public static func transformWeights(_ wt: UnsafePointer<Float>, cin: Int, cout: Int, into u: UnsafeMutablePointer<Float>) {
        // Eight output channels at a time in Double lanes (it runs every step: no arrays, no per-pair calls).
        typealias D = SIMD8<Double>
        typealias Six = (D, D, D, D, D, D)
        precondition(cout % 8 == 0, "transformWeights takes output channels in multiples of 8")
        // G times a column of three: the kernel's values at 0, 1, -1, 2, -2 over their Lagrange denominators, and ∞.
        @inline(__always) func gcol(_ a: D, _ b: D, _ c: D) -> Six {
            (a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c)
        }
        @inline(__always) func pick(_ t: Six, _ i: Int) -> D {
            switch i { case 0: t.0; case 1: t.1; case 2: t.2; case 3: t.3; case 4: t.4; default: t.5 }
        }
        for ci in 0..<cin {
            for co in stride(from: 0, to: cout, by: 8) {
                func g(_ ky: Int, _ kx: Int) -> D {
                    D(UnsafeRawPointer(wt + ((ky * 3 + kx) * cin + ci) * cout + co).loadUnaligned(as: SIMD8<Float>.self))
                }
                let cols = (gcol(g(0, 0), g(1, 0), g(2, 0)), gcol(g(0, 1), g(1, 1), g(2, 1)), gcol(g(0, 2), g(1, 2), g(2, 2)))
                for i in 0..<6 {
                    let row = gcol(pick(cols.0, i), pick(cols.1, i), pick(cols.2, i))  // row i of (G g) times Gt
                    for j in 0..<6 {
                        UnsafeMutableRawPointer(u + ((6 * i + j) * cin + ci) * cout + co).storeBytes(of: SIMD8<Float>(pick(row, j)), as: SIMD8<Float>.self)
                    }
                }
            }
        }
    }

    /// y[img] = conv3x3(x[img], g) for each image, from padded inputs `xp` ([n, h+2, w+2, cin]) and
    /// transformed weights `u`. `scratch` holds scratchCount floats for this worker.
    public static func forward(_ xp: UnsafePointer<Float>, images: Range<Int>, h: Int, w: Int, cin: Int, cout: Int,
                               u: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let t = tileCount(h: h, w: w)
        forward(xp, tiles: images.lowerBound * t..<images.upperBound * t, h: h, w: w, cin: cin, cout: cout,
                u: u, scratch: scratch, into: y)
    }

    /// The outputs of `tiles` only (through `epilogue` to its own destination when there is one), numbered across images (tile k of image i is i * tileCount + k), so
    /// workers can share one large image: disjoint tile ranges write disjoint output pixels, and the result
    /// is bit for bit the same however the tiles are split.
    public static func forward(_ xp: UnsafePointer<Float>, tiles: Range<Int>, h: Int, w: Int, cin: Int, cout: Int,
                               u: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>,
                               epilogue: Winograd.Epilogue? = nil) {
        let geo = Geometry(h: h, w: w)
        let chunk = chunk(cin: cin, cout: cout)
        let v = scratch, m = v + 36 * chunk * cin, half = m + 36 * chunk * cout  // [36, chunk, cin], [36, chunk, cout]
        let wide = Winograd.wideTiles && cout % 32 == 0, most = wide ? 6 : Winograd.productRows
        for first in stride(from: tiles.lowerBound, to: tiles.upperBound, by: chunk) {
            let count = min(chunk, tiles.upperBound - first), chunkTiles = first..<first + count
            transformInput(xp, tiles: chunkTiles, geo, c: cin, into: v, pointStride: chunk * cin, half: half)
            for p in 0..<36 {
                let up = u + p * cin * cout, vp = v + p * chunk * cin, mp = m + p * chunk * cout
                // Groups of up to six tiles (productRows on the 16-channel kernel), balanced.
                for cb in stride(from: 0, to: cout, by: wide ? 32 : 16) {
                    var t = 0, groups = (count + most - 1) / most
                    while t < count {
                        let rows = (count - t + groups - 1) / groups
                        let vt = vp + t * cin, mt = mp + t * cout + cb
                        // Constant row counts for the full groups let the kernels drop their row checks.
                        switch (wide, rows) {
                        case (true, 6): Winograd.product32(vt, up + cb, k: cin, cout: cout, rows: 6, into: mt)
                        case (true, _): Winograd.product32(vt, up + cb, k: cin, cout: cout, rows: rows, into: mt)
                        case (false, 5): Winograd.product(vt, up + cb, k: cin, cout: cout, rows: 5, into: mt)
                        case (false, 6): Winograd.product(vt, up + cb, k: cin, cout: cout, rows: 6, into: mt)
                        case (false, _): Winograd.product(vt, up + cb, k: cin, cout: cout, rows: rows, into: mt)
                        }
                        t += rows; groups -= 1
                    }
                }
            }
            for t in 0..<count {
                if let e = epilogue {
                    transformOutput(m + t * cout, pointStride: chunk * cout, tile: first + t, geo, c: cout, through: e, half: half)
                } else {
                    transformOutput(m + t * cout, pointStride: chunk * cout, tile: first + t, geo, c: cout, into: y, half: half)
                }
            }
        }
    }

    /// Where tile k sits: its image, and its corner in that image's output (and in the padded input).
    struct Geometry {
        let h, w, tw, tiles: Int
        init(h: Int, w: Int) { (self.h, self.w, tw, tiles) = (h, w, (w + 3) / 4, Winograd4.tileCount(h: h, w: w)) }
        @inline(__always) func locate(_ k: Int) -> (img: Int, y: Int, x: Int) {
            let (img, t) = k.quotientAndRemainder(dividingBy: tiles)
            let (ty, tx) = t.quotientAndRemainder(dividingBy: tw)
            return (img, 4 * ty, 4 * tx)
        }
    }

    /// The vector types the transforms run on. Scaling goes through `times`, defined per concrete type:
    /// SIMD's scalar-times-vector operator is a lane-by-lane loop that LLVM only half re-vectorizes.
    protocol Lanes: SIMD where Scalar == Float {
        static func + (a: Self, b: Self) -> Self
        static func - (a: Self, b: Self) -> Self
        func times(_ s: Float) -> Self
    }

    /// Bt times a column of six (Lavin & Gray's Bt, rows sharing their sums and differences).
    @inline(__always)
    static func bt<T: Lanes>(_ d0: T, _ d1: T, _ d2: T, _ d3: T, _ d4: T, _ d5: T) -> (T, T, T, T, T, T) {
        let s12 = d1 + d2, s34 = d3 + d4, d12 = d1 - d2, d43 = d4 - d3, d42 = d4 - d2, d31 = d3 - d1
        return (d0.times(4) - d2.times(5) + d4, s34 - s12.times(4), d43 + d12.times(4),
                d42 + d31.times(2), d42 - d31.times(2), d1.times(4) - d3.times(5) + d5)
    }

    /// At times a column of six.
    @inline(__always)
    static func at(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b + d.times(2), a + c.times(4), b + d.times(8) + m5)
    }

    @inline(__always) static func load<T: SIMD>(_ p: UnsafePointer<Float>) -> T where T.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: T.self)
    }
    @inline(__always) static func store<T: SIMD>(_ v: T, _ p: UnsafeMutablePointer<Float>) where T.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: T.self)
    }

    /// transformInput in the widest vectors the channel count allows.
    static func transformInput(_ xp: UnsafePointer<Float>, tiles: Range<Int>, _ geo: Geometry, c: Int,
                               into out: UnsafeMutablePointer<Float>, pointStride s: Int, half: UnsafeMutablePointer<Float>) {
        if c % 16 == 0 {
            transformInput(SIMD16<Float>.self, xp, tiles: tiles, geo, c: c, into: out, pointStride: s, half: half)
        } else {
            transformInput(Vec8.self, xp, tiles: tiles, geo, c: c, into: out, pointStride: s, half: half)
        }
    }

    /// Bt d B of each tile's 6x6 padded patch, all channels (T.scalarCount at a time), into 36 rows
    /// `pointStride` apart (the first tile's at `out`). Patch rows and columns past the padded image read
    /// as zero: at the bottom and right edges a patch would otherwise run into the next row or image.
    /// Two passes, through `half` ([36, c], in L1): Bt down each patch column for all channels, which reads
    /// every patch row in address order (channel blocks outermost measured slower, waiting on
    /// loads), then each row times B into V. One pass in registers would hold 36 vectors and spill.
    static func transformInput<T: Lanes>(_: T.Type, _ xp: UnsafePointer<Float>, tiles: Range<Int>, _ geo: Geometry, c: Int,
                                         into out: UnsafeMutablePointer<Float>, pointStride s: Int, half tmp: UnsafeMutablePointer<Float>) {
        let (ph, pw) = (geo.h + 2, geo.w + 2), r = pw * c, n = T.scalarCount
        for k in tiles {
            let (img, y0, x0) = geo.locate(k)
            let patch = xp + ((img * ph + y0) * pw + x0) * c
            let (rowsLeft, colsLeft) = (ph - y0, pw - x0)
            let full = rowsLeft >= 6 && colsLeft >= 6
            let o = out + (k - tiles.lowerBound) * c
            for j in 0..<6 {
                for ch in stride(from: 0, to: c, by: n) {
                    let p = patch + j * c + ch
                    func d(_ i: Int) -> T { full || (i < rowsLeft && j < colsLeft) ? load(p + i * r) : T() }
                    let t = bt(d(0), d(1), d(2), d(3), d(4), d(5))
                    let q = tmp + j * c + ch
                    store(t.0, q); store(t.1, q + 6 * c); store(t.2, q + 12 * c)
                    store(t.3, q + 18 * c); store(t.4, q + 24 * c); store(t.5, q + 30 * c)
                }
            }
            for i in 0..<6 {
                for ch in stride(from: 0, to: c, by: n) {
                    let a = tmp + 6 * i * c + ch, q = o + 6 * i * s + ch
                    let t = bt(load(a) as T, load(a + c), load(a + 2 * c), load(a + 3 * c), load(a + 4 * c), load(a + 5 * c))
                    store(t.0, q); store(t.1, q + s); store(t.2, q + 2 * s)
                    store(t.3, q + 3 * s); store(t.4, q + 4 * s); store(t.5, q + 5 * s)
                }
            }
        }
    }

    /// Tile k's 4x4 outputs, At M A, from its 36 rows of M `pointStride` apart, through `half` as the input
    /// transform: At down each column for all channels, then the output rows; outputs past the bottom or
    /// right edge are cropped.
    @inline(__always)
    static func transformOutput(_ m: UnsafeMutablePointer<Float>, pointStride s: Int, tile k: Int, _ geo: Geometry,
                                c: Int, into y: UnsafeMutablePointer<Float>, half tmp: UnsafeMutablePointer<Float>) {
        let (img, y0, x0) = geo.locate(k)
        let corner = y + ((img * geo.h + y0) * geo.w + x0) * c
        let (rows, cols) = (min(4, geo.h - y0), min(4, geo.w - x0))
        outputColumns(m, pointStride: s, c: c, into: tmp)
        for i in 0..<rows {
            let o = corner + i * geo.w * c
            for ch in stride(from: 0, to: c, by: 16) {
                let a = tmp + 6 * i * c + ch, q = o + ch
                let t = at(load(a), load(a + c), load(a + 2 * c), load(a + 3 * c), load(a + 4 * c), load(a + 5 * c))
                store(t.0, q)
                if cols > 1 { store(t.1, q + c) }
                if cols > 2 { store(t.2, q + 2 * c) }
                if cols > 3 { store(t.3, q + 3 * c) }
            }
        }
    }

    /// At down each of the tile's six columns, into `half` ([4 rows, 6, c]): both output transforms start so.
    @inline(__always)
    static func outputColumns(_ m: UnsafeMutablePointer<Float>, pointStride s: Int, c: Int, into tmp: UnsafeMutablePointer<Float>) {
        for j in 0..<6 {
            for ch in stride(from: 0, to: c, by: 16) {
                let q = m + j * s + ch
                let t = at(load(q), load(q + 6 * s), load(q + 12 * s), load(q + 18 * s), load(q + 24 * s), load(q + 30 * s))
                let a = tmp + j * c + ch
                store(t.0, a); store(t.1, a + 6 * c); store(t.2, a + 12 * c); store(t.3, a + 18 * c)
            }
        }
    }

    /// Tile k's outputs through an epilogue (affine, ReLU, and the 2x2 max pool: a 4x4 tile holds four pool
    /// windows, and one that runs past an odd edge has no output, floor pooling) to the epilogue's destination.
    static func transformOutput(_ m: UnsafeMutablePointer<Float>, pointStride s: Int, tile k: Int, _ geo: Geometry,
                                c: Int, through e: Winograd.Epilogue, half tmp: UnsafeMutablePointer<Float>) {
        let (img, y0, x0) = geo.locate(k)
        let (rows, cols) = (min(4, geo.h - y0), min(4, geo.w - x0))
        let (oh, ow) = e.pool ? (geo.h / 2, geo.w / 2) : (geo.h, geo.w)
        let (pad, rowLength) = e.padded ? (1, ow + 2) : (0, ow)
        let base = e.out + img * (oh + 2 * pad) * rowLength * c
        func pixel(_ y: Int, _ x: Int) -> UnsafeMutablePointer<Float> { base + ((y + pad) * rowLength + x + pad) * c }
        outputColumns(m, pointStride: s, c: c, into: tmp)
        for ch in stride(from: 0, to: c, by: 16) {
            let a = load(e.scale + ch) as V, b = load(e.shift + ch) as V
            @inline(__always) func v(_ x: V) -> V { b.addingProduct(x, a) }
            @inline(__always) func relu(_ x: V) -> V { e.relu ? x.replacing(with: 0, where: x .< 0) : x }
            @inline(__always) func row(_ i: Int) -> (V, V, V, V) {
                let r = tmp + 6 * i * c + ch
                return at(load(r), load(r + c), load(r + 2 * c), load(r + 3 * c), load(r + 4 * c), load(r + 5 * c))
            }
            if e.pool {
                for i in stride(from: 0, to: rows - 1, by: 2) {
                    let top = row(i), bottom = row(i + 1), py = y0 / 2 + i / 2, px = x0 / 2
                    if cols >= 2 { store(relu(maxOf4(v(top.0), v(top.1), v(bottom.0), v(bottom.1))), pixel(py, px) + ch) }
                    if cols == 4 { store(relu(maxOf4(v(top.2), v(top.3), v(bottom.2), v(bottom.3))), pixel(py, px + 1) + ch) }
                }
                continue
            }
            for i in 0..<rows {
                let r = row(i), o = pixel(y0 + i, x0) + ch
                store(relu(v(r.0)), o)
                if cols > 1 { store(relu(v(r.1)), o + c) }
                if cols > 2 { store(relu(v(r.2)), o + 2 * c) }
                if cols > 3 { store(relu(v(r.3)), o + 3 * c) }
            }
        }
    }

    /// A pool window's maximum in the order F(2x2) takes them: (0,0), (0,1), (1,0), (1,1), the first kept on
    /// ties. Static, not nested: as a nested function LLVM kept it a call, passing vectors through memory.
    @inline(__always)
    static func maxOf4(_ p: V, _ q: V, _ r: V, _ t: V) -> V {
        var best = p
        best.replace(with: q, where: q .> best)
        best.replace(with: r, where: r .> best)
        best.replace(with: t, where: t .> best)
        return best
    }

    // MARK: weight gradient

    /// Tiles per weight-gradient chunk: the accumulators ([36, cin, cout]) are read and written once a chunk.
    /// Tiles per chunk of `weightGrad`; blocks of tiles handed to it are best whole chunks.
    public static let gradChunk = 96

    /// Floats of scratch one worker needs for `weightGrad`: V, DY, the accumulators, one tile's half transform.
    public static func weightGradScratchCount(cin: Int, cout: Int) -> Int {
        36 * gradChunk * (cin + cout) + 36 * cin * cout + 36 * max(cin, cout)
    }

    /// dW = Gt (sum over tiles of V (x) DY) G, the gradient of `forward`: V = Bt d B as there, DY = A dy At of each
    /// tile's 4x4 output gradient. 36 multiply-adds per tile and channel pair for 16 outputs, against F(2x2)'s 64.
    /// Tiles run in chunks across image boundaries, so small images still give the sums a long inner dimension.
    /// Accumulates into `dw`, laid out [9*cin, cout] as DirectConv's.
    public static func weightGrad(_ xp: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, images: Range<Int>,
                                  h: Int, w: Int, cin: Int, cout: Int, scratch: UnsafeMutablePointer<Float>,
                                  into dw: UnsafeMutablePointer<Float>) {
        let t = tileCount(h: h, w: w)
        weightGrad(xp, dy, tiles: images.lowerBound * t..<images.upperBound * t, h: h, w: w, cin: cin, cout: cout,
                   scratch: scratch, into: dw)
    }

    /// The same over a range of the batch's tiles (numbered image by image), for a split by tiles.
    public static func weightGrad(_ xp: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, tiles: Range<Int>,
                                  h: Int, w: Int, cin: Int, cout: Int, scratch: UnsafeMutablePointer<Float>,
                                  into dw: UnsafeMutablePointer<Float>) {
        let geo = Geometry(h: h, w: w), s = gradChunk
        let v = scratch, g = v + 36 * s * cin, acc = g + 36 * s * cout, half = acc + 36 * cin * cout
        acc.update(repeating: 0, count: 36 * cin * cout)
        for first in stride(from: tiles.lowerBound, to: tiles.upperBound, by: s) {
            let count = min(s, tiles.upperBound - first), chunkTiles = first..<first + count
            transformInput(xp, tiles: chunkTiles, geo, c: cin, into: v, pointStride: s * cin, half: half)
            for k in chunkTiles {
                transformOutputGradient(dy, tile: k, geo, c: cout, into: g + (k - first) * cout, pointStride: s * cout)
            }
            for p in 0..<36 {
                Winograd.accumulate(v + p * s * cin, g + p * s * cout, tiles: count, cin: cin, cout: cout, into: acc + p * cin * cout)
            }
        }
        // Gt acc G per channel pair (16 output channels at a time), added into dw.
        for ci in 0..<cin {
            for co in stride(from: 0, to: cout, by: 16) {
                func a(_ p: Int) -> V { load(acc + (p * cin + ci) * cout + co) }
                // Gt along each row of points (x), then down the six rows (y).
                func row(_ i: Int) -> (V, V, V) { gtT(a(6 * i), a(6 * i + 1), a(6 * i + 2), a(6 * i + 3), a(6 * i + 4), a(6 * i + 5)) }
                let r = (row(0), row(1), row(2), row(3), row(4), row(5))
                func add(_ kx: Int, _ k: (V, V, V)) {
                    func put(_ ky: Int, _ value: V) { let q = dw + ((ky * 3 + kx) * cin + ci) * cout + co; store(load(q) + value, q) }
                    put(0, k.0); put(1, k.1); put(2, k.2)
                }
                add(0, gtT(r.0.0, r.1.0, r.2.0, r.3.0, r.4.0, r.5.0))
                add(1, gtT(r.0.1, r.1.1, r.2.1, r.3.1, r.4.1, r.5.1))
                add(2, gtT(r.0.2, r.1.2, r.2.2, r.3.2, r.4.2, r.5.2))
            }
        }
    }

    /// Gt times a column of six (G's columns: the kernel's weights at 0, ±1, ±2 and ∞).
    @inline(__always)
    static func gtT(_ a0: V, _ a1: V, _ a2: V, _ a3: V, _ a4: V, _ a5: V) -> (V, V, V) {
        let s12 = a1 + a2, s34 = a3 + a4
        return (a0.times(1 / 4) - s12.times(1 / 6) + s34.times(1 / 24), (a2 - a1).times(1 / 6) + (a3 - a4).times(1 / 12),
                (s34 - s12).times(1 / 6) + a5)
    }

    /// A times a column of four (the adjoint of At).
    @inline(__always)
    static func aT(_ d0: V, _ d1: V, _ d2: V, _ d3: V) -> (V, V, V, V, V, V) {
        let e = d0 + d2, f = d1 + d3, e4 = d0 + d2.times(4), f8 = d1.times(2) + d3.times(8)
        return (d0, e + f, e - f, e4 + f8, e4 - f8, d3)
    }

    /// DY = A dy At for tile k's 4x4 block of output gradients (zero past the bottom or right edge), all channels,
    /// into 36 rows `pointStride` apart.
    @inline(__always)
    static func transformOutputGradient(_ dy: UnsafePointer<Float>, tile k: Int, _ geo: Geometry, c: Int,
                                        into out: UnsafeMutablePointer<Float>, pointStride s: Int) {
        let (img, y0, x0) = geo.locate(k)
        let corner = dy + ((img * geo.h + y0) * geo.w + x0) * c
        let (rows, cols) = (min(4, geo.h - y0), min(4, geo.w - x0))
        for ch in stride(from: 0, to: c, by: 16) {
            func d(_ i: Int, _ j: Int) -> V { i < rows && j < cols ? load(corner + (i * geo.w + j) * c + ch) : V() }
            // A down each of the four columns, then each of the six rows times At.
            let c0 = aT(d(0, 0), d(1, 0), d(2, 0), d(3, 0)), c1 = aT(d(0, 1), d(1, 1), d(2, 1), d(3, 1))
            let c2 = aT(d(0, 2), d(1, 2), d(2, 2), d(3, 2)), c3 = aT(d(0, 3), d(1, 3), d(2, 3), d(3, 3))
            func put(_ i: Int, _ r: (V, V, V, V, V, V)) {
                let q = out + 6 * i * s + ch
                store(r.0, q); store(r.1, q + s); store(r.2, q + 2 * s); store(r.3, q + 3 * s); store(r.4, q + 4 * s); store(r.5, q + 5 * s)
            }
            put(0, aT(c0.0, c1.0, c2.0, c3.0)); put(1, aT(c0.1, c1.1, c2.1, c3.1)); put(2, aT(c0.2, c1.2, c2.2, c3.2))
            put(3, aT(c0.3, c1.3, c2.3, c3.3)); put(4, aT(c0.4, c1.4, c2.4, c3.4)); put(5, aT(c0.5, c1.5, c2.5, c3.5))
        }
    }
}

extension SIMD8: Winograd4.Lanes where Scalar == Float {
    @inline(__always) func times(_ s: Float) -> Self { self * Self(repeating: s) }
}
extension SIMD16: Winograd4.Lanes where Scalar == Float {
    @inline(__always) func times(_ s: Float) -> Self { self * Self(repeating: s) }
}
