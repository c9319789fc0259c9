import BTCore
import Foundation

// Hugging Face's safetensors format (https://github.com/huggingface/safetensors, "Format"): an 8-byte
// little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {string: string}}, then the tensors' bytes, little-endian, row-major, offsets relative to the end of the header.
// The data must be covered exactly (no holes, no overlaps): the Python reader refuses anything else, and so does this one.

/// One tensor to write or that was read.
public struct SafeTensor: Equatable {
    public enum DType: String, CaseIterable, Sendable {
        case f32 = "F32", f64 = "F64", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8",
             u8 = "U8", bool = "BOOL"
        public var size: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) { self.dtype = dtype; self.shape = shape; self.bytes = bytes }

    public init(floats: [Float], shape: [Int]) {
        self.init(dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    public init(int8: [Int8], shape: [Int]) {
        self.init(dtype: .i8, shape: shape, bytes: int8.withUnsafeBytes { Array($0) })
    }

    public init(int64: [Int64], shape: [Int]) {
        self.init(dtype: .i64, shape: shape, bytes: int64.withUnsafeBytes { Array($0) })
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values of an F32 tensor (nil for any other dtype).
    public var floats: [Float]? {
        guard dtype == .f32 else { return nil }
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}

public enum Safetensors {
    /// The largest header this reader accepts, as the Python reader (100 MB): a header is names and shapes.
    public static let maxHeader = 100 << 20

    /// The file's bytes: tensors in the order given (the Python writer sorts them; any order is valid).
    public static func encode(_ tensors: [(name: String, tensor: SafeTensor)], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in tensors {
            guard header[name] == nil, name != "__metadata__" else { throw BTError("tensor \(name) is named twice") }
            precondition(t.bytes.count == t.count * t.dtype.size, "tensor \(name): \(t.bytes.count) bytes for shape \(t.shape)")
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONOutput.data(object: header)
        // Padded with spaces to 8 bytes, as the Python writer does, so the data that follows is aligned.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in tensors { out.append(contentsOf: t.bytes) }
        return out
    }

    /// A file's header, checked, and a way to read its tensors. Follows ReadLimits: a regular file only, the header
    /// length bounded by the file and `maxHeader` before anything is allocated, every tensor's extent checked with
    /// checkedProduct against its offsets, the offsets against the file, and the data covered exactly.
    public final class Reader {
        public let path: String
        public let metadata: [String: String]
        /// Name -> (dtype, shape, byte range in the data), in data order.
        public let entries: [(name: String, dtype: SafeTensor.DType, shape: [Int], range: Range<Int>)]
        private let file: RegularFile
        private let dataStart: Int

        public init(path: String) throws {
            file = try RegularFile(path)
            self.path = path
            func bad(_ why: String) -> BTError { BTError("bad safetensors file \(path): \(why)") }
            guard file.size >= 8 else { throw bad("it is \(file.size) bytes, shorter than its 8-byte header length") }
            var lengthBytes = [UInt8](repeating: 0, count: 8)
            try Reader.readFully(file, &lengthBytes, at: 0)
            let declared = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard declared <= UInt64(file.size - 8) else {
                throw bad("its header length \(declared) is beyond the file's \(file.size) bytes")
            }
            guard declared <= UInt64(Safetensors.maxHeader) else {
                throw bad("its header length \(declared) is over the \(MemoryBudget.describe(Safetensors.maxHeader)) limit")
            }
            let n = Int(declared)
            var json = [UInt8](repeating: 0, count: n)
            try Reader.readFully(file, &json, at: 8)
            guard n >= 2, json.first == UInt8(ascii: "{"),
                  let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
            else { throw bad("its header is not a JSON object") }
            dataStart = 8 + n
            let dataSize = file.size - dataStart
            var metadata: [String: String] = [:]
            var entries: [(name: String, dtype: SafeTensor.DType, shape: [Int], range: Range<Int>)] = []
            for (name, value) in object {
                if name == "__metadata__" {
                    guard let m = value as? [String: Any], m.values.allSatisfy({ $0 is String }) else {
                        throw bad("__metadata__ must map strings to strings")
                    }
                    metadata = m.mapValues { $0 as! String }
                    continue
                }
                guard let e = value as? [String: Any] else { throw bad("tensor \(name) is not described by an object") }
                guard let d = e["dtype"] as? String, let dtype = SafeTensor.DType(rawValue: d) else {
                    throw bad("tensor \(name) has an unknown dtype \(e["dtype"].map { "\($0)" } ?? "(none)")")
                }
                guard let shape = Reader.integers(e["shape"]), shape.count <= 8 else {
                    throw bad("tensor \(name) has no valid shape")
                }
                guard let offsets = Reader.integers(e["data_offsets"]), offsets.count == 2, offsets[0] <= offsets[1],
                      offsets[1] <= dataSize
                else { throw bad("tensor \(name)'s data_offsets are not within the file's \(dataSize) bytes of data") }
                guard let bytes = checkedProduct(shape + [dtype.size]), bytes == offsets[1] - offsets[0] else {
                    throw bad("tensor \(name) of shape \(shape) (\(dtype.rawValue)) does not fill its \(offsets[1] - offsets[0]) bytes")
                }
                entries.append((name, dtype, shape, offsets[0]..<offsets[1]))
            }
            entries.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
            var end = 0
            for e in entries {
                guard e.range.lowerBound == end else {
                    throw bad(e.range.lowerBound < end ? "tensor \(e.name) overlaps the one before it"
                                                       : "the data has a gap before tensor \(e.name)")
                }
                end = e.range.upperBound
            }
            guard end == dataSize else { throw bad("its tensors cover \(end) of its \(dataSize) bytes of data") }
            self.metadata = metadata
            self.entries = entries
        }

        public var names: [String] { entries.map(\.name) }

        public func entry(_ name: String) -> (name: String, dtype: SafeTensor.DType, shape: [Int], range: Range<Int>)? {
            entries.first { $0.name == name }
        }

        /// A tensor's bytes (bounded by the file: checked when the header was read).
        public func tensor(_ name: String) throws -> SafeTensor {
            guard let e = entry(name) else { throw BTError("\(path) has no tensor \(name)") }
            try MemoryBudget.check(e.range.count, for: "reading tensor \(name) of \(path)")
            var bytes = [UInt8](repeating: 0, count: e.range.count)
            try Reader.readFully(file, &bytes, at: dataStart + e.range.lowerBound)
            return SafeTensor(dtype: e.dtype, shape: e.shape, bytes: bytes)
        }

        /// An F32 tensor's values, refused when another dtype or when any value is NaN or infinite.
        public func finiteFloats(_ name: String) throws -> (shape: [Int], values: [Float]) {
            let t = try tensor(name)
            guard let values = t.floats else {
                throw BTError("\(path): tensor \(name) is \(t.dtype.rawValue), not F32 (save it as torch.float32)")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw BTError("\(path): tensor \(name) holds a non-finite value (\(values[i]) at index \(i))")
            }
            return (t.shape, values)
        }

        static func integers(_ value: Any?) -> [Int]? {
            guard let list = value as? [Any] else { return nil }
            var out: [Int] = []
            for v in list {
                // JSONSerialization gives NSNumber; refuse negatives, fractions and values beyond 2^53.
                guard let n = v as? NSNumber else { return nil }
                let d = n.doubleValue
                guard d >= 0, d < 9_007_199_254_740_992, d == d.rounded() else { return nil }
                out.append(Int(d))
            }
            return out
        }

        static func readFully(_ file: RegularFile, _ buffer: inout [UInt8], at offset: Int) throws {
            var done = 0
            try buffer.withUnsafeMutableBytes { b in
                while done < b.count {
                    let got = pread(file.fd, b.baseAddress! + done, b.count - done, off_t(offset + done))
                    if got < 0 { if errno == EINTR { continue }; throw RegularFile.error(file.path, "cannot read") }
                    if got == 0 { throw BTError("bad safetensors file \(file.path): it ends early (it shrank while read?)") }
                    done += got
                }
            }
        }
    }
}
