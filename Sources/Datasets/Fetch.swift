import BTCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// True when `dir` holds all four files (.gz or raw) and their decompressed contents have the official md5s
/// (a system package may re-compress them, so its .gz md5s differ).
public func hasOfficialContents(_ entry: DatasetEntry, in dir: String) -> Bool {
    let sums = entry.files.compactMap { f in f.contentMD5.map { (String(f.name.dropLast(3)), $0) } }
    guard !sums.isEmpty, sums.count == entry.files.count else { return false }
    return sums.allSatisfy { base, want in
        guard let path = IDXFiles.locate(base, in: dir), let s = try? FileStream(path: path) else { return false }
        return (try? digest(.md5(want), read: s.read)) == want
    }
}

/// How a fetch reports progress: a line per event, and bytes done of a total (when known) while downloading.
public struct FetchProgress: Sendable {
    public var log: @Sendable (String) -> Void
    public var bytes: @Sendable (_ file: String, _ done: Int64, _ total: Int64?) -> Void
    public init(log: @escaping @Sendable (String) -> Void = { _ in },
                bytes: @escaping @Sendable (String, Int64, Int64?) -> Void = { _, _, _ in }) {
        self.log = log; self.bytes = bytes
    }
}

/// Downloads the catalog entry's official files into `dir` (created if needed).
/// - A file already present with the right checksum is kept; one with a wrong checksum is downloaded again.
/// - A download goes to `<file>.part` and is renamed into place only once its checksum is right, so `dir` never
///   holds a wrong or partial file under a final name. A download that breaks off keeps the `.part`, and the next
///   fetch resumes it with an HTTP range request (a server that ignores ranges sends it whole again).
/// - A checksum mismatch deletes the `.part` and fails with one line.
/// - A zip the loader reads unpacked (ImageNet 64x64) is unpacked after it checks out (`unpackZip`).
/// `baseURL` and `expected` override the official addresses and checksums (mirrors, tests); `optional` also
/// fetches the optional files (SVHN's extra split).
public func fetchDataset(_ entry: DatasetEntry, into dir: String, baseURL: URL? = nil,
                         expected: [String: Checksum]? = nil, optional: Bool = false,
                         timeout: TimeInterval = 60, progress: FetchProgress = FetchProgress()) async throws {
    let files = optional ? entry.files : entry.requiredFiles
    guard !files.isEmpty else {
        throw BTError("\(entry.name) has nothing to fetch: \(entry.howToGet.isEmpty ? "it is built in" : entry.howToGet)")
    }
    try OutputFolder.create(dir, what: "the data folder")
    for file in files {
        guard let want = expected?[file.name] ?? (expected == nil ? file.checksum : nil) else {
            throw BTError("no checksum known for \(file.name)")
        }
        let dest = (dir as NSString).appendingPathComponent(file.name)
        let algo = want.algorithm
        if fileExists(dest) {
            if (try? fileDigest(path: dest, want)) == want.hex {
                progress.log("\(file.name): present, \(algo) ok")
                if file.unpack { try unpackZip(dest, into: dir, progress: progress) }
                continue
            }
            progress.log("\(file.name): present but \(algo) differs, downloading again")
        }
        let url = baseURL.map { $0.appendingPathComponent(file.name) } ?? file.url
        let part = dest + ".part"
        let kept = fileSize(part) ?? 0
        progress.log("\(file.name): " + (kept > 0 ? "resuming \(url.absoluteString) from byte \(kept)" : "downloading \(url.absoluteString)"))
        try await download(url, to: part, resumeFrom: kept, expectedSize: file.size, timeout: timeout) { done, total in
            progress.bytes(file.name, done, total)
        }
        let got = try fileDigest(path: part, want)
        guard got == want.hex else {
            unlink(part)
            throw BTError("download of \(url.absoluteString) has \(algo) \(got), expected \(want.hex); not saved")
        }
        try OutputFile.checkReplaceable(dest)  // a link or device under the file's name is refused, not replaced
        guard rename(part, dest) == 0 else { throw fileError(dest, "cannot write") }
        progress.log("\(file.name): \(fileSize(dest) ?? 0) bytes, \(algo) ok")
        if file.unpack { try unpackZip(dest, into: dir, progress: progress) }
    }
}

/// Fetches the catalog entry named `name` (see the other form).
public func fetchDataset(name: String, into dir: String, baseURL: URL? = nil, expectedMD5: [String: String]? = nil,
                         timeout: TimeInterval = 60, log: @escaping @Sendable (String) -> Void = { _ in }) async throws {
    let entry = try DatasetCatalog.named(name)
    try await fetchDataset(entry, into: dir, baseURL: baseURL, expected: expectedMD5?.mapValues { .md5($0) },
                           timeout: timeout, progress: FetchProgress(log: log))
}

func fileSize(_ path: String) -> Int64? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int64(st.st_size)
}

/// Appends `url`'s bytes (from `resumeFrom` on) to `part`, which is created once the server answers 200 or 206.
/// Any transport error, timeout or other status is a one-line error naming the URL; what arrived stays in `part`.
/// file:// URLs (local mirrors) are copied directly: URLSession on Linux does not support them.
func download(_ url: URL, to part: String, resumeFrom: Int64, expectedSize: Int?, timeout: TimeInterval,
              progress: @escaping @Sendable (Int64, Int64?) -> Void) async throws {
    if url.isFileURL {
        guard fileExists(url.path) else { throw BTError("cannot download \(url.absoluteString): no such file") }
        let src = try RegularFile(url.path)
        let out = try PartFile(path: part, appendingFrom: 0)
        let total = Int64(src.size)
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        while case let n = try chunk.withUnsafeMutableBytes({ try src.read(into: $0.baseAddress!, count: $0.count) }), n > 0 {
            try out.write(Data(chunk[0..<n]))
            progress(out.written, total)
        }
        try out.close()
        return
    }
    var request = URLRequest(url: url)
    if resumeFrom > 0 { request.setValue("bytes=\(resumeFrom)-", forHTTPHeaderField: "Range") }
    let receiver = DownloadReceiver(url: url, part: part, resumeFrom: resumeFrom, expectedSize: expectedSize.map(Int64.init),
                                    progress: progress)
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = timeout        // no bytes for this long: give up
    config.timeoutIntervalForResource = 24 * 3600     // whole file: ImageNet's parts are 6.8 GB
    let session = URLSession(configuration: config, delegate: receiver, delegateQueue: nil)
    defer { session.finishTasksAndInvalidate() }
    try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, Error>) in
        receiver.finish = { cont.resume(with: $0) }
        session.dataTask(with: request).resume()
    }
}

/// The receiving end of one HTTP download: checks the status, then streams the body into the .part file.
final class DownloadReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL, part: String, resumeFrom: Int64, expectedSize: Int64?
    let progress: @Sendable (Int64, Int64?) -> Void
    var finish: ((Result<Void, Error>) -> Void)?
    private var file: PartFile?
    private var total: Int64?
    private var failure: Error?

    init(url: URL, part: String, resumeFrom: Int64, expectedSize: Int64?, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.url = url; self.part = part; self.resumeFrom = resumeFrom; self.expectedSize = expectedSize; self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        do {
            switch status {
            case 206 where resumeFrom > 0:  // the rest of the file: append
                file = try PartFile(path: part, appendingFrom: resumeFrom)
            case 200:                       // the whole file (first try, or a server without ranges)
                file = try PartFile(path: part, appendingFrom: 0)
            case 416 where resumeFrom > 0:  // the kept part is not a prefix the server knows: start over next time
                unlink(part)
                throw BTError("cannot resume \(url.absoluteString): the server refused the range (HTTP 416); the partial download was removed, run again")
            default:
                throw BTError("cannot download \(url.absoluteString): HTTP status \(status)")
            }
            let length = response.expectedContentLength
            total = length >= 0 ? (file!.written + length) : expectedSize
            completionHandler(.allow)
        } catch {
            failure = error
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let file else { return }
        do {
            try file.write(data)
            progress(file.written, total)
        } catch {
            failure = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        var result: Result<Void, Error> = .success(())
        let kept = file?.written ?? 0
        if let failure {
            result = .failure(failure)
        } else if let error {
            let keep = kept > 0 ? "; \(kept) bytes kept in \(part), run again to resume" : ""
            result = .failure(BTError("cannot download \(url.absoluteString): \(oneLine(error))\(keep)"))
        } else if let total, kept < total {
            result = .failure(BTError("cannot download \(url.absoluteString): the connection closed after \(kept) of \(total) bytes; run again to resume"))
        }
        do { try file?.close() } catch { if case .success = result { result = .failure(error) } }
        finish?(result)
        finish = nil
    }
}

/// A .part file written sequentially and fsynced on close.
final class PartFile {
    let path: String
    private let fd: Int32
    private(set) var written: Int64

    init(path: String, appendingFrom offset: Int64) throws {
        self.path = path
        // No link followed, no FIFO or device written (OutputFile's rules); the ftruncate below cuts it to `offset`.
        fd = try OutputFile.openAppending(path)
        guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
            Foundation.close(fd); throw fileError(path, "cannot write")
        }
        written = offset
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw fileError(path, "cannot write") }
                off += n
            }
        }
        written += Int64(data.count)
    }

    private var closed = false
    func close() throws {
        guard !closed else { return }
        closed = true
        let ok = fsync(fd) == 0
        Foundation.close(fd)
        guard ok else { throw fileError(path, "cannot write") }
    }

    deinit { if !closed { Foundation.close(fd) } }
}

func oneLine(_ error: Error) -> String {
    let s = (error as? BTError)?.description ?? error.localizedDescription
    return s.split(whereSeparator: \.isNewline).joined(separator: " ")
}
