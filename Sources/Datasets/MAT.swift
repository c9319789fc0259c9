import BTCore
import CLibz
import CMatio
import Foundation
import Synchronization

/// MATLAB .mat files through Debian's libmatio (v5, compressed or not; v7.3 where matio has HDF5). SVHN's cropped
/// digits ship this way: X is 32x32x3xN uint8 in MATLAB's column-major order, y is Nx1 with 1-10, 10 meaning 0.
public enum SVHNFiles {
    public static let train = "train_32x32.mat", test = "test_32x32.mat", extra = "extra_32x32.mat"
    static let side = 32
}

/// Reads an SVHN split: NHWC floats in [0, 1] and labels 0-9.
public func readSVHNMat(path: String) throws -> ImageSet {
    let mat = try MatFile(path: path)
    let x = try mat.variable("X")
    let s = SVHNFiles.side
    guard x.dims.count == 4, x.dims[0] == s, x.dims[1] == s, x.dims[2] == 3 else {
        throw BTError("bad SVHN file \(path) (\(mat.version)): X has shape \(x.shapeText), expected \(s)x\(s)x3xN")
    }
    guard x.classType == MAT_C_UINT8, x.isReal else {
        throw BTError("bad SVHN file \(path) (\(mat.version)): X holds \(x.typeText), expected uint8")
    }
    // SVHN's pixels are stored as bytes (miUINT8). Other stored data labelled uint8 would be converted by matio
    // without a word (0.7 becomes 0): not the released files.
    if let stored = x.storedType, stored != 2 {
        throw BTError("bad SVHN file \(path): X is labelled uint8 but stores \(MatFile.storedTypeName(stored)) data, expected miUINT8 (bytes)")
    }
    // The bytes and the floats made from them: 5 bytes a pixel.
    try mat.checkDeclared(x, memory: checkedProduct([x.count ?? -1, 5]))
    let y = try mat.variable("y")
    try mat.checkDeclared(y, memory: checkedProduct([y.count ?? -1, 8]))
    let n = x.dims[3]
    guard y.dims.filter({ $0 != 1 }).count <= 1, y.count == n else {
        throw BTError("bad SVHN file \(path): y is \(y.shapeText) for \(n) images in X, expected \(n)x1")
    }
    let xv = try mat.read(x), yv = try mat.read(y)
    var labels = [Int32](repeating: 0, count: n)
    for i in 0..<n {
        let v = yv.value(i)
        guard v == v.rounded(), v >= 1, v <= 10 else {
            throw BTError("bad SVHN file \(path): y[\(i)] is \(v), expected 1-10 (10 is the digit 0)")
        }
        labels[i] = Int32(v) % 10
    }
    var pixels = [Float](repeating: 0, count: n * s * s * 3)
    xv.bytes { src in
        pixels.withUnsafeMutableBufferPointer { dst in
            // Column-major: element (row y, column x, channel c, image i) sits at y + s*x + s*s*c + s*s*3*i.
            for i in 0..<n {
                let img = src + i * s * s * 3, out = dst.baseAddress! + i * s * s * 3
                for c in 0..<3 {
                    for x in 0..<s {
                        let col = img + c * s * s + x * s
                        for yy in 0..<s { out[(yy * s + x) * 3 + c] = Float(col[yy]) * (1 / 255) }
                    }
                }
            }
        }
    }
    return ImageSet(count: n, height: s, width: s, channels: 3, pixels: pixels, labels: labels)
}

/// A .mat file open for reading. matio reports problems through its log function; btviz routes them into the
/// error it throws instead of letting matio print to stderr.
final class MatFile {
    let path: String
    private let mat: OpaquePointer

    struct Variable {
        let name: String
        let dims: [Int]
        let classType: matio_classes
        let isReal: Bool
        /// The data type stored in the file (v5 only; nil when unknown): may differ from `classType`.
        let storedType: Int?
        let elementSize: Int
        let compressed: Bool
        fileprivate let info: UnsafeMutablePointer<matvar_t>
        /// Elements, nil when the declared dims overflow.
        var count: Int? { checkedProduct(dims) }
        var shapeText: String { dims.map(String.init).joined(separator: "x") }
        var typeText: String {
            let names: [matio_classes: String] = [MAT_C_DOUBLE: "double", MAT_C_SINGLE: "single", MAT_C_INT8: "int8",
                MAT_C_UINT8: "uint8", MAT_C_INT16: "int16", MAT_C_UINT16: "uint16", MAT_C_INT32: "int32",
                MAT_C_UINT32: "uint32", MAT_C_INT64: "int64", MAT_C_UINT64: "uint64", MAT_C_CHAR: "char",
                MAT_C_CELL: "a cell array", MAT_C_STRUCT: "a struct", MAT_C_SPARSE: "a sparse matrix"]
            // matio gives class 0 (empty) to what it cannot map: a v7.3 dataset without a MATLAB_class it knows
            // (a group, strings, an unsupported HDF5 type), or an empty variable.
            guard classType != MAT_C_EMPTY else {
                return "no MATLAB class matio recognises (in a v7.3 file: no MATLAB_class attribute it reads, as h5py writes them, or an unsupported HDF5 type)"
            }
            return (isReal ? "" : "complex ") + (names[classType] ?? "class \(classType.rawValue)")
        }
    }

    /// A variable's data, owned by matio until this is released.
    final class Values {
        fileprivate let v: UnsafeMutablePointer<matvar_t>
        fileprivate init(_ v: UnsafeMutablePointer<matvar_t>) { self.v = v }
        deinit { Mat_VarFree(v) }

        func bytes(_ body: (UnsafePointer<UInt8>) -> Void) {
            body(UnsafeRawPointer(v.pointee.data!).assumingMemoryBound(to: UInt8.self))
        }

        /// Element `i` of a real numeric variable as a Double.
        func value(_ i: Int) -> Double {
            let p = UnsafeRawPointer(v.pointee.data!)
            switch v.pointee.class_type {
            case MAT_C_DOUBLE: return p.load(fromByteOffset: i * 8, as: Double.self)
            case MAT_C_SINGLE: return Double(p.load(fromByteOffset: i * 4, as: Float.self))
            case MAT_C_INT8: return Double(p.load(fromByteOffset: i, as: Int8.self))
            case MAT_C_UINT8: return Double(p.load(fromByteOffset: i, as: UInt8.self))
            case MAT_C_INT16: return Double(p.load(fromByteOffset: i * 2, as: Int16.self))
            case MAT_C_UINT16: return Double(p.load(fromByteOffset: i * 2, as: UInt16.self))
            case MAT_C_INT32: return Double(p.load(fromByteOffset: i * 4, as: Int32.self))
            case MAT_C_UINT32: return Double(p.load(fromByteOffset: i * 4, as: UInt32.self))
            case MAT_C_INT64: return Double(p.load(fromByteOffset: i * 8, as: Int64.self))
            case MAT_C_UINT64: return Double(p.load(fromByteOffset: i * 8, as: UInt64.self))
            default: return .nan
            }
        }
    }

    init(path: String) throws {
        self.path = path
        // matio opens by path: a FIFO would block it. Its v4 fallback accepts headerless junk, so the 128-byte
        // v5/v7.3 header (text, then the "IM" or "MI" byte-order mark) is checked here.
        let file = try RegularFile(path)
        size = file.size
        guard size > 0 else { throw BTError("bad .mat file \(path): it is 0 bytes, not a MATLAB file") }
        var head = [UInt8](repeating: 0, count: 128)
        guard pread(file.fd, &head, 128, 0) == 128, [[0x49, 0x4d], [0x4d, 0x49]].contains(Array(head[126..<128])) else {
            throw BTError("bad .mat file \(path): it is not a MATLAB .mat file (no v5/v7.3 MAT header)")
        }
        if head[124] == 0 && head[125] == 1 || head[124] == 1 && head[125] == 0 {  // v5 (v7.3 is HDF5)
            storedTypes = try MatFile.scanV5Headers(file, bigEndian: head[126] == 0x4d)
        }
        else if let probe = HDF5Isolation.probe {
            try probe(path)  // v7.3: read once in a child process first, where a libhdf5 crash harms nothing
        }
        MatioLog.install()
        MatioLog.clear()
        guard let m = Mat_Open(path, Int32(MAT_ACC_RDONLY.rawValue)) else {
            throw BTError("bad .mat file \(path): \(MatioLog.last ?? "not a MATLAB file matio can read")")
        }
        mat = m
    }

    let size: Int
    /// v5 only: each top-level variable's stored data type (the MAT-file's miINT8 = 1 ... miUINT64 = 13), by name.
    /// matio converts whatever is stored to the class the header declares (floats labelled uint8 are truncated
    /// silently), so a reader that needs the stored bytes checks them here.
    private(set) var storedTypes: [String: Int] = [:]

    /// matio allocates a v5 variable's name at the length its header declares (4 GB from a 300-byte file): each
    /// top-level variable's name is checked first against MATLAB's limit of 63 characters. The same walk notes
    /// each variable's stored data type (its real part's data element tag). It stops quietly where it cannot
    /// follow the file; matio then reports what is wrong.
    private static func scanV5Headers(_ file: RegularFile, bigEndian: Bool) throws -> [String: Int] {
        var types: [String: Int] = [:]
        func u32(_ b: [UInt8], _ at: Int) -> Int {
            let v = (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) }
            return bigEndian ? Int(UInt32(v).byteSwapped) : v
        }
        var offset = 128
        while offset + 8 <= file.size {
            var tag = [UInt8](repeating: 0, count: 8)
            guard pread(file.fd, &tag, 8, off_t(offset)) == 8 else { return types }
            let type = u32(tag, 0), n = u32(tag, 4)
            guard type == 14 || type == 15 else { return types }  // miMATRIX, miCOMPRESSED
            // The variable's first 48 bytes: tag, array flags (16), dims tag (8), then the dims and the name tag.
            var raw = [UInt8](repeating: 0, count: min(n, 4096))
            raw.removeLast(raw.count - max(0, pread(file.fd, &raw, raw.count, off_t(offset + 8))))
            var inner = type == 14 ? tag + raw : [UInt8](repeating: 0, count: 256)
            if type == 15 {  // what inflates before the stream ends or breaks is enough
                var z = z_stream()
                guard inflateInit_(&z, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return types }
                raw.withUnsafeMutableBufferPointer { r in inner.withUnsafeMutableBufferPointer { o in
                    z.next_in = r.baseAddress; z.avail_in = UInt32(r.count)
                    z.next_out = o.baseAddress; z.avail_out = UInt32(o.count)
                    _ = inflate(&z, Z_SYNC_FLUSH)
                } }
                inflateEnd(&z)
                inner.removeLast(Int(z.avail_out))
            }
            guard inner.count >= 40, u32(inner, 0) == 14, u32(inner, 8) == 6 else { return types }
            let dimsBytes = u32(inner, 28), nameAt = 32 + (dimsBytes + 7) / 8 * 8
            guard nameAt + 8 <= inner.count else { return types }
            let nameTag = u32(inner, nameAt)
            let name: [UInt8], dataAt: Int
            if nameTag >> 16 == 0 {  // not the small-element form (at most 4 bytes)
                let nameLength = u32(inner, nameAt + 4)
                guard nameLength <= 63 else {
                    throw BTError("bad .mat file \(file.path): a variable's header is damaged (its name is \(nameLength) bytes; MATLAB names have at most 63)")
                }
                name = Array(inner[min(nameAt + 8, inner.count)..<min(nameAt + 8 + nameLength, inner.count)])
                dataAt = nameAt + 8 + (nameLength + 7) / 8 * 8
            } else {
                name = Array(inner[nameAt + 4..<nameAt + 4 + min(nameTag >> 16, 4)])
                dataAt = nameAt + 8
            }
            // The real part's tag: small-element form when its upper 16 bits (the byte count) are set.
            if dataAt + 4 <= inner.count, let text = String(validating: name, as: UTF8.self) {
                let dataTag = u32(inner, dataAt)
                types[text] = dataTag >> 16 == 0 ? dataTag : dataTag & 0xFFFF
            }
            offset += 8 + (type == 14 ? (n + 7) / 8 * 8 : n)
        }
        return types
    }

    /// "miSINGLE" for a stored type number, for messages.
    static func storedTypeName(_ t: Int) -> String {
        let names = [1: "miINT8", 2: "miUINT8", 3: "miINT16", 4: "miUINT16", 5: "miINT32", 6: "miUINT32",
                     7: "miSINGLE", 9: "miDOUBLE", 12: "miINT64", 13: "miUINT64"]
        return names[t] ?? "type \(t)"
    }

    /// "MATLAB v5" or "MATLAB v7.3 (HDF5)", for messages.
    var version: String { Mat_GetVersion(mat).rawValue == MAT_FT_MAT73.rawValue ? "MATLAB v7.3 (HDF5)" : "MATLAB v5" }

    /// Refuses a variable whose declared dims overflow, that the file cannot hold (even compressed: deflate
    /// inflates at most about 1,032 to 1), or whose `memory` (nil: overflowed) is more than this process may allocate.
    func checkDeclared(_ v: Variable, memory: Int?) throws {
        guard let count = v.count, let bytes = checkedProduct([count, v.elementSize]), let memory else {
            throw BTError("bad .mat file \(path): \(v.name) has shape \(v.shapeText), too large to be real")
        }
        // Stored uncompressed in a v5 file, the data must lie within it (matio reads a short variable silently).
        guard bytes <= size || v.compressed || Mat_GetVersion(mat).rawValue == MAT_FT_MAT73.rawValue else {
            throw BTError("bad .mat file \(path): \(v.name) has shape \(v.shapeText) (\(MemoryBudget.describe(bytes))), more than the \(MemoryBudget.describe(size)) file holds (truncated?)")
        }
        guard bytes / 1032 <= size else {
            throw BTError("bad .mat file \(path): \(v.name) has shape \(v.shapeText) (\(MemoryBudget.describe(bytes))), more than a \(MemoryBudget.describe(size)) file can hold even compressed")
        }
        try MemoryBudget.check(memory, for: "reading \(v.name) (\(v.shapeText)) of \(path)")
    }

    deinit { for i in infos { Mat_VarFree(i) }; Mat_Close(mat) }

    /// A variable's header (name, shape, class), without its data.
    func variable(_ name: String) throws -> Variable {
        MatioLog.clear()
        guard let info = Mat_VarReadInfo(mat, name) else {
            if let why = MatioLog.last { throw BTError("bad .mat file \(path): reading \(name): \(why)") }
            // HDF5 (v7.3) hides damage the same way: say so.
            let v73 = Mat_GetVersion(mat).rawValue == MAT_FT_MAT73.rawValue
            throw BTError("bad .mat file \(path): it has no variable '\(name)'\(v73 ? " matio can read (a MATLAB v7.3/HDF5 file: damaged, truncated, or '\(name)' is not a MATLAB variable)" : "")")
        }
        let v = info.pointee
        let dims = (0..<Int(v.rank)).map { Int(v.dims[$0]) }
        let variable = Variable(name: name, dims: dims, classType: v.class_type, isReal: v.isComplex == 0,
                                storedType: storedTypes[name], elementSize: max(1, Int(Mat_SizeOfClass(Int32(v.class_type.rawValue)))),
                                compressed: v.compression != MAT_COMPRESSION_NONE, info: info)
        infos.append(info)
        return variable
    }
    private var infos: [UnsafeMutablePointer<matvar_t>] = []

    /// Reads a real numeric variable's data (it was checked with `variable` first).
    func read(_ variable: Variable) throws -> Values {
        let numeric: Set<matio_classes> = [MAT_C_DOUBLE, MAT_C_SINGLE, MAT_C_INT8, MAT_C_UINT8, MAT_C_INT16, MAT_C_UINT16,
                                           MAT_C_INT32, MAT_C_UINT32, MAT_C_INT64, MAT_C_UINT64]
        guard variable.isReal, numeric.contains(variable.classType) else {
            throw BTError("bad .mat file \(path): \(variable.name) holds \(variable.typeText), expected numbers")
        }
        MatioLog.clear()
        // matio logs, and still returns the variable, when its data ends early: that is damage too.
        let v = Mat_VarRead(mat, variable.name), values = v.map(Values.init)
        guard let v, v.pointee.data != nil, MatioLog.last == nil,
              v.pointee.nbytes >= (variable.count ?? Int.max) * Int(v.pointee.data_size) else {
            throw BTError("bad .mat file \(path): cannot read \(variable.name)'s data (\(MatioLog.last ?? "truncated or damaged"))")
        }
        return values!
    }
}

/// matio's messages, captured for the error btviz throws (matio's default prints them to stderr).
enum MatioLog {
    private static let state = Mutex<(installed: Bool, last: String?)>((false, nil))

    static func install() {
        let first = state.withLock { s -> Bool in defer { s.installed = true }; return !s.installed }
        guard first else { return }
        _ = Mat_LogInitFunc("btviz") { _, message in
            let text = message.map { String(cString: $0) }
            MatioLog.state.withLock { $0.last = text }
        }
    }

    static func clear() { state.withLock { $0.last = nil } }
    static var last: String? { state.withLock { $0.last } }
}

/// libhdf5 (Debian's 1.10, under matio's v7.3 support) crashes on some damaged files inside Mat_Open or a read,
/// where no check made beforehand can help. A program that must never crash on bad input (the CLI) sets `probe` to
/// read a v7.3 file through `readSVHNMat` in a child process first: a crash there becomes a one-line error here.
/// Unset (tests, library use), v7.3 files are read in-process only. v5 files never need it (matio's own parser).
public enum HDF5Isolation {
    nonisolated(unsafe) public static var probe: ((String) throws -> Void)?
}
