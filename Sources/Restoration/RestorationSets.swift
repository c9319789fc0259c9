import BTCore
import Datasets
import Foundation

/// The SR and denoising benchmark sets (Set5, Set14, BSD100, Urban100) and the T91 training set, each a folder
/// of images found by name.
public enum RestorationSet: String, CaseIterable, Sendable {
    case set5, set14, bsd100, urban100, t91

    /// Case-insensitive: "Set5", "set5" and "SET5" are the same set.
    public init?(name: String) { self.init(rawValue: name.lowercased()) }

    public var folderName: String {
        switch self {
        case .set5: return "Set5"
        case .set14: return "Set14"
        case .bsd100: return "BSD100"
        case .urban100: return "Urban100"
        case .t91: return "T91"
        }
    }

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Where the set is looked for, in order. A data dir may hold the set folders, an `sr/` folder of them, or be
    /// the set's folder itself (named after it). An explicit data dir is the only place looked (a user who names
    /// a folder wants an error about that folder); otherwise $BTVIZ_SR_DATA, then $BTVIZ_DATA and the cache as
    /// for the other datasets (`<root>/sr/Set5`, `<root>/Set5`).
    public func candidateFolders(dataDir: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        func under(_ root: String) -> [String] {
            let r = (root as NSString).expandingTildeInPath
            var dirs = [(r as NSString).appendingPathComponent(folderName), (r as NSString).appendingPathComponent("sr/" + folderName)]
            if (r as NSString).lastPathComponent.lowercased() == rawValue { dirs.insert(r, at: 0) }
            return dirs
        }
        if let dataDir { return under(dataDir) }
        var dirs: [String] = []
        if let sr = environment["BTVIZ_SR_DATA"], !sr.isEmpty { dirs += under(sr) }
        dirs += candidateDataDirs(name: "sr", environment: environment, systemDirs: []).map {
            (($0 as NSString).expandingTildeInPath as NSString).appendingPathComponent(folderName)
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    /// The set's image files, sorted by name; a missing set is one line naming every place looked.
    public func files(dataDir: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        let dirs = candidateFolders(dataDir: dataDir, environment: environment)
        for dir in dirs {
            let files = ImageFiles.list(folder: dir)
            if !files.isEmpty { return files }
        }
        let hint: SettingText = dataDir == nil ? " (pass \(setting: "data_dir") or set BTVIZ_SR_DATA)" : ""
        throw BTError(settings: "\(folderName) not found: no PNG, JPEG or BMP images in \(dirs.joined(separator: ", "))\(hint)")
    }
}

/// Folders of clean images for training: a benchmark set, or any folder of PNG, JPEG or BMP files.
public enum RestorationImages {
    /// Every image of `folder`, sorted by name. A file that cannot be read is skipped and counted in the notes (one
    /// line), unless every one fails, which is an error (the first failure's).
    public static func load(folder: String) throws -> (images: [HRImage], notes: [String]) {
        let files = ImageFiles.list(folder: folder)
        guard !files.isEmpty else { throw BTError("no PNG, JPEG or BMP images in \(folder)") }
        var images: [HRImage] = [], failures: [Error] = []
        for f in files {
            // Every image is held as RGB (3 bytes a pixel) until the patches take its Y and mod-cropped Y (2) and
            // downscale that in doubles (8, the bicubic row pass 4, the result 2): room for all is asked first.
            let check = { (h: ImageHeader) in
                try MemoryBudget.check(h.width * h.height * 20, for: "holding training image \(f) (\(h.width)x\(h.height))")
            }
            do { images.append(try HRImage.read(path: f, check: check)) } catch { failures.append(error) }
        }
        if images.isEmpty, let first = failures.first { throw first }
        let notes = failures.isEmpty ? [] : ["warning: skipped \(failures.count) of \(files.count) images in \(folder) that could not be read (first: \(failures[0]))"]
        return (images, notes)
    }
}
