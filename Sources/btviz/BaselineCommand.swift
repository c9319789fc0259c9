import ArgumentParser
import BTCore
import Foundation
import Restoration

enum RestorationTaskName: String, ExpressibleByArgument, CaseIterable {
    case sr, denoise
}

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PSNR of the classical baseline on the SR and denoising benchmarks, without training.",
        discussion: """
        SR: bicubic upscaling of the bicubic-downscaled image (MATLAB imresize), PSNR on Y with the scale shaved \
        from each border, the mean over each set's images (the 'Bicubic' row of SR tables). Denoising: the noisy \
        input itself (Gaussian noise on [0, 1] intensities, clipped, the same seeded noise every time), no shave.
        """)

    @Option(help: "sr (super-resolution) or denoise.") var task: RestorationTaskName = .sr
    @Option(parsing: .unconditional, help: "Upscaling factor for --task sr: 2, 3 or 4 (default 2).") var scale: Int?
    @Option(parsing: .unconditional, help: "Noise standard deviation on [0, 1] intensities for --task denoise (default 0.1).") var sigma: Float?
    @Option(help: "Comma-separated sets: \(RestorationSet.names) (default set5,set14,bsd100,urban100 for sr, set5,set14 for denoise).")
    var sets: String?
    @Option(help: "Folder holding the set folders (Set5, Set14, ...), an sr/ folder of them, or one set's folder.", completion: .directory)
    var dataDir: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let restorationTask = try resolvedTask()
        let chosen = try resolvedSets()
        var rows: [(set: RestorationSet, images: Int, psnr: Double)] = []
        for set in chosen {
            let files = try set.files(dataDir: dataDir)
            let values = try BaselinePSNR.psnrs(files: files, task: restorationTask)
            rows.append((set, values.count, values.reduce(0, +) / Double(values.count)))
        }
        if json {
            var out: [String: Any] = switch restorationTask {
            case .superResolution(let s): ["task": "sr", "scale": s]
            case .denoise(let sigma): ["task": "denoise", "sigma": sigma]
            }
            // PSNR to two decimals, as the tables print; a perfect match (infinite PSNR) is null.
            out["sets"] = rows.map { ["set": $0.set.rawValue, "images": $0.images, "psnr": JSONOutput.finite(($0.psnr * 100).rounded() / 100)] }
            print(try JSONOutput.string(object: out))
            return
        }
        switch restorationTask {
        case .superResolution(let s): print("bicubic x\(s): PSNR (dB) on Y, \(s) border pixels shaved, mean over the images")
        case .denoise(let sigma): print("noisy input, sigma \(sigma): PSNR (dB) on Y, mean over the images")
        }
        printAligned([["set", "images", "PSNR"]] + rows.map { [$0.set.folderName, "\($0.images)", decimal($0.psnr)] },
                     lastColumnLeft: false)
    }

    private func resolvedTask() throws -> RestorationTask {
        switch task {
        case .sr:
            if sigma != nil { throw BTError("--sigma applies to --task denoise, not sr") }
            let s = scale ?? 2
            guard (2...4).contains(s) else { throw BTError("--scale must be 2, 3 or 4 (got \(s))") }
            return .superResolution(scale: s)
        case .denoise:
            if scale != nil { throw BTError("--scale applies to --task sr, not denoise") }
            let v = sigma ?? 0.1
            guard v > 0, v <= 1 else { throw BTError("--sigma must be in (0, 1], on [0, 1] intensities (got \(v))") }
            return .denoise(sigma: v)
        }
    }

    private func resolvedSets() throws -> [RestorationSet] {
        guard let sets else { return task == .sr ? [.set5, .set14, .bsd100, .urban100] : [.set5, .set14] }
        let names = sets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw BTError("--sets is empty; choose from \(RestorationSet.names)") }
        var out: [RestorationSet] = []
        for n in names {
            guard let s = RestorationSet(name: n) else { throw BTError("unknown set '\(n)' in --sets; choose from \(RestorationSet.names)") }
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// Two decimals, as the table prints; a perfect match (infinite PSNR) prints null.
    private func decimal(_ v: Double) -> String { v.isFinite ? String(format: "%.2f", v) : "null" }
}
