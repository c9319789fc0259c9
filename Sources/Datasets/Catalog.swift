import BTCore
import Foundation

/// Every dataset btviz knows, one entry each: its name, classes, image shape, official files (URL and checksum),
/// where a system package puts it, its loader and its default augmentation. `train`, `eval`, `fetch`, `datasets`
/// and the explorer's header read this; nothing else knows dataset names. A new dataset is one entry here, plus
/// a format file if its format is new.
public struct DatasetEntry: Sendable {
    public var name: String
    public var title: String
    public var classNames: [String]          // empty: the data names them (an image folder's subfolders)
    public var imageShape: [Int]?            // [c, h, w]; nil: set by --image-size
    public var files: [DatasetFile]
    public var systemDirs: [String] = []
    /// Whether a horizontal flip keeps the class (photos, not digits); crop padding and cutout follow the size.
    public var flips: Bool
    /// Whether the loader reads the data from a folder the user names (--data-dir) rather than a cache.
    public var userFolder = false
    /// The loader's own options (an image folder's --image-size, --fit, --test-dir, --test-ratio).
    public var takesFolderOptions = false
    /// Where in `dir` the data is, in words, or nil if it is not there.
    public var locate: @Sendable (String) -> String?
    public var load: @Sendable (DatasetRequest) throws -> TrainingData
    /// How to get the data when it is not found (besides `btviz fetch`).
    public var howToGet: String = ""
    /// The files the loader reads from a folder, for the data's identity (nil: the catalog's files found there by name).
    public var readsFiles: (@Sendable (String) -> [String])? = nil

    public func augmentation(height: Int, width: Int) -> Augmentation {
        .standard(height: height, width: width, flip: flips)
    }

    public var requiredFiles: [DatasetFile] { files.filter { !$0.optional } }

    /// Loads the data with this entry's augmentation.
    public func loadData(_ r: DatasetRequest) throws -> TrainingData {
        var d = try load(r)
        d.augmentation = augmentation(height: d.train.height, width: d.train.width)
        return d
    }
}

/// One file of a dataset's official release.
public struct DatasetFile: Sendable {
    public var name: String
    public var url: URL
    public var checksum: Checksum
    public var size: Int? = nil
    /// Fetched only with `btviz fetch --all` (SVHN's extra split, 1.3 GB).
    public var optional = false
    /// A zip whose members the loader reads: fetch unpacks it next to itself.
    public var unpack = false
    /// md5 of the decompressed contents, for a system package's re-compressed copy (Debian's Fashion-MNIST).
    public var contentMD5: String? = nil
}

/// What the publishers list: md5 where they give one, sha256 where only that is published (ImageNet 64x64's sums
/// come from TensorFlow Datasets' checksum list; image-net.org lists none).
public enum Checksum: Sendable, Equatable {
    case md5(String)
    case sha256(String)

    public var hex: String { switch self { case .md5(let h), .sha256(let h): return h.lowercased() } }
    public var algorithm: String { switch self { case .md5: return "md5"; case .sha256: return "sha256" } }
}

/// The options a loader may need beyond the folder.
public struct DatasetRequest: Sendable {
    public var dir: String
    public var seed: UInt64 = 0
    public var folder: ImageFolderOptions? = nil

    public init(dir: String, seed: UInt64 = 0, folder: ImageFolderOptions? = nil) {
        self.dir = dir; self.seed = seed; self.folder = folder
    }
}

public enum DatasetCatalog {
    public static let entries: [DatasetEntry] = [synthetic, fashion, mnist, kmnist, cifar10, svhn, imagenet64, folder]

    public static var names: [String] { entries.map(\.name) }

    public static func entry(_ name: String) -> DatasetEntry? { entries.first { $0.name == name } }

    /// The entry, or a one-line error listing the known names.
    public static func named(_ name: String) throws -> DatasetEntry {
        guard let e = entry(name) else {
            throw BTError("unknown dataset '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        return e
    }

    // MARK: - The entries

    static let synthetic = DatasetEntry(
        name: "synthetic", title: "built in: procedural shapes and textures, 6,000 train / 2,000 test",
        classNames: Synthetic.classNames, imageShape: [1, 28, 28], files: [], flips: false,
        locate: { _ in "built in" },
        load: { r in TrainingData(makeSynthetic(seed: r.seed)) })

    static let fashion = idx(
        name: "fashion", title: "Fashion-MNIST (official IDX files)",
        classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        base: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        md5: ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
              "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"],
        contentMD5: ["f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9",
                     "8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"],
        systemDirs: ["/usr/share/datasets/fashion-mnist"])  // Debian's dataset-fashion-mnist

    static let mnist = idx(
        name: "mnist", title: "MNIST (official IDX files)", classNames: (0..<10).map(String.init),
        base: "https://ossci-datasets.s3.amazonaws.com/mnist/",
        md5: ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"])

    /// Clanuwat et al. 2018: ten cursive hiragana, MNIST's format and sizes; the md5s torchvision's KMNIST lists.
    static let kmnist = idx(
        name: "kmnist", title: "Kuzushiji-MNIST (official IDX files, 10 cursive hiragana)",
        classNames: ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
        base: "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        md5: ["bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
              "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"])

    static func idx(name: String, title: String, classNames: [String], base: String, md5: [String],
                    contentMD5: [String]? = nil, systemDirs: [String] = []) -> DatasetEntry {
        let files = IDXFiles.all.enumerated().map { i, f in
            DatasetFile(name: f + ".gz", url: URL(string: base + f + ".gz")!, checksum: .md5(md5[i]),
                        contentMD5: contentMD5?[i])
        }
        return DatasetEntry(
            name: name, title: title, classNames: classNames, imageShape: [1, 28, 28], files: files,
            systemDirs: systemDirs, flips: false,
            locate: { dir in IDXFiles.locate(IDXFiles.trainImages, in: dir).map { _ in dir } },
            load: { r in TrainingData(try loadIDXPair(name: name, dir: r.dir, classNames: classNames)) },
            readsFiles: { dir in IDXFiles.all.compactMap { IDXFiles.locate($0, in: dir) } })
    }

    static let cifarClasses = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    static let cifar10 = DatasetEntry(
        name: "cifar10", title: "CIFAR-10 (official binary version)",
        classNames: cifarClasses,
        imageShape: [3, 32, 32],
        files: [DatasetFile(name: CIFARFiles.archive, url: URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")!,
                            checksum: .md5("c32a1d4ab5d03f1284b67883e8d87530"), size: 170_052_171)],
        flips: true,
        locate: { CIFARFiles.locate(in: $0)?.description },
        load: { r in
            guard let where_ = CIFARFiles.locate(in: r.dir) else {
                throw BTError(settings: "cifar10 data not found: \(r.dir) has no \(CIFARFiles.archive), \(CIFARFiles.folder)/ or test_batch.bin with data_batch_N.bin; run `btviz fetch cifar10` or pass \(setting: "data_dir")")
            }
            let (train, test) = try loadCIFAR10(where_, classes: 10)
            return TrainingData(name: "cifar10", train: train, test: test, classes: 10, classNames: cifarClasses)
        },
        readsFiles: { dir in
            switch CIFARFiles.locate(in: dir) {
            case .archive(let p)?: return [p]
            case .folder(let d, let batches)?: return (batches + [CIFARFiles.testBatch]).map { (d as NSString).appendingPathComponent($0) }
            case nil: return []
            }
        })

    static let svhn = DatasetEntry(
        name: "svhn", title: "SVHN cropped digits (official .mat files; extra is used when present)",
        classNames: (0..<10).map(String.init), imageShape: [3, 32, 32],
        files: [
            DatasetFile(name: SVHNFiles.train, url: URL(string: "http://ufldl.stanford.edu/housenumbers/train_32x32.mat")!,
                        checksum: .md5("e26dedcc434d2e4c54c9b2d4a06d8373"), size: 182_040_794),
            DatasetFile(name: SVHNFiles.test, url: URL(string: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat")!,
                        checksum: .md5("eb5a983be6a315427106f1b164d9cef3"), size: 64_275_384),
            DatasetFile(name: SVHNFiles.extra, url: URL(string: "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat")!,
                        checksum: .md5("a93ce644f1a588dc4d68dda5feec44a7"), optional: true),
        ],
        flips: false,  // a mirrored 2 is not a 2
        locate: { dir in
            let has = { fileExists((dir as NSString).appendingPathComponent($0)) }
            guard has(SVHNFiles.train), has(SVHNFiles.test) else { return nil }
            return has(SVHNFiles.extra) ? "\(dir) (train + extra)" : dir
        },
        load: { r in
            func path(_ f: String) throws -> String {
                let p = (r.dir as NSString).appendingPathComponent(f)
                guard fileExists(p) else {
                    throw BTError(settings: "svhn data not found: \(r.dir) has no \(f); run `btviz fetch svhn` or pass \(setting: "data_dir")")
                }
                return p
            }
            var train = try readSVHNMat(path: path(SVHNFiles.train))
            let extra = (r.dir as NSString).appendingPathComponent(SVHNFiles.extra)
            if fileExists(extra) { train = concatenate([train, try readSVHNMat(path: extra)]) }
            let test = try readSVHNMat(path: path(SVHNFiles.test))
            return TrainingData(name: "svhn", train: train, test: test, classes: 10, classNames: (0..<10).map(String.init))
        })

    static let imagenet64 = DatasetEntry(
        name: "imagenet64", title: "ImageNet 64x64 (Chrabaszcz et al., npz; training batches streamed)",
        classNames: (1...1000).map(String.init), imageShape: [3, 64, 64],
        files: [
            DatasetFile(name: "Imagenet64_train_part1_npz.zip", url: URL(string: "https://image-net.org/data/downsample/Imagenet64_train_part1_npz.zip")!,
                        checksum: .sha256("9422dc1dc5d092e9814a70a1cb7fc74880d2db5d88a0cb8a34ee363b12bde3f1"), size: 6_783_426_789, unpack: true),
            DatasetFile(name: "Imagenet64_train_part2_npz.zip", url: URL(string: "https://image-net.org/data/downsample/Imagenet64_train_part2_npz.zip")!,
                        checksum: .sha256("9fafc115afb7e6c301e66dc16b2d737152b427bd5dab26e1293487a6819c7f30"), size: 6_780_506_068, unpack: true),
            DatasetFile(name: "Imagenet64_val_npz.zip", url: URL(string: "https://image-net.org/data/downsample/Imagenet64_val_npz.zip")!,
                        checksum: .sha256("e1e75133158a1924135a9c6f97a80d2d237b158945e0b34074e58e6c8430eeb8"), size: 529_522_927, unpack: true),
        ],
        flips: true,
        locate: { ImageNet64Files.locate(in: $0)?.description },
        load: { r in
            let (train, test) = try ImageNet64Files.load(dir: r.dir, classes: 1000)
            return TrainingData(name: "imagenet64", train: train, test: test, classes: 1000,
                                classNames: (1...1000).map(String.init))
        },
        howToGet: "image-net.org serves the files to signed-in users: download the three Imagenet64_*_npz.zip there, put them in the folder and run `btviz fetch imagenet64 --dir DIR` to check and unpack them",
        readsFiles: { dir in ImageNet64Files.locate(in: dir).map { $0.train + [$0.val] } ?? [] })

    static let folder = DatasetEntry(
        name: "folder", title: "your images: --data-dir DIR with one subfolder of PNG/JPEG files per class",
        classNames: [], imageShape: nil, files: [], flips: true, userFolder: true, takesFolderOptions: true,
        locate: { ImageFolder.looksLikeOne($0) ? $0 : nil },
        load: { r in
            guard let o = r.folder else { throw BTError(settings: "\(setting: "dataset") folder needs its image options") }
            guard o.testDir != nil || o.testRatio != nil else {
                throw BTError(settings: "\(setting: "dataset") folder needs a test split: \(setting: "test_dir") DIR (the same class folders) or \(setting: "test_ratio") R (held out of each class)")
            }
            let (train, test, names, notes) = try ImageFolder.load(dir: r.dir, options: o)
            return TrainingData(name: "folder", train: train, test: test, classes: names.count, classNames: names, notes: notes)
        },
        howToGet: "pass --data-dir DIR: one subfolder per class, PNG or JPEG files in each")
}
