import ArgumentParser
import BTCore
import Datasets
import Foundation
import Restoration
import Training

/// `upscale` and `denoise`: a trained restoration run applied to a user's image. The net works on Y; for
/// super-resolution Cb and Cr are upscaled bicubically, for denoising the same net is run on each of them too
/// (as a plane on Y's [0, 1] scale) unless `chroma` is off.
struct ApplyOptions: ParsableArguments {
    @Option(help: "The run directory of a trained model.", completion: .directory) var run: String
    @Argument(help: "Input image: PNG, JPEG or BMP.", completion: .file(extensions: ["png", "jpg", "jpeg", "bmp"])) var input: String
    @Argument(help: "Output image: .png or .bmp.", completion: .file()) var output: String
    @Option(help: ArgumentHelp("Refuse an output larger than this many megapixels (each takes about \(Self.secondsPerMegapixel) s on 2 cores).",
                               valueName: "MP"))
    var maxMegapixels: Double = 16

    /// Measured for x2 on a 2-core VM (release build, the other core busy): 1024x1024 in 4.3 s and 2048x2048 in
    /// 14.3 s, about 0.9 s per output megapixel (the whole image is evaluated in exact tiles of at most 640 a side,
    /// so time, not memory, grows with the size: hence the limit).
    static let secondsPerMegapixel = 0.9

    /// Bytes the whole-image pass holds per input pixel at scale `s`, besides the net: the RGB input (3), its Y,
    /// Cb and Cr as doubles (24), Y as floats (4); per output pixel the net's output (4), the restored Y and the
    /// upscaled Cb and Cr as doubles (24, with Imresize's row pass), the RGB result (3) and its PNG encoding
    /// (3 twice, then copied once more as Data).
    /// Denoising Cb and Cr as well adds each one's float input and the net's output (16).
    static func bytesPerInputPixel(scale s: Int) -> Int { 31 + 16 + s * s * (4 + 24 + 8 + 3 + 9) }

    /// The net's own buffers at `evalSide`: its convolutions' outputs, padded inputs and scratch at the largest tile,
    /// measured as peak RSS less the image buffers (x2 at 640: about 2.3 GB).
    static func netBytes(evalSide: Int, scale s: Int) -> Int { evalSide * evalSide * s * s * 64 * 4 * 6 }

    func apply(expecting task: TrainTask, chroma: Bool = false) throws {
        let ext = (output as NSString).pathExtension.lowercased()
        guard ext == "png" || ext == "bmp" else { throw BTError("the output must be a .png or .bmp file (got \(output))") }
        let folder = RunFolder(run)
        let ckpt = try folder.loadCheckpoint()
        let c = ckpt.header.config
        guard c.task == task else {
            throw BTError("\(run) is a \(c.task.rawValue) run; \(task == .sr ? "upscale" : "denoise") needs a \(task.rawValue) run")
        }
        let s = c.task == .sr ? c.scale : 1
        // The header bounds the work before anything is decoded: time (output pixels) and memory (the whole pass).
        let (image, _) = try ImageFiles.read(path: input) { h in
            let outPixels = h.width * h.height * s * s  // at most 2^28 x 16: no overflow
            guard Double(outPixels) <= maxMegapixels * 1e6 else {
                let seconds = Int((Double(outPixels) / 1e6 * Self.secondsPerMegapixel).rounded(.up))
                let time = seconds < 120 ? "\(seconds) s" : "\((seconds + 59) / 60) min"
                throw BTError("\(input) is \(h.width)x\(h.height): the \(h.width * s)x\(h.height * s) result would be "
                              + "\(ImageLimits.megapixels(outPixels)), over the --max-megapixels \(Self.format(maxMegapixels)) limit "
                              + "(about \(time) at ~\(Self.secondsPerMegapixel) s a megapixel); "
                              + "pass --max-megapixels \(Int((Double(outPixels) / 1e6).rounded(.up))) to go ahead")
            }
            let side = min(640, max(h.width, h.height))
            try MemoryBudget.check(h.width * h.height * Self.bytesPerInputPixel(scale: s) + Self.netBytes(evalSide: side, scale: s),
                                   for: "\(task == .sr ? "upscaling" : "denoising") \(input) (\(h.width)x\(h.height))")
        }
        let planes = YCbCr.floatPlanes(of: image)
        guard let net = try folder.open(checkpoint: ckpt, evalSide: min(640, max(image.width, image.height))).restorationNet else {
            throw BTError("\(run) holds no restoration net")
        }
        /// The net on one plane (0-255 scale in and out, fed as value / 255 like Y in training).
        func restore(_ p: Plane<Double>) -> Plane<Double> {
            let x = p.pixels.map { Float($0 / 255) }
            let out = x.withUnsafeBufferPointer { net.predict($0.baseAddress!, h: p.height, w: p.width) }
            return Plane(width: p.width * s, height: p.height * s, pixels: out.map { min(max(Double($0), 0), 1) * 255 })
        }
        let restored = restore(planes.y)
        let cb = s > 1 ? Imresize.upscale(planes.cb, by: s) : chroma ? restore(planes.cb) : planes.cb
        let cr = s > 1 ? Imresize.upscale(planes.cr, by: s) : chroma ? restore(planes.cr) : planes.cr
        let result = YCbCr.image(y: restored, cb: cb, cr: cr)
        if ext == "png" { try ImageFiles.writePNG(result, to: output) } else { try BMP.write(result, to: output) }
        print("\(output): \(result.width)x\(result.height), \(task == .sr ? "upscaled x\(s)" : chroma ? "denoised (Y, Cb and Cr)" : "denoised (Y only; Cb and Cr as they were)") by \(net.title) (\(ckpt.header.method.label), step \(ckpt.header.step))")
    }

    /// 16, 0.5.
    static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upscale an image with a trained super-resolution run (btviz upscale --run RUN IN.png OUT.png).")
    @OptionGroup var options: ApplyOptions
    func run() throws { try options.apply(expecting: .sr) }
}

struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Denoise an image with a trained denoising run (btviz denoise --run RUN IN.png OUT.png).",
        discussion: "The net, trained on Y, is run on Cb and Cr too (colour noise); --luma-only denoises Y alone.")
    @OptionGroup var options: ApplyOptions
    @Flag(help: "Denoise Y only and keep Cb and Cr as they are (faster by about 3x; colour speckle stays).") var lumaOnly = false
    func run() throws { try options.apply(expecting: .denoise, chroma: !lumaOnly) }
}
