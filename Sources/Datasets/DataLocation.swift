import Foundation

/// Where `btviz fetch` puts a dataset when nothing else is configured.
public func defaultCacheDir(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return (home as NSString).appendingPathComponent(".cache/btviz/\(name)")
}

/// Picks the data directory for `name`. An explicit --data-dir always wins (a user who names a folder
/// wants an error about that folder, not a silent fallback). Otherwise $BTVIZ_DATA/<name>, then
/// $BTVIZ_DATA, then the cache, then where a system package installs it (Debian's dataset-fashion-mnist):
/// the first holding the train-images file, or the cache so the "not found" error names it.
public func resolveDataDir(name: String, explicit: String?,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           systemDirs: [String]? = nil) -> String {
    if let explicit { return (explicit as NSString).expandingTildeInPath }
    var candidates: [String] = []
    if let root = environment["BTVIZ_DATA"], !root.isEmpty {
        let r = (root as NSString).expandingTildeInPath
        candidates += [(r as NSString).appendingPathComponent(name), r]
    }
    let cache = defaultCacheDir(name: name, environment: environment)
    candidates.append(cache)
    candidates += systemDirs ?? DatasetSource.official(name)?.systemDir.map { [$0] } ?? []
    for dir in candidates where IDXFiles.locate(IDXFiles.trainImages, in: dir) != nil { return dir }
    return cache
}
