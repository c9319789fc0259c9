/// Direct 3x3 convolution on zero-padded NHWC images, 16 output channels at a time.
///
/// Why: at these shapes (Cout 16...64, K = 9*Cin up to 576) a GEMM library spends its time packing
/// skinny panels, and im2col triples the memory traffic. Here the patch matrix is never built: on a
/// padded image of width w+2, output pixel p (counted along padded rows) reads input p + ky*(w+2) + kx,
/// so five consecutive pixels form a register tile whatever the row breaks. The two columns past each
/// row's end are computed and dropped. Tiles are 5 pixels x 16 channels: ten 8-lane accumulators, which
/// with the weights and one broadcast leave LLVM enough of AVX2's sixteen registers not to spill.
public enum DirectConv {
    public typealias V = SIMD16<Float>

    /// Whether the direct kernels handle this channel count (a multiple of 16).
    public static func supports(_ channels: Int) -> Bool { channels % 16 == 0 }

    /// Floats a padded buffer for `images` needs, with slack for the last tile's overrun.
    public static func paddedCount(images: Int, h: Int, w: Int, c: Int) -> Int { (images * (h + 2) * (w + 2) + 8) * c }

    /// Copies NHWC images into the interior of padded [n, h+2, w+2, c] buffers (borders stay zero).
    public static func pad(_ x: UnsafePointer<Float>, images: Range<Int>, h: Int, w: Int, c: Int,
                           into xp: UnsafeMutablePointer<Float>) {
        let pw = w + 2, ps = (h + 2) * pw * c
        for img in images {
            for y in 0..<h {
                (xp + img * ps + ((y + 1) * pw + 1) * c).update(from: x + (img * h + y) * w * c, count: w * c)
            }
        }
    }

    /// y[img, :, :, co] = sum over (ky, kx, ci) of xp[img, y+ky, x+kx, ci] * wt[(ky*3+kx)*cin + ci, co].
    /// `wt` is [9*cin, cout] (output channels contiguous); cout must be a multiple of 16.
    /// With an epilogue (no pool) each output goes through its affine and ReLU to the epilogue's destination,
    /// padded or not: conv1's batch norm then costs no pass of its own over the widest activation.
    public static func forward(_ xp: UnsafePointer<Float>, images: Range<Int>, h: Int, w: Int, cin: Int, cout: Int,
                               weights wt: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                               epilogue e: Winograd.Epilogue? = nil) {
        precondition(e.map { !$0.pool } ?? true, "DirectConv's epilogue does not pool")
        let pw = w + 2, ps = (h + 2) * pw * cin
        let offsets = tapOffsets(cin: cin, pw: pw)
        defer { offsets.deallocate() }
        let last = (h - 1) * pw + w  // one past the last real pixel, in padded-row counting
        let (pad, rowLength) = e?.padded == true ? (1, w + 2) : (0, w)
        for img in images {
            let src = xp + img * ps
            let dst = e.map { $0.out + img * (h + 2 * pad) * rowLength * cout } ?? y + img * h * w * cout
            for cb in stride(from: 0, to: cout, by: 16) {
                let a = e.map { UnsafeRawPointer($0.scale + cb).loadUnaligned(as: V.self) } ?? V(repeating: 1)
                let b = e.map { UnsafeRawPointer($0.shift + cb).loadUnaligned(as: V.self) } ?? V()
                let relu = e?.relu ?? false
                var p = 0, py = 0, px = 0  // tile start, and its (row, column) in padded-row counting
                while p < last {
                    tile(src + p * cin, offsets: offsets, cin: cin, cout: cout, wt: wt + cb, store: { r, v in
                        var (yy, xx) = (py, px + r)
                        while xx >= pw { xx -= pw; yy += 1 }
                        if xx < w && p + r < last {
                            var o = v
                            if e != nil { o = b.addingProduct(v, a); if relu { o.replace(with: 0, where: o .< 0) } }
                            UnsafeMutableRawPointer(dst + ((yy + pad) * rowLength + xx + pad) * cout + cb).storeBytes(of: o, as: V.self)
                        }
                    })
                    p += 5; px += 5
                    while px >= pw { px -= pw; py += 1 }
                }
            }
        }
    }

    /// The input offset of each k = (ky, kx, ci) from a pixel of a padded image, so one flat loop walks all
    /// of K (one branch miss per tile, not one per tap). The caller deallocates.
    static func tapOffsets(cin: Int, pw: Int) -> UnsafeMutablePointer<Int> {
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: 9 * cin)
        for ky in 0..<3 { for kx in 0..<3 { for ci in 0..<cin { offsets[(ky * 3 + kx) * cin + ci] = (ky * pw + kx) * cin + ci } } }
        return offsets
    }

    /// Five consecutive (padded-row) output pixels by 16 channels, accumulated in registers.
    @inline(__always)
    static func tile(_ base: UnsafePointer<Float>, offsets: UnsafePointer<Int>, cin: Int, cout: Int,
                     wt: UnsafePointer<Float>, store: (Int, V) -> Void) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V()
        let c2 = 2 * cin, c3 = 3 * cin, c4 = 4 * cin
        for k in 0..<(9 * cin) {
            let wv = UnsafeRawPointer(wt + k &* cout).loadUnaligned(as: V.self)
            let x = base + offsets[k]
            a0.addProduct(V(repeating: x[0]), wv)
            a1.addProduct(V(repeating: x[cin]), wv)
            a2.addProduct(V(repeating: x[c2]), wv)
            a3.addProduct(V(repeating: x[c3]), wv)
            a4.addProduct(V(repeating: x[c4]), wv)
        }
        store(0, a0); store(1, a1); store(2, a2); store(3, a3); store(4, a4)
    }

    /// dW[k, co] (+)= sum over real output pixels p of xp[p + offset(k)] * dy[p, co], for k = (ky, kx, ci).
    /// `dw` is [9*cin, cout]; cout must be a multiple of 16. Accumulates into `dw`.
    /// K is walked flat in blocks of five k, so a block never comes up short at a tap's end (with one
    /// input channel, a block per tap would leave one accumulator pair waiting on FMA latency).
    public static func weightGrad(_ xp: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, images: Range<Int>,
                                  h: Int, w: Int, cin: Int, cout: Int, into dw: UnsafeMutablePointer<Float>) {
        let pw = w + 2, ps = (h + 2) * pw * cin, k9 = 9 * cin
        let offsets = tapOffsets(cin: cin, pw: pw)
        defer { offsets.deallocate() }
        for img in images {
            let src = xp + img * ps
            let g = dy + img * h * w * cout
            for cb in stride(from: 0, to: cout, by: 16) {
                var k = 0
                while k < k9 {
                    let rows = min(5, k9 - k), out = dw + k * cout + cb
                    // A constant 5 lets the full blocks (nearly all) drop the row checks.
                    if rows == 5 {
                        gradTile(src, offsets + k, g + cb, h: h, w: w, pw: pw, cin: cin, cout: cout, rows: 5, into: out)
                    } else {
                        gradTile(src, offsets + k, g + cb, h: h, w: w, pw: pw, cin: cin, cout: cout, rows: rows, into: out)
                    }
                    k += rows
                }
            }
        }
    }

    /// Up to five k (input offsets `off`) by 16 output channels, summed over every real pixel.
    @inline(__always)
    static func gradTile(_ s: UnsafePointer<Float>, _ off: UnsafePointer<Int>, _ g: UnsafePointer<Float>,
                         h: Int, w: Int, pw: Int, cin: Int, cout: Int, rows: Int, into out: UnsafeMutablePointer<Float>) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V()
        let o0 = off[0], o1 = rows > 1 ? off[1] : 0, o2 = rows > 2 ? off[2] : 0
        let o3 = rows > 3 ? off[3] : 0, o4 = rows > 4 ? off[4] : 0
        for yy in 0..<h {
            var x = s + yy * pw * cin
            var d = g + yy * w * cout
            for _ in 0..<w {
                let dv = UnsafeRawPointer(d).loadUnaligned(as: V.self)
                a0.addProduct(V(repeating: x[o0]), dv)
                if rows > 1 { a1.addProduct(V(repeating: x[o1]), dv) }
                if rows > 2 { a2.addProduct(V(repeating: x[o2]), dv) }
                if rows > 3 { a3.addProduct(V(repeating: x[o3]), dv) }
                if rows > 4 { a4.addProduct(V(repeating: x[o4]), dv) }
                x += cin
                d += cout
            }
        }
        func add(_ r: Int, _ v: V) {
            guard r < rows else { return }
            let o = UnsafeMutableRawPointer(out + r * cout)
            o.storeBytes(of: o.loadUnaligned(as: V.self) + v, as: V.self)
        }
        add(0, a0); add(1, a1); add(2, a2); add(3, a3); add(4, a4)
    }
}
