import BTCore
import Datasets
import Foundation
import XCTest

/// `python3 -m http.server` on a free loopback port, serving `dir`; always stopped by the test.
final class LoopbackServer {
    let process = Process()
    private(set) var port = 0

    /// `rangeServer` options (e.g. ["--cut-after", "5000"]) start Tests/Fixtures/datasets/range_server.py instead,
    /// which answers Range requests and can drop a first response part-way.
    init(serving dir: String, test: XCTestCase, rangeServer: [String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = rangeServer.map { ["python3", "-u", join(TestData.fixtures, "range_server.py"), dir] + $0 }
            ?? ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        test.addTeardownBlock { [self] in stop() }
        // It prints "Serving HTTP on 127.0.0.1 port 12345 (...)"; wait for that line (10 s at most).
        let text = LockedText()
        out.fileHandleForReading.readabilityHandler = { h in text.append(String(decoding: h.availableData, as: UTF8.self)) }
        defer { out.fileHandleForReading.readabilityHandler = nil }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.isRunning {
            let t = text.value
            if let r = t.range(of: #"port (\d+)"#, options: .regularExpression),
               let p = Int(t[r].dropFirst(5)) { port = p; return }
            usleep(20_000)
        }
        throw XCTSkip("could not start python3 http.server (output: \(text.value))")
    }

    /// SIGKILL: the child inherits the test runner's signal mask, in which SIGTERM can be blocked.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }
}

/// Text appended from the pipe's reader thread and read from the test's thread.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ s: String) { lock.lock(); text += s; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return text }
}

final class FetchTests: XCTestCase {
    /// md5 of each fashion-subset file, computed by md5Hex and cross-checked against MD5SUMS.
    func subsetSums() throws -> (dir: String, sums: [String: String]) {
        let dir = try TestData.requireFashionSubset()
        var sums: [String: String] = [:]
        for f in IDXFiles.all.map({ $0 + ".gz" }) { sums[f] = md5Hex(try readBytes(join(dir, f))) }
        let listed = try String(contentsOfFile: join(dir, "MD5SUMS"), encoding: .utf8)
        for line in listed.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            XCTAssertEqual(sums[String(parts[1])], String(parts[0]), "md5Hex disagrees with MD5SUMS")
        }
        return (dir, sums)
    }

    func testMD5() {
        XCTAssertEqual(md5Hex([]), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(md5Hex(Array("abc".utf8)), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(md5Hex(Array("The quick brown fox jumps over the lazy dog".utf8)), "9e107d9d372bb6826bd81d3542a419d6")
    }

    func testOfficialSources() throws {
        let f = try DatasetCatalog.named("fashion"), m = try DatasetCatalog.named("mnist")
        func md5(_ e: DatasetEntry, _ name: String) -> String? { e.files.first { $0.name == name }?.checksum.hex }
        XCTAssertEqual(f.files.first?.url.absoluteString, "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz")
        XCTAssertEqual(md5(f, "train-images-idx3-ubyte.gz"), "8d4fb7e6c68d591d4c3dfef9ec88bf0d")
        XCTAssertEqual(md5(f, "t10k-labels-idx1-ubyte.gz"), "bb300cfdad3c16e7a12a480ee83cd310")
        XCTAssertEqual(md5(m, "train-labels-idx1-ubyte.gz"), "d53e105ee54ea40749a09fcbcd1e9432")
        XCTAssertEqual(md5(m, "t10k-images-idx3-ubyte.gz"), "9fb629c4189551a2d022fa330f9573f3")
        XCTAssertEqual(Set(f.files.map(\.name)), Set(IDXFiles.all.map { $0 + ".gz" }))
        XCTAssertNil(DatasetCatalog.entry("cifar"))
        // The official fashion files in shared/data/fashion match the table.
        for file in f.files {
            XCTAssertEqual(md5Hex(try readBytes(join(TestData.sharedData, "fashion/" + file.name))), file.checksum.hex, file.name)
        }
    }

    func testFetchOverHTTPThenSkipsPresentFiles() async throws {
        let (src, sums) = try subsetSums()
        let server = try LoopbackServer(serving: src, test: self)
        let dest = join(try makeTempDir(self), "nested/fashion")
        let log = LockedText()
        try await fetchDataset(name: "fashion", into: dest, baseURL: server.baseURL, expectedMD5: sums) { log.append($0 + "\n") }
        var lines = log.value.split(separator: "\n")
        for f in IDXFiles.all.map({ $0 + ".gz" }) {
            XCTAssertEqual(try readBytes(join(dest, f)), try readBytes(join(src, f)), f)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest).sorted(),
                       IDXFiles.all.map { $0 + ".gz" }.sorted(), "no temporary files left")
        XCTAssertEqual(lines.filter { $0.contains("downloading") }.count, 4)
        let loaded = try loadIDXDataset(name: "fashion", dir: dest)
        XCTAssertEqual(loaded.train.count, 2557)

        // Second run: everything present with the right md5, so nothing is downloaded
        // (the server is gone; any download attempt would fail).
        server.stop()
        let again = LockedText()
        try await fetchDataset(name: "fashion", into: dest, baseURL: server.baseURL, expectedMD5: sums) { again.append($0 + "\n") }
        lines = again.value.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("present, md5 ok") }.count, 4, "\(lines)")
    }

    func testFetchFromFileURLReplacesAWrongFile() async throws {
        let (src, sums) = try subsetSums()
        let dest = try makeTempDir(self)
        // A present file with the wrong content is downloaded again.
        try writeBytes([1, 2, 3], join(dest, IDXFiles.trainLabels + ".gz"))
        try await fetchDataset(name: "fashion", into: dest, baseURL: URL(fileURLWithPath: src, isDirectory: true),
                               expectedMD5: sums)
        for f in IDXFiles.all.map({ $0 + ".gz" }) {
            XCTAssertEqual(md5Hex(try readBytes(join(dest, f))), sums[f], f)
        }
    }

    func testWrongMD5LeavesNoFile() async throws {
        let subset = try subsetSums()
        let src = subset.dir
        var sums = subset.sums
        let server = try LoopbackServer(serving: src, test: self)
        let dest = try makeTempDir(self)
        sums[IDXFiles.testImages + ".gz"] = String(repeating: "0", count: 32)
        do {
            try await fetchDataset(name: "fashion", into: dest, baseURL: server.baseURL, expectedMD5: sums)
            XCTFail("a wrong md5 must fail the fetch")
        } catch let e as BTError {
            XCTAssertTrue(e.description.contains("md5"), e.description)
            XCTAssertTrue(e.description.contains(IDXFiles.testImages), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dest)
        XCTAssertFalse(left.contains { $0.contains(IDXFiles.testImages) }, "left behind: \(left)")
        // Files fetched before the failing one stay (they were verified).
        XCTAssertTrue(left.contains(IDXFiles.trainImages + ".gz"))
    }

    func testMissingFilesAreErrors() async throws {
        let (_, sums) = try subsetSums()
        let empty = try makeTempDir(self)
        let server = try LoopbackServer(serving: empty, test: self)
        let dest = try makeTempDir(self)
        for base in [server.baseURL, URL(fileURLWithPath: empty, isDirectory: true)] {
            do {
                try await fetchDataset(name: "fashion", into: dest, baseURL: base, expectedMD5: sums)
                XCTFail("fetching from an empty directory must fail (\(base))")
            } catch let e as BTError {
                XCTAssertTrue(e.description.contains(IDXFiles.trainImages), e.description)
                if base.scheme == "http" { XCTAssertTrue(e.description.contains("404"), e.description) }
                XCTAssertFalse(e.description.contains("\n"))
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest), [])
        }
    }

    func testUnreachableServerFailsQuickly() async throws {
        // A port nothing listens on: connection refused, not a hang.
        let dest = try makeTempDir(self)
        let t0 = Date()
        do {
            try await fetchDataset(name: "mnist", into: dest, baseURL: URL(string: "http://127.0.0.1:9/")!, timeout: 5)
            XCTFail("expected an error")
        } catch let e as BTError {
            XCTAssertTrue(e.description.contains("cannot download"), e.description)
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
    }
}
