/// NumPy's .npy format, version 1.0 (2.0 only if the header would not fit): the magic, the header dictionary padded so
/// the data starts on a 64-byte boundary, as numpy writes it, then the little-endian C-order payload.
public enum NpyFormat {
    /// `descr` is numpy's type string (`<f4`, `<i8`); `payload` holds exactly the array's bytes.
    public static func encode(descr: String, shape: [Int], payload: [UInt8]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let v2 = header.utf8.count + 11 > 65535
        let prefix = v2 ? 12 : 10
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var out = [UInt8]([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, v2 ? 2 : 1, 0])
        let n = header.utf8.count
        out += v2 ? (0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } : [UInt8(n & 255), UInt8(n >> 8)]
        out += header.utf8
        return out + payload
    }
}
