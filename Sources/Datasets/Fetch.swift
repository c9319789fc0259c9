import BTCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where an IDX dataset is published and the md5 of each official .gz file,
/// so a download is accepted only if it is byte-for-byte the official release.
public struct DatasetSource: Sendable {
    public var baseURL: URL
    public var md5: [String: String]  // "<file>.gz" -> md5 hex
    /// Where a Debian package installs the same files, and the md5 of each decompressed file: the package
    /// rewrites the gzip headers, so its .gz md5s differ while the contents are the official ones.
    public var systemDir: String? = nil
    public var contentMD5: [String: String] = [:]  // "<file>" -> md5 hex of the decompressed bytes

    public static func official(_ name: String) -> DatasetSource? {
        func files(_ sums: [String]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: zip(IDXFiles.all.map { $0 + ".gz" }, sums))
        }
        switch name {
        case "fashion":
            return DatasetSource(
                baseURL: URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!,
                md5: files(["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                            "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]),
                systemDir: "/usr/share/datasets/fashion-mnist",  // Debian's dataset-fashion-mnist
                contentMD5: Dictionary(uniqueKeysWithValues: zip(IDXFiles.all, [
                    "f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9",
                    "8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"])))
        case "mnist":
            return DatasetSource(
                baseURL: URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
                md5: files(["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                            "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]))
        default: return nil
        }
    }
}

/// True when `dir` holds all four files (.gz or raw) and their decompressed contents have the official md5s.
public func hasOfficialContents(_ source: DatasetSource, in dir: String) -> Bool {
    guard !source.contentMD5.isEmpty else { return false }
    return IDXFiles.all.allSatisfy { base in
        guard let want = source.contentMD5[base], let path = IDXFiles.locate(base, in: dir),
              let bytes = try? readMaybeGzip(path: path) else { return false }
        return md5Hex(bytes) == want
    }
}

/// Downloads the four .gz files of `name` into `dir` (created if needed). Files already present
/// with the right md5 are skipped; a download is checked before it is renamed into place, so `dir`
/// never holds a wrong or partial file under a final name. `baseURL`/`expectedMD5` override the
/// official source (tests, mirrors); `log` gets one line per file.
public func fetchDataset(name: String, into dir: String, baseURL: URL? = nil,
                         expectedMD5: [String: String]? = nil,
                         timeout: TimeInterval = 60,
                         log: (String) -> Void = { _ in }) async throws {
    guard let official = DatasetSource.official(name) else {
        throw BTError("cannot fetch '\(name)': known datasets are \(IDXDatasets.names.joined(separator: ", "))")
    }
    let base = baseURL ?? official.baseURL
    let sums = expectedMD5 ?? official.md5
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw BTError("cannot create \(dir): \(oneLine(error))")
    }
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = timeout        // no bytes for this long: give up
    config.timeoutIntervalForResource = 30 * 60       // whole file, generous for slow links
    let session = URLSession(configuration: config)
    defer { session.finishTasksAndInvalidate() }

    for file in IDXFiles.all.map({ $0 + ".gz" }) {
        guard let want = sums[file]?.lowercased() else { throw BTError("no md5 known for \(file)") }
        let dest = (dir as NSString).appendingPathComponent(file)
        if fileExists(dest) {
            if (try? md5Hex(readFileBytes(path: dest))) == want { log("\(file): present, md5 ok"); continue }
            log("\(file): present but md5 differs, downloading again")
        }
        let url = base.appendingPathComponent(file)
        log("\(file): downloading \(url.absoluteString)")
        let bytes = try await download(url, session: session)
        let got = md5Hex(bytes)
        guard got == want else {
            throw BTError("download of \(url.absoluteString) has md5 \(got), expected \(want); not saved")
        }
        try AtomicFile.write(Data(bytes), to: dest)
        log("\(file): \(bytes.count) bytes, md5 ok")
    }
}

/// One GET; any transport error, timeout or non-200 status is a BTError naming the URL.
/// file:// URLs (local mirrors) are read directly: URLSession on Linux does not support them.
private func download(_ url: URL, session: URLSession) async throws -> [UInt8] {
    if url.isFileURL {
        guard fileExists(url.path) else { throw BTError("cannot download \(url.absoluteString): no such file") }
        return try readFileBytes(path: url.path)
    }
    let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { cont in
        session.dataTask(with: url) { data, response, error in
            if let error { cont.resume(throwing: BTError("cannot download \(url.absoluteString): \(oneLine(error))")) }
            else if let data, let response { cont.resume(returning: (data, response)) }
            else { cont.resume(throwing: BTError("cannot download \(url.absoluteString): empty response")) }
        }.resume()
    }
    if let http = response as? HTTPURLResponse, http.statusCode != 200 {
        throw BTError("cannot download \(url.absoluteString): HTTP status \(http.statusCode)")
    }
    return [UInt8](data)
}

func oneLine(_ error: Error) -> String {
    let s = (error as? BTError)?.description ?? error.localizedDescription
    return s.split(whereSeparator: \.isNewline).joined(separator: " ")
}
