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
        while !p.isEmpty && p != "/" && lstat(p, &st) != 0 && errno == ENOENT {
            created.append(p)
            p = (p as NSString).deletingLastPathComponent
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw BTError("cannot create run directory \(dir): \((error as NSError).localizedDescription)")
        }
        guard access(dir, W_OK) == 0 else { throw BTError("run directory \(dir) is not writable") }
        removeStaleTemporaries(dir)
        return created
    }

    /// Undoes a start that failed before training: the run files when `ownRunFiles` (this attempt made them),
    /// this process's temporaries, then each directory `prepare` created, by rmdir, which removes only an empty one.
    static func undoFailedStart(_ dir: String, created: [String], ownRunFiles: Bool) {
        if ownRunFiles { for f in runFiles { unlink(dir + "/" + f) } }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp-\(getpid())") { unlink(dir + "/" + name) }
        for d in created { rmdir(d) }
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
        guard let data = FileManager.default.contents(atPath: dir + "/config.json") else {
            throw BTError("\(dir) is not a btviz run (no config.json)")
        }
        guard let c = try? JSONDecoder().decode(ConfigFile.self, from: data) else {
            throw BTError("\(dir)/config.json is damaged")
        }
        return c
    }
}
