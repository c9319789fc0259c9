import BTCore
import Foundation

/// Random access to the rows of stored .npz parts (numpy.savez stores its members; ImageNet 64x64's official parts
/// are such): where each part's `data` rows start in its file, so a rank of an MPI run reads only its share of a
/// batch (12,288 bytes an image at 64x64) instead of inflating every part. A compressed part (savez_compressed), or
/// one whose layout cannot be confirmed, gives no row access: that stream is read in order, whole, by every rank.
final class NpzRows {
    private let files: [RegularFile]
    private let starts: [Int]
    let imageBytes: Int
    /// Rows read so far (the tests' evidence that a rank reads its share only).
    private(set) var rowsRead = 0

    init?(_ stream: NpzImageStream) {
        imageBytes = stream.channels * stream.height * stream.width
        var files: [RegularFile] = [], starts: [Int] = []
        for part in stream.parts {
            guard let file = try? RegularFile(part.path),
                  let start = NpzRows.dataStart(file, rows: part.labels.count, stream: stream) else { return nil }
            files.append(file); starts.append(start)
        }
        self.files = files; self.starts = starts
    }

    /// Row `row` of part `part`, planar bytes, into `dst` (`imageBytes` of them).
    func read(part: Int, row: Int, into dst: UnsafeMutableRawPointer) throws {
        let f = files[part]
        var done = 0
        while done < imageBytes {
            let n = pread(f.fd, dst + done, imageBytes - done, off_t(starts[part] + row * imageBytes + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n == 0 ? BTError("bad .npz file \(f.path): data ends inside image \(row)") : RegularFile.error(f.path, "cannot read") }
            done += n
        }
        rowsRead += 1
    }

    /// The file offset of row 0 of the part's `data`, or nil. The zip's local headers are walked from the start of
    /// the file (numpy writes no data descriptors to a file it can seek); what is found must agree with the member
    /// ZIPFoundation lists (stored, its size) and start with a .npy header of the expected shape, else nil.
    static func dataStart(_ file: RegularFile, rows: Int, stream: NpzImageStream) -> Int? {
        func bytes(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset + count <= file.size else { return nil }
            var b = [UInt8](repeating: 0, count: count)
            return pread(file.fd, &b, count, off_t(offset)) == count ? b : nil
        }
        func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ b: [UInt8], _ i: Int) -> Int { u16(b, i) | u16(b, i + 2) << 16 }
        func u64(_ b: [UInt8], _ i: Int) -> Int? {
            let v = (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) }
            return v <= UInt64(Int.max) ? Int(v) : nil
        }
        guard let npz = try? NpzFile(path: file.path), let memberSize = npz.storedSize("data") else { return nil }
        var offset = 0
        for _ in 0..<64 {  // a part has a few members; a walk that does not find it soon is not trusted
            guard let h = bytes(offset, 30), u32(h, 0) == 0x0403_4b50 else { return nil }
            let flags = u16(h, 6), method = u16(h, 8), nameLength = u16(h, 26), extraLength = u16(h, 28)
            guard let name = bytes(offset + 30, nameLength), let extra = bytes(offset + 30 + nameLength, extraLength) else { return nil }
            var size = u32(h, 18)
            if size == 0xFFFF_FFFF {  // zip64: the sizes are in extra field 0x0001 (uncompressed, then compressed)
                var i = 0
                var found: Int?
                while i + 4 <= extra.count {
                    let id = u16(extra, i), length = u16(extra, i + 2)
                    if id == 1, length >= 16, i + 4 + 16 <= extra.count { found = u64(extra, i + 12) }
                    i += 4 + length
                }
                guard let found else { return nil }
                size = found
            }
            let dataOffset = offset + 30 + nameLength + extraLength
            if name == Array("data.npy".utf8) {
                guard method == 0, flags & 0x8 == 0, size == memberSize else { return nil }
                return preambleEnd(at: dataOffset, size: size, rows: rows, stream: stream, bytes: bytes)
            }
            guard flags & 0x8 == 0 else { return nil }  // a data descriptor: the size is after the data
            offset = dataOffset + size
        }
        return nil
    }

    /// Where the rows start after the member's .npy header at `offset`, if that header is the expected one and the
    /// rows fit in the member.
    private static func preambleEnd(at offset: Int, size: Int, rows: Int, stream: NpzImageStream,
                                    bytes: (Int, Int) -> [UInt8]?) -> Int? {
        let bad = { (m: String) in BTError(m) }
        guard let first = bytes(offset, min(size, 4096)), let length = try? NpyPreamble.length(first, bad: bad),
              length <= first.count, let preamble = try? NpyPreamble(Array(first[0..<length]), bad: bad),
              (try? NpzImageStream.check(preamble.header, path: "", images: rows, channels: stream.channels,
                                         height: stream.height, width: stream.width)) != nil,
              length + rows * stream.channels * stream.height * stream.width <= size else { return nil }
        return offset + length
    }
}
