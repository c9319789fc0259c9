import BTCore
import Foundation
import Training

/// RUN/: config.json (what the run is), metrics.jsonl (what happened), checkpoint.bin (where it is).
enum RunDirectory {
    struct ConfigFile: Codable {
        var config: TrainConfig
        var header: RunHeader
    }

    /// Creates the directory and proves it is writable before any training starts.
    static func prepare(_ dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw BTError("cannot create run directory \(dir): \((error as NSError).localizedDescription)")
        }
        guard access(dir, W_OK) == 0 else { throw BTError("run directory \(dir) is not writable") }
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
