import BTCore
import Foundation

/// Where ImageNet 64x64's unpacked parts sit: `train_data_batch_1.npz` ... `_10.npz` and `val_data.npz`, in the
/// folder itself or in the `Imagenet64_*_npz/` folders the official zips unpack to.
public enum ImageNet64Files {
    static let subfolders = ["", "Imagenet64_train_part1_npz", "Imagenet64_train_part2_npz", "Imagenet64_val_npz"]

    public struct Found: CustomStringConvertible {
        public var train: [String]
        public var val: String
        public var description: String { "\((val as NSString).deletingLastPathComponent)/.. (\(train.count) training parts)" }
    }

    /// The training parts (by batch number) and the validation file, or nil unless both are there.
    public static func locate(in dir: String) -> Found? {
        var train: [(Int, String)] = [], val: String?
        for sub in subfolders {
            let d = sub.isEmpty ? dir : (dir as NSString).appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: d)) ?? [] {
                let p = (d as NSString).appendingPathComponent(name)
                if name == "val_data.npz" { val = p }
                if name.hasPrefix("train_data_batch_"), name.hasSuffix(".npz"),
                   let k = Int(name.dropFirst("train_data_batch_".count).dropLast(4)) { train.append((k, p)) }
            }
        }
        guard let val, !train.isEmpty else { return nil }
        return Found(train: train.sorted { $0.0 < $1.0 }.map(\.1), val: val)
    }

    /// The training parts as a stream, the validation file as a stream in stored order (50,000 images would take
    /// 2.5 GB as floats).
    static func load(dir: String, classes: Int) throws -> (train: NpzImageStream, test: NpzImageStream) {
        guard let found = locate(in: dir) else {
            let zips = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix("_npz.zip") } ?? []
            if !zips.isEmpty {
                throw BTError("imagenet64 in \(dir): the zips are there but not unpacked; run `btviz fetch imagenet64 --dir \(dir)` to check and unpack them")
            }
            throw BTError("imagenet64 data not found: \(dir) has no train_data_batch_N.npz and val_data.npz (or the Imagenet64_*_npz/ folders); see `btviz datasets`")
        }
        let train = try NpzImageStream(paths: found.train, channels: 3, height: 64, width: 64, classes: classes)
        let test = try NpzImageStream(paths: [found.val], channels: 3, height: 64, width: 64, classes: classes)
        return (train, test)
    }
}
