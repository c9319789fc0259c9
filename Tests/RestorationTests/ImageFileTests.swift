import BTCore
import Datasets
import Foundation
import Restoration
import XCTest

/// BMP, PNG and JPEG files: the real SR sets, round trips, hand-made variants and damaged files.
final class ImageFileTests: XCTestCase {
    /// Every Set5, Set14 and T91 bitmap reads at the size shared/data/README.md gives; the sums, corners and
    /// modes were read with PIL (Image.open(f).convert('RGB')).
    func testReadsEverySRBitmap() throws {
        let sizes: [String: (Int, Int)] = [
            "baby_GT.bmp": (512, 512), "bird_GT.bmp": (288, 288), "butterfly_GT.bmp": (256, 256), "head_GT.bmp": (280, 280),
            "woman_GT.bmp": (228, 344), "baboon.bmp": (500, 480), "barbara.bmp": (720, 576), "bridge.bmp": (512, 512),
            "coastguard.bmp": (352, 288), "comic.bmp": (250, 361), "face.bmp": (276, 276), "flowers.bmp": (500, 362),
            "foreman.bmp": (352, 288), "lenna.bmp": (512, 512), "man.bmp": (512, 512), "monarch.bmp": (768, 512),
            "pepper.bmp": (512, 512), "ppt3.bmp": (529, 656), "zebra.bmp": (586, 391),
        ]
        let sums: [String: Int] = ["baby_GT.bmp": 107_632_294, "bird_GT.bmp": 16_878_772, "butterfly_GT.bmp": 22_612_247,
                                   "head_GT.bmp": 17_185_731, "woman_GT.bmp": 28_540_509, "bridge.bmp": 89_497_146,
                                   "man.bmp": 70_015_485, "t1.bmp": 13_744_059]
        var count = 0
        for set in [RestorationSet.set5, .set14, .t91] {
            let files = try SRData.files(set)
            XCTAssertEqual(files.count, [RestorationSet.set5: 5, .set14: 14, .t91: 91][set])
            for f in files {
                let name = (f as NSString).lastPathComponent
                let image = try HRImage.read(path: f)
                if let (w, h) = sizes[name] { XCTAssertEqual([image.rgb.width, image.rgb.height], [w, h], name) }
                if let s = sums[name] { XCTAssertEqual(image.rgb.bytes.reduce(0) { $0 + Int($1) }, s, name) }
                // Only bridge is stored with one channel; man is grey too, but stored as RGB (MATLAB sees 3 channels).
                XCTAssertEqual(image.grayscale, name == "bridge.bmp", name)
                XCTAssertGreaterThanOrEqual(min(image.rgb.width, image.rgb.height), 78, name)
                count += 1
            }
        }
        XCTAssertEqual(count, 110)
        let baby = try HRImage.read(path: SRData.files(.set5)[0]).rgb
        XCTAssertEqual(Array(baby.bytes[0..<3]), [252, 254, 251])  // top-left: rows are stored bottom-up
        XCTAssertEqual(Array(baby.bytes.suffix(3)), [65, 74, 57])
    }

    func testRoundTripsBMPAndPNG() throws {
        let dir = try makeTempDir(self)
        for (w, h) in [(1, 1), (3, 2), (5, 7), (64, 33)] {  // every row padding (0-3 bytes)
            let image = noiseImage(width: w, height: h, seed: UInt64(w * h))
            let bmp = dir + "/x\(w).bmp", png = dir + "/x\(w).png"
            try BMP.write(image, to: bmp)
            try ImageFiles.writePNG(image, to: png)
            for path in [bmp, png] {
                let (back, gray) = try ImageFiles.read(path: path)
                XCTAssertEqual([back.width, back.height], [w, h], path)
                XCTAssertEqual(back.bytes, image.bytes, path)
                XCTAssertFalse(gray)
            }
            XCTAssertEqual(try RGBImage.read(path: png).bytes, image.bytes)  // what the rest of btviz reads
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "atomic writes leave no temporary files")
    }

    /// Layouts the SR files do not use: top-down rows, 32-bit (plain and bit-field), 8-bit and 4-bit palettes, and
    /// a V5 header, each built by hand.
    func testReadsOtherLayouts() throws {
        let pixels: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [200, 100, 50], [1, 2, 3]]  // 3x2, RGB
        func rgb(_ x: Int, _ y: Int) -> [UInt8] { pixels[y * 3 + x] }
        // 32-bit BI_RGB, top-down (negative height): B, G, R, X.
        var top = bmpHeader(width: 3, height: -2, bits: 32, headerSize: 40, compression: 0, extra: [])
        for y in 0..<2 { for x in 0..<3 { top += [rgb(x, y)[2], rgb(x, y)[1], rgb(x, y)[0], 0xEE] } }
        XCTAssertEqual(try decode(top).bytes, pixels.flatMap { $0 })
        // 32-bit BI_BITFIELDS with R in the low byte (masks after the 40-byte header), bottom-up.
        var fields = bmpHeader(width: 3, height: 2, bits: 32, headerSize: 40, compression: 3,
                               extra: le32(0x0000_00FF) + le32(0x0000_FF00) + le32(0x00FF_0000))
        for y in [1, 0] { for x in 0..<3 { fields += [rgb(x, y)[0], rgb(x, y)[1], rgb(x, y)[2], 0] } }
        XCTAssertEqual(try decode(fields).bytes, pixels.flatMap { $0 })
        // 8-bit palette (6 colours, clrUsed = 6) with a V5 (124-byte) header; rows padded from 3 to 4 bytes.
        var pal = bmpHeader(width: 3, height: 2, bits: 8, headerSize: 124, compression: 0, colours: 6,
                            extra: pixels.flatMap { [$0[2], $0[1], $0[0], 0] })
        pal += [3, 4, 5, 0, 0, 1, 2, 0]  // bottom row first
        XCTAssertEqual(try decode(pal).bytes, pixels.flatMap { $0 })
        // 4-bit grey palette: two pixels a byte, high nibble first; all-grey palettes count as greyscale.
        let greys: [UInt8] = (0..<16).map { UInt8($0 * 17) }
        var four = bmpHeader(width: 3, height: 1, bits: 4, headerSize: 40, compression: 0, colours: 16,
                             extra: greys.flatMap { [$0, $0, $0, 0] })
        four += [0x1F, 0x80, 0, 0]
        let (g, gray) = try BMP.decode(four, path: "four.bmp")
        XCTAssertEqual(g.bytes, [17, 17, 17, 255, 255, 255, 136, 136, 136])
        XCTAssertTrue(gray)
    }

    /// Damaged files fail with one line naming the file; nothing traps.
    func testDamagedBMPsAreErrors() throws {
        let good = BMP.encode(noiseImage(width: 9, height: 7, seed: 3))
        func assertFails(_ bytes: [UInt8], _ why: String, line: UInt = #line) {
            XCTAssertThrowsError(try BMP.decode(bytes, path: "bad.bmp"), line: line) { e in
                let text = "\(e)"
                XCTAssertTrue(e is BTError, text, line: line)
                XCTAssertTrue(text.hasPrefix("cannot read image bad.bmp: "), text, line: line)
                XCTAssertTrue(text.contains(why), text, line: line)
                XCTAssertFalse(text.contains("\n"), line: line)
            }
        }
        for n in [0, 1, 2, 10, 17, 30, 53] { assertFails(Array(good.prefix(n)), n < 2 ? "not a BMP" : "truncated") }
        assertFails(Array(good.prefix(good.count - 40)), "truncated pixel data")
        var bad = good; bad[28] = 16  // bit depth
        assertFails(bad, "bit depth 16")
        bad = good; bad[30] = 1  // RLE
        assertFails(bad, "RLE")
        bad = good; bad[18...21] = [0, 0, 0, 0]  // width 0
        assertFails(bad, "bad size")
        bad = good; bad[18...21] = [0xFF, 0xFF, 0xFF, 0x7F]; bad[22...25] = [0xFF, 0xFF, 0xFF, 0x7F]  // 2^31 x 2^31
        assertFails(bad, "bad size")
        bad = good; bad[14] = 12  // OS/2 header
        assertFails(bad, "OS/2")
        bad = good; bad[10...13] = [0xFF, 0xFF, 0xFF, 0x0F]  // pixel offset past the end
        assertFails(bad, "truncated pixel data")
        // A palette index outside a 2-colour palette.
        var pal = bmpHeader(width: 1, height: 1, bits: 8, headerSize: 40, compression: 0, colours: 2, extra: [0, 0, 0, 0, 9, 9, 9, 0])
        pal += [5, 0, 0, 0]
        assertFails(pal, "palette index 5")

        // Through the file reader: a BMP cut short, a file that is no image, a missing file, a folder.
        let dir = try makeTempDir(self)
        _ = FileManager.default.createFile(atPath: dir + "/cut.bmp", contents: Data(good.prefix(100)))
        _ = FileManager.default.createFile(atPath: dir + "/text.png", contents: Data("hello".utf8))
        for (path, why) in [(dir + "/cut.bmp", "truncated"), (dir + "/text.png", "not a PNG, JPEG or BMP"),
                            (dir + "/none.bmp", "No such file"), (dir, "it is a directory, not a regular file")] {
            XCTAssertThrowsError(try ImageFiles.read(path: path)) { e in
                XCTAssertTrue("\(e)".hasPrefix("cannot read image \(path): ") || "\(e)".hasPrefix("cannot read \(path): "), "\(e)")
                XCTAssertTrue("\(e)".contains(why), "\(e)")
            }
        }
    }

    /// A grey PNG or JPEG is one channel (taken as Y as it is); RGB ones are not. The files were written by PIL.
    func testGreyscaleDetectionForPNGAndJPEG() throws {
        let dir = try makeTempDir(self)
        let files = [
            ("grey.png", "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAAAAAC4HznGAAAAEElEQVR4nGNkMDJimHbiPwAGhwLD7bQTrAAAAABJRU5ErkJggg==", true),
            ("grey.jpg", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/wAALCAAQABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APz08GfCXWbzVYy9s2AeMCvrn4d/BbVv7OjP2Z+npX0p8PPgxpJ1GM/Zk6+lfYPgb4RaLaaPGXtlyRxgV//Z", true),
            ("rgb.jpg", "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD89PBnwl1m81WMvbNgHjAr65+HfwW1b+zoz9mfp6V9KfDz4MaSdRjP2ZOvpX2D4G+EWi2mjxl7ZckcYFAH/9k=", false),
        ]
        for (name, b64, grey) in files {
            let path = dir + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: Data(base64Encoded: b64)!)
            let image = try HRImage.read(path: path)
            XCTAssertEqual(image.grayscale, grey, name)
            XCTAssertEqual(image.rgb.width, name == "grey.png" ? 3 : 16, name)
            if grey { XCTAssertEqual(image.y.pixels[0], image.rgb.bytes[0], "a grey file's Y is its grey value") }
        }
        XCTAssertEqual(try HRImage.read(path: dir + "/grey.png").y.pixels, [0, 50, 100, 150, 200, 255])
        // The same greys stored as RGB go through rgb2ycbcr: Y = 16 + 219 v / 255.
        try ImageFiles.writePNG(try HRImage.read(path: dir + "/grey.png").rgb, to: dir + "/as-rgb.png")
        XCTAssertEqual(try HRImage.read(path: dir + "/as-rgb.png").y.pixels, [16, 59, 102, 145, 188, 235])
    }

    private func decode(_ bytes: [UInt8]) throws -> RGBImage { try BMP.decode(bytes, path: "test.bmp").image }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// File header + info header (of `headerSize` bytes) + `extra` (masks or palette); pixels follow.
    private func bmpHeader(width: Int32, height: Int32, bits: UInt16, headerSize: Int, compression: UInt32,
                           colours: UInt32 = 0, extra: [UInt8]) -> [UInt8] {
        let offset = 14 + headerSize + extra.count
        var h: [UInt8] = [0x42, 0x4D] + le32(0) + le32(0) + le32(UInt32(offset))
        var info = le32(UInt32(headerSize)) + le32(UInt32(bitPattern: width)) + le32(UInt32(bitPattern: height))
        info += [1, 0, UInt8(bits), UInt8(bits >> 8)] + le32(compression) + le32(0) + le32(2835) + le32(2835) + le32(colours) + le32(0)
        info += [UInt8](repeating: 0, count: headerSize - info.count)
        h += info + extra
        return h
    }
}
