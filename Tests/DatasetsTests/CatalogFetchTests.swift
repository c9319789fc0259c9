import BTCore
import Datasets
import Foundation
import XCTest

/// The catalog, and `fetch` for every entry against a loopback server serving stand-ins made in each official
/// layout (nothing here reaches the internet). The stand-ins' checksums replace the official ones; everything
/// else (names, layout, unpacking, loading what was fetched) is the real path.
final class CatalogFetchTests: XCTestCase {
    func testCatalogEntries() throws {
        XCTAssertEqual(DatasetCatalog.names, ["synthetic", "fashion", "mnist", "kmnist", "cifar10", "svhn", "imagenet64", "folder"])
        for e in DatasetCatalog.entries {
            for f in e.files {
                let want = f.checksum.algorithm == "md5" ? 32 : 64
                XCTAssertEqual(f.checksum.hex.count, want, "\(e.name) \(f.name)")
                XCTAssertTrue(f.checksum.hex.allSatisfy(\.isHexDigit))
                XCTAssertEqual(f.url.lastPathComponent, f.name, "\(e.name): the file keeps its official name")
            }
            if let s = e.imageShape { XCTAssertEqual(s.count, 3) }
        }
        let flips = Dictionary(uniqueKeysWithValues: DatasetCatalog.entries.map { ($0.name, $0.flips) })
        XCTAssertEqual(flips, ["synthetic": false, "fashion": false, "mnist": false, "kmnist": false, "cifar10": true, "svhn": false,
                               "imagenet64": true, "folder": true])
        let c = try DatasetCatalog.named("cifar10")
        XCTAssertEqual(c.files.map(\.name), ["cifar-10-binary.tar.gz"])
        XCTAssertEqual(c.files[0].checksum, .md5("c32a1d4ab5d03f1284b67883e8d87530"))
        XCTAssertEqual(try DatasetCatalog.named("svhn").requiredFiles.map(\.name), ["train_32x32.mat", "test_32x32.mat"])
        XCTAssertEqual(try DatasetCatalog.named("imagenet64").files.filter(\.unpack).count, 3)
        assertBTError(try DatasetCatalog.named("cifar"), contains: ["unknown dataset 'cifar'", "cifar10", "imagenet64"])
    }

    /// Stand-ins for every fetchable entry's files, in `dir`; returns the checksums to expect.
    func makeStandIns(_ entry: DatasetEntry, in dir: String) throws -> [String: Checksum] {
        let fx = TestData.fixtures
        switch entry.name {
        case "fashion", "mnist", "kmnist":
            for f in entry.files { try FileManager.default.copyItem(atPath: join(TestData.fashionSubset, f.name), toPath: join(dir, f.name)) }
        case "cifar10":
            let src = try TestData.requireCIFARSubset(), work = try makeTempDir(self), inner = join(work, "cifar-10-batches-bin")
            try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
            let raw = try readBytes(join(src, "data_batch_1.bin"))
            for k in 1...5 { try writeBytes(Array(raw[(k - 1) * 20 * 3073..<k * 20 * 3073]), join(inner, "data_batch_\(k).bin")) }
            try writeBytes(Array(try readBytes(join(src, "test_batch.bin"))[0..<15 * 3073]), join(inner, "test_batch.bin"))
            try sh("cd '\(work)' && tar -czf '\(dir)/cifar-10-binary.tar.gz' cifar-10-batches-bin")
        case "svhn":
            for (to, from) in [("train_32x32.mat", "train_32x32.mat"), ("test_32x32.mat", "test_32x32.mat"), ("extra_32x32.mat", "test_32x32.mat")] {
                try FileManager.default.copyItem(atPath: join(join(fx, "svhn"), from), toPath: join(dir, to))
            }
        case "imagenet64":
            let npz = join(fx, "imagenet64")
            for (zip, sub, files) in [("Imagenet64_train_part1_npz.zip", "Imagenet64_train_part1_npz", ["train_data_batch_1.npz"]),
                                      ("Imagenet64_train_part2_npz.zip", "Imagenet64_train_part2_npz", ["train_data_batch_2.npz"]),
                                      ("Imagenet64_val_npz.zip", "Imagenet64_val_npz", ["val_data.npz"])] {
                let members = files.map { "('\(join(npz, $0))', '\(sub)/\($0)')" }.joined(separator: ", ")
                let (rc, out) = try runPython(["-c", "import zipfile\nwith zipfile.ZipFile('\(join(dir, zip))', 'w', zipfile.ZIP_DEFLATED) as z:\n    for a, n in [\(members)]: z.write(a, n)"])
                XCTAssertEqual(rc, 0, out)
            }
        default:
            XCTFail("no stand-in for \(entry.name)")
        }
        var sums: [String: Checksum] = [:]
        for f in entry.files {
            let bytes = try readBytes(join(dir, f.name))
            sums[f.name] = f.checksum.algorithm == "md5" ? .md5(md5Hex(bytes)) : .sha256(try sha256(join(dir, f.name)))
        }
        return sums
    }

    func sha256(_ path: String) throws -> String {
        let (rc, out) = try runProcess("/usr/bin/sha256sum", [path])
        XCTAssertEqual(rc, 0)
        return String(out.prefix(64))
    }

    /// Every entry with files: fetched over HTTP (checksummed, renamed into place, unpacked where the entry says),
    /// then loaded from the folder the fetch filled.
    func testFetchEveryEntryThenLoadIt() async throws {
        _ = try TestData.requireFashionSubset()
        let expectedCounts = ["fashion": (2557, 4443), "mnist": (2557, 4443), "kmnist": (2557, 4443), "cifar10": (100, 15), "svhn": (19, 7), "imagenet64": (9, 3)]
        for entry in DatasetCatalog.entries where !entry.files.isEmpty {
            let served = try makeTempDir(self)
            let sums = try makeStandIns(entry, in: served)
            let server = try LoopbackServer(serving: served, test: self, rangeServer: [])
            let dest = join(try makeTempDir(self), entry.name)
            let log = LockedText(), last = LockedText()
            try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums, optional: true,
                                   progress: FetchProgress(log: { log.append($0 + "\n") }, bytes: { f, done, total in
                                       if done == total { last.append("\(f)=\(done) ") }
                                   }))
            let names = try FileManager.default.contentsOfDirectory(atPath: dest)
            XCTAssertFalse(names.contains { $0.hasSuffix(".part") }, "\(entry.name): \(names)")
            for f in entry.files {
                XCTAssertTrue(log.value.contains("\(f.name): \(try readBytes(join(served, f.name)).count) bytes, \(f.checksum.algorithm) ok"), log.value)
                XCTAssertTrue(last.value.contains("\(f.name)="), "\(entry.name): progress reached the end of \(f.name): \(last.value)")
            }
            let d = try entry.loadData(DatasetRequest(dir: dest))
            XCTAssertEqual(d.train.count, expectedCounts[entry.name]?.0, entry.name)
            XCTAssertEqual(d.test.count, expectedCounts[entry.name]?.1, entry.name)
            XCTAssertEqual(d.train.shape, entry.imageShape, entry.name)
            XCTAssertEqual(entry.locate(dest) != nil, true, entry.name)

            // Again: everything is there and checks out (and nothing is unpacked twice); the server is gone.
            server.stop()
            let again = LockedText()
            try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums, optional: true,
                                   progress: FetchProgress(log: { again.append($0 + "\n") }))
            XCTAssertEqual(again.value.components(separatedBy: "present, \(entry.files[0].checksum.algorithm) ok").count - 1,
                           entry.files.count, again.value)
            if entry.name == "imagenet64" { XCTAssertTrue(again.value.contains("0 members unpacked, 1 already there"), again.value) }
        }
    }

    /// A connection dropped part-way keeps the .part; the next fetch asks for the rest with a Range request and
    /// the file checks out. A server that ignores ranges sends it whole again, which also ends well.
    func testResumeAfterADroppedConnection() async throws {
        let entry = try DatasetCatalog.named("cifar10")
        for ranges in [true, false] {
            let served = try makeTempDir(self)
            let sums = try makeStandIns(entry, in: served)
            let requests = join(try makeTempDir(self), "requests.log")
            let server = try LoopbackServer(serving: served, test: self,
                                            rangeServer: ["--cut-after", "20000", "--log", requests] + (ranges ? [] : ["--no-ranges"]))
            let dest = try makeTempDir(self)
            let part = join(dest, "cifar-10-binary.tar.gz.part")
            do {
                try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums)
                XCTFail("the first download is cut off")
            } catch let e as BTError {
                XCTAssertTrue(e.description.contains("resume"), e.description)
                XCTAssertFalse(e.description.contains("\n"))
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), ["cifar-10-binary.tar.gz.part"])
            XCTAssertEqual(try readBytes(part).count, 20000)
            let log = LockedText()
            try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums,
                                   progress: FetchProgress(log: { log.append($0 + "\n") }))
            XCTAssertTrue(log.value.contains("resuming"), log.value)
            XCTAssertEqual(try readBytes(join(dest, "cifar-10-binary.tar.gz")), try readBytes(join(served, "cifar-10-binary.tar.gz")))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), ["cifar-10-binary.tar.gz"])
            let asked = try String(contentsOfFile: requests, encoding: .utf8)
            XCTAssertEqual(asked, "GET /cifar-10-binary.tar.gz range=None\nGET /cifar-10-binary.tar.gz range=bytes=20000-\n")
            XCTAssertEqual(try entry.loadData(DatasetRequest(dir: dest)).train.count, 100)
        }
    }

    /// A .part whose contents are not a prefix of the file fails its checksum, is deleted, and the next fetch
    /// starts over.
    func testWrongPartIsDiscarded() async throws {
        let entry = try DatasetCatalog.named("svhn")
        let served = try makeTempDir(self)
        let sums = try makeStandIns(entry, in: served)
        let server = try LoopbackServer(serving: served, test: self, rangeServer: [])
        let dest = try makeTempDir(self)
        try writeBytes([UInt8](repeating: 7, count: 500), join(dest, "train_32x32.mat.part"))
        do {
            try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums)
            XCTFail("a spliced file cannot check out")
        } catch let e as BTError {
            XCTAssertTrue(e.description.contains("md5") && e.description.contains("not saved"), e.description)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), [])
        try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest).sorted(), ["test_32x32.mat", "train_32x32.mat"])
    }

    /// Unpacking checks each member's CRC and never leaves a short file under its final name.
    func testUnpackRefusesADamagedMember() async throws {
        let entry = try DatasetCatalog.named("imagenet64")
        let served = try makeTempDir(self)
        _ = try makeStandIns(entry, in: served)
        // Stored (not deflated) so a flipped byte reaches the data and the CRC, not the inflater.
        let zip = join(served, "Imagenet64_val_npz.zip")
        let (rc, out) = try runPython(["-c", "import zipfile\nwith zipfile.ZipFile('\(zip)', 'w', zipfile.ZIP_STORED) as z: z.write('\(join(TestData.fixtures, "imagenet64/train_data_batch_1.npz"))', 'Imagenet64_val_npz/val_data.npz')"])
        XCTAssertEqual(rc, 0, out)
        var bytes = try readBytes(zip)
        bytes[bytes.count / 2] ^= 0x55
        try writeBytes(bytes, zip)
        var sums: [String: Checksum] = [:]
        for f in entry.files { sums[f.name] = .sha256(try sha256(join(served, f.name))) }
        let server = try LoopbackServer(serving: served, test: self, rangeServer: [])
        let dest = try makeTempDir(self)
        do {
            try await fetchDataset(entry, into: dest, baseURL: server.baseURL, expected: sums)
            XCTFail("a damaged member must not unpack")
        } catch let e as BTError {
            XCTAssertTrue(e.description.contains("CRC") && e.description.contains("val_data.npz"), e.description)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: join(dest, "Imagenet64_val_npz/val_data.npz")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: join(dest, "Imagenet64_val_npz/val_data.npz.part")))
    }

    func testNothingToFetch() async throws {
        for name in ["synthetic", "folder"] {
            do {
                try await fetchDataset(try DatasetCatalog.named(name), into: try makeTempDir(self))
                XCTFail("\(name) has no files")
            } catch let e as BTError {
                XCTAssertTrue(e.description.contains("nothing to fetch"), e.description)
            }
        }
    }
}
