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

    /// Class folders (non-hidden subfolders with UTF-8 names), sorted.
    public static func classes(in dir: String) throws -> [String] {
        try classListing(dir).names
    }

    /// The class folders, and those skipped because their names are not UTF-8 (escaped for messages).
    static func classListing(_ dir: String) throws -> (names: [String], undecodable: [String]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw BTError("image folder \(dir) does not exist or is not a folder")
        }
        let dirs = entries(dir).filter(\.isDirectory)
        return (dirs.compactMap(\.name).sorted(), dirs.filter { $0.name == nil }.map { join(dir, $0.escaped) })
    }

    /// The image files of one class folder (by extension), sorted, and those whose names are not UTF-8 (escaped).
    public static func files(in dir: String) -> (paths: [String], undecodable: [String]) {
        let images = entries(dir).filter { !$0.isDirectory && extensions.contains(($0.escaped as NSString).pathExtension.lowercased()) }
        return (images.compactMap(\.name).sorted().map { join(dir, $0) }, images.filter { $0.name == nil }.map { join(dir, $0.escaped) })
    }

    /// A non-hidden entry of a folder, listed by its raw bytes with readdir (FileManager drops or mangles names
    /// that are not UTF-8, and the files then read as missing). `name` is nil for such a name; `escaped` shows it
    /// with \xHH for the bytes that are not printable ASCII.
    struct Entry { var name: String?; var escaped: String; var isDirectory: Bool }

    static func entries(_ dir: String) -> [Entry] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [Entry] = []
        while let e = readdir(d) {
            var raw = e.pointee.d_name
            let bytes = withUnsafeBytes(of: &raw) { Array($0.prefix { $0 != 0 }) }
            guard let first = bytes.first, first != UInt8(ascii: ".") else { continue }  // hidden, "." and ".."
            var st = stat()
            let isDir = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) { fstatat(dirfd(d), $0, &st, 0) == 0 }
            } && (st.st_mode & S_IFMT) == S_IFDIR
            let escaped = bytes.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
            out.append(Entry(name: String(validating: bytes, as: UTF8.self), escaped: escaped, isDirectory: isDir))
        }
        return out
    }

    static func join(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// Whether `dir` looks like an image folder: at least one class folder holding an image file.
    public static func looksLikeOne(_ dir: String) -> Bool {
        guard let cls = try? classes(in: dir) else { return false }
        return cls.contains { !files(in: join(dir, $0)).paths.isEmpty }
    }

    /// Loads the train and test splits. Files that fail to decode (or are too large, or not regular files, or
    /// have names that are not UTF-8) are skipped and counted in the returned notes (one warning line); if every
    /// file fails, or a class has no readable training image, that is an error. Class folders whose names are not
    /// UTF-8 are skipped with a warning of their own.
    public static func load(dir: String, options o: ImageFolderOptions) throws -> (train: ImageSet, test: ImageSet, classNames: [String], notes: [String]) {
        let (names, oddClasses) = try classListing(dir)
        guard !names.isEmpty else {
            throw BTError("image folder \(dir) has no class folders (expected one subfolder per class)"
                          + (oddClasses.isEmpty ? "" : "; \(oddClasses.count) were skipped because their names are not UTF-8 (first: \(oddClasses[0]))"))
        }
        var notes: [String] = []
        if let first = oddClasses.first {
            let one = oddClasses.count == 1
            notes.append("warning: skipped \(oddClasses.count) class folder\(one ? "" : "s") whose name is not UTF-8 (first: \(first)); rename \(one ? "it" : "them") to use \(one ? "it" : "them")")
        }
        var trainFiles: [(String, Int32)] = [], testFiles: [(String, Int32)] = [], badNames: [String] = []
        for (k, name) in names.enumerated() {
            let (files, odd) = Self.files(in: join(dir, name))
            badNames += odd
            guard !files.isEmpty else {
                throw BTError("class folder \(join(dir, name)) has no PNG or JPEG images")
            }
            if let ratio = o.testRatio {
                guard files.count >= 2 else {
                    throw BTError(settings: "class folder \(join(dir, name)) has one image: a \(setting: "test_ratio") split needs at least 2 per class")
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
                let (files, odd) = Self.files(in: join(testDir, name))
                badNames += odd
                guard !files.isEmpty else {
                    throw BTError("class folder \(join(testDir, name)) has no PNG or JPEG images")
                }
                testFiles += files.map { ($0, Int32(names.firstIndex(of: name)!)) }
            }
        }
        trainFiles.sort { $0.0 < $1.0 }; testFiles.sort { $0.0 < $1.0 }

        // Every image becomes side x side x 3 floats: refuse before decoding what cannot be held.
        let count = trainFiles.count + testFiles.count
        let perImage = o.side * o.side * 3 * MemoryLayout<Float>.size
        try MemoryBudget.check(checkedProduct([count, perImage]) ?? Int.max,
                               for: "holding the \(count) images of \(dir) at \(setting: "image_size") \(o.side)",
                               hint: "lower \(setting: "image_size") (an image takes \(MemoryBudget.describe(perImage)))")
        let (train, trainErrors) = decode(trainFiles, side: o.side, fit: o.fit)
        let (test, testErrors) = decode(testFiles, side: o.side, fit: o.fit)
        let errors = trainErrors + testErrors
        let failures = errors.compactMap { $0 } + badNames.map { "cannot read image \($0): its name is not UTF-8" }
        guard train.count + test.count > 0 else {
            throw BTError("no image in \(dir) could be read (\(count + badNames.count) files; first: \(failures.first ?? "?"))")
        }
        // A class without a training image cannot be learnt: name it rather than train on a label never shown.
        let taught = Set(train.labels)
        if let k = names.indices.first(where: { !taught.contains(Int32($0)) }) {
            let all = trainFiles + testFiles, mine = all.indices.filter { all[$0].1 == Int32(k) }
            throw BTError("class folder \(join(dir, names[k])) has no readable training image (\(mine.count) files; first failure: \(mine.lazy.compactMap { errors[$0] }.first ?? "none"))")
        }
        guard test.count > 0 else {
            throw BTError("none of the \(testFiles.count) test images in \(dir) could be read")
        }
        if let first = failures.first {
            notes.append("warning: skipped \(failures.count) of \(count + badNames.count) image files that could not be read (first: \(first))")
        }
        return (train, test, names, notes)
    }

    /// Decodes and fits `files` on all workers: the images that could be read (in file order), and for each file
    /// its error, if it failed.
    private static func decode(_ files: [(String, Int32)], side: Int, fit: ImageFit) -> (ImageSet, [String?]) {
        let size = side * side * 3
        var pixels = [Float](repeating: 0, count: files.count * size)
        var errors = [String?](repeating: nil, count: files.count)
        pixels.withUnsafeMutableBufferPointer { pix in
            errors.withUnsafeMutableBufferPointer { errp in
                nonisolated(unsafe) let (p, eb) = (pix.baseAddress!, errp.baseAddress!)
                // Files decode at very different speeds: a few at a time go to whichever worker is free.
                parallelBlocks(max(1, min(Workers.count, files.count / 16)), total: files.count, block: 4) { _, r in
                    for i in r {
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
        return (ImageSet(count: kept.count, height: side, width: side, channels: 3, pixels: pixels, labels: kept.map { files[$0].1 }), errors)
    }
}
