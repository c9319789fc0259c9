import BTCore
import Foundation

/// numpy .npy files: the simplest way to move tensors (weights, activations, test vectors)
/// between btviz and Python. Reading accepts what numpy.save writes for float arrays and
/// checks every field, since a silently misread array is worse than an error.
public func readNpy(path: String) throws -> (shape: [Int], values: [Float]) {
    func bad(_ why: String) -> BTError { BTError("bad .npy file \(path): \(why)") }
    // The preamble first, so the declared size is checked against the file and the memory before it is read.
    let file = try RegularFile(path)
    func prefix(_ n: Int) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: min(n, file.size))
        let got = b.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress!, $0.count, 0) }
        return Array(b.prefix(max(0, got)))
    }
    var head = prefix(4096)
    if let len = try NpyPreamble.length(head, bad: bad), len > head.count { head = prefix(len) }
    let pre = try NpyPreamble(head, bad: bad)
    let header = pre.header, dataStart = pre.dataStart

    let (itemSize, bigEndian): (Int, Bool)
    switch header.descr {
    case "<f4": (itemSize, bigEndian) = (4, false)
    case ">f4": (itemSize, bigEndian) = (4, true)
    case "<f8": (itemSize, bigEndian) = (8, false)
    case ">f8": (itemSize, bigEndian) = (8, true)
    default: throw bad("unsupported dtype '\(header.descr)' (only float32 and float64)")
    }
    guard header.shape.allSatisfy({ $0 >= 0 }) else { throw bad("negative dimension in shape \(header.shape)") }
    guard let count = checkedProduct(header.shape), count <= Int(Int32.max) else { throw bad("shape \(header.shape) is too large") }
    let have = file.size - dataStart, need = count * itemSize
    guard have >= need else { throw bad("truncated: shape \(header.shape) needs \(need) data bytes, file has \(have)") }
    guard have == need else { throw bad("\(have - need) extra bytes after the data") }
    try MemoryBudget.check(file.size + count * (header.fortranOrder ? 8 : 4), for: "reading \(path)")  // Fortran order: a second copy
    let b = try file.readAll(limit: file.size, what: "a .npy file")
    guard b.count == file.size else { throw bad("the file changed while it was read") }

    var values = [Float](repeating: 0, count: count)
    b.withUnsafeBytes { raw in
        let p = raw.baseAddress! + dataStart
        for i in 0..<count {
            if itemSize == 4 {
                let u = p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                values[i] = Float(bitPattern: bigEndian ? UInt32(bigEndian: u) : UInt32(littleEndian: u))
            } else {
                let u = p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                values[i] = Float(Double(bitPattern: bigEndian ? UInt64(bigEndian: u) : UInt64(littleEndian: u)))
            }
        }
    }
    if header.fortranOrder && header.shape.count > 1 { values = fortranToC(values, shape: header.shape) }
    return (header.shape, values)
}

/// Writes a float32 little-endian C-order .npy (`NpyFormat`), atomically.
public func writeNpy(path: String, shape: [Int], values: [Float]) throws {
    guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
        throw BTError("cannot write \(path): shape \(shape) does not hold \(values.count) values")
    }
    var payload: [UInt8] = []
    payload.reserveCapacity(values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload += $0 } }
    let out = NpyFormat.encode(descr: "<f4", shape: shape, payload: payload)
    try AtomicFile.write(Data(out), to: path)
}

/// Reorders column-major values (first index fastest) into row-major order.
private func fortranToC(_ v: [Float], shape: [Int]) -> [Float] {
    var fStride = [Int](repeating: 1, count: shape.count)
    for k in 1..<shape.count { fStride[k] = fStride[k - 1] * shape[k - 1] }
    var out = [Float](repeating: 0, count: v.count)
    var idx = [Int](repeating: 0, count: shape.count)
    var src = 0
    for i in 0..<v.count {  // walk C order with an odometer, tracking the Fortran offset
        out[i] = v[src]
        var k = shape.count - 1
        while k >= 0 {
            idx[k] += 1; src += fStride[k]
            if idx[k] < shape[k] { break }
            src -= fStride[k] * shape[k]; idx[k] = 0; k -= 1
        }
    }
    return out
}

/// What comes before a .npy's data: magic, version, header length and the header dict.
struct NpyPreamble {
    let header: NpyHeader
    let dataStart: Int

    /// How many bytes the preamble takes, once `b` holds at least its first 12 (nil before that).
    static func length(_ b: [UInt8], bad: (String) -> BTError) throws -> Int? {
        guard b.count >= 12 else { return nil }
        try checkMagic(b, bad: bad)
        let n = b[6] == 1 ? 10 + (Int(b[8]) | Int(b[9]) << 8) : 12 + (0..<4).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        // numpy's headers are a few hundred bytes (it refuses over 10,000 by default): a streamed one is not
        // buffered without end.
        guard n <= maxLength else { throw bad("header of \(n) bytes (at most \(maxLength))") }
        return n
    }
    static let maxLength = 1 << 20

    private static func checkMagic(_ b: [UInt8], bad: (String) -> BTError) throws {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard b.count >= 10, Array(b[0..<6]) == magic else { throw bad("missing \\x93NUMPY magic") }
        guard [1, 2, 3].contains(b[6]), b[7] == 0 else { throw bad("unsupported format version \(b[6]).\(b[7])") }
    }

    init(_ b: [UInt8], bad: (String) -> BTError) throws {
        try Self.checkMagic(b, bad: bad)
        let major = b[6]
        let headerStart: Int, headerLen: Int
        if major == 1 {
            headerStart = 10; headerLen = Int(b[8]) | Int(b[9]) << 8
        } else {
            guard b.count >= 12 else { throw bad("file ends inside the header length") }
            headerStart = 12; headerLen = (0..<4).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        }
        guard headerLen <= b.count - headerStart else { throw bad("file ends inside the header") }
        // v1/v2 headers are latin-1, v3 UTF-8; a numeric header is plain ASCII either way.
        guard let text = String(bytes: b[headerStart..<(headerStart + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw bad("header is not text")
        }
        do { header = try NpyHeader(parsing: text) } catch let e as NpyParseError { throw bad("header: \(e.why)") }
        dataStart = headerStart + headerLen
    }
}

struct NpyParseError: Error { let why: String }

/// The header is a Python dict literal with exactly the keys descr, fortran_order and shape.
struct NpyHeader {
    var descr = "", fortranOrder = false, shape: [Int] = []

    init(parsing text: String) throws {
        var s = Substring(text)
        func fail(_ why: String) -> NpyParseError { NpyParseError(why: why) }
        func skipSpace() { s = s.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" }) }
        func eat(_ c: Character) -> Bool { skipSpace(); if s.first == c { s.removeFirst(); return true }; return false }
        func string() throws -> String {
            skipSpace()
            guard let q = s.first, q == "'" || q == "\"" else { throw fail("expected a quoted string") }
            s.removeFirst()
            guard let end = s.firstIndex(of: q) else { throw fail("unterminated string") }
            defer { s = s[s.index(after: end)...] }
            return String(s[..<end])
        }
        func int() throws -> Int {
            skipSpace()
            let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, let v = Int(digits) else { throw fail("expected an integer") }
            s = s.dropFirst(digits.count)
            if s.first == "L" { s.removeFirst() }  // Python 2 longs
            return v
        }
        guard eat("{") else { throw fail("expected '{'") }
        var seen = Set<String>()
        while !eat("}") {
            let key = try string()
            guard eat(":") else { throw fail("expected ':' after '\(key)'") }
            guard seen.insert(key).inserted else { throw fail("duplicate key '\(key)'") }
            switch key {
            case "descr": descr = try string()
            case "fortran_order":
                skipSpace()
                if s.hasPrefix("True") { fortranOrder = true; s = s.dropFirst(4) }
                else if s.hasPrefix("False") { fortranOrder = false; s = s.dropFirst(5) }
                else { throw fail("fortran_order must be True or False") }
            case "shape":
                guard eat("(") else { throw fail("shape must be a tuple") }
                var dims: [Int] = []
                while !eat(")") {
                    dims.append(try int())
                    if !eat(",") { guard eat(")") else { throw fail("bad shape tuple") }; break }
                }
                shape = dims
            default: throw fail("unexpected key '\(key)'")
            }
            if !eat(",") { guard eat("}") else { throw fail("expected ',' or '}'") }; break }
        }
        skipSpace()
        guard s.isEmpty else { throw fail("text after the dict") }
        guard seen == ["descr", "fortran_order", "shape"] else {
            throw fail("missing key(s) \(Set(["descr", "fortran_order", "shape"]).subtracting(seen).sorted())")
        }
    }
}
