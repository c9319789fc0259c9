import BTCore
import Foundation
import Records

extension DataIdentity {
    /// The identity of these counts and files; the fingerprint is md5 over the counts and the sorted (name, checksum) pairs.
    public init(train: Int, test: Int, files: [String: String], official: Bool?) {
        let text = "\(train)/\(test)\n" + files.keys.sorted().map { "\($0)=\(files[$0]!)" }.joined(separator: "\n")
        self.init(train: train, test: test, files: files, official: official, fingerprint: md5Hex(Array(text.utf8)))
    }
}

extension DatasetEntry {
    /// The identity of the data this entry loaded from `dir` (`data` is what it loaded). Files are hashed once and
    /// the sums cached by path, size and modification time (`ChecksumCache`).
    func identity(of data: TrainingData, request r: DatasetRequest) throws -> DataIdentity {
        var files: [String: String] = [:]
        var official: Bool? = nil
        let dir = r.dir
        if userFolder {
            for (split, root) in [("train", dir)] + (r.folder?.testDir.map { [("test", $0)] } ?? []) {
                for cls in (try? ImageFolder.classListing(root).names) ?? [] {
                    for path in ImageFolder.files(in: ImageFolder.join(root, cls)).paths {
                        var st = stat()
                        if stat(path, &st) == 0 { files[split + "/" + cls + "/" + (path as NSString).lastPathComponent] = "size:\(st.st_size)" }
                    }
                }
            }
            if let ratio = r.folder?.testRatio { files["test-ratio"] = "\(ratio)" }
        } else if !self.files.isEmpty {
            official = true
            for path in readFiles(dir) {
                let base = (path as NSString).lastPathComponent
                let md5 = try ChecksumCache.shared.md5(path)
                files[base] = md5
                if !isOfficial(base: base, md5: md5, path: path) { official = false }
            }
            if files.isEmpty { official = nil }
        }
        return DataIdentity(train: data.train.count, test: data.test.count, files: files, official: official)
    }

    /// The files this entry's loader reads from `dir`.
    func readFiles(_ dir: String) -> [String] {
        func at(_ f: String) -> String? {
            let p = (dir as NSString).appendingPathComponent(f)
            return RegularFile.isRegular(p) ? p : nil
        }
        if let readsFiles { return readsFiles(dir) }
        return self.files.compactMap { at($0.name) }
    }

    /// Whether `md5` is the official checksum of the file named `base` (raw IDX files: of their contents once
    /// decompressed, which the catalog knows for Fashion-MNIST).
    func isOfficial(base: String, md5: String, path: String) -> Bool {
        guard let f = self.files.first(where: { $0.name == base || $0.name == base + ".gz" }) else { return false }
        if case .md5(let sum) = f.checksum, sum.lowercased() == md5 { return true }
        if let content = f.contentMD5 {
            return (try? ChecksumCache.shared.contentMD5(path)) == content
        }
        return false
    }

    /// The other catalog entry whose official release the files this entry would read from `dir` are ("mnist"
    /// asked, Fashion-MNIST's files found: the two share file names), or nil.
    public func officialOwner(ofFilesIn dir: String) -> String? {
        let paths = readFiles(dir)
        guard !paths.isEmpty, let sums = try? paths.map({ ((($0 as NSString).lastPathComponent), try ChecksumCache.shared.md5($0), $0) }) else { return nil }
        return DatasetCatalog.entries.first { other in
            other.name != name && !other.files.isEmpty && sums.allSatisfy { other.isOfficial(base: $0.0, md5: $0.1, path: $0.2) }
        }?.name
    }
}

/// md5 sums of data files, computed once per file version: keyed by the real path, size, modification time and
/// inode, kept in ~/.cache/btviz/checksums.json (written atomically; a lost update only costs a re-hash).
final class ChecksumCache: @unchecked Sendable {
    static let shared = ChecksumCache(path: (defaultCacheDir(name: "") as NSString).appendingPathComponent("checksums.json"))

    private let path: String
    private var sums: [String: String]
    private let lock = NSLock()

    init(path: String) {
        self.path = path
        let data = try? RegularFile(path).readAll(limit: 16 << 20, what: "the checksum cache")
        sums = data.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0)) } ?? [:]
    }

    func md5(_ file: String) throws -> String {
        try cached(file, kind: "md5") { try fileDigest(path: file, .md5("")) }
    }

    /// md5 of a gzip file's decompressed contents (Debian re-compresses Fashion-MNIST's files).
    func contentMD5(_ file: String) throws -> String {
        try cached(file, kind: "content-md5") { md5Hex(try readMaybeGzip(path: file)) }
    }

    private func cached(_ file: String, kind: String, compute: () throws -> String) throws -> String {
        var st = stat()
        guard stat(file, &st) == 0 else { throw RegularFile.error(file, "cannot read") }
        let real = realpath(file, nil).map { p in defer { free(p) }; return String(cString: p) } ?? file
        let key = "\(kind) \(real) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)"
        if let hit = lock.withLock({ sums[key] }) { return hit }
        let sum = try compute()
        let snapshot: [String: String] = lock.withLock { sums[key] = sum; return sums }
        if let data = try? JSONOutput.data(snapshot) {
            _ = try? OutputFolder.create(parentPath(path), what: "the checksum cache's folder")
            try? AtomicFile.write(data, to: path)
        }
        return sum
    }
}
