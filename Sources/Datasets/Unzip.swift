import BTCore
import Foundation
import ZIPFoundation

/// Unpacks the files of the zip at `path` into `dir`, keeping their relative paths (ImageNet 64x64's zips hold
/// `Imagenet64_*_npz/*.npz`). A member already there at its uncompressed size is left alone; the others are
/// written to `<member>.part` (ZIPFoundation checks each one's CRC) and renamed into place, so an interrupted
/// unpack never leaves a short file under a final name.
func unpackZip(_ path: String, into dir: String, progress: FetchProgress) throws {
    let archive: Archive
    _ = try RegularFile(path)  // ZIPFoundation opens by URL: a FIFO would block it
    do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
        throw BTError("bad zip file \(path): not a readable zip archive")
    }
    var unpacked = 0, kept = 0
    for entry in archive where entry.type == .file {
        let rel = entry.path
        guard !rel.hasPrefix("/"), !rel.split(separator: "/").contains("..") else {
            throw BTError("bad zip file \(path): member '\(rel)' points outside the folder")
        }
        let dest = (dir as NSString).appendingPathComponent(rel)
        if let size = fileSize(dest), UInt64(size) == entry.uncompressedSize { kept += 1; continue }
        try OutputFolder.create(parentPath(dest), what: "the folder of \(rel)")
        let part = dest + ".part"
        unlink(part)
        progress.log("\((path as NSString).lastPathComponent): unpacking \(rel)")
        do {
            let out = try PartFile(path: part, appendingFrom: 0)
            let total = Int64(entry.uncompressedSize)
            let crc = try archive.extract(entry, bufferSize: 1 << 20) { data in
                try out.write(data)
                progress.bytes(rel, out.written, total)
            }
            try out.close()
            guard crc == entry.checksum else { throw Archive.ArchiveError.invalidCRC32 }
        } catch {
            unlink(part)
            let why = (error as? Archive.ArchiveError).map { $0 == .invalidCRC32 ? "CRC mismatch" : "\($0)" } ?? oneLine(error)
            throw BTError("bad zip file \(path): cannot unpack \(rel) (\(why))")
        }
        try OutputFile.checkReplaceable(dest)
        guard rename(part, dest) == 0 else { throw fileError(dest, "cannot write") }
        unpacked += 1
    }
    progress.log("\((path as NSString).lastPathComponent): \(unpacked) members unpacked\(kept > 0 ? ", \(kept) already there" : "")")
}
