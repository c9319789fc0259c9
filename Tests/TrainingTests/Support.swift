import Records
import Datasets
import Foundation
import Training
import XCTest

/// ../shared/data beside the repository (CI clones the repo with shared/ next to it).
let sharedData: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data")

func fashionSubset() throws -> Dataset {
    let dir = sharedData.appendingPathComponent("fashion-subset").path
    guard FileManager.default.fileExists(atPath: dir) else { XCTFail("no shared data at \(dir): ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data at \(dir)") }
    return try loadIDXDataset(name: "fashion", dir: dir)
}

func temporaryDirectory() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-test-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Collects records in memory.
final class RecordingSink: RunSink {
    var records: [RunRecord] = []
    func receive(_ record: RunRecord) { records.append(record) }
    var steps: [StepRecord] { records.compactMap { if case .step(let s) = $0 { s } else { nil } } }
    var epochs: [EpochRecord] { records.compactMap { if case .epoch(let e) = $0 { e } else { nil } } }
    var events: [EventRecord] { records.compactMap { if case .event(let e) = $0 { e } else { nil } } }
}
