import BTCore
import Foundation

/// What `btviz attach RUN` asks of a running trainer: the explorer's trainer keys, sent from another process (a login
/// node, another terminal) through the run folder, which a cluster's nodes share.
public enum RunRequest: Equatable, Sendable {
    case method(String)   // a registry id; the trainer's side checks it
    case lambda(Float)
    case pause(Bool)      // a state, not a toggle: two attached screens cannot undo each other's press
    case save
}

/// The channel: one small file per request in RUN/requests/, named so that a listing sorts them in the order they
/// were written. The sender writes each whole (AtomicFile: a temporary, then a rename), so the trainer never reads
/// half of one. The training process (rank 0 of an MPI run) takes them, in order, between steps and forwards them to
/// its `TrainerControl`; the ranks' per-step agreement makes every rank apply them at the same step.
///
/// The trainer reads what anyone who can write the folder put there, so the reading is bounded: at most
/// `maxPerTake` files a poll, each a regular file (never a link, FIFO or device) of at most `maxBytes`, parsed as one
/// small JSON object. A file it cannot use is removed with a one-line reason, never applied.
public enum RunRequests {
    public static let folderName = "requests"
    public static let maxBytes = 256
    public static let maxPerTake = 64

    public static func folder(of runDir: String) -> String { runDir + "/" + folderName }

    /// Writes `request` for the trainer of `runDir` (whose requests folder must exist: the trainer makes it).
    public static func send(_ request: RunRequest, to runDir: String) throws {
        let dir = folder(of: runDir)
        var st = stat()
        guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw BTError("cannot send a request to \(runDir): it has no \(folderName) folder (no trainer of this version has run in it)")
        }
        try AtomicFile.write(Data(encode(request).utf8), to: dir + "/" + newName())
    }

    /// "<20-digit nanoseconds since 1970>-<pid>-<16 hex digits>.json": sorted by the time written; the pid and the
    /// random part keep two senders in the same nanosecond apart.
    public static func newName() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let ns = UInt64(max(0, ts.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, ts.tv_nsec))
        let time = String(ns), random = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 20 - time.count) + time + "-\(getpid())-"
            + String(repeating: "0", count: 16 - random.count) + random + ".json"
    }

    /// Whether `name` is one `newName` makes (anything else in the folder is left alone).
    public static func isRequestName(_ name: String) -> Bool {
        let parts = name.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard name.utf8.count <= 60, name.hasSuffix(".json"), parts.count == 3 else { return false }
        let digits = { (s: Substring.UTF8View.SubSequence) in s.allSatisfy { (0x30...0x39).contains($0) } }
        let hex = parts[2].dropLast(5)
        return parts[0].count == 20 && digits(parts[0]) && (1...10).contains(parts[1].count) && digits(parts[1])
            && hex.count == 16 && hex.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The one JSON object a request file holds: exactly one of its fields.
    struct Wire: Codable {
        var method: String?
        var lambda: Float?
        var pause: Bool?
        var save: Bool?
    }

    static func encode(_ r: RunRequest) -> String {
        var w = Wire()
        switch r {
        case .method(let id): w.method = id
        case .lambda(let l): w.lambda = l
        case .pause(let p): w.pause = p
        case .save: w.save = true
        }
        return (try? JSONOutput.string(w)) ?? "{}"
    }

    /// A request file's bytes as a request, or why not.
    static func decode(_ bytes: [UInt8]) -> Result<RunRequest, RequestError> {
        guard let w = try? JSONDecoder().decode(Wire.self, from: Data(bytes)) else {
            return .failure(RequestError("not a request (a JSON object of method, lambda, pause or save)"))
        }
        let given = [w.method != nil, w.lambda != nil, w.pause != nil, w.save != nil].filter { $0 }.count
        guard given == 1 else { return .failure(RequestError("a request holds exactly one of method, lambda, pause, save (this one \(given))")) }
        if let id = w.method {
            guard (1...40).contains(id.utf8.count) else { return .failure(RequestError("method is not a method id")) }
            return .success(.method(id))
        }
        if let l = w.lambda {
            guard l.isFinite, l >= 0 else { return .failure(RequestError("lambda must be a finite number >= 0")) }
            return .success(.lambda(l))
        }
        if let p = w.pause { return .success(.pause(p)) }
        guard w.save == true else { return .failure(RequestError("save must be true")) }
        return .success(.save)
    }

    public struct RequestError: Error, Equatable, Sendable {
        public let message: String
        init(_ m: String) { message = m }
    }
}

/// The trainer's end of the channel: takes the requests written since the last call, oldest first, and removes
/// their files. Made by the process that trains (it makes the folder); polled from one thread.
public final class RunRequestInbox {
    public let path: String

    /// Makes RUN/requests if it is missing; refuses one that is not a folder (a link planted in its place included).
    public init(runDir: String) throws {
        path = RunRequests.folder(of: runDir)
        if mkdir(path, 0o777) != 0 && errno != EEXIST { throw RegularFile.error(path, "cannot create") }
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw BTError("cannot use \(path) for the run's requests: it is not a folder (a link is not followed)")
        }
    }

    /// The requests waiting, in the order written, and a one-line reason for each file that could not be used (its
    /// file is removed too, so it is reported once).
    public func take() -> (requests: [RunRequest], refused: [String]) {
        let dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return ([], ["cannot open \(path): \(String(cString: strerror(errno)))"]) }
        defer { close(dir) }
        var requests: [RunRequest] = [], refused: [String] = []
        for name in names(dir) {
            defer { unlinkat(dir, name, 0) }  // the entry itself: a link is removed, never what it points to
            switch read(name, in: dir).flatMap(RunRequests.decode) {
            case .success(let r): requests.append(r)
            case .failure(let e): refused.append("ignored \(path)/\(name): \(e.message)")
            }
        }
        return (requests, refused)
    }

    /// Up to `maxPerTake` request names, oldest first. The listing stops after a bounded number of entries, so a
    /// folder flooded with other files costs a poll little.
    private func names(_ dir: Int32) -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else { if copy >= 0 { close(copy) }; return [] }
        defer { closedir(stream) }
        var found: [String] = [], seen = 0
        while seen < 4096, let entry = readdir(stream) {
            seen += 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if RunRequests.isRequestName(name) { found.append(name) }
        }
        return Array(found.sorted().prefix(RunRequests.maxPerTake))
    }

    private func read(_ name: String, in dir: Int32) -> Result<[UInt8], RunRequests.RequestError> {
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.init(errno == ELOOP ? "a link, not a request file" : String(cString: strerror(errno)))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .failure(.init("not a regular file")) }
        guard st.st_size <= RunRequests.maxBytes else { return .failure(.init("\(st.st_size) bytes, over the \(RunRequests.maxBytes) a request may have")) }
        var bytes = [UInt8](repeating: 0, count: RunRequests.maxBytes + 1)
        let n = pread(fd, &bytes, bytes.count, 0)
        guard n >= 0, n <= RunRequests.maxBytes else { return .failure(.init("cannot read it")) }
        return .success(Array(bytes[0..<n]))
    }
}
