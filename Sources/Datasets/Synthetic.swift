import BTCore
import Foundation

/// A procedural 10-class, 28x28 grayscale dataset that needs no download, so every feature of
/// btviz works offline and tests are reproducible. It is made deliberately imperfect (random pose,
/// low contrast, reversed polarity, textured backgrounds, distractor strokes, noise, and orientation
/// ranges of the stripe classes that touch) so full precision does not reach 100% and the accuracy
/// a binarized or ternary model loses is visible.
public enum Synthetic {
    public static let classNames = ["disc", "ring", "square outline", "triangle", "plus",
                                    "horizontal stripes", "vertical stripes", "diagonal stripes",
                                    "checkerboard", "dot grid"]
    public static let size = 28
}

/// `trainCount` + `testCount` images, classes balanced (image i has label i % 10), deterministic in
/// `seed`; train and test come from different RNG streams, so they never share an image.
public func makeSynthetic(seed: UInt64, trainCount: Int = 6000, testCount: Int = 2000) -> Dataset {
    Dataset(name: "synthetic",
            train: syntheticSet(seed: seed, stream: .synthetic, count: trainCount),
            test: syntheticSet(seed: seed, stream: .syntheticTest, count: testCount),
            classes: Synthetic.classNames.count, classNames: Synthetic.classNames)
}

private func syntheticSet(seed: UInt64, stream: RNGStream, count: Int) -> ImageSet {
    let side = Synthetic.size, size = side * side, classes = Synthetic.classNames.count
    var pixels = [Float](repeating: 0, count: count * size)
    let labels = (0..<count).map { Int32($0 % classes) }
    pixels.withUnsafeMutableBufferPointer { buf in
        let base = buf.baseAddress!
        let workers = max(1, min(Workers.count, count / 256))
        // One RNG per image (counter = index): the result does not depend on the worker split.
        parallelFor(workers) { w in
            for i in workerRange(w, of: workers, total: count) {
                var rng = RNG(seed: seed, stream: stream, UInt64(i))
                drawImage(class: i % classes, into: base + i * size, side: side, rng: &rng)
            }
        }
    }
    return ImageSet(count: count, height: side, width: side, channels: 1, pixels: pixels, labels: labels)
}

@inline(__always) private func clamp01(_ x: Float) -> Float { min(max(x, 0), 1) }
/// Triangle wave with period 1, in [-1, 1]: a cheap stand-in for sin in the textures.
@inline(__always) private func tri(_ a: Float) -> Float { 1 - 4 * abs(a - a.rounded(.down) - 0.5) }

private func drawImage(class k: Int, into out: UnsafeMutablePointer<Float>, side: Int, rng: inout RNG) {
    func u(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * rng.uniform() }
    let mid = Float(side - 1) / 2
    // Pose.
    let cx = mid + u(-3.5, 3.5), cy = mid + u(-3.5, 3.5)
    var angle = u(0, 2 * .pi)
    let r = u(6.5, 10.5)                  // shape radius / texture window radius
    let stroke = u(1.5, 2.8)
    let period = u(4, 7)            // texture period in pixels
    let phase = u(0, 1), phase2 = u(0, 1)
    let duty = u(-0.35, 0.35)         // stripe thickness
    let dotR = u(1.1, 1.8)
    let squareWindow = rng.uniform() < 0.5
    let deg = Float.pi / 180
    switch k {  // stripe orientations: ranges touch, so the border cases are genuinely ambiguous
    case 5: angle = u(-25, 25) * deg
    case 6: angle = (90 + u(-25, 25)) * deg
    case 7: angle = (rng.uniform() < 0.5 ? 45 : 135) * deg + u(-20, 20) * deg
    default: break
    }
    let cs = cosf(angle), sn = sinf(angle)
    // Appearance.
    let bg0 = u(0, 0.55), gx = u(-0.25, 0.25), gy = u(-0.25, 0.25)
    let texAmp = u(0, 0.12), texKx = u(-0.5, 0.5), texKy = u(-0.5, 0.5), texPh = u(0, 2 * .pi)
    var contrast = u(0.3, 0.9)
    if rng.uniform() < 0.2 { contrast = -contrast }  // dark shape on a lighter background
    let noise = u(0.02, 0.12)
    // Optional distractor stroke elsewhere.
    let hasStroke = rng.uniform() < 0.3
    let sx = u(2, Float(side) - 3), sy = u(2, Float(side) - 3), sa = u(0, .pi)
    let sLen = u(2, 5), sW = u(0.5, 1.1), sC = contrast * u(0.3, 0.9)
    let sc = cosf(sa), ss = sinf(sa)
    let triR = r * 0.5  // inradius of an equilateral triangle with circumradius r

    var g: (Float, Float) = (0, 0)
    for y in 0..<side {
        for x in 0..<side {
            let px = Float(x) - cx, py = Float(y) - cy
            let a = cs * px + sn * py, b = -sn * px + cs * py  // shape-local coordinates
            var cov: Float
            switch k {
            case 0: cov = clamp01(0.5 - ((a * a + b * b).squareRoot() - r))
            case 1: cov = clamp01(0.5 - (abs((a * a + b * b).squareRoot() - r) - stroke / 2))
            case 2: cov = clamp01(0.5 - (abs(max(abs(a), abs(b)) - r * 0.85) - stroke / 2))
            case 3:
                let d1 = b - triR
                let d2 = -0.866_025 * a - 0.5 * b - triR
                let d3 = 0.866_025 * a - 0.5 * b - triR
                cov = clamp01(0.5 - max(d1, max(d2, d3)))
            case 4:
                let w = stroke * 0.5 + 0.4
                let arm1 = max(abs(a) - r, abs(b) - w), arm2 = max(abs(a) - w, abs(b) - r)
                cov = clamp01(0.5 - min(arm1, arm2))
            default:
                let win = squareWindow ? max(abs(px), abs(py)) : (px * px + py * py).squareRoot()
                let window = clamp01(0.5 - (win - r - 2))
                var pat: Float
                switch k {
                case 5, 6, 7: pat = clamp01(0.5 + (tri(b / period + phase) - duty) * period / 4)
                case 8:
                    let su = max(-1, min(1, tri(a / (2 * period) + phase) * period / 2))
                    let sv = max(-1, min(1, tri(b / (2 * period) + phase2) * period / 2))
                    pat = 0.5 + 0.5 * su * sv
                default:
                    let fu = a / period + phase, fv = b / period + phase2
                    let du = (fu - fu.rounded()) * period, dv = (fv - fv.rounded()) * period
                    pat = clamp01(0.5 - ((du * du + dv * dv).squareRoot() - dotR))
                }
                cov = window * pat
            }
            let fx = Float(x) - mid, fy = Float(y) - mid
            var v = bg0 + (gx * fx + gy * fy) / Float(side) + texAmp * sinf(texKx * fx + texKy * fy + texPh)
            v += contrast * cov
            if hasStroke {
                let qx = Float(x) - sx, qy = Float(y) - sy
                let along = sc * qx + ss * qy, across = -ss * qx + sc * qy
                v += sC * clamp01(0.5 - max(abs(along) - sLen, abs(across) - sW))
            }
            if x & 1 == 0 { rng.gaussianPair(&g) } else { g.0 = g.1 }
            out[y * side + x] = clamp01(v + noise * g.0)
        }
    }
}
