import BTCore
import Foundation

/// One entry point for the CLI: a dataset by name, from wherever its files are.
/// `synthetic` is generated from `seed`; `fashion` and `mnist` are read from the directory
/// `resolveDataDir` picks (the "not found" error then names that directory).
public func loadDataset(name: String, dataDir: String? = nil, seed: UInt64 = 0,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Dataset {
    if name == "synthetic" { return makeSynthetic(seed: seed) }
    guard IDXDatasets.names.contains(name) else {
        throw BTError("unknown dataset '\(name)' (known: synthetic, \(IDXDatasets.names.joined(separator: ", ")))")
    }
    return try loadIDXDataset(name: name, dir: resolveDataDir(name: name, explicit: dataDir, environment: environment))
}
