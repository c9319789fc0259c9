import BTCore
import Foundation
import ZIPFoundation

/// numpy's .npz: a zip archive of .npy members (numpy.savez stores them, savez_compressed deflates them), read
/// through ZIPFoundation. A member's preamble goes through the .npy reader's parser; its data can be read whole
/// (small arrays: labels) or streamed in chunks (ImageNet 64x64's 1.5 GB `data` arrays).
public final class NpzFile {
    public let path: String
    private let archive: Archive

    public init(path: String) throws {
        self.path = path
        _ = try RegularFile(path)  // ZIPFoundation opens by URL: a FIFO would block it
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw BTError("bad .npz file \(path): not a readable zip archive (\(describe(error)))")
        }
    }

    /// Member names without ".npy", in the archive's order.
    public var arrays: [String] {
        archive.compactMap { $0.type == .file && $0.path.hasSuffix(".npy") ? String($0.path.dropLast(4)) : nil }
    }

    private func entry(_ name: String) throws -> Entry {
        guard let e = archive[name + ".npy"] else {
            // An npz always has members: a directory that lists none is a damaged one (its offset or size is off).
            guard archive.contains(where: { _ in true }) else {
                throw BTError("bad .npz file \(path): damaged zip archive (its central directory lists no members; a wrong offset or size in the end-of-central-directory record?)")
            }
            let have = arrays.isEmpty ? "no arrays" : "arrays " + arrays.joined(separator: ", ")
            throw BTError("bad .npz file \(path): it has no '\(name)' array (it has \(have))")
        }
        return e
    }

    /// A stored (not compressed) member's size, from the archive's central directory; nil if it is compressed or absent.
    func storedSize(_ name: String) -> Int? {
        guard let e = archive[name + ".npy"], !e.isCompressed, e.uncompressedSize <= UInt64(Int.max) else { return nil }
        return Int(e.uncompressedSize)
    }

    private func bad(_ name: String) -> (String) -> BTError {
        { [path] in BTError("bad .npz file \(path): array '\(name)': \($0)") }
    }

    /// A member's header (dtype, shape), read without going through its data.
    func header(_ name: String) throws -> NpyHeader {
        var header: NpyHeader?
        try stream(name, onHeader: { header = $0; return false }, chunk: { _ in true })
        return header!
    }

    /// A small integer array (labels) as Ints, whatever integer dtype it was saved with. Its declared size is
    /// bounded by MemoryBudget before anything is kept, and a member holding more than it declares is an error.
    func integers(_ name: String) throws -> (shape: [Int], values: [Int]) {
        var bytes = [UInt8](), header: NpyHeader?, kind: IntegerKind?, count = 0
        let fail = bad(name)
        try stream(name, onHeader: { h in
            guard !h.fortranOrder || h.shape.filter({ $0 > 1 }).count <= 1 else { throw fail("Fortran order is not supported") }
            guard let k = IntegerKind(h.descr) else { throw fail("dtype '\(h.descr)' is not an integer type") }
            // The bytes and the Ints made from them.
            guard let n = checkedProduct(h.shape), let memory = checkedProduct([n, k.size + 8]) else {
                throw fail("shape \(h.shape) is too large")
            }
            try MemoryBudget.check(memory, for: "reading \(path) array '\(name)' (shape \(h.shape))")
            header = h; kind = k; count = n
            bytes.reserveCapacity(n * k.size)
            return true
        }, chunk: { c in
            guard bytes.count + c.count <= count * kind!.size else {
                throw fail("the member holds more than the \(count * kind!.size) data bytes shape \(header!.shape) declares")
            }
            bytes.append(contentsOf: c)
            return true
        })
        let h = header!, size = kind!.size
        guard bytes.count == count * size else {
            throw fail("shape \(h.shape) needs \(count * size) data bytes, the member has \(bytes.count)")
        }
        let values = bytes.withUnsafeBytes { raw in (0..<count).map { kind!.load(raw.baseAddress!, $0) } }
        return (h.shape, values)
    }

    /// Streams member `name`: `onHeader` sees its header first (return false to stop there), then `chunk` gets the
    /// data bytes in order (return false to stop early). Damage (a bad CRC, a short member) is a one-line error.
    func stream(_ name: String, onHeader: (NpyHeader) throws -> Bool,
                chunk: (UnsafeRawBufferPointer) throws -> Bool) throws {
        let e = try entry(name), fail = bad(name)
        struct Stop: Error {}
        var pre = [UInt8](), header: NpyHeader?
        do {
            let crc = try archive.extract(e, bufferSize: 1 << 20, skipCRC32: false) { data in
                if header == nil {
                    pre.append(contentsOf: data)
                    guard let len = try NpyPreamble.length(pre, bad: fail), pre.count >= len else { return }
                    let p = try NpyPreamble(Array(pre[0..<len]), bad: fail)
                    header = p.header
                    guard try onHeader(p.header) else { throw Stop() }
                    let rest = pre[len...]
                    pre = []
                    if !rest.isEmpty, try !rest.withUnsafeBytes(chunk) { throw Stop() }
                } else if try !data.withUnsafeBytes(chunk) {
                    throw Stop()
                }
            }
            // ZIPFoundation computes the CRC; comparing it is the caller's job.
            guard crc == e.checksum else { throw fail("CRC mismatch (the file is damaged)") }
        } catch is Stop {
            return
        } catch let error as BTError {
            throw error
        } catch {
            throw BTError("bad .npz file \(path): array '\(name)': \(describe(error))")
        }
        guard header != nil else { throw fail("the member ends inside the .npy header") }
    }
}

/// ZIPFoundation's errors in words.
private func describe(_ error: Error) -> String {
    guard let e = error as? Archive.ArchiveError else { return "\(error)" }
    switch e {
    case .invalidCRC32: return "CRC mismatch (the file is damaged)"
    case .missingEndOfCentralDirectoryRecord: return "no end-of-central-directory record (truncated, or not a zip file)"
    case .unreadableArchive: return "unreadable (damaged or truncated)"
    default: return "\(e)"
    }
}

/// The integer dtypes numpy writes, as .npy `descr` strings.
struct IntegerKind {
    let size: Int, signed: Bool, bigEndian: Bool

    init?(_ descr: String) {
        guard descr.count == 3, let order = descr.first, let k = descr.dropFirst().first, let n = Int(descr.suffix(1)),
              "<>|=".contains(order), "iu".contains(k), [1, 2, 4, 8].contains(n) else { return nil }
        size = n; signed = k == "i"; bigEndian = order == ">"
    }

    func load(_ p: UnsafeRawPointer, _ i: Int) -> Int {
        var u: UInt64 = 0
        for b in 0..<size {
            let byte = UInt64(p.load(fromByteOffset: i * size + b, as: UInt8.self))
            u |= byte << (8 * UInt64(bigEndian ? size - 1 - b : b))
        }
        if signed && size < 8 && u & (1 << (8 * UInt64(size) - 1)) != 0 { u |= ~0 << (8 * UInt64(size)) }
        return Int(truncatingIfNeeded: u)
    }
}
