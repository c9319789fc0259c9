import Kernels

/// The passes BatchNorm makes over its data, eight channels at a time. Each takes a range of rows
/// (pointwise) or of images (pooled), so the layer can split the batch over workers, and per-channel
/// coefficients, so an element costs one or two fused multiply-adds.
///
/// The affine value v = x * scale + shift is always computed with one FMA, so backward recomputes exactly
/// the values forward saw: that is what lets the layer keep neither the ReLU mask nor the pool's argmax.
/// Sums build up in Float over blocks of rows and are flushed into Double, for accuracy over long batches.
enum BatchNormPasses {
    typealias Coefficients = (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)

    /// Where outputs go: plain NHWC [n, h, w, c], or the interior of zero-padded [n, h+2, w+2, c] images
    /// (the next conv's input, which then need not copy it).
    struct Output {
        let base: UnsafeMutablePointer<Float>
        let h: Int, w: Int, c: Int
        let padded: Bool

        /// The first channel of pixel (y, 0) of image `img`.
        @inline(__always)
        func row(_ img: Int, _ y: Int) -> UnsafeMutablePointer<Float> {
            padded ? base + ((img * (h + 2) + y + 1) * (w + 2) + 1) * c : base + (img * h + y) * w * c
        }
    }

    @inline(__always)
    static func affine(_ x: Vec8, _ a: Vec8, _ b: Vec8) -> Vec8 { b.addingProduct(x, a) }

    @inline(__always)
    static func relu(_ v: Vec8) -> Vec8 { v.replacing(with: 0, where: v .< 0) }

    /// Adds `body(unit)` for every unit into Float partials `f` (2c), flushing them into `s` (2c Doubles)
    /// every 64 units.
    @inline(__always)
    static func accumulate(_ units: Range<Int>, c: Int, scratch f: UnsafeMutablePointer<Float>,
                           into s: UnsafeMutablePointer<Double>, _ body: (Int) -> Void) {
        var u = units.lowerBound
        while u < units.upperBound {
            let end = min(u + 64, units.upperBound)
            f.update(repeating: 0, count: 2 * c)
            for i in u..<end { body(i) }
            for j in 0..<2 * c { s[j] += Double(f[j]) }
            u = end
        }
    }

    // MARK: statistics

    /// s[j] += sum (x - k), s[c + j] += sum (x - k)^2 over the rows, k a per-channel shift against cancellation.
    static func shiftedSums(_ x: UnsafePointer<Float>, rows: Range<Int>, c: Int, shift k: UnsafePointer<Float>,
                            scratch f: UnsafeMutablePointer<Float>, into s: UnsafeMutablePointer<Double>) {
        accumulate(rows, c: c, scratch: f, into: s) { r in
            let xi = x + r * c
            var j = 0
            while j < c {
                let n = c - j
                let d = xi.load8(j, count: n) - k.load8(j, count: n)
                f.store8(f.load8(j, count: n) + d, j, count: n)
                f.store8((f + c).load8(j, count: n).addingProduct(d, d), c + j, count: n)
                j += 8
            }
        }
    }

    // MARK: pointwise (no pool)

    /// y = relu?(x * scale + shift) over the rows.
    static func forward(_ x: UnsafePointer<Float>, rows: Range<Int>, c: Int, _ k: Coefficients, relu: Bool,
                        into y: UnsafeMutablePointer<Float>) {
        for r in rows {
            let xi = x + r * c, yi = y + r * c
            var j = 0
            while j < c {
                let n = c - j
                let v = affine(xi.load8(j, count: n), k.scale.load8(j, count: n), k.shift.load8(j, count: n))
                yi.store8(relu ? Self.relu(v) : v, j, count: n)
                j += 8
            }
        }
    }

    /// The upstream gradient through the ReLU: dy where the affine value v was positive (all of dy without
    /// ReLU). Pointwise, v is the element's own; pooled, the window winner's.
    @inline(__always)
    static func throughReLU(_ dy: Vec8, _ v: Vec8, relu: Bool) -> Vec8 {
        relu ? dy.replacing(with: 0, where: v .<= 0) : dy
    }

    /// Channels j..<j+n of one row: the gradient through the ReLU, and the input it belongs to.
    @inline(__always)
    static func gradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ j: Int, _ n: Int, _ k: Coefficients,
                         relu: Bool) -> (g: Vec8, x: Vec8) {
        let xv = x.load8(j, count: n)
        let v = affine(xv, k.scale.load8(j, count: n), k.shift.load8(j, count: n))
        return (throughReLU(dy.load8(j, count: n), v, relu: relu), xv)
    }

    /// With g the gradient through the ReLU: s[j] += sum g, s[c + j] += sum g * x.
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>, c: Int,
                             _ k: Coefficients, relu: Bool, scratch f: UnsafeMutablePointer<Float>,
                             into s: UnsafeMutablePointer<Double>) {
        accumulate(rows, c: c, scratch: f, into: s) { r in
            let xi = x + r * c, di = dy + r * c
            var j = 0
            while j < c {
                let n = c - j
                let (g, xv) = gradient(di, xi, j, n, k, relu: relu)
                f.store8(f.load8(j, count: n) + g, j, count: n)
                f.store8((f + c).load8(j, count: n).addingProduct(g, xv), c + j, count: n)
                j += 8
            }
        }
    }

    /// dx = A g + B x + C per channel, g the gradient through the ReLU.
    static func inputGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>, c: Int,
                              _ k: Coefficients, relu: Bool, _ abc: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                              into dx: UnsafeMutablePointer<Float>) {
        for r in rows {
            let xi = x + r * c, di = dy + r * c, o = dx + r * c
            var j = 0
            while j < c {
                let n = c - j
                let (g, xv) = gradient(di, xi, j, n, k, relu: relu)
                let bx = abc.2.load8(j, count: n).addingProduct(abc.1.load8(j, count: n), xv)
                o.store8(bx.addingProduct(abc.0.load8(j, count: n), g), j, count: n)
                j += 8
            }
        }
    }

    // MARK: pooled (2x2, stride 2, floor)

    /// Offsets (in floats, within one image) of the four inputs of output pixel (oy, ox).
    @inline(__always)
    static func window(_ oy: Int, _ ox: Int, w: Int, c: Int) -> SIMD4<Int> {
        let p = ((2 * oy) * w + 2 * ox) * c
        return SIMD4(p, p + c, p + w * c, p + w * c + c)
    }

    /// A 2x2 window, eight channels: its four inputs, their affine values and the largest of those.
    struct Window {
        var x: (Vec8, Vec8, Vec8, Vec8)
        var v: (Vec8, Vec8, Vec8, Vec8)
        var best: Vec8
    }

    @inline(__always)
    static func window(_ x: UnsafePointer<Float>, _ q: SIMD4<Int>, _ j: Int, _ n: Int, _ a: Vec8, _ b: Vec8) -> Window {
        let xs = (x.load8(q[0] + j, count: n), x.load8(q[1] + j, count: n),
                  x.load8(q[2] + j, count: n), x.load8(q[3] + j, count: n))
        let vs = (affine(xs.0, a, b), affine(xs.1, a, b), affine(xs.2, a, b), affine(xs.3, a, b))
        var best = vs.0
        best.replace(with: vs.1, where: vs.1 .> best)
        best.replace(with: vs.2, where: vs.2 .> best)
        best.replace(with: vs.3, where: vs.3 .> best)
        return Window(x: xs, v: vs, best: best)
    }

    /// Gives all of g to the first input holding the window's largest value (PyTorch's rule for ties) and
    /// nothing to the others. Float selects only: they compile to blends, integer lane masks do not.
    @inline(__always)
    static func route(_ g: Vec8, _ w: Window) -> (Vec8, Vec8, Vec8, Vec8) {
        let g0 = g.replacing(with: 0, where: w.v.0 .!= w.best)
        var rest = g.replacing(with: 0, where: w.v.0 .== w.best)
        let g1 = rest.replacing(with: 0, where: w.v.1 .!= w.best)
        rest.replace(with: 0, where: w.v.1 .== w.best)
        let g2 = rest.replacing(with: 0, where: w.v.2 .!= w.best)
        rest.replace(with: 0, where: w.v.2 .== w.best)
        return (g0, g1, g2, rest)
    }

    /// y = max over each 2x2 window of relu?(x * scale + shift), for whole images.
    static func forwardPooled(_ x: UnsafePointer<Float>, images: Range<Int>, h: Int, w: Int, c: Int,
                              _ k: Coefficients, relu: Bool, into y: Output) {
        let (oh, ow) = (h / 2, w / 2)
        for img in images {
            let xi = x + img * h * w * c
            for oy in 0..<oh {
                let yr = y.row(img, oy)
                for ox in 0..<ow {
                    let q = window(oy, ox, w: w, c: c)
                    let yo = yr + ox * c
                    var j = 0
                    while j < c {
                        let n = c - j
                        let m = window(xi, q, j, n, k.scale.load8(j, count: n), k.shift.load8(j, count: n))
                        yo.store8(relu ? Self.relu(m.best) : m.best, j, count: n)
                        j += 8
                    }
                }
            }
        }
    }

    /// Only each window's winner receives gradient: s[j] += sum g, s[c + j] += sum g * x over winners.
    static func gradientSumsPooled(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, images: Range<Int>,
                                   h: Int, w: Int, c: Int, _ k: Coefficients, relu: Bool,
                                   scratch f: UnsafeMutablePointer<Float>, into s: UnsafeMutablePointer<Double>) {
        let (oh, ow) = (h / 2, w / 2)
        // One unit is one row of output pixels.
        accumulate(images.lowerBound * oh..<images.upperBound * oh, c: c, scratch: f, into: s) { u in
            let img = u / oh, oy = u % oh
            let xi = x + img * h * w * c
            for ox in 0..<ow {
                let q = window(oy, ox, w: w, c: c)
                let d = dy + (u * ow + ox) * c
                var j = 0
                while j < c {
                    let n = c - j
                    let m = window(xi, q, j, n, k.scale.load8(j, count: n), k.shift.load8(j, count: n))
                    let g = throughReLU(d.load8(j, count: n), m.best, relu: relu)
                    let gs = route(g, m)
                    let gx = (gs.0 * m.x.0).addingProduct(gs.1, m.x.1).addingProduct(gs.2, m.x.2).addingProduct(gs.3, m.x.3)
                    f.store8(f.load8(j, count: n) + g, j, count: n)
                    f.store8((f + c).load8(j, count: n) + gx, c + j, count: n)
                    j += 8
                }
            }
        }
    }

    /// dx = A g + B x + C for every input, g non-zero only at window winners (and zero on the row and
    /// column an odd size drops). Each input is written once.
    static func inputGradientPooled(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, images: Range<Int>,
                                    h: Int, w: Int, c: Int, _ k: Coefficients, relu: Bool,
                                    _ abc: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                    into dx: UnsafeMutablePointer<Float>) {
        let (oh, ow) = (h / 2, w / 2)
        for img in images {
            let xi = x + img * h * w * c, di = dx + img * h * w * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let q = window(oy, ox, w: w, c: c)
                    let d = dy + ((img * oh + oy) * ow + ox) * c
                    var j = 0
                    while j < c {
                        let n = c - j
                        let m = window(xi, q, j, n, k.scale.load8(j, count: n), k.shift.load8(j, count: n))
                        let gs = route(throughReLU(d.load8(j, count: n), m.best, relu: relu), m)
                        let (ga, gb, gc) = (abc.0.load8(j, count: n), abc.1.load8(j, count: n), abc.2.load8(j, count: n))
                        di.store8(gc.addingProduct(gb, m.x.0).addingProduct(ga, gs.0), q[0] + j, count: n)
                        di.store8(gc.addingProduct(gb, m.x.1).addingProduct(ga, gs.1), q[1] + j, count: n)
                        di.store8(gc.addingProduct(gb, m.x.2).addingProduct(ga, gs.2), q[2] + j, count: n)
                        di.store8(gc.addingProduct(gb, m.x.3).addingProduct(ga, gs.3), q[3] + j, count: n)
                        j += 8
                    }
                }
            }
            // Inputs no window covers get no gradient: the last column when w is odd, the last row when h is.
            func noGradient(_ p: Int) {
                var j = 0
                while j < c {
                    let n = c - j
                    let bx = abc.2.load8(j, count: n).addingProduct(abc.1.load8(j, count: n), xi.load8(p * c + j, count: n))
                    di.store8(bx, p * c + j, count: n)
                    j += 8
                }
            }
            if w % 2 == 1 { for y in 0..<2 * oh { noGradient(y * w + w - 1) } }
            if h % 2 == 1 { for xx in 0..<w { noGradient((h - 1) * w + xx) } }
        }
    }
}
