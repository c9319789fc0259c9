import BTCore
import Foundation
import Layers
import Models
import Quantizers
import Records

/// One run's folder, and the only code that knows its files: config.json (what the run is), metrics.jsonl (what
/// happened), checkpoint.bin (where it is) and .lock (who writes it). Training creates, locks and fills it; every
/// command that reads a run (eval, summary, compare, plot, replay, predict, upscale, denoise, sweeps) opens it here.
public struct RunFolder: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var configPath: String { path + "/" + RunFiles.config }
    public var metricsPath: String { RunFiles.metrics(in: path) }
    public var checkpointPath: String { path + "/" + RunFiles.checkpoint }

    /// The files that make a folder a run.
    public static let runFiles = RunFiles.all

    // MARK: - config.json

    /// config.json: every training option, and the run's fixed facts.
    public struct ConfigFile: Codable, Sendable {
        public var config: TrainConfig
        public var header: RunHeader
        public init(config: TrainConfig, header: RunHeader) { self.config = config; self.header = header }
    }

    public func writeConfig(_ config: TrainConfig, header: RunHeader) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try e.encode(ConfigFile(config: config, header: header)), to: configPath)
    }

    public func readConfig() throws -> ConfigFile {
        var st = stat()
        guard stat(configPath, &st) == 0 else { throw BTError("\(path) is not a btviz run (no config.json)") }
        let data = Data(try RegularFile(configPath).readAll(limit: 1 << 20, what: "a config.json"))
        guard let c = try? JSONDecoder().decode(ConfigFile.self, from: data) else {
            throw BTError("\(configPath) is damaged")
        }
        if let problem = Self.headerProblem(c.header) { throw BTError("\(configPath) is damaged: \(problem)") }
        return c
    }

    /// What makes a header unusable to the commands that rebuild a model from it (its sizes are allocated).
    static func headerProblem(_ h: RunHeader) -> String? {
        if !(1...4096).contains(h.k) { return "k is \(h.k), not 1 to 4096" }
        if h.inputShape.count != 3 { return "input_shape \(h.inputShape) is not [channels, height, width]" }
        if let d = h.inputShape.first(where: { !(1...65536).contains($0) }) { return "input_shape \(h.inputShape) has a side of \(d)" }
        if h.totalSteps < 0 || h.epochs < 0 || h.batchSize < 1 { return "steps \(h.totalSteps), epochs \(h.epochs), batch \(h.batchSize)" }
        return nil
    }

    // MARK: - metrics.jsonl

    /// Every record, in order, and how many non-blank lines were skipped as malformed; none for a run that never
    /// logged (no metrics.jsonl yet).
    public func readRecords() throws -> (records: [RunRecord], skipped: Int) {
        guard FileManager.default.fileExists(atPath: metricsPath) else { return ([], 0) }
        return try RunRecordCoding.read(path: metricsPath)
    }

    /// A reader that follows the file as a live run appends to it.
    public func tail() -> MetricsTail { MetricsTail(path: metricsPath) }

    /// The sink a training appends its records with.
    public func metricsLog() throws -> MetricsLogSink { try MetricsLogSink(path: metricsPath) }

    // MARK: - checkpoint.bin

    /// The checkpoint, refused if config.json describes a different run (a file copied in by hand).
    public func loadCheckpoint() throws -> Checkpoint {
        let ckpt = try Checkpoint.load(path: checkpointPath)
        try checkFilesAgree(checkpoint: ckpt.header.config)
        return ckpt
    }

    /// A checkpoint and a config.json that describe different runs would resume one run under the other's name and
    /// history: refuse, naming the first difference.
    func checkFilesAgree(checkpoint: TrainConfig) throws {
        guard FileManager.default.fileExists(atPath: configPath) else { return }
        let file = try readConfig().config
        let pairs: [(String, String, String)] = [
            ("task", checkpoint.task.rawValue, file.task.rawValue),
            ("dataset", checkpoint.task.isRestoration ? "-" : checkpoint.dataset, file.task.isRestoration ? "-" : file.dataset),
            ("k", "\(checkpoint.k)", "\(file.k)"),
            ("seed", "\(checkpoint.seed)", "\(file.seed)"),
        ]
        if let (key, c, f) = pairs.first(where: { $0.1 != $0.2 }) {
            throw BTError("\(checkpointPath) and \(configPath) belong to different runs (\(key) \(c) in the checkpoint, \(f) in config.json); the folder was changed by hand")
        }
    }

    // MARK: - Who writes it: .lock

    /// Who holds the run's lock (a training writing it), or nil.
    public var holder: String? { RunLock.holder(of: path) }

    /// The lock of an existing run folder (--resume), or a one-line error: not there, not a folder, in use.
    public func lockExisting(purpose: String) throws -> RunLock {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw BTError("no checkpoint at \(checkpointPath): \(errno == ENOENT ? "\(path) does not exist" : String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw BTError("no run at \(path): it is a file, not a run folder") }
        return try RunLock(dir: path, purpose: purpose)
    }

    /// Creates the folder for a new run and locks it; refuses a folder that holds a run unless `replace`. Returns the
    /// lock and the directories it created (the run's own and missing parents, deepest first), so a start that fails
    /// can take them away again (`undoFailedStart`).
    public func startNew(replace: Bool, purpose: String) throws -> (lock: RunLock, created: [String]) {
        let created = try prepare()
        // Locked before the folder is looked at: a run another process is starting or training is refused.
        do {
            let lock = try RunLock(dir: path, purpose: purpose)
            try refuseExistingRun(replace: replace)
            return (lock, created)
        } catch {
            undoFailedStart(created: created, ownRunFiles: false, lock: nil)
            throw error
        }
    }

    /// Creates the directory and proves it is writable before any training starts.
    func prepare() throws -> [String] {
        let dir = path
        guard !dir.isEmpty else { throw BTError("the run directory is an empty path") }
        if let long = dir.split(separator: "/").first(where: { $0.utf8.count > 255 }) {
            throw BTError("cannot create run directory: the name '\(long.prefix(40))…' is \(long.utf8.count) bytes, over the 255 a file name may have")
        }
        guard dir.utf8.count < 4096 else { throw BTError("cannot create run directory: the path is \(dir.utf8.count) bytes, over 4095") }
        // lstat, not fileExists: a symlink (even a dangling one) is something that was there before.
        var created: [String] = [], p = dir, st = stat()
        while !p.isEmpty && p != "/" && lstat(p, &st) != 0 && (errno == ENOENT || errno == ENOTDIR) {
            created.append(p)
            p = parentPath(p)
        }
        // The first existing ancestor must be a folder (stat follows a symlink to one).
        let existing = p.isEmpty ? "." : p
        if stat(existing, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR {
            throw BTError(existing == dir ? "cannot use \(dir) as the run directory: it is a file, not a folder"
                                          : "cannot create run directory \(dir): \(existing) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw BTError("cannot create run directory \(dir): \(String(cString: strerror(errno == 0 ? EACCES : errno)))")
        }
        guard access(dir, W_OK) == 0 else { throw BTError("run directory \(dir) is not writable") }
        removeStaleTemporaries()
        return created
    }

    /// Undoes a start that failed before training: the run files when `ownRunFiles` (this attempt made them),
    /// this process's temporaries, the lock file unless a run is left, then each directory `prepare`
    /// created, by rmdir, which removes only an empty one.
    public func undoFailedStart(created: [String], ownRunFiles: Bool, lock: RunLock?) {
        if ownRunFiles { for f in Self.runFiles { unlink(path + "/" + f) } }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp-\(getpid())") { unlink(path + "/" + name) }
        // The lock file goes with the attempt unless a run is left in the folder (a --replace that failed).
        if Self.runFiles.contains(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }) { lock?.release() } else { lock?.removeAndRelease() }
        for d in created { rmdir(d) }
    }

    /// A new run never writes over an old one: refuse unless `replace`.
    func refuseExistingRun(replace: Bool) throws {
        let present = Self.runFiles.filter { FileManager.default.fileExists(atPath: path + "/" + $0) }
        guard !present.isEmpty, !replace else { return }
        throw BTError("\(path) already holds a run (\(present.joined(separator: ", "))); continue it with --resume \(path), or add --replace to start over")
    }

    /// For --replace: deletes the old run's files, once the new run has its data (a failed start keeps the old run).
    public func removeRunFiles() throws {
        for f in Self.runFiles where FileManager.default.fileExists(atPath: path + "/" + f) {
            do { try FileManager.default.removeItem(atPath: path + "/" + f) } catch {
                throw BTError("cannot remove \(path)/\(f): \((error as NSError).localizedDescription)")
            }
        }
    }

    /// Removes temporary files that a killed writer left (".checkpoint.bin.tmp-PID" of a process that is gone).
    func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            guard let pid = Int32(name.split(separator: "-").last ?? ""), pid != getpid(),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }
}
