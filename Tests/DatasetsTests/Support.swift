import BTCore
import Datasets
import Foundation
import XCTest

/// Paths and helpers shared by the dataset tests.
enum TestData {
    /// The repository root, found from this file's location (works wherever the repo is cloned).
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `shared/data` lives beside the repository (CI clones it there too).
    static let sharedData = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path

    static var fashionSubset: String { (sharedData as NSString).appendingPathComponent("fashion-subset") }

    static func requireFashionSubset() throws -> String {
        let dir = fashionSubset
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("train-images-idx3-ubyte.gz")) else {
            XCTFail("test data missing: \(dir) (shared/data must sit beside the repository)")
            throw XCTSkip("no test data")
        }
        return dir
    }
}

/// A fresh temporary directory, removed when the test ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("btviz-datasets-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

func writeBytes(_ bytes: [UInt8], _ path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func join(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

/// Asserts that `body` throws a BTError whose message is one line and contains every `fragment`.
func assertBTError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                      file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a BTError containing \(fragments)", file: file, line: line)
    } catch let e as BTError {
        XCTAssertFalse(e.description.contains("\n"), "error is not one line: \(e.description)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(e.description.contains(f), "'\(e.description)' does not contain '\(f)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a BTError, got \(error)", file: file, line: line)
    }
}

/// Runs a process to completion, returning (status, stdout+stderr).
@discardableResult
func runProcess(_ exe: String, _ args: [String], cwd: String? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let pipe = Pipe()
    p.standardOutput = pipe; p.standardError = pipe
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

/// Runs `python3` found on PATH (pyenv and venvs included).
func runPython(_ args: [String]) throws -> (Int32, String) {
    try runProcess("/usr/bin/env", ["python3"] + args)
}

/// Whether python3 with numpy is available.
let haveNumpy: Bool = {
    guard let (rc, _) = try? runPython(["-c", "import numpy"]) else { return false }
    return rc == 0
}()

extension TestData {
    /// Small files in each dataset's official layout (Tests/Fixtures/datasets, made by its make_fixtures.py).
    static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/datasets").path

    static var cifarSubset: String { (sharedData as NSString).appendingPathComponent("cifar10-subset") }

    static func requireCIFARSubset() throws -> String {
        let dir = cifarSubset
        guard FileManager.default.fileExists(atPath: join(dir, "data_batch_1.bin")) else {
            XCTFail("test data missing: \(dir) (shared/data must sit beside the repository)")
            throw XCTSkip("no test data")
        }
        return dir
    }
}

/// Runs a shell command line; fails the test if it does not exit 0.
func sh(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let (rc, out) = try runProcess("/bin/sh", ["-c", command])
    XCTAssertEqual(rc, 0, "\(command): \(out)", file: file, line: line)
}

/// Reads every image of a source through one pass.
func readAll(_ source: ImageSource, _ order: PassOrder = .stored, batch: Int = 3) throws -> (pixels: [Float], labels: [Int32]) {
    let reader = try source.pass(order)
    var pixels = [Float](), labels = [Int32]()
    var buf = [Float](repeating: 0, count: batch * source.imageSize), lab = [Int32](repeating: 0, count: batch)
    while true {
        let n = try buf.withUnsafeMutableBufferPointer { b in
            try lab.withUnsafeMutableBufferPointer { try reader.read(batch, into: b.baseAddress!, labels: $0.baseAddress!) }
        }
        if n == 0 { break }
        pixels += buf[0..<n * source.imageSize]; labels += lab[0..<n]
    }
    return (pixels, labels)
}
