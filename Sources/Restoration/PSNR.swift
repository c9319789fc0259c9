import Foundation

/// Peak signal-to-noise ratio in dB of two planes on the 0-255 scale: 10 log10(peak^2 / MSE), the MSE taken with
/// `shave` pixels cut from every border (SR benchmarks shave the scale: the borders hold no information there).
/// Identical planes give +infinity.
public func psnr(_ a: Plane<Double>, _ b: Plane<Double>, shave: Int = 0, peak: Double = 255) -> Double {
    precondition(a.width == b.width && a.height == b.height, "PSNR of planes of different sizes")
    precondition(a.width > 2 * shave && a.height > 2 * shave, "the shave leaves nothing to compare")
    var sum = 0.0
    for y in shave..<(a.height - shave) {
        let row = y * a.width
        for x in shave..<(a.width - shave) {
            let d = a.pixels[row + x] - b.pixels[row + x]
            sum += d * d
        }
    }
    let mse = sum / Double((a.width - 2 * shave) * (a.height - 2 * shave))
    return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
}
