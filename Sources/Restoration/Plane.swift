/// One channel of an image, row-major: the unit the restoration benchmarks work on (Y planes, LR planes).
public struct Plane<T: Sendable>: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [T]

    public init(width: Int, height: Int, pixels: [T]) {
        precondition(pixels.count == width * height, "plane pixels do not match its size")
        self.width = width; self.height = height; self.pixels = pixels
    }

    public subscript(y: Int, x: Int) -> T { pixels[y * width + x] }

    public func map<U>(_ f: (T) -> U) -> Plane<U> { Plane<U>(width: width, height: height, pixels: pixels.map(f)) }

    /// The `w` x `h` window whose top-left pixel is (x, y).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Plane<T> {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height, "crop outside the plane")
        var out: [T] = []
        out.reserveCapacity(w * h)
        for r in y..<(y + h) { out += pixels[(r * width + x)..<(r * width + x + w)] }
        return Plane(width: w, height: h, pixels: out)
    }

    /// MATLAB's `modcrop`: the top-left part whose sides are multiples of `m`.
    public func modCropped(_ m: Int) -> Plane<T> {
        cropped(x: 0, y: 0, width: width - width % m, height: height - height % m)
    }
}

extension Plane: Equatable where T: Equatable {}

extension Plane where T == UInt8 {
    public var asDouble: Plane<Double> { map { Double($0) } }
}

/// MATLAB's conversion of a double to uint8: round half away from zero, saturate at 0 and 255.
@inline(__always)
func matlabUInt8(_ v: Double) -> UInt8 {
    guard v > 0 else { return 0 }  // also NaN
    return v >= 254.5 ? 255 : UInt8(v.rounded(.toNearestOrAwayFromZero))
}
