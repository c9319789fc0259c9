import BTCore
import Datasets
import Foundation
import Restoration
import XCTest

/// Hostile image files for restoration, made at run time: the header is read and bounded before any pixel is
/// decoded, only regular files of bounded size are read, and a training folder skips what it cannot read.
final class HostileImageFileTests: XCTestCase {
    /// A 1-bit BMP declaring 16384x16384, its 32 MB of rows a sparse file: the caller's check sees the size from the
    /// header, before the 805 MB of RGB would be allocated.
    func testBMPHeaderIsReadBeforeDecoding() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/big.bmp"
        try Data(bmp1Bit(width: 16384, height: 16384)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(truncate(path, off_t(62 + 16384 * 2048)), 0)
        var seen: ImageHeader?
        XCTAssertThrowsError(try ImageFiles.read(path: path) { h in seen = h; throw BTError("refused \(h.width)x\(h.height)") }) { e in
            XCTAssertEqual("\(e)", "refused 16384x16384")
        }
        XCTAssertEqual(seen.map { [$0.width, $0.height] }, [16384, 16384])
        XCTAssertEqual(seen?.grayscale, true)
        // The same header with its rows missing is refused by the file's size; one declaring more pixels than an
        // image may have, by the pixel cap.
        let header = bmp1Bit(width: 16384, height: 16384)
        XCTAssertThrowsError(try BMP.header(of: header, path: "cut.bmp")) { XCTAssertTrue("\($0)".contains("truncated pixel data"), "\($0)") }
        XCTAssertThrowsError(try BMP.header(of: bmp1Bit(width: 70000, height: 70000), path: "huge.bmp")) { e in
            XCTAssertTrue("\(e)".contains("bad size 70000x70000"), "\(e)")
        }
    }

    func testOnlyRegularFilesOfBoundedSizeAreRead() throws {
        let dir = try makeTempDir(self)
        XCTAssertEqual(mkfifo(dir + "/pipe.bmp", 0o644), 0)
        try Data(bmp1Bit(width: 8, height: 8)).write(to: URL(fileURLWithPath: dir + "/sparse.bmp"))
        XCTAssertEqual(truncate(dir + "/sparse.bmp", off_t(20 << 30)), 0)
        for (path, why) in [(dir + "/pipe.bmp", "a FIFO (named pipe), not a regular file"),
                            (dir + "/sparse.bmp", "an image file may have at most 256 MB"),
                            ("/dev/zero", "a character device, not a regular file")] {
            XCTAssertThrowsError(try ImageFiles.read(path: path)) { e in
                XCTAssertTrue(e is BTError && "\(e)".contains(path) && "\(e)".contains(why), "\(e)")
            }
        }
    }

    /// A training folder (--train-data) skips a FIFO, a sparse file and an oversized header with one counted warning.
    func testTrainingFolderSkipsHostileFiles() throws {
        let dir = try makeTempDir(self)
        try BMP.write(noiseImage(width: 32, height: 32, seed: 1), to: dir + "/good.bmp")
        XCTAssertEqual(mkfifo(dir + "/pipe.png", 0o644), 0)
        try Data(bmp1Bit(width: 8, height: 8)).write(to: URL(fileURLWithPath: dir + "/sparse.bmp"))
        XCTAssertEqual(truncate(dir + "/sparse.bmp", off_t(20 << 30)), 0)
        try Data(bmp1Bit(width: 70000, height: 70000)).write(to: URL(fileURLWithPath: dir + "/huge.bmp"))
        let (images, notes) = try RestorationImages.load(folder: dir)
        XCTAssertEqual(images.map(\.name), ["good.bmp"])
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("skipped 3 of 4 images"), notes[0])
    }

    /// The headers of a bottom-up 1-bit BMP (black and white palette), without its rows.
    private func bmp1Bit(width: Int, height: Int) -> [UInt8] {
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let stride = (width + 31) / 32 * 4
        return [0x42, 0x4D] + le32(62 + stride * height) + le32(0) + le32(62)
            + le32(40) + le32(width) + le32(height) + [1, 0, 1, 0] + le32(0) + le32(stride * height) + le32(2835) + le32(2835)
            + le32(2) + le32(0) + [0, 0, 0, 0, 255, 255, 255, 0]
    }
}
