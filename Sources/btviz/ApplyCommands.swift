import ArgumentParser
import BTCore
import Foundation
import Restoration
import Training

/// `upscale` and `denoise`: a trained restoration run applied to a user's image. The net works on Y; colour is
/// kept by carrying Cb and Cr along (bicubically upscaled for super-resolution).
struct ApplyOptions: ParsableArguments {
    @Option(help: "The run directory of a trained model.") var run: String
    @Argument(help: "Input image: PNG, JPEG or BMP.") var input: String
    @Argument(help: "Output image: .png or .bmp.") var output: String

    func apply(expecting task: TrainTask) throws {
        let ext = (output as NSString).pathExtension.lowercased()
        guard ext == "png" || ext == "bmp" else { throw BTError("the output must be a .png or .bmp file (got \(output))") }
        let ckpt = try Checkpoint.load(path: run + "/checkpoint.bin")
        let c = ckpt.header.config
        guard c.task == task else {
            throw BTError("\(run) is a \(c.task.rawValue) run; \(task == .sr ? "upscale" : "denoise") needs a \(task.rawValue) run")
        }
        let (image, _) = try ImageFiles.read(path: input)
        let planes = YCbCr.floatPlanes(of: image)
        let (net, _) = try RestorationTraining.load(ckpt, evalSide: min(640, max(image.width, image.height)))
        let s = net.scale
        let y = planes.y.pixels.map { Float($0 / 255) }
        let out = y.withUnsafeBufferPointer { net.predict($0.baseAddress!, h: image.height, w: image.width) }
        let restored = Plane(width: image.width * s, height: image.height * s,
                             pixels: out.map { min(max(Double($0), 0), 1) * 255 })
        let cb = s > 1 ? Imresize.upscale(planes.cb, by: s) : planes.cb
        let cr = s > 1 ? Imresize.upscale(planes.cr, by: s) : planes.cr
        let result = YCbCr.image(y: restored, cb: cb, cr: cr)
        if ext == "png" { try ImageFiles.writePNG(result, to: output) } else { try BMP.write(result, to: output) }
        print("\(output): \(result.width)x\(result.height), \(task == .sr ? "upscaled x\(s)" : "denoised") by \(net.title) (\(ckpt.header.method.label), step \(ckpt.header.step))")
    }
}

struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upscale an image with a trained super-resolution run (btviz upscale --run RUN IN.png OUT.png).")
    @OptionGroup var options: ApplyOptions
    func run() throws { try options.apply(expecting: .sr) }
}

struct Denoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Denoise an image with a trained denoising run (btviz denoise --run RUN IN.png OUT.png).")
    @OptionGroup var options: ApplyOptions
    func run() throws { try options.apply(expecting: .denoise) }
}
