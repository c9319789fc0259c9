import BTCore
import Datasets

/// Datasets by name. `synthetic` is built in and always available; the others read IDX files.
enum DatasetCatalog {
    static let names = ["synthetic", "fashion", "mnist"]

    static func load(_ name: String, dataDir: String?) throws -> Dataset {
        switch name {
        case "synthetic":
            return makeSynthetic(seed: 0)
        case "fashion", "mnist":
            return try loadIDXDataset(name: name, dir: resolveDataDir(name: name, explicit: dataDir))
        default:
            throw BTError("unknown dataset '\(name)' (choose from \(names.joined(separator: ", ")))")
        }
    }
}
