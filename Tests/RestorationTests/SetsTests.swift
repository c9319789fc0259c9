import BTCore
import Foundation
import Restoration
import XCTest

/// Finding the benchmark sets by name.
final class SetsTests: XCTestCase {
    func testNamesAreCaseInsensitive() {
        XCTAssertEqual(RestorationSet(name: "Set5"), .set5)
        XCTAssertEqual(RestorationSet(name: "URBAN100"), .urban100)
        XCTAssertEqual(RestorationSet(name: "bsd100")?.folderName, "BSD100")
        XCTAssertNil(RestorationSet(name: "set6"))
    }

    /// The shared data root holds the set folders; its parent holds them under sr/; a set folder is itself.
    func testDataDirLayouts() throws {
        let root = SRData.root
        let set5 = try SRData.files(.set5)
        XCTAssertEqual(set5.map { ($0 as NSString).lastPathComponent }, ["baby_GT.bmp", "bird_GT.bmp", "butterfly_GT.bmp", "head_GT.bmp", "woman_GT.bmp"])
        XCTAssertEqual(try RestorationSet.set5.files(dataDir: (root as NSString).deletingLastPathComponent).count, 5)
        XCTAssertEqual(try RestorationSet.set5.files(dataDir: root + "/Set5").count, 5)
        // Checksum lists beside the images are not images.
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/Set5/MD5SUMS"))
        XCTAssertEqual(try RestorationSet.bsd100.files(dataDir: root).first.map { ($0 as NSString).lastPathComponent }, "img_001.png")
    }

    /// Without --data-dir: $BTVIZ_SR_DATA, then $BTVIZ_DATA (and its sr/), then the cache. A missing set is one
    /// line naming every place looked.
    func testEnvironmentAndMissingSets() throws {
        let root = SRData.root
        _ = try SRData.files(.set5)
        let home = try makeTempDir(self)
        XCTAssertEqual(try RestorationSet.set14.files(dataDir: nil, environment: ["BTVIZ_SR_DATA": root, "HOME": home]).count, 14)
        let parent = (root as NSString).deletingLastPathComponent
        XCTAssertEqual(try RestorationSet.set14.files(dataDir: nil, environment: ["BTVIZ_DATA": parent, "HOME": home]).count, 14)
        XCTAssertEqual(RestorationSet.set5.candidateFolders(dataDir: nil, environment: ["HOME": home]), [home + "/.cache/btviz/sr/Set5"])

        let empty = try makeTempDir(self)
        XCTAssertThrowsError(try RestorationSet.urban100.files(dataDir: empty)) { e in
            XCTAssertTrue(e is BTError)
            XCTAssertEqual("\(e)", "Urban100 not found: no PNG, JPEG or BMP images in \(empty)/Urban100, \(empty)/sr/Urban100")
        }
        XCTAssertThrowsError(try RestorationSet.t91.files(dataDir: nil, environment: ["HOME": home])) { e in
            XCTAssertTrue("\(e)".contains(home + "/.cache/btviz/sr/T91"), "\(e)")
            XCTAssertTrue("\(e)".contains("BTVIZ_SR_DATA"), "\(e)")
        }
    }
}
