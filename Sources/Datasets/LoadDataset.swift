import BTCore
import Foundation

/// One entry point for the commands: a dataset by catalog name, from wherever its files are (`resolveDataDir`;
/// the "not found" error then names that folder). `synthetic` is generated from `seed`.
public func loadTrainingData(name: String, dataDir: String? = nil, seed: UInt64 = 0, folder: ImageFolderOptions? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TrainingData {
    let entry = try DatasetCatalog.named(name)
    if entry.userFolder && dataDir == nil {
        throw BTError(settings: "\(setting: "dataset") \(name) needs \(setting: "data_dir"): \(entry.howToGet.replacingOccurrences(of: "pass --data-dir DIR: ", with: ""))")
    }
    let dir = resolveDataDir(name: name, explicit: dataDir, environment: environment)
    let request = DatasetRequest(dir: dir, seed: seed, folder: folder)
    var data = try entry.loadData(request)
    let identity = try entry.identity(of: data, request: request)
    if identity.official == false {
        // Fashion-MNIST's and MNIST's files share names: the name given is checked against what is there.
        if let owner = entry.officialOwner(ofFilesIn: dir) {
            throw BTError(settings: "\(dir) holds \(owner)'s official files (by their md5), not \(name)'s; use \(setting: "dataset") \(owner)")
        }
        data.notes.append("note: \(dir) is not the official \(name) release (its files' md5s differ: a subset or a copy of your own); the run records what it read: \(data.train.count) training and \(data.test.count) test images")
    }
    data.identity = identity
    return data
}

/// The same, for datasets held in memory (synthetic, the IDX sets): their splits as `ImageSet`s.
public func loadDataset(name: String, dataDir: String? = nil, seed: UInt64 = 0,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Dataset {
    let d = try loadTrainingData(name: name, dataDir: dataDir, seed: seed, environment: environment)
    guard let train = d.train as? ImageSet, let test = d.test as? ImageSet else {
        throw BTError("dataset \(name) is streamed, not held in memory")
    }
    return Dataset(name: d.name, train: train, test: test, classes: d.classes, classNames: d.classNames)
}
