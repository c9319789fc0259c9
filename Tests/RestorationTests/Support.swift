import BTCore
import Datasets
import Foundation
import Restoration
import XCTest

/// The SR images in shared/data/sr beside the repository (CI clones it there too).
enum SRData {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let root = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/sr").path

    /// The set's files, failing the test (not skipping it) when the shared data is missing.
    static func files(_ set: RestorationSet) throws -> [String] {
        let dir = (root as NSString).appendingPathComponent(set.folderName)
        guard FileManager.default.fileExists(atPath: dir) else {
            XCTFail("test data missing: \(dir) (shared/data must sit beside the repository)")
            throw XCTSkip("no test data")
        }
        return try set.files(dataDir: root)
    }

    /// The mean baseline PSNR over a set.
    static func meanPSNR(_ set: RestorationSet, _ task: RestorationTask) throws -> Double {
        let v = try BaselinePSNR.psnrs(files: files(set), task: task)
        return v.reduce(0, +) / Double(v.count)
    }
}

/// A fresh temporary directory, removed when the test ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-restoration-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// A plane of pseudo-random bytes (deterministic), for tests that need texture.
func noisePlane(width: Int, height: Int, seed: UInt64) -> Plane<UInt8> {
    var rng = RNG(seed: seed)
    return Plane(width: width, height: height, pixels: (0..<width * height).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
}

/// An RGB image of pseudo-random bytes.
func noiseImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var rng = RNG(seed: seed)
    return RGBImage(width: width, height: height, bytes: (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
}
