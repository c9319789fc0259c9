import Export
import Foundation
import XCTest

/// The safetensors reader against hostile files: each refused with one line naming what is wrong, before any
/// allocation the header alone could size.
final class SafetensorsReaderTests: XCTestCase {
    func file(header: String, data: Int = 0, declaredLength: UInt64? = nil) throws -> String {
        let json = Data(header.utf8)
        var bytes = withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { Data($0) }
        bytes += json + Data(count: data)
        let path = NSTemporaryDirectory() + "/hostile-\(UUID().uuidString).safetensors"
        try bytes.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func assertRefused(_ path: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.Reader(path: path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(message), "\(text) should say \(message)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), file: file, line: line)
        }
    }

    func testHostileHeadersAreRefused() throws {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertEqual(try Safetensors.Reader(path: try file(header: ok, data: 8)).names, ["a"])
        assertRefused(try file(header: ok, data: 8, declaredLength: 1 << 62), "is beyond the file's")
        assertRefused(try file(header: ok, data: 4), "data_offsets are not within the file's 4 bytes")
        assertRefused(try file(header: ok, data: 12), "cover 8 of its 12 bytes")
        assertRefused(try file(header: #"{"a":{"dtype":"F32","shape":[4503599627370496,4096],"data_offsets":[0,0]}}"#),
                      "does not fill its 0 bytes")
        assertRefused(try file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "no valid shape")
        assertRefused(try file(header: #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, data: 4), "unknown dtype Q7")
        assertRefused(try file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12),
                      "overlaps")
        assertRefused(try file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8), "gap before tensor a")
        assertRefused(try file(header: "[1, 2]"), "not a JSON object")
        assertRefused(try file(header: #"{"__metadata__":{"k":1}}"#), "__metadata__ must map strings to strings")
    }

    func testNonFilesAreRefusedBeforeReading() throws {
        let fifo = NSTemporaryDirectory() + "/fifo-\(UUID().uuidString)"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        defer { unlink(fifo) }
        assertRefused(fifo, "not a regular file")
        assertRefused(NSTemporaryDirectory(), "not a regular file")
        assertRefused("/nonexistent/w.safetensors", "cannot read /nonexistent/w.safetensors")
    }

    func testNonFiniteValuesAreRefused() throws {
        let data = try Safetensors.encode([("w", SafeTensor(floats: [1, .nan], shape: [2]))], metadata: [:])
        let path = NSTemporaryDirectory() + "/nan-\(UUID().uuidString).safetensors"
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Safetensors.Reader(path: path).finiteFloats("w")) {
            XCTAssertTrue("\($0)".contains("tensor w holds a non-finite value (nan at index 1)"), "\($0)")
        }
    }
}
