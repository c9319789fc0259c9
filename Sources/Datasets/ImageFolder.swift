import BTCore
import Foundation

/// torchvision's ImageFolder layout, the way users bring their own data: one subfolder per class (sorted by name,
/// so the class numbers do not depend on the file system), PNG or JPEG files in each. The test split is a second
/// folder of the same classes, or a share held out of every class.
public struct ImageFolderOptions: Sendable {
    public var side: Int
    public var fit: ImageFit
    public var testDir: String?
    public var testRatio: Double?

    public init(side: Int, fit: ImageFit, testDir: String?, testRatio: Double?) {
        self.side = side; self.fit = fit; self.testDir = testDir; self.testRatio = testRatio
    }
}

public enum ImageFolder {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Class folders (non-hidden subfolders), sorted.
    public static func classes(in dir: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw BTError("image folder \(dir) does not exist or is not a folder")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { n in
            var d: ObjCBool = false
            return !n.hasPrefix(".") && FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(n), isDirectory: &d) && d.boolValue
        }.sorted()
    }

    /// The image files of one class folder (by extension), sorted.
    static func files(in dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (dir as NSString).appendingPathComponent($0) }
    }

    /// Whether `dir` looks like an image folder: at least one class folder holding an image file.
    public static func looksLikeOne(_ dir: String) -> Bool {
        guard let cls = try? classes(in: dir) else { return false }
        return cls.contains { !files(in: (dir as NSString).appendingPathComponent($0)).isEmpty }
    }

    /// Loads the train and test splits. Files that fail to decode are skipped and counted in the returned notes
    /// (one warning line); if every file fails, or a class has no images, that is an error.
    public static func load(dir: String, options o: ImageFolderOptions) throws -> (train: ImageSet, test: ImageSet, classNames: [String], notes: [String]) {
        let names = try classes(in: dir)
        guard !names.isEmpty else { throw BTError("image folder \(dir) has no class folders (expected one subfolder per class)") }
        var trainFiles: [(String, Int32)] = [], testFiles: [(String, Int32)] = []
        for (k, name) in names.enumerated() {
            let files = Self.files(in: (dir as NSString).appendingPathComponent(name))
            guard !files.isEmpty else {
                throw BTError("class folder \((dir as NSString).appendingPathComponent(name)) has no PNG or JPEG images")
            }
            if let ratio = o.testRatio {
                guard files.count >= 2 else {
                    throw BTError("class folder \((dir as NSString).appendingPathComponent(name)) has one image: a --test-ratio split needs at least 2 per class")
                }
                // A fixed split (not the run's seed), so runs with different seeds test on the same images.
                var rng = RNG(seed: 0x5EED_5B17 ^ UInt64(k))
                let order = rng.permutation(files.count)
                let held = min(files.count - 1, max(1, Int((Double(files.count) * ratio).rounded())))
                for (i, j) in order.enumerated() {
                    if i < held { testFiles.append((files[j], Int32(k))) } else { trainFiles.append((files[j], Int32(k))) }
                }
            } else {
                trainFiles += files.map { ($0, Int32(k)) }
            }
        }
        if let testDir = o.testDir {
            let testNames = try classes(in: testDir)
            if let stray = testNames.first(where: { !names.contains($0) }) {
                throw BTError("test folder \(testDir) has class '\(stray)', which \(dir) does not have")
            }
            for name in testNames {
                let files = Self.files(in: (testDir as NSString).appendingPathComponent(name))
                guard !files.isEmpty else {
                    throw BTError("class folder \((testDir as NSString).appendingPathComponent(name)) has no PNG or JPEG images")
                }
                testFiles += files.map { ($0, Int32(names.firstIndex(of: name)!)) }
            }
        }
        trainFiles.sort { $0.0 < $1.0 }; testFiles.sort { $0.0 < $1.0 }
        let all = trainFiles + testFiles
        let (set, kept, failures) = decode(all, side: o.side, fit: o.fit)
        guard !kept.isEmpty else {
            throw BTError("no image in \(dir) could be read (\(all.count) files; first: \(failures.first ?? "?"))")
        }
        let trainKept = kept.filter { $0 < trainFiles.count }.count
        guard trainKept > 0, trainKept < kept.count else {
            throw BTError("none of the \(trainKept == 0 ? trainFiles.count : testFiles.count) \(trainKept == 0 ? "training" : "test") images in \(dir) could be read")
        }
        var notes: [String] = []
        if let first = failures.first {
            notes.append("warning: skipped \(failures.count) of \(all.count) image files that could not be read (first: \(first))")
        }
        return (set.slice(0..<trainKept), set.slice(trainKept..<kept.count), names, notes)
    }

    /// Decodes and fits `files` on all workers: the images that could be read (in file order), their indices in
    /// `files`, and one message per failure.
    private static func decode(_ files: [(String, Int32)], side: Int, fit: ImageFit) -> (ImageSet, [Int], [String]) {
        let size = side * side * 3
        var pixels = [Float](repeating: 0, count: files.count * size)
        var errors = [String?](repeating: nil, count: files.count)
        pixels.withUnsafeMutableBufferPointer { pix in
            errors.withUnsafeMutableBufferPointer { errp in
                nonisolated(unsafe) let (p, eb) = (pix.baseAddress!, errp.baseAddress!)
                let workers = max(1, min(Workers.count, files.count / 16))
                parallelFor(workers) { w in
                    for i in workerRange(w, of: workers, total: files.count) {
                        do {
                            try RGBImage.read(path: files[i].0).fitted(side: side, fit: fit, into: p + i * size)
                        } catch {
                            eb[i] = (error as? BTError)?.description ?? "\(error)"
                        }
                    }
                }
            }
        }
        let kept = errors.indices.filter { errors[$0] == nil }
        if kept.count < files.count {  // close the gaps the failures left
            for (j, i) in kept.enumerated() where j != i {
                pixels.withUnsafeMutableBufferPointer { (p: inout UnsafeMutableBufferPointer<Float>) in
                    (p.baseAddress! + j * size).update(from: p.baseAddress! + i * size, count: size)
                }
            }
            pixels.removeLast((files.count - kept.count) * size)
        }
        let set = ImageSet(count: kept.count, height: side, width: side, channels: 3, pixels: pixels, labels: kept.map { files[$0].1 })
        return (set, kept, errors.compactMap { $0 })
    }
}

extension ImageSet {
    /// Images `r` as a set of their own.
    func slice(_ r: Range<Int>) -> ImageSet {
        ImageSet(count: r.count, height: height, width: width, channels: channels,
                 pixels: Array(pixels[r.lowerBound * imageSize..<r.upperBound * imageSize]), labels: Array(labels[r]))
    }
}
