import Foundation
import XCTest

/// The btviz binary built next to this test bundle.
let btvizPath: String = {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
    var dir = bundle.deletingLastPathComponent()
    // `swift test` runs .../release/btvizPackageTests.xctest; the executable sits beside it.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("btviz").path), dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("btviz").path
}()

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let sharedData = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
let fashionDir = sharedData.appendingPathComponent("fashion-subset").path

struct Output { var status: Int32; var stdout: String; var stderr: String }

/// Runs btviz with a time limit; a run that outlives it is killed and fails the test (a hang is a bug).
/// `addressSpaceKB` runs it under `ulimit -v` (through /bin/sh).
@discardableResult
func btviz(_ args: [String], environment: [String: String] = [:], timeout: TimeInterval = 120,
           currentDirectory: String? = nil, addressSpaceKB: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Output {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "BTVIZ_DATA")
    for (k, v) in environment { env[k] = v }
    return try runProgram(addressSpaceKB == nil ? btvizPath : "/bin/sh",
                          addressSpaceKB.map { ["-c", "ulimit -v \($0) && exec \"$0\" \"$@\"", btvizPath] + args } ?? args,
                          environment: env, timeout: timeout, currentDirectory: currentDirectory, file: file, line: line)
}

/// Runs a program with a time limit; a run that outlives it is killed and fails the test (a hang is a bug).
@discardableResult
func runProgram(_ executable: String, _ args: [String], environment: [String: String]? = nil, timeout: TimeInterval = 120,
                currentDirectory: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Output {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Drain both pipes while it runs so a chatty child never blocks.
    nonisolated(unsafe) var o = Data(), e = Data()
    let group = DispatchGroup()
    group.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { e = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)  // SIGTERM may be blocked in children of the test runner
        XCTFail("\((executable as NSString).lastPathComponent) \(args.joined(separator: " ")) did not finish within \(timeout)s", file: file, line: line)
    }
    p.waitUntilExit()
    group.wait()
    return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

func temporaryDirectory() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-cli-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Asserts a clean failure: non-zero exit, exactly one line on stderr that starts with "btviz:" and
/// mentions `mentioning`, and no crash (a trap would exit by signal with status >= 128 and a backtrace).
func assertCleanFailure(_ o: Output, mentioning: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotEqual(o.status, 0, "expected failure; stdout: \(o.stdout)", file: file, line: line)
    XCTAssertLessThan(o.status, 128, "exited by a signal: \(o.stderr)", file: file, line: line)
    let lines = o.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "stderr should be one line: \(o.stderr)", file: file, line: line)
    XCTAssertTrue(o.stderr.hasPrefix("btviz: "), o.stderr, file: file, line: line)
    XCTAssertTrue(o.stderr.lowercased().contains(mentioning.lowercased()), "\(o.stderr) should mention \(mentioning)", file: file, line: line)
}

/// `export --format reference` of `run` (256 test images), then `model` in onnxruntime: its logits within 1e-4 of the
/// largest of btviz's, the same prediction image for image, and more than `atLeastCorrect` right (a trained net).
func assertONNXLogitsEqualBtviz(run: String, method: String? = nil, model: String, reference: String, atLeastCorrect: Int,
                                _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let e = try btviz(["export", run, "--format", "reference", "--out", reference] + (method.map { ["--method", $0] } ?? []))
    XCTAssertEqual(e.status, 0, e.stderr, file: file, line: line)
    let r = try python(["onnx-logits", model, reference], file: file, line: line)
    XCTAssertEqual(r["images"] as? Int, 256, file: file, line: line)
    let diff = try XCTUnwrap(r["max_abs_diff"] as? Double), largest = try XCTUnwrap(r["max_abs_logit"] as? Double)
    XCTAssertGreaterThan(largest, 0.5, "\(label): an untrained-looking network", file: file, line: line)
    XCTAssertLessThanOrEqual(diff, 1e-4 * largest, "\(label): \(r)", file: file, line: line)
    XCTAssertEqual(r["same_predictions"] as? Bool, true, "\(label): \(r)", file: file, line: line)
    XCTAssertEqual(r["correct_onnx"] as? Int, r["correct_btviz"] as? Int, "\(label): \(r)", file: file, line: line)
    XCTAssertGreaterThan(r["correct_btviz"] as? Int ?? 0, atLeastCorrect, "\(label): \(r)", file: file, line: line)
}

/// Runs Tests/Python/export_checks.py in scripts/pyenv's Python (onnxruntime, numpy, safetensors, tensorboard) and
/// returns its JSON; fails with the reason when there is no such Python (scripts/test sets BTVIZ_TEST_PYTHON).
func python(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
    guard let interpreter = ProcessInfo.processInfo.environment["BTVIZ_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: interpreter) else {
        XCTFail("BTVIZ_TEST_PYTHON is not set to a Python with onnxruntime, numpy, safetensors and tensorboard: run `export BTVIZ_TEST_PYTHON=$(scripts/pyenv)` first (scripts/test does)", file: file, line: line)
        throw XCTSkip("no Python")
    }
    let o = try runProgram(interpreter, [repoRoot.appendingPathComponent("Tests/Python/export_checks.py").path] + args,
                           timeout: 600, file: file, line: line)
    guard o.status == 0, let json = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any] else {
        XCTFail("export_checks.py \(args.joined(separator: " ")) failed: \(o.stderr)", file: file, line: line)
        return [:]
    }
    return json
}

/// The first `count` test images of the Fashion subset as grey PNGs named NNN_labelL.png (written by python3's
/// zlib, so the test does not rely on btviz's own encoder).
func writeFashionTestPNGs(_ count: Int, to dir: String) throws {
    let script = """
    import gzip, struct, zlib, sys, os
    src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    img = gzip.open(src + '/t10k-images-idx3-ubyte.gz').read()
    lab = gzip.open(src + '/t10k-labels-idx1-ubyte.gz').read()
    _, count, h, w = struct.unpack('>IIII', img[:16])
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    for i in range(min(n, count)):
        px = img[16 + i * h * w: 16 + (i + 1) * h * w]
        raw = b''.join(b'\\x00' + px[y * w:(y + 1) * w] for y in range(h))
        png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) \\
            + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
        open(os.path.join(out, '%03d_label%d.png' % (i, lab[8 + i])), 'wb').write(png)
    """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script, fashionDir, dir, "\(count)"]
    try p.run()
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0)
}
