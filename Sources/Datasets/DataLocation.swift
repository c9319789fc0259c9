import Foundation

/// Where `btviz fetch` puts a dataset when nothing else is configured.
public func defaultCacheDir(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return (home as NSString).appendingPathComponent(".cache/btviz/\(name)")
}

/// The folders searched for `name`, in order: $BTVIZ_DATA/<name>, $BTVIZ_DATA, the cache, then where a system
/// package installs it (the catalog's, e.g. Debian's dataset-fashion-mnist).
public func candidateDataDirs(name: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                              systemDirs: [String]? = nil) -> [String] {
    var candidates: [String] = []
    if let root = environment["BTVIZ_DATA"], !root.isEmpty {
        let r = (root as NSString).expandingTildeInPath
        candidates += [(r as NSString).appendingPathComponent(name), r]
    }
    candidates.append(defaultCacheDir(name: name, environment: environment))
    candidates += systemDirs ?? DatasetCatalog.entry(name)?.systemDirs ?? []
    return candidates
}

/// Picks the data directory for `name`. An explicit --data-dir always wins (a user who names a folder
/// wants an error about that folder, not a silent fallback). Otherwise the first candidate where the catalog
/// entry finds its data, or the cache so the "not found" error names it.
public func resolveDataDir(name: String, explicit: String?,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           systemDirs: [String]? = nil) -> String {
    if let explicit { return (explicit as NSString).expandingTildeInPath }
    let dirs = candidateDataDirs(name: name, environment: environment, systemDirs: systemDirs)
    if let entry = DatasetCatalog.entry(name), let found = dirs.first(where: { entry.locate($0) != nil }) { return found }
    return defaultCacheDir(name: name, environment: environment)
}
