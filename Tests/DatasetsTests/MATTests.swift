import BTCore
import Datasets
import Foundation
import XCTest

/// SVHN's .mat files through libmatio, on files scipy.io.savemat wrote in the official layout
/// (Tests/Fixtures/datasets/make_fixtures.py): X[r, c, ch, i] = (7i + 5r + 3c + 101ch) % 256, y[i] = i % 10 + 1.
final class MATTests: XCTestCase {
    let dir = join(TestData.fixtures, "svhn"), bad = join(TestData.fixtures, "svhn-bad")

    func check(_ set: ImageSet, count: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(set.count, count, file: file, line: line)
        XCTAssertEqual(set.shape, [3, 32, 32], file: file, line: line)
        var wrong = 0
        for i in 0..<count {
            for r in 0..<32 {
                for c in 0..<32 {
                    for ch in 0..<3 where abs(set.pixels[((i * 32 + r) * 32 + c) * 3 + ch] - Float((7 * i + 5 * r + 3 * c + 101 * ch) % 256) / 255) > 1e-6 {
                        wrong += 1
                    }
                }
            }
        }
        XCTAssertEqual(wrong, 0, "pixels not where MATLAB's column-major order puts them", file: file, line: line)
        // 1-10 in the file, 10 meaning the digit 0.
        XCTAssertEqual(set.labels, (0..<count).map { Int32(($0 % 10 + 1) % 10) }, file: file, line: line)
    }

    func testCompressedAndUncompressed() throws {
        check(try readSVHNMat(path: join(dir, "train_32x32.mat")), count: 12)  // v5, compressed
        check(try readSVHNMat(path: join(dir, "test_32x32.mat")), count: 7)    // v5, uncompressed
        XCTAssertEqual(try readSVHNMat(path: join(bad, "y_double.mat")).labels, [1, 2, 3, 4], "y saved as double")
    }

    func testCatalogEntryNeverFlips() throws {
        let d = try DatasetCatalog.named("svhn").loadData(DatasetRequest(dir: dir))
        XCTAssertEqual(d.train.count, 12)
        XCTAssertEqual(d.test.count, 7)
        XCTAssertFalse(d.augmentation.flip, "a mirrored digit is another digit")
        // extra_32x32.mat, when present, joins the training split.
        let withExtra = try makeTempDir(self)
        for f in ["train_32x32.mat", "test_32x32.mat"] { try FileManager.default.copyItem(atPath: join(dir, f), toPath: join(withExtra, f)) }
        try FileManager.default.copyItem(atPath: join(dir, "test_32x32.mat"), toPath: join(withExtra, "extra_32x32.mat"))
        let e = try DatasetCatalog.named("svhn").loadData(DatasetRequest(dir: withExtra))
        XCTAssertEqual(e.train.count, 19)
        XCTAssertEqual(try DatasetCatalog.named("svhn").locate(withExtra), "\(withExtra) (train + extra)")
    }

    func testBadFiles() throws {
        assertBTError(try readSVHNMat(path: join(bad, "no_y.mat")), contains: ["no_y.mat", "no variable 'y'"])
        assertBTError(try readSVHNMat(path: join(bad, "no_x.mat")), contains: ["no_x.mat", "no variable 'X'"])
        assertBTError(try readSVHNMat(path: join(bad, "wrong_shape.mat")), contains: ["X has shape 28x28x3x4", "expected 32x32x3xN"])
        assertBTError(try readSVHNMat(path: join(bad, "x_double.mat")), contains: ["X holds double", "uint8"])
        assertBTError(try readSVHNMat(path: join(bad, "y_short.mat")), contains: ["y is 3x1 for 4 images"])
        assertBTError(try readSVHNMat(path: join(bad, "y_zero.mat")), contains: ["y[1] is 0.0", "1-10"])
        let tmp = try makeTempDir(self)
        // Cut short (compressed and not), garbage, empty and missing files.
        for (name, keep) in [("train_32x32.mat", 900), ("test_32x32.mat", 10_000), ("test_32x32.mat", 100)] {
            let whole = try readBytes(join(dir, name)), path = join(tmp, "cut-\(keep)-" + name)
            try writeBytes(Array(whole[0..<keep]), path)
            assertBTError(try readSVHNMat(path: path), contains: [path])
        }
        let junk = join(tmp, "junk.mat")
        try writeBytes((0..<4000).map { UInt8(($0 * 7 + 3) % 256) }, junk)
        assertBTError(try readSVHNMat(path: junk), contains: ["bad .mat file", junk])
        try writeBytes([], junk)
        assertBTError(try readSVHNMat(path: junk), contains: ["bad .mat file", junk])
        assertBTError(try readSVHNMat(path: join(tmp, "none.mat")), contains: ["cannot read", "none.mat"])
    }

    /// MAT v5 stores an array's class and its data's type apart; matio converts whatever is stored to the class
    /// (floats labelled uint8 become truncated bytes without a word). X must store bytes, as the released files do.
    /// The file is written here element by element (MAT-File Format, ch. 1), once with bytes and once with floats.
    func testXLabelledUint8MustStoreBytes() throws {
        let tmp = try makeTempDir(self)
        let good = join(tmp, "bytes.mat"), floats = join(tmp, "floats.mat")
        try writeBytes(Self.v5File(storeXAsSingle: false), good)
        try writeBytes(Self.v5File(storeXAsSingle: true), floats)
        let set = try readSVHNMat(path: good)
        XCTAssertEqual(set.count, 1)
        XCTAssertEqual(set.pixels[0], Float(7) / 255, accuracy: 1e-6)
        XCTAssertEqual(set.labels, [1])
        assertBTError(try readSVHNMat(path: floats), contains: ["floats.mat", "X is labelled uint8 but stores miSINGLE data", "miUINT8"])
    }

    /// A little-endian MAT v5 file with X (32x32x3x1, class uint8, every pixel 7) and y = [1] (double).
    static func v5File(storeXAsSingle: Bool) -> [UInt8] {
        func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func padded(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (8 - b.count % 8) % 8) }
        func element(_ type: Int, _ data: [UInt8]) -> [UInt8] { u32(type) + u32(data.count) + padded(data) }
        func matrix(name: String, classID: Int, dims: [Int], dataType: Int, data: [UInt8]) -> [UInt8] {
            let body = element(6, u32(classID) + u32(0)) + element(5, dims.flatMap(u32))
                + element(1, Array(name.utf8)) + element(dataType, data)
            return u32(14) + u32(body.count) + body
        }
        var header = Array("MATLAB 5.0 MAT-file, written by btviz's MATTests".utf8)
        header += [UInt8](repeating: 0x20, count: 116 - header.count) + [UInt8](repeating: 0, count: 8) + [0x00, 0x01] + Array("IM".utf8)
        let n = 32 * 32 * 3
        let x = storeXAsSingle
            ? matrix(name: "X", classID: 9, dims: [32, 32, 3, 1], dataType: 7, data: (0..<n).flatMap { _ in u32(Int(Float(7.6).bitPattern)) })
            : matrix(name: "X", classID: 9, dims: [32, 32, 3, 1], dataType: 2, data: [UInt8](repeating: 7, count: n))
        let y = matrix(name: "y", classID: 6, dims: [1, 1], dataType: 9, data: (0..<8).map { UInt8((Double(1).bitPattern >> (8 * UInt64($0))) & 0xFF) })
        return header + x + y
    }
}
