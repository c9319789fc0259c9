import BTCore
import Foundation
import Training

/// RUN/: config.json (what the run is), metrics.jsonl (what happened), checkpoint.bin (where it is).
enum RunDirectory {
    struct ConfigFile: Codable {
        var config: TrainConfig
        var header: RunHeader
    }

    /// Creates the directory and proves it is writable before any training starts. Returns the directories it
    /// created (the run's own and missing parents, deepest first), so a start that fails can take them away again.
    @discardableResult
    static func prepare(_ dir: String) throws -> [String] {
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
        removeStaleTemporaries(dir)
        return created
    }

    /// Undoes a start that failed before training: the run files when `ownRunFiles` (this attempt made them),
    /// this process's temporaries, the lock file unless a run is left, then each directory `prepare`
    /// created, by rmdir, which removes only an empty one.
    static func undoFailedStart(_ dir: String, created: [String], ownRunFiles: Bool, lock: RunLock?) {
        if ownRunFiles { for f in runFiles { unlink(dir + "/" + f) } }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp-\(getpid())") { unlink(dir + "/" + name) }
        // The lock file goes with the attempt unless a run is left in the folder (a --replace that failed).
        if runFiles.contains(where: { FileManager.default.fileExists(atPath: dir + "/" + $0) }) { lock?.release() } else { lock?.removeAndRelease() }
        for d in created { rmdir(d) }
    }

    /// The lock of an existing run folder (--resume), or a one-line error: not there, not a folder, in use.
    static func lockExisting(_ dir: String, purpose: String) throws -> RunLock {
        var st = stat()
        guard stat(dir, &st) == 0 else {
            throw BTError("no checkpoint at \(dir)/checkpoint.bin: \(errno == ENOENT ? "\(dir) does not exist" : String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw BTError("no run at \(dir): it is a file, not a run folder") }
        return try RunLock(dir: dir, purpose: purpose)
    }

    /// A checkpoint and a config.json that describe different runs (a file copied in from another run) would
    /// resume one run under the other's name and history: refuse, naming the first difference.
    static func checkFilesAgree(_ dir: String, checkpoint: TrainConfig) throws {
        guard FileManager.default.fileExists(atPath: dir + "/config.json") else { return }
        let file = try readConfig(dir).config
        let pairs: [(String, String, String)] = [
            ("task", checkpoint.task.rawValue, file.task.rawValue),
            ("dataset", checkpoint.task.isRestoration ? "-" : checkpoint.dataset, file.task.isRestoration ? "-" : file.dataset),
            ("k", "\(checkpoint.k)", "\(file.k)"),
            ("seed", "\(checkpoint.seed)", "\(file.seed)"),
        ]
        if let (key, c, f) = pairs.first(where: { $0.1 != $0.2 }) {
            throw BTError("\(dir)/checkpoint.bin and \(dir)/config.json belong to different runs (\(key) \(c) in the checkpoint, \(f) in config.json); the folder was changed by hand")
        }
    }

    /// The files that make a directory a run.
    static let runFiles = ["checkpoint.bin", "metrics.jsonl", "config.json"]

    /// A new run never writes over an old one: refuse unless `replace`.
    static func refuseExistingRun(_ dir: String, replace: Bool) throws {
        let present = runFiles.filter { FileManager.default.fileExists(atPath: dir + "/" + $0) }
        guard !present.isEmpty, !replace else { return }
        throw BTError("\(dir) already holds a run (\(present.joined(separator: ", "))); continue it with --resume \(dir), or add --replace to start over")
    }

    /// For --replace: deletes the old run's files, once the new run has its data (a failed start keeps the old run).
    static func removeRunFiles(_ dir: String) throws {
        for f in runFiles where FileManager.default.fileExists(atPath: dir + "/" + f) {
            do { try FileManager.default.removeItem(atPath: dir + "/" + f) } catch {
                throw BTError("cannot remove \(dir)/\(f): \((error as NSError).localizedDescription)")
            }
        }
    }

    /// Removes temporary files that a killed writer left (".checkpoint.bin.tmp-PID" of a process that is gone).
    static func removeStaleTemporaries(_ dir: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            guard let pid = Int32(name.split(separator: "-").last ?? ""), pid != getpid(),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    static func writeConfig(_ dir: String, config: TrainConfig, header: RunHeader) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try e.encode(ConfigFile(config: config, header: header)), to: dir + "/config.json")
    }

    static func readConfig(_ dir: String) throws -> ConfigFile {
        var st = stat()
        guard stat(dir + "/config.json", &st) == 0 else { throw BTError("\(dir) is not a btviz run (no config.json)") }
        let data = Data(try RegularFile(dir + "/config.json").readAll(limit: 1 << 20, what: "a config.json"))
        guard let c = try? JSONDecoder().decode(ConfigFile.self, from: data) else {
            throw BTError("\(dir)/config.json is damaged")
        }
        if let problem = headerProblem(c.header) { throw BTError("\(dir)/config.json is damaged: \(problem)") }
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
}
