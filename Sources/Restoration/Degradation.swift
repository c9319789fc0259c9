import BTCore
import Foundation

/// What a restoration network is asked to undo.
public enum RestorationTask: Sendable, Hashable, CustomStringConvertible {
    /// Bicubic downscaling by an integer factor (Table 3: x2, x3, x4).
    case superResolution(scale: Int)
    /// Additive Gaussian noise of this standard deviation on intensities in [0, 1] (Table 4: 0.05, 0.1, 0.2).
    case denoise(sigma: Float)

    /// The input side is the target side divided by this (1 for denoising).
    public var scale: Int {
        if case .superResolution(let s) = self { return s }
        return 1
    }

    /// Border pixels left out of the PSNR: the scale for SR, as the benchmark scripts shave; none for denoising.
    public var shave: Int { scale == 1 ? 0 : scale }

    public var description: String {
        switch self {
        case .superResolution(let s): return "SR x\(s)"
        case .denoise(let sigma): return "denoise sigma \(sigma)"
        }
    }
}

/// One benchmark image made ready for a network: its input, the target, and the classical baseline's prediction.
public struct EvaluationPair: Sendable {
    /// Y / 255: the LR image (uint8-rounded, as a stored LR image is) for SR, the noisy image for denoising.
    public var input: Plane<Float>
    /// The clean Y on 0-255 (mod-cropped to the scale for SR), what predictions are measured against.
    public var target: Plane<Double>
    /// The bicubic upscaling of the LR input (unrounded), or the noisy input, on 0-255.
    public var baseline: Plane<Double>
    public var shave: Int

    public var baselinePSNR: Double { psnr(baseline, target, shave: shave) }
}

public enum Degradation {
    /// The base seed of the evaluation noise, so every run and every command sees the same noisy images.
    public static let defaultNoiseSeed: UInt64 = 0xD3_0015E

    /// The standard protocol on Y: Y of the uint8 HR image (rgb2ycbcr, rounded), mod-crop, imresize down (rounded
    /// to uint8), imresize up in double. This reproduces the published bicubic rows to within 0.01 dB.
    public static func pair(_ image: HRImage, task: RestorationTask, noiseSeed: UInt64 = defaultNoiseSeed) throws -> EvaluationPair {
        let s = task.scale
        guard s >= 1 else { throw BTError("the SR scale must be at least 1 (got \(s))") }
        let w = image.rgb.width - image.rgb.width % s, h = image.rgb.height - image.rgb.height % s
        guard min(w, h) > 2 * task.shave else {
            throw BTError("image \(image.name) (\(image.rgb.width)x\(image.rgb.height)) is too small for \(task)")
        }
        switch task {
        case .superResolution(let s):
            let hr = image.y.modCropped(s)
            let lr = Imresize.downscale(hr, by: s)
            return EvaluationPair(input: lr.map { Float($0) / 255 }, target: hr.asDouble,
                                  baseline: Imresize.upscale(lr.asDouble, by: s), shave: s)
        case .denoise(let sigma):
            let clean = image.y
            var rng = RNG(seed: Degradation.noiseSeed(name: image.name, base: noiseSeed))
            var noisy = clean.map { Float($0) / 255 }
            noisy.pixels.withUnsafeMutableBufferPointer { addNoise($0, sigma: sigma, rng: &rng) }
            return EvaluationPair(input: noisy, target: clean.asDouble, baseline: noisy.map { Double($0) * 255 }, shave: 0)
        }
    }

    /// The seed of one image's noise: its file name (FNV-1a) mixed with the base seed, so an image gets the same
    /// noise whatever set, order or folder it is read from.
    public static func noiseSeed(name: String, base: UInt64) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ (base &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Adds N(0, sigma) to intensities in [0, 1] in place and clips the result to [0, 1] (not rounded: the input
    /// stays float). Clipping is what a noisy image stored as pixels holds. The paper's Set5 "Noisy" row is
    /// 26.20 / 20.26 / 14.65 dB at sigma 0.05 / 0.1 / 0.2; clipped noise on Y gives 26.07 / 20.24 / 14.77 (only 0.1
    /// within 0.05 dB) and unclipped 26.02 / 20.00 / 13.98. Rounding to uint8 changes nothing measurable; noise on
    /// RGB, on full-range grey, or clipped to [16, 235] match no better.
    public static func addNoise(_ x: UnsafeMutableBufferPointer<Float>, sigma: Float, rng: inout RNG) {
        let noise = UnsafeMutableBufferPointer<Float>.allocate(capacity: x.count)
        defer { noise.deallocate() }
        rng.fillGaussian(noise, std: sigma)
        for i in 0..<x.count { x[i] = min(max(x[i] + noise[i], 0), 1) }
    }
}
