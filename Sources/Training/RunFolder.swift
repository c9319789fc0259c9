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
        try AtomicFile.write(try JSONOutput.data(ConfigFile(config: config, header: header), .pretty), to: configPath)
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
        if let k = h.k, !(1...4096).contains(k) { return "k is \(k), not 1 to 4096" }
        if let classes = h.classes, !(2...1_000_000).contains(classes) { return "classes is \(classes), not 2 to 1000000" }
        if h.inputShape.count != 3 { return "input_shape \(h.inputShape) is not [channels, height, width]" }
        if let d = h.inputShape.first(where: { !(1...65536).contains($0) }) { return "input_shape \(h.inputShape) has a side of \(d)" }
        if h.totalSteps < 0 || h.epochs < 0 || h.batchSize < 1 { return "steps \(h.totalSteps), epochs \(h.epochs), batch \(h.batchSize)" }
        return nil
    }

    // MARK: - metrics.jsonl

    /// Every record, in order, and how many non-blank lines were skipped as malformed; none for a run that never
    /// logged (no metrics.jsonl yet).
    public func readRecords() throws -> (records: [RunRecord], skipped: Int) {
        var st = stat()
        guard lstat(metricsPath, &st) == 0 else { return ([], 0) }
        // RegularFile: a FIFO in its place is refused, not read (a read would wait for a writer for ever).
        let bytes = try RegularFile(metricsPath).readAll(limit: Int.max, what: "a metrics.jsonl")
        return RunRecordCoding.decodeLines(String(decoding: bytes, as: UTF8.self))
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
            ("model", checkpoint.modelDescription, file.modelDescription),
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
        let lock = try RunLock(dir: path, purpose: purpose)
        try refuseForeignRunFiles()
        return lock
    }

    /// A run file that is not a regular file (a link out of the folder, a FIFO, a folder) was not made by btviz:
    /// refused before a run reads or writes it, so nothing is written through it and no write blocks on it.
    func refuseForeignRunFiles() throws {
        for name in Self.runFiles {
            var st = stat()
            guard lstat(path + "/" + name, &st) == 0 else { continue }
            let kind = st.st_mode & S_IFMT
            guard kind != S_IFREG else { continue }
            let what = kind == S_IFLNK ? "a symbolic link" : kind == S_IFIFO ? "a FIFO (named pipe)" : kind == S_IFDIR ? "a folder"
                : "a device or socket"
            throw BTError("cannot use the run \(path): its \(name) is \(what), not a file btviz wrote; remove it (btviz reads and writes only regular files in a run folder)")
        }
    }

    /// Creates the folder for a new run and locks it; refuses a folder that holds a run unless `replace`. Returns the
    /// lock and the directories it created (the run's own and missing parents, deepest first), so a start that fails
    /// can take them away again (`undoFailedStart`).
    public func startNew(replace: Bool, purpose: String) throws -> (lock: RunLock, created: [String]) {
        let created = try prepare()
        // Locked before the folder is looked at: a run another process is starting or training is refused.
        do {
            let lock = try RunLock(dir: path, purpose: purpose)
            try refuseForeignRunFiles()
            try refuseExistingRun(replace: replace)
            return (lock, created)
        } catch {
            undoFailedStart(created: created, ownRunFiles: false, lock: nil)
            throw error
        }
    }

    /// Creates the directory and proves it is writable before any training starts.
    func prepare() throws -> [String] {
        let created = try OutputFolder.create(path, what: "the run directory")
        guard access(path, W_OK) == 0 else { throw BTError("run directory \(path) is not writable") }
        AtomicFile.removeTemporaries(in: path)
        return created
    }

    /// Undoes a start that failed before training: the run files when `ownRunFiles` (this attempt made them),
    /// this process's temporaries, the lock file unless a run is left, then each directory `prepare`
    /// created, by rmdir, which removes only an empty one.
    public func undoFailedStart(created: [String], ownRunFiles: Bool, lock: RunLock?) {
        if ownRunFiles { for f in Self.runFiles { unlink(path + "/" + f) } }
        AtomicFile.removeTemporaries(in: path, own: true)
        // The lock file goes with the attempt unless a run is left in the folder (a --replace that failed).
        if Self.runFiles.contains(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }) { lock?.release() } else { lock?.removeAndRelease() }
        for d in created { rmdir(d) }
    }

    /// A new run never writes over an old one: refuse unless `replace`.
    func refuseExistingRun(replace: Bool) throws {
        let present = Self.runFiles.filter { FileManager.default.fileExists(atPath: path + "/" + $0) }
        guard !present.isEmpty, !replace else { return }
        throw BTError(settings: "\(path) already holds a run (\(present.joined(separator: ", "))); continue it with \(setting: "resume") \(path), or add \(setting: "replace") to start over")
    }

    /// For --replace: deletes the old run's files, once the new run has its data (a failed start keeps the old run).
    public func removeRunFiles() throws {
        // unlink, not a recursive removal: the start refused anything but regular files (refuseForeignRunFiles).
        for f in Self.runFiles where unlink(path + "/" + f) != 0 && errno != ENOENT {
            throw RegularFile.error(path + "/" + f, "cannot remove")
        }
    }
}
