import Foundation
import XCTest

/// Hostile images given to upscale and to a folder dataset, under the campaign's limits (`ulimit -v 8000000`):
/// each is one line on stderr and a non-zero exit within seconds, never a crash, a hang or a huge allocation.
final class HostileImageCommandTests: XCTestCase {
    let sr = sharedData.appendingPathComponent("sr").path
    let images = repoRoot.appendingPathComponent("Tests/Fixtures/datasets/images").path

    func testUpscaleRefusesHostileImages() throws {
        let dir = temporaryDirectory(), run = dir + "/run"
        let t = try btviz(["train", "--task", "sr", "--data-dir", sr, "--method", "bt", "--epochs", "1", "--epoch-steps", "2",
                           "--headless", "--run-dir", run], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(mkfifo(dir + "/pipe.png", 0o644), 0)
        try write(hostileJPEG(width: 64, height: 64), dir + "/sparse.png")
        XCTAssertEqual(truncate(dir + "/sparse.png", off_t(20 << 30)), 0)
        try write(hostileJPEG(width: 40000, height: 40000), dir + "/huge.jpg")
        try write(hostileJPEG(width: 8192, height: 8192), dir + "/big.jpg")
        let bmp = dir + "/big.bmp"
        try write(bmp1Bit(width: 16384, height: 16384), bmp)
        XCTAssertEqual(truncate(bmp, off_t(62 + 16384 * 2048)), 0)
        for (input, extra, why) in [("pipe.png", [], "FIFO (named pipe), not a regular file"),
                                    ("/dev/zero", [], "character device, not a regular file"),
                                    ("sparse.png", [], "an image file may have at most 256 MB"),
                                    ("huge.jpg", [], "bad size 40000x40000"),
                                    ("big.jpg", [], "over the --max-megapixels 16 limit"),
                                    ("big.bmp", [], "pass --max-megapixels 1074 to go ahead"),
                                    ("big.bmp", ["--max-megapixels", "2000"], "of memory")] {
            let path = input.hasPrefix("/") ? input : dir + "/" + input
            let o = try limited(["upscale", "--run", run, path, dir + "/out.png"] + extra)
            assertCleanFailure(o, mentioning: why)
        }
    }

    /// SR training images are held whole: one too large for the memory left is skipped with the count, not an abort.
    func testTrainingImageTooLargeForMemoryIsSkipped() throws {
        let dir = temporaryDirectory(), data = dir + "/train"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for f in ["baby_GT.bmp", "bird_GT.bmp"] { try FileManager.default.copyItem(atPath: sr + "/Set5/" + f, toPath: data + "/" + f) }
        try write(bmp1Bit(width: 16384, height: 16384), data + "/big.bmp")
        XCTAssertEqual(truncate(data + "/big.bmp", off_t(62 + 16384 * 2048)), 0)
        let o = try btviz(["train", "--task", "sr", "--train-data", data, "--data-dir", sr, "--epochs", "1", "--epoch-steps", "2",
                           "--headless", "--run-dir", dir + "/run"], timeout: 120, addressSpaceKB: 3_000_000)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stderr.contains("skipped 1 of 3 images") && o.stderr.contains("big.bmp (16384x16384) needs"), o.stderr)
    }

    /// A folder whose images would take 12 GB at --image-size 512 is refused before decoding; with 4 training
    /// images the net is sized for batches of 4, not --batch-size 128.
    func testFolderDatasetMemory() throws {
        let root = temporaryDirectory()
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: root + "/" + c, withIntermediateDirectories: true)
            for i in 0..<2100 { XCTAssertEqual(link(images + "/rgb.png", "\(root)/\(c)/\(i).png"), 0) }
        }
        assertCleanFailure(try limited(["train", "--dataset", "folder", "--data-dir", root, "--test-ratio", "0.25", "--image-size", "512",
                                        "--epochs", "1", "--headless", "--run-dir", temporaryDirectory() + "/run"]),
                           mentioning: "lower --image-size")
        let small = temporaryDirectory()
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: small + "/" + c, withIntermediateDirectories: true)
            for i in 0..<3 { try FileManager.default.copyItem(atPath: images + "/rgb.png", toPath: "\(small)/\(c)/\(i).png") }
        }
        let o = try limited(["train", "--dataset", "folder", "--data-dir", small, "--test-ratio", "0.34", "--image-size", "512",
                             "--epochs", "1", "--headless", "--run-dir", temporaryDirectory() + "/run"])
        XCTAssertEqual(o.status, 0, o.stderr)
    }

    /// btviz under `ulimit -v 8000000` (what the hostile-input campaign ran with).
    private func limited(_ args: [String]) throws -> Output { try btviz(args, timeout: 60, addressSpaceKB: 8_000_000) }

    private func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// A greyscale baseline JPEG whose frame header declares `width` x `height`, with a few bytes of scan.
    private func hostileJPEG(width: Int, height: Int) -> [UInt8] {
        func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        let table = [1] + [UInt8](repeating: 0, count: 15) + [0]
        return [0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0] + [UInt8](repeating: 1, count: 64)
            + [0xFF, 0xC0, 0, 11, 8] + be16(height) + be16(width) + [1, 1, 0x11, 0]
            + [0xFF, 0xC4, 0, 20, 0x00] + table + [0xFF, 0xC4, 0, 20, 0x10] + table
            + [0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0] + [UInt8](repeating: 0, count: 400) + [0xFF, 0xD9]
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
