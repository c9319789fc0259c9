import BTCore
import Datasets
import Foundation
import XCTest

/// Hostile image files, made here at run time (sparse files, FIFOs, tiny files whose headers declare huge sizes):
/// each is a one-line refusal before anything large is read or allocated, and inside an image folder a skipped
/// file counted in the one warning, not the end of the load.
final class HostileImageTests: XCTestCase {
    let images = join(TestData.fixtures, "images")

    func testHeadersDeclaringHugeSizesAreRefusedBeforeDecoding() throws {
        let dir = try makeTempDir(self)
        try writeBytes(hostileJPEG(width: 40000, height: 40000), join(dir, "huge.jpg"))
        try writeBytes(hostilePNG(width: 70000, height: 70000), join(dir, "huge.png"))
        XCTAssertLessThan(try readBytes(join(dir, "huge.jpg")).count, 1000)
        assertBTError(try RGBImage.read(path: join(dir, "huge.jpg")), contains: ["huge.jpg", "bad size 40000x40000", "at most 268.4 megapixels"])
        assertBTError(try RGBImage.read(path: join(dir, "huge.png")), contains: ["huge.png", "bad size 70000x70000"])
        // The header alone is read: a JPEG that declares a size within the cap reports it without decoding.
        let h = try RGBImage.header(of: hostileJPEG(width: 8192, height: 8192), path: "x.jpg")
        XCTAssertEqual([h.width, h.height], [8192, 8192])
        XCTAssertTrue(h.grayscale)
    }

    func testOnlyRegularFilesOfBoundedSizeAreRead() throws {
        let dir = try makeTempDir(self)
        let fifo = join(dir, "pipe.png"), sparse = join(dir, "sparse.png")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try makeSparse(sparse, head: hostilePNG(width: 64, height: 64), size: 20 << 30)
        let start = Date()
        assertBTError(try RGBImage.read(path: fifo), contains: [fifo, "FIFO", "not a regular file"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "a FIFO must not be opened for a blocking read")
        assertBTError(try RGBImage.read(path: sparse), contains: [sparse, "20.0 GB", "an image file may have at most 256 MB"])
        assertBTError(try RGBImage.read(path: "/dev/zero"), contains: ["/dev/zero", "character device"])
    }

    /// A 20 GB sparse file, a FIFO and a 40000x40000 JPEG in a class folder are skipped and counted.
    func testFolderSkipsHostileFilesWithACount() throws {
        let root = try makeTempDir(self)
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: join(root, c), withIntermediateDirectories: true)
            for i in 0..<3 { try FileManager.default.copyItem(atPath: join(images, "rgb.png"), toPath: join(root, "\(c)/\(i).png")) }
        }
        try makeSparse(join(root, "a/sparse.png"), head: hostilePNG(width: 64, height: 64), size: 20 << 30)
        XCTAssertEqual(mkfifo(join(root, "b/pipe.png"), 0o644), 0)
        try writeBytes(hostileJPEG(width: 40000, height: 40000), join(root, "b/huge.jpg"))
        let d = try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: 0.34))
        XCTAssertEqual(d.train.count + d.test.count, 6)
        XCTAssertEqual(d.notes.count, 1, "\(d.notes)")
        XCTAssertTrue(d.notes[0].contains("skipped 3 of 9 image files"), d.notes[0])
    }

    /// Names that are not UTF-8 are listed by their bytes and reported escaped, not dropped or read as missing.
    func testNonUTF8NamesAreReportedEscaped() throws {
        let root = try makeTempDir(self)
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: join(root, c), withIntermediateDirectories: true)
            for i in 0..<2 { try FileManager.default.copyItem(atPath: join(images, "rgb.png"), toPath: join(root, "\(c)/\(i).png")) }
        }
        let png = try readBytes(join(images, "rgb.png"))
        XCTAssertEqual(mkdir(rawPath(root, [0x63, 0x61, 0x66, 0xE9]), 0o755), 0)  // "caf\xE9" (Latin-1)
        let odd = rawPath(root, Array("a/".utf8) + [0xFF, 0x2E, 0x70, 0x6E, 0x67])  // "a/\xFF.png"
        let fd = open(odd, O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let d = try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: 0.5))
        XCTAssertEqual(d.classNames, ["a", "b"])
        XCTAssertEqual(d.notes.count, 2, "\(d.notes)")
        XCTAssertTrue(d.notes[0].contains("class folder") && d.notes[0].contains("caf\\xE9") && d.notes[0].contains("not UTF-8"), d.notes[0])
        XCTAssertTrue(d.notes[1].contains("skipped 1 of 5") && d.notes[1].contains("a/\\xFF.png: its name is not UTF-8"), d.notes[1])
    }

    func testClassWithoutReadableImageIsRefused() throws {
        let root = try makeTempDir(self)
        for c in ["a", "b"] { try FileManager.default.createDirectory(atPath: join(root, c), withIntermediateDirectories: true) }
        for i in 0..<3 { try FileManager.default.copyItem(atPath: join(images, "rgb.png"), toPath: join(root, "a/\(i).png")) }
        try FileManager.default.copyItem(atPath: join(images, "truncated.png"), toPath: join(root, "b/0.png"))
        try writeBytes(hostileJPEG(width: 40000, height: 40000), join(root, "b/1.jpg"))
        assertBTError(try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: 0.34)),
                      contains: ["class folder \(join(root, "b")) has no readable training image", "2 files"])
    }

    /// The memory the decoded folder takes is checked before any image is decoded.
    func testFolderMemoryIsCheckedBeforeDecoding() throws {
        let root = try makeTempDir(self)
        for c in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: join(root, c), withIntermediateDirectories: true)
            for i in 0..<2 { try FileManager.default.copyItem(atPath: join(images, "rgb.png"), toPath: join(root, "\(c)/\(i).png")) }
        }
        assertBTError(try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 1 << 20, fit: .resize, testDir: nil, testRatio: 0.5)),
                      contains: ["holding the 4 images of \(root) at image_size 1048576 needs", "lower image_size"])
    }

    // MARK: - Hostile files, by hand

    /// A PNG with a real IHDR declaring `width` x `height` and an empty IDAT (zlib of nothing).
    private func hostilePNG(width: Int, height: Int) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(data.count) + body + be32(Int(crc32(body)))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    /// A greyscale baseline JPEG whose frame header declares `width` x `height`, with a few bytes of scan.
    private func hostileJPEG(width: Int, height: Int) -> [UInt8] {
        let dqt: [UInt8] = [0xFF, 0xDB, 0, 67, 0] + [UInt8](repeating: 1, count: 64)
        let sof: [UInt8] = [0xFF, 0xC0, 0, 11, 8] + be16(height) + be16(width) + [1, 1, 0x11, 0]
        let dht: [UInt8] = [0xFF, 0xC4, 0, 20, 0x00, 1] + [UInt8](repeating: 0, count: 15) + [0]
            + [0xFF, 0xC4, 0, 20, 0x10, 1] + [UInt8](repeating: 0, count: 15) + [0]
        let sos: [UInt8] = [0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]
        return [0xFF, 0xD8] + dqt + sof + dht + sos + [UInt8](repeating: 0, count: 400) + [0xFF, 0xD9]
    }

    private func be32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    private func be16(_ v: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    /// `head`, then holes up to `size` bytes (ftruncate: no disk is used).
    private func makeSparse(_ path: String, head: [UInt8], size: Int) throws {
        try writeBytes(head, path)
        XCTAssertEqual(truncate(path, off_t(size)), 0)
    }

    /// `root`/`name` where `name` is raw bytes (possibly not UTF-8), as a C path.
    private func rawPath(_ root: String, _ name: [UInt8]) -> [CChar] {
        (Array(root.utf8) + [0x2F] + name + [0]).map { CChar(bitPattern: $0) }
    }
}
