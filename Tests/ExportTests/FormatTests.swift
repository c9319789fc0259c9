import Export
import Foundation
import XCTest

/// The small pieces of the export formats against hand-worked values.
final class FormatTests: XCTestCase {
    /// CRC-32C's check value (the CRC of ASCII "123456789", from the catalogue of CRC parameters) and TFRecord's
    /// masking of the CRC of an empty string: ((0 >> 15) | (0 << 17)) + 0xA282EAD8.
    func testCRC32CCheckValueAndMask() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32C.masked([UInt8]()), 0xA282_EAD8)
        // 32 zero bytes: 0x8A9136AA (RFC 3720, B.4).
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    /// ONNX's INT4: two's complement, the first element in the low nibble; an odd count pads the last high nibble.
    func testInt4Packing() {
        XCTAssertEqual(Array(ONNXExport.packInt4([1, -1, -2, 2, -8])), [0xF1, 0x2E, 0x08])
        XCTAssertEqual(Array(ONNXExport.packInt4([7, 0])), [0x07])
    }

    /// A file written here reads back tensor for tensor; its header is what the format says, byte for byte.
    func testSafetensorsRoundTrip() throws {
        let a = SafeTensor(floats: [1, -2.5, 3, 0.25, 5, 6], shape: [2, 3])
        let b = SafeTensor(int8: [-2, 1, 0], shape: [3])
        let c = SafeTensor(int64: [7], shape: [])
        let data = try Safetensors.encode([("a", a), ("b", b), ("c", c)], metadata: ["method": "bt"])
        let length = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: data[8..<8 + length], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(header, #"{"__metadata__":{"method":"bt"},"a":{"data_offsets":[0,24],"dtype":"F32","shape":[2,3]},"b":{"data_offsets":[24,27],"dtype":"I8","shape":[3]},"c":{"data_offsets":[27,35],"dtype":"I64","shape":[]}}"#)
        XCTAssertEqual(data.count, 8 + length + 35)
        let path = NSTemporaryDirectory() + "/rt-\(UUID().uuidString).safetensors"
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Safetensors.Reader(path: path)
        XCTAssertEqual(r.names, ["a", "b", "c"])
        XCTAssertEqual(r.metadata, ["method": "bt"])
        XCTAssertEqual(try r.tensor("a"), a)
        XCTAssertEqual(try r.tensor("b"), b)
        XCTAssertEqual(try r.tensor("c"), c)
        XCTAssertEqual(try r.finiteFloats("a").values, [1, -2.5, 3, 0.25, 5, 6])
        XCTAssertThrowsError(try r.finiteFloats("b")) { XCTAssertTrue("\($0)".contains("is I8, not F32"), "\($0)") }
    }
}
