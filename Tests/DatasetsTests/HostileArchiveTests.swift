import BTCore
import Datasets
import Foundation
import XCTest

/// Hostile archives and arrays (the rule in BTCore/ReadLimits): every one is a one-line BTError, never a trap,
/// an allocation of what a header declares, or a read that blocks. Inputs are made here: headers by hand, large
/// files sparse (ftruncate), compression by gzip, FIFOs by mkfifo.
final class HostileArchiveTests: XCTestCase {
    // MARK: tar

    /// A ustar header block with a valid checksum; `size` is the raw 12-byte size field.
    func tarHeader(_ name: String, size: [UInt8], type: UInt8 = UInt8(ascii: "0")) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        h.replaceSubrange(0..<name.utf8.count, with: name.utf8)
        h.replaceSubrange(100..<108, with: Array("0000644\0".utf8))
        h.replaceSubrange(124..<136, with: size)
        h[156] = type
        h.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        let sum = h.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
        h.replaceSubrange(148..<156, with: Array(String(format: "%06o\0 ", sum).utf8))
        return h
    }

    func octal(_ v: Int) -> [UInt8] {
        let digits = String(v, radix: 8)
        return Array((String(repeating: "0", count: 11 - digits.count) + digits + "\0").utf8)
    }

    /// A member: header and data padded to 512.
    func member(_ name: String, _ data: [UInt8]) -> [UInt8] {
        tarHeader(name, size: octal(data.count)) + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// `tar` gzip-compressed as `<dir>/cifar-10-binary.tar.gz`.
    func writeTarGz(_ tar: [UInt8], in dir: String) throws -> String {
        let path = join(dir, CIFARFiles.archive)
        try writeBytes(tar, join(dir, "a.tar"))
        try sh("gzip -n -c '\(dir)/a.tar' > '\(path)' && rm '\(dir)/a.tar'")
        return path
    }

    /// One record per batch, labels 0-5.
    func cifarTar() -> [UInt8] {
        let names = CIFARFiles.trainBatches + [CIFARFiles.testBatch]
        return names.enumerated().flatMap { k, n in
            member("\(CIFARFiles.folder)/\(n)", [UInt8(k)] + [UInt8](repeating: 7, count: 3072))
        } + [UInt8](repeating: 0, count: 1024)
    }

    func testTarSizeFieldsThatOverflowOrAreNegative() throws {
        let dir = try makeTempDir(self)
        let batch = "\(CIFARFiles.folder)/data_batch_1.bin"
        let cases: [([UInt8], UInt8, String)] = [
            ([UInt8](repeating: 0xff, count: 12), UInt8(ascii: "0"), "member size field is not a size"),
            ([0x80, 0x7f] + [UInt8](repeating: 0xff, count: 10), UInt8(ascii: "0"), "member size field is not a size"),
            ([UInt8](repeating: 0xff, count: 12), UInt8(ascii: "L"), "member size field is not a size"),
            ([0x80, 0, 0, 0] + [0x10] + [UInt8](repeating: 0, count: 7), UInt8(ascii: "0"), "member size field is not a size"),  // 2^60
            (octal(8_589_934_591), UInt8(ascii: "L"), "a long name of 8589934591 bytes"),
            (octal(8_589_934_591), UInt8(ascii: "0"), "a batch has at most 60000 records"),
        ]
        for (field, type, says) in cases {
            let path = try writeTarGz(tarHeader(batch, size: field, type: type) + [UInt8](repeating: 0, count: 4096), in: dir)
            assertBTError(try loadCIFAR10(.archive(path), classes: 10), contains: [path, says])
        }
    }

    func testTarIsReadToItsEnd() throws {
        let dir = try makeTempDir(self)
        let path = try writeTarGz(cifarTar(), in: dir)
        let (train, test) = try loadCIFAR10(.archive(path), classes: 10)
        XCTAssertEqual(train.labels, [0, 1, 2, 3, 4])
        XCTAssertEqual(test.labels, [5])
        // A flipped byte of the gzip CRC: only checked when the stream is read to its end.
        var gz = try readBytes(path)
        gz[gz.count - 6] ^= 1
        try writeBytes(gz, path)
        assertBTError(try loadCIFAR10(.archive(path), classes: 10), contains: ["corrupt gzip", path, "incorrect data check"])
        // Non-zero bytes after the end-of-archive blocks.
        _ = try writeTarGz(cifarTar() + Array("junk".utf8), in: dir)
        assertBTError(try loadCIFAR10(.archive(path), classes: 10), contains: [path, "data after the end-of-archive block"])
    }

    func testDecompressionBombMemberIsRefusedBeforeReading() throws {
        let dir = try makeTempDir(self)
        let path = join(dir, CIFARFiles.archive)
        // 2 GB of zeros declared as a training batch; it is refused before a byte of it is inflated.
        try writeBytes(tarHeader("\(CIFARFiles.folder)/data_batch_1.bin", size: octal(2_000_000_000)), join(dir, "h"))
        try sh("cd '\(dir)' && (cat h; head -c 1000000 /dev/zero) | gzip -1 > '\(path)'")
        assertBTError(try loadCIFAR10(.archive(path), classes: 10), contains: [path, "1.9 GB", "at most 60000 records"])
    }

    // MARK: files read whole

    func testSparseCIFARBatchIsRefusedBySize() throws {
        let dir = try makeTempDir(self)
        for name in ["data_batch_1.bin", CIFARFiles.testBatch] {
            let fd = open(join(dir, name), O_CREAT | O_WRONLY, 0o644)
            XCTAssertEqual(ftruncate(fd, 20 << 30), 0); close(fd)
        }
        let found = try XCTUnwrap(CIFARFiles.locate(in: dir))
        assertBTError(try loadCIFAR10(found, classes: 10), contains: ["data_batch_1.bin", "20.0 GB", "at most 60000 records"])
    }

    func testFIFOsAreRefusedNotWaitedOn() throws {
        let dir = try makeTempDir(self)
        func fifo(_ name: String) -> String { let p = join(dir, name); XCTAssertEqual(mkfifo(p, 0o644), 0); return p }
        let archive = fifo(CIFARFiles.archive)
        assertBTError(try loadCIFAR10(.archive(archive), classes: 10), contains: [archive, "FIFO"])
        let batch = fifo("data_batch_1.bin")
        assertBTError(try loadCIFAR10(.folder(dir, trainBatches: ["data_batch_1.bin"]), classes: 10), contains: [batch, "FIFO"])
        let idx = fifo(IDXFiles.trainImages)
        assertBTError(try readIDXImages(path: idx), contains: [idx, "FIFO"])
        let npz = fifo("val_data.npz")
        assertBTError(try NpzFile(path: npz), contains: [npz, "FIFO"])
        let mat = fifo("train_32x32.mat")
        assertBTError(try readSVHNMat(path: mat), contains: [mat, "FIFO"])
    }

    // MARK: IDX

    func idxImages(_ n: UInt32, _ h: UInt32, _ w: UInt32) -> [UInt8] {
        [2051, n, h, w].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    }

    func testIDXHeaderIsBoundedAndGzipInflatedOnlyThatFar() throws {
        let dir = try makeTempDir(self)
        let gz = join(dir, IDXFiles.trainImages + ".gz")
        // A header of 2^31 images of 28x28 over a short stream: refused on what it declares.
        try writeBytes(idxImages(0x7fff_ffff, 28, 28), join(dir, "h"))
        try sh("cd '\(dir)' && (cat h; head -c 100000 /dev/zero) | gzip -1 > '\(gz)'")
        assertBTError(try readIDXImages(path: gz), contains: [gz, "2147483647 images of 28x28", "needs"])
        // Two images followed by 50 MB more: an error once the declared bytes are in.
        try writeBytes(idxImages(2, 28, 28), join(dir, "h"))
        try sh("cd '\(dir)' && (cat h; head -c 50000000 /dev/zero) | gzip -1 > '\(gz)'")
        assertBTError(try readIDXImages(path: gz), contains: [gz, "more bytes after the 2 images of 28x28"])
        // Dimensions whose product overflows.
        let raw = join(dir, IDXFiles.trainImages)
        try writeBytes(idxImages(0xffff_ffff, 65536, 65536), raw)
        assertBTError(try readIDXImages(path: raw), contains: [raw, "too large"])
    }

    // MARK: .npy and .npz

    func npy(descr: String, shape: String, fortran: Bool = false, data: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 255), UInt8(n >> 8)] + Array(header.utf8) + data
    }

    func testNpyShapesThatOverflow() throws {
        let dir = try makeTempDir(self)
        let p = join(dir, "a.npy")
        for shape in ["(4611686018427387904, 4)", "(9223372036854775807,)"] {
            try writeBytes(npy(descr: "<f4", shape: shape, data: []), p)
            assertBTError(try readNpy(path: p), contains: [p, "too large"])
        }
    }

    func testSparseNpyIsRefusedBeforeReading() throws {
        let dir = try makeTempDir(self)
        let p = join(dir, "a.npy"), count = Int(Int32.max)
        let head = npy(descr: "<f8", shape: "(\(count),)", data: [])
        try writeBytes(head, p)
        XCTAssertEqual(truncate(p, off_t(head.count + 8 * count)), 0)
        // 17 GB of file and 8.6 GB of floats: more than a test machine has.
        let need = head.count + 12 * count
        try XCTSkipIf((MemoryBudget.current()?.bytes ?? Int.max) >= need, "this machine could read it")
        assertBTError(try readNpy(path: p), contains: ["reading \(p)", "needs 24.0 GB of memory"])
    }

    /// A zip of stored members (what numpy.savez writes), damaged on request.
    func writeZip(_ members: [(String, [UInt8])], to path: String, centralOffsetDelta: Int = 0) throws {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var out: [UInt8] = [], central: [UInt8] = []
        for (name, data) in members {
            let crc = crc32(data), at = out.count
            let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(data.count, 4) + le(data.count, 4) + le(name.utf8.count, 2) + le(0, 2)
            out += le(0x0403_4b50, 4) + common + Array(name.utf8) + data
            central += le(0x0201_4b50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(at, 4) + Array(name.utf8)
        }
        let start = out.count
        out += central + le(0x0605_4b50, 4) + le(0, 4) + le(members.count, 2) + le(members.count, 2) + le(central.count, 4) + le(start + centralOffsetDelta, 4) + le(0, 2)
        try writeBytes(out, path)
    }

    func crc32(_ data: [UInt8]) -> Int {
        var c: UInt32 = 0xffff_ffff
        for b in data {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xedb8_8320 : c >> 1 }
        }
        return Int(c ^ 0xffff_ffff)
    }

    func open64(_ path: String) throws -> NpzImageStream {
        try NpzImageStream(paths: [path], channels: 3, height: 64, width: 64, classes: 1000)
    }

    func testNpzDeclaredSizesAndDamage() throws {
        let dir = try makeTempDir(self)
        let p = join(dir, "val_data.npz")
        let image = [UInt8](repeating: 9, count: 12288)
        let labels = npy(descr: "<i8", shape: "(2,)", data: [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        func data(_ shape: String, fortran: Bool = false, _ bytes: [UInt8]) -> (String, [UInt8]) {
            ("data.npy", npy(descr: "|u1", shape: shape, fortran: fortran, data: bytes))
        }
        // Shapes whose element or byte count overflows.
        for shape in ["(4611686018427387904, 4)", "(9223372036854775807,)"] {
            try writeZip([("labels.npy", npy(descr: "<i8", shape: shape, data: [])), data("(2, 12288)", image + image)], to: p)
            assertBTError(try open64(p), contains: [p, "labels", "too large"])
        }
        // Labels holding more bytes than they declare.
        try writeZip([("labels.npy", labels + [0, 0, 0, 0, 0, 0, 0, 0]), data("(2, 12288)", image + image)], to: p)
        assertBTError(try open64(p), contains: [p, "holds more than the 16 data bytes"])
        // Fortran order, and rows that are not the labels' count.
        try writeZip([("labels.npy", labels), data("(2, 12288)", fortran: true, image + image)], to: p)
        assertBTError(try open64(p), contains: [p, "Fortran (column-major) order"])
        try writeZip([("labels.npy", labels), data("(3, 12288)", image + image + image)], to: p)
        assertBTError(try open64(p), contains: [p, "(3 images) for 2 labels"])
        // Data holding more bytes than its shape declares.
        try writeZip([("labels.npy", labels), data("(2, 12288)", image + image + [1])], to: p)
        assertBTError(try readAll(try open64(p)), contains: [p, "data holds more bytes than its 2 images"])
        // A damaged end-of-central-directory offset.
        try writeZip([("labels.npy", labels), data("(2, 12288)", image + image)], to: p, centralOffsetDelta: 7)
        assertBTError(try open64(p), contains: [p, "damaged zip archive"])
        // And the undamaged one reads.
        try writeZip([("labels.npy", labels), data("(2, 12288)", image + image)], to: p)
        XCTAssertEqual(try readAll(try open64(p)).labels, [0, 1])
    }

    // MARK: MATLAB

    /// A v5 .mat holding one uncompressed uint8 variable `X` with `dims` and `data` (the dims may declare more).
    func matV5(dims: [Int32], data: [UInt8]) -> [UInt8] {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var head = Array("MATLAB 5.0 MAT-file, hostile test".utf8)
        head += [UInt8](repeating: 32, count: 116 - head.count) + [UInt8](repeating: 0, count: 8) + [0, 1] + Array("IM".utf8)
        let pad = (8 - data.count % 8) % 8
        var body = le(6, 4) + le(8, 4) + le(9, 4) + le(0, 4)                   // array flags: uint8 class
        body += le(5, 4) + le(4 * dims.count, 4) + dims.flatMap { le(Int($0), 4) }  // dims (int32)
        if dims.count % 2 == 1 { body += le(0, 4) }
        body += le(0x0001_0001, 4) + Array("X".utf8) + [0, 0, 0]                // small-element name
        body += le(2, 4) + le(data.count, 4) + data + [UInt8](repeating: 0, count: pad)  // uint8 data
        return head + le(14, 4) + le(body.count, 4) + body
    }

    func testMatFilesThatAreNotMATLABOrDeclareTooMuch() throws {
        let dir = try makeTempDir(self)
        let p = join(dir, "train_32x32.mat")
        try writeBytes([], p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "0 bytes, not a MATLAB file"])
        try writeBytes(Array(repeating: 65, count: 300), p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "not a MATLAB .mat file (no v5/v7.3 MAT header)"])
        try writeBytes(matV5(dims: [32, 32, 3, 700_000], data: [1, 2, 3]), p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "X has shape 32x32x3x700000", "more than the 200 bytes file holds"])
        // A name declared 3.9 GB long (matio would allocate and read it).
        var named = matV5(dims: [32, 32, 3, 1], data: [UInt8](repeating: 1, count: 3072))
        named.replaceSubrange(176..<184, with: [1, 0, 0, 0, 0x20, 0x08, 0x60, 0xe6])
        try writeBytes(named, p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "its name is 3865053216 bytes"])
        // X shorter than it declares (matio would read it silently).
        try writeBytes(matV5(dims: [32, 32, 3, 2], data: [UInt8](repeating: 1, count: 100)), p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "X has shape 32x32x3x2 (6 KB), more than the 296 bytes file holds"])
        try writeBytes(matV5(dims: [28, 28, 3, 1], data: [UInt8](repeating: 1, count: 2352)), p)
        assertBTError(try readSVHNMat(path: p), contains: [p, "MATLAB v5", "X has shape 28x28x3x1, expected 32x32x3xN"])
    }
}
