/// MATLAB's `imresize(A, scale, 'bicubic')`, the resampling every super-resolution benchmark is defined with:
/// the cubic kernel with a = -0.5, widened by 1/scale when shrinking (antialiasing), mirrored borders, and one
/// dimension after the other (rows first when both scales are equal, as MATLAB orders them).
///
/// The contributions along one dimension: for each output sample, `taps` source indices (0-based, already
/// mirrored into 0..<inSize) and their weights, which sum to 1. Row-major: output `o` owns `o * taps ..< (o+1) * taps`.
public struct ResizeWeights: Sendable, Equatable {
    public let inSize: Int
    public let outSize: Int
    public let taps: Int
    public let indices: [Int]
    public let weights: [Double]

    /// The same arithmetic as MATLAB's `contributions` (and BasicSR's port), so the weights agree to the last bit
    /// or nearly: the source coordinate of output x (1-based) is u = x / scale + 0.5 (1 - 1 / scale).
    public init(inSize: Int, outSize: Int, scale: Double, antialias: Bool = true) {
        precondition(inSize > 0 && outSize > 0 && scale > 0 && scale.isFinite, "bad resize geometry")
        let shrink = scale < 1 && antialias
        let width = shrink ? 4 / scale : 4
        let p = Int(width.rounded(.up)) + 2
        var idx = [Int](repeating: 0, count: outSize * p)
        var w = [Double](repeating: 0, count: outSize * p)
        for o in 0..<outSize {
            let u = Double(o + 1) / scale + 0.5 * (1 - 1 / scale)
            let left = (u - width / 2).rounded(.down)
            var sum = 0.0
            for k in 0..<p {
                let j = left + Double(k)
                let v = shrink ? scale * Self.cubic(scale * (u - j)) : Self.cubic(u - j)
                w[o * p + k] = v
                sum += v
                idx[o * p + k] = Self.mirror(Int(j) - 1, inSize)
            }
            for k in 0..<p { w[o * p + k] /= sum }
        }
        // Drop the taps that are zero for every output (MATLAB: kill = find(~any(weights, 1))).
        let keep = (0..<p).filter { k in (0..<outSize).contains { w[$0 * p + k] != 0 } }
        self.inSize = inSize; self.outSize = outSize; taps = keep.count
        indices = (0..<outSize).flatMap { o in keep.map { idx[o * p + $0] } }
        weights = (0..<outSize).flatMap { o in keep.map { w[o * p + $0] } }
    }

    /// Keys' cubic with a = -0.5, written as MATLAB writes it.
    @inline(__always)
    static func cubic(_ x: Double) -> Double {
        let a = abs(x), a2 = a * a, a3 = a2 * a
        if a <= 1 { return 1.5 * a3 - 2.5 * a2 + 1 }
        if a <= 2 { return -0.5 * a3 + 2.5 * a2 - 4 * a + 2 }
        return 0
    }

    /// MATLAB's symmetric padding: the index sequence 0, 1, ..., n-1, n-1, ..., 0 repeated.
    @inline(__always)
    static func mirror(_ i: Int, _ n: Int) -> Int {
        let m = ((i % (2 * n)) + 2 * n) % (2 * n)
        return m < n ? m : 2 * n - 1 - m
    }
}

/// A separable bicubic resize of single-channel planes [inH, inW] -> [outH, outW] (row-major), its weights
/// computed once. The Float path (for network layers: upsampling a batch of patches every step) accumulates in
/// Float; the Double path is the exact one the benchmarks use.
public struct BicubicResize: Sendable {
    public let inH: Int, inW: Int, outH: Int, outW: Int
    public let rows: ResizeWeights
    public let cols: ResizeWeights
    private let rowIdx: [Int], colIdx: [Int]
    private let rowWF: [Float], colWF: [Float]

    /// `scale` is MATLAB's scale argument (2 to enlarge by 2, 1/2 to shrink); both dimensions use it.
    public init(inH: Int, inW: Int, outH: Int, outW: Int, scale: Double, antialias: Bool = true) {
        self.inH = inH; self.inW = inW; self.outH = outH; self.outW = outW
        rows = ResizeWeights(inSize: inH, outSize: outH, scale: scale, antialias: antialias)
        cols = ResizeWeights(inSize: inW, outSize: outW, scale: scale, antialias: antialias)
        rowIdx = rows.indices; colIdx = cols.indices
        rowWF = rows.weights.map { Float($0) }; colWF = cols.weights.map { Float($0) }
    }

    /// Enlarging by an integer factor (e.g. a low-resolution patch to the target size).
    public init(inH: Int, inW: Int, upscale s: Int) {
        self.init(inH: inH, inW: inW, outH: inH * s, outW: inW * s, scale: Double(s))
    }

    /// Shrinking by an integer factor; the input sides must be multiples of it (mod-crop first).
    public init(inH: Int, inW: Int, downscale s: Int) {
        precondition(inH % s == 0 && inW % s == 0, "sides must be multiples of the scale")
        self.init(inH: inH, inW: inW, outH: inH / s, outW: inW / s, scale: 1 / Double(s))
    }

    /// Resizes `planes` consecutive planes (a [N, H, W, 1] batch is N planes).
    public func apply(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, planes: Int = 1) {
        rowWF.withUnsafeBufferPointer { rw in
            colWF.withUnsafeBufferPointer { cw in run(src, dst, planes, rw.baseAddress!, cw.baseAddress!) }
        }
    }

    public func apply(_ src: UnsafePointer<Double>, into dst: UnsafeMutablePointer<Double>, planes: Int = 1) {
        rows.weights.withUnsafeBufferPointer { rw in
            cols.weights.withUnsafeBufferPointer { cw in run(src, dst, planes, rw.baseAddress!, cw.baseAddress!) }
        }
    }

    /// Rows pass into a [outH, inW] scratch plane (whole source rows scaled and added, so it vectorizes), then the
    /// columns pass gathers `taps` values per output pixel.
    @inline(__always)
    private func run<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ planes: Int,
                                             _ rw: UnsafePointer<T>, _ cw: UnsafePointer<T>) {
        let tmp = UnsafeMutablePointer<T>.allocate(capacity: outH * inW)
        defer { tmp.deallocate() }
        let rt = rows.taps, ct = cols.taps
        rowIdx.withUnsafeBufferPointer { ri in
            colIdx.withUnsafeBufferPointer { ci in
                for n in 0..<planes {
                    let s = src + n * inH * inW, d = dst + n * outH * outW
                    for o in 0..<outH {
                        let t = tmp + o * inW
                        let w0 = rw[o * rt], s0 = s + ri[o * rt] * inW
                        for x in 0..<inW { t[x] = w0 * s0[x] }
                        for k in 1..<rt {
                            let wk = rw[o * rt + k], sk = s + ri[o * rt + k] * inW
                            for x in 0..<inW { t[x] += wk * sk[x] }
                        }
                    }
                    for y in 0..<outH {
                        let t = tmp + y * inW, out = d + y * outW
                        for o in 0..<outW {
                            var acc: T = 0
                            for k in 0..<ct { acc += cw[o * ct + k] * t[ci[o * ct + k]] }
                            out[o] = acc
                        }
                    }
                }
            }
        }
    }
}
