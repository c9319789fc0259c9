import BTCore
import Foundation

/// A sweep's folder DIR: `spec.yaml` (the spec as given), `sweep.json` (its expansion), one run folder per run,
/// and `slurm/` for the Slurm launcher's scripts. (docs/sweeps.md describes every file.)
public struct SweepFolder: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var specPath: String { path + "/spec.yaml" }
    public var planPath: String { path + "/sweep.json" }
    public var slurmPath: String { path + "/slurm" }
    public func runPath(_ name: String) -> String { path + "/" + name }

    /// Opens DIR for the sweep `name`, creating it if needed. A folder that holds anything but a sweep of that
    /// name is refused before anything is written: a sweep never mixes its runs with something else.
    public static func prepare(_ path: String, name: String) throws -> (folder: SweepFolder, previous: SweepPlan?) {
        let (exists, previous) = try inspect(path, name: name)
        if !exists { try OutputFolder.create(path, what: "the sweep folder") }
        return (SweepFolder(path), previous)
    }

    /// What `prepare` checks, writing nothing (`--dry-run`): whether DIR exists, and the plan of the sweep it
    /// holds; it throws where `prepare` would refuse the folder.
    public static func inspect(_ path: String, name: String) throws -> (exists: Bool, previous: SweepPlan?) {
        let folder = SweepFolder(path)
        var st = stat()
        guard stat(path, &st) == 0 else { return (false, nil) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw BTError("\(path) is a file, not a folder: give --out a folder") }
        guard FileManager.default.fileExists(atPath: folder.planPath) else {
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            guard entries.isEmpty else {
                throw BTError("\(path) holds something that is not a sweep (\(entries.count) entries, e.g. '\(entries[0])'); give --out an empty or new folder")
            }
            return (true, nil)
        }
        let previous = try folder.plan()
        guard previous.name == name else {
            throw BTError("\(path) holds the sweep '\(previous.name)', not '\(name)'; give --out another folder")
        }
        return (true, previous)
    }

    /// DIR/sweep.json.
    public func plan() throws -> SweepPlan {
        guard FileManager.default.fileExists(atPath: planPath) else { throw BTError("\(path) is not a sweep folder (no sweep.json)") }
        let bytes = try RegularFile(planPath).readAll(limit: 256 << 20, what: "sweep.json")
        return try SweepPlan.decode(Data(bytes), path: planPath)
    }

    /// Writes the spec and its expansion, each atomically (a reader sees the old or the new one, never half).
    public func write(plan: SweepPlan, specText: String) throws {
        try AtomicFile.write(specText, to: specPath)
        try AtomicFile.write(plan.encoded(), to: planPath)
    }

    /// What is at `path` itself, a symbolic link not followed: nil when nothing is.
    public static func entryType(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    /// "a symbolic link", "a file", ...: what an entry that should be a folder (or a lock file) is instead.
    public static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFREG: return "a file"
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        default: return "a device"
        }
    }

    /// A run folder that a spec change renamed (a key that did not vary before now does): when `run` has no
    /// folder yet and the previous plan had a run with the same arguments whose folder exists and is not in use,
    /// that folder is moved to `run`'s name, so the run is not trained twice. Both names are one entry of this
    /// folder (SweepPlan checks every name it reads), and only a real folder moves: a symbolic link in its place
    /// is not a run of this sweep.
    public func adoptRenamedRun(_ run: SweepPlan.Run, previous: SweepPlan?) {
        guard let previous, SweepFolder.entryType(runPath(run.name)) == nil,
              let old = previous.runs.first(where: {
                  SweepPlan.argsWithoutTensorBoard($0.args) == SweepPlan.argsWithoutTensorBoard(run.args) && $0.name != run.name
              }),
              PathComponent.problem(old.name) == nil, PathComponent.problem(run.name) == nil,
              SweepFolder.entryType(runPath(old.name)) == S_IFDIR,
              RunStatus.state(of: runPath(old.name)).isLive == false else { return }
        _ = rename(runPath(old.name), runPath(run.name))
    }
}
