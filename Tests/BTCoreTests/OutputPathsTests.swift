import BTCore
import Foundation
import XCTest

/// What btviz writes (OutputPaths.swift's rules): a replaced file never follows a link, never replaces what is not
/// a regular file, and the cleanup removes only btviz's own temporaries.
final class OutputPathsTests: XCTestCase {
    var dir = ""
    var outside = ""   // a folder next to `dir`: nothing may land here
    var victim = ""

    override func setUpWithError() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("btcore-\(UUID().uuidString)").path
        dir = root + "/out"
        outside = root + "/elsewhere"
        victim = outside + "/victim"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: parentPath(dir)) }

    private func entries(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    private func assertVictimUntouched(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try? String(contentsOfFile: victim, encoding: .utf8), "precious\n", file: file, line: line)
        XCTAssertEqual(entries(outside), ["victim"], "nothing new outside the folder", file: file, line: line)
    }

    private func assertThrows<T>(_ body: @autoclosure () throws -> T, mentioning: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) {
            let text = "\($0)"
            XCTAssertTrue(text.contains(mentioning), "\(text) should mention \(mentioning)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
        }
    }

    /// The old temporary name (".m.onnx.tmp-<pid>") planted as a link to a file outside: not opened any more; the
    /// model lands in the folder and the link is left as it was.
    func testALinkPlantedUnderTheOldTemporaryNameIsNotFollowed() throws {
        let plant = dir + "/.m.onnx.tmp-\(getpid())"
        try FileManager.default.createSymbolicLink(atPath: plant, withDestinationPath: victim)
        try AtomicFile.write("model", to: dir + "/m.onnx")
        XCTAssertEqual(try String(contentsOfFile: dir + "/m.onnx", encoding: .utf8), "model")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: plant), victim)
        XCTAssertEqual(entries(dir), [".m.onnx.tmp-\(getpid())", "m.onnx"], "no temporary left behind")
        assertVictimUntouched()
    }

    /// The exclusive open AtomicFile creates its temporary with refuses anything already there by the name: a link
    /// (to a file or to nothing), a file, a folder.
    func testTheTemporaryIsCreatedExclusively() throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let name = AtomicFile.temporaryName(for: "checkpoint.bin")
        try FileManager.default.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: victim)
        XCTAssertEqual(AtomicFile.openNew(name, in: fd), -1)
        XCTAssertEqual(errno, EEXIST)
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: outside + "/new")
        XCTAssertEqual(AtomicFile.openNew("dangling", in: fd), -1, "a dangling link's target is not created")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/new"))
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        XCTAssertEqual(AtomicFile.openNew("sub", in: fd), -1)
        let made = AtomicFile.openNew("fresh", in: fd)
        XCTAssertGreaterThanOrEqual(made, 0)
        close(made)
        assertVictimUntouched()
    }

    /// Two temporaries for one target never share a name (64 random bits), and the name is the one the cleanup
    /// recognizes, with the writer's pid.
    func testTemporaryNames() {
        let a = AtomicFile.temporaryName(for: "m.onnx", pid: 4242), b = AtomicFile.temporaryName(for: "m.onnx", pid: 4242)
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.hasPrefix(".m.onnx.tmp-4242-"), a)
        XCTAssertEqual(a.utf8.count, ".m.onnx.tmp-4242-".utf8.count + 16)
        XCTAssertEqual(AtomicFile.temporaryOwner(a), 4242)
        for other in [".notes.tmp-999999", ".m.onnx.tmp-12", ".tmp-12-0123456789abcdef", "m.onnx.tmp-12-0123456789abcdef",
                      ".m.onnx.tmp-12-0123456789ABCDEF", ".m.onnx.tmp--0123456789abcdef", ".m.tmp-1-0123456789abcde"] {
            XCTAssertNil(AtomicFile.temporaryOwner(other), other)
        }
        let long = String(repeating: "x", count: 255)
        XCTAssertLessThanOrEqual(AtomicFile.temporaryName(for: long).utf8.count, 255)
    }

    /// A target that is a link, a FIFO, a device or a folder is refused with one line and left as it was.
    func testOnlyARegularFileIsReplaced() throws {
        let link = dir + "/link.onnx", dangling = dir + "/dangling.onnx", fifo = dir + "/fifo.onnx", sub = dir + "/sub"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: outside + "/created")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        assertThrows(try AtomicFile.write("x", to: link), mentioning: "is a symbolic link")
        assertThrows(try AtomicFile.write("x", to: dangling), mentioning: "is a symbolic link")
        assertThrows(try AtomicFile.write("x", to: fifo), mentioning: "a FIFO (named pipe), not a regular file")
        assertThrows(try AtomicFile.write("x", to: sub), mentioning: "a directory, not a regular file")
        assertThrows(try AtomicFile.write("x", to: ""), mentioning: "an empty path")
        assertThrows(try AtomicFile.write("x", to: dir + "/new/"), mentioning: "names a folder")
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), victim)
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/created"))
        XCTAssertEqual(entries(dir), ["dangling.onnx", "fifo.onnx", "link.onnx", "sub"], "no temporary left behind")
        assertVictimUntouched()
        // A regular file is replaced.
        try AtomicFile.write("old", to: dir + "/m.onnx")
        try AtomicFile.write("new", to: dir + "/m.onnx")
        XCTAssertEqual(try String(contentsOfFile: dir + "/m.onnx", encoding: .utf8), "new")
    }

    /// A device node (made in the folder, so no real device is at risk): refused, and still a device afterwards.
    func testADeviceIsRefusedAndStaysADevice() throws {
        let node = dir + "/full"
        // /dev/full's numbers (1, 7): a write to it fails, so even a wrong open could not fill anything.
        guard mknod(node, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0 else {
            if errno == EPERM { throw XCTSkip("mknod is not permitted here") }
            throw XCTSkip("mknod failed: \(String(cString: strerror(errno)))")
        }
        assertThrows(try AtomicFile.write("x", to: node), mentioning: "a character device, not a regular file")
        assertThrows(try LineLog(path: node), mentioning: "a character device, not a regular file")
        var st = stat()
        XCTAssertEqual(lstat(node, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
    }

    /// Appending: a link is not followed, and a FIFO is refused at once (a blocking open or write would wait for
    /// a reader for ever).
    func testAppendingRefusesLinksAndFIFOs() throws {
        let link = dir + "/metrics.jsonl", fifo = dir + "/task.log"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertThrows(try LineLog(path: link), mentioning: "is a symbolic link")
        assertThrows(try OutputFile.openAppending(fifo), mentioning: "a FIFO (named pipe), not a regular file")
        assertThrows(try LineLog(path: fifo), mentioning: "a FIFO (named pipe), not a regular file")
        // A new file by a predictable name (TensorBoard's events.out.tfevents.<time>.<host>.<pid>): only created.
        let events = dir + "/events.out.tfevents.1.h.2"
        try FileManager.default.createSymbolicLink(atPath: events, withDestinationPath: victim)
        assertThrows(try OutputFile.openAppending(events, exclusive: true), mentioning: "is a symbolic link")
        try Data().write(to: URL(fileURLWithPath: dir + "/old-events"))
        assertThrows(try OutputFile.openAppending(dir + "/old-events", exclusive: true), mentioning: "it already exists")
        assertVictimUntouched()
        let log = try LineLog(path: dir + "/plain.jsonl")
        try log.append("{}")
        XCTAssertEqual(try String(contentsOfFile: dir + "/plain.jsonl", encoding: .utf8), "{}\n")
    }

    /// Only the temporaries AtomicFile names, of processes that are gone, and only regular files: a user's folder
    /// named like a temporary, a link, and a live process's temporary all stay.
    func testCleanupRemovesOnlyItsOwnTemporaries() throws {
        let gone: pid_t = 999_999  // above Linux's pid_max (4194304 is the limit; default 32768 or 4194304)
        guard kill(gone, 0) != 0 && errno == ESRCH else { throw XCTSkip("pid \(gone) is alive here") }
        let stale = AtomicFile.temporaryName(for: "checkpoint.bin", pid: gone)
        let live = AtomicFile.temporaryName(for: "config.json", pid: getppid())
        let staleFolder = AtomicFile.temporaryName(for: "notes", pid: gone)
        let staleLink = AtomicFile.temporaryName(for: "metrics.jsonl", pid: gone)
        try Data(count: 10).write(to: URL(fileURLWithPath: dir + "/" + stale))
        try Data(count: 10).write(to: URL(fileURLWithPath: dir + "/" + live))
        try FileManager.default.createDirectory(atPath: dir + "/.notes.tmp-999999", withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir + "/.notes.tmp-999999/important.txt"))
        try FileManager.default.createDirectory(atPath: dir + "/" + staleFolder, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: dir + "/" + staleFolder + "/important.txt"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/" + staleLink, withDestinationPath: victim)
        try Data(count: 1).write(to: URL(fileURLWithPath: dir + "/.old.tmp-999999"))
        AtomicFile.removeTemporaries(in: dir)
        XCTAssertEqual(entries(dir), [".notes.tmp-999999", ".old.tmp-999999", live, staleFolder, staleLink].sorted())
        XCTAssertEqual(try String(contentsOfFile: dir + "/.notes.tmp-999999/important.txt", encoding: .utf8), "mine")
        XCTAssertEqual(try String(contentsOfFile: dir + "/" + staleFolder + "/important.txt", encoding: .utf8), "mine")
        assertVictimUntouched()
    }

    /// Output folders: one line for a path below a file, a file in the way, an empty path; made with its parents.
    func testFolderCreationErrorsAreOneLine() throws {
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/f"))
        assertThrows(try OutputFolder.create(dir + "/f/tb", what: "the TensorBoard folder"),
                     mentioning: "cannot create the TensorBoard folder \(dir)/f/tb: \(dir)/f is a file, not a folder")
        assertThrows(try OutputFolder.create(dir + "/f", what: "--out"), mentioning: "cannot use \(dir)/f as --out: it is a file, not a folder")
        assertThrows(try OutputFolder.create("", what: "--out"), mentioning: "--out is an empty path")
        XCTAssertEqual(mkfifo(dir + "/p", 0o644), 0)
        assertThrows(try OutputFolder.create(dir + "/p/x", what: "--out"), mentioning: "/p is a FIFO (named pipe), not a folder")
        let made = try OutputFolder.create(dir + "/a/b/c", what: "--out")
        XCTAssertEqual(made, [dir + "/a/b/c", dir + "/a/b", dir + "/a"])
        XCTAssertEqual(try OutputFolder.create(dir + "/a/b/c", what: "--out"), [], "an existing folder is fine")
        // A file below a file: named as such, not "Not a directory" or a Foundation error.
        assertThrows(try AtomicFile.write("x", to: dir + "/f/m.onnx"), mentioning: "\(dir)/f is a file, not a folder")
        assertThrows(try AtomicFile.write("x", to: dir + "/none/m.onnx"), mentioning: "the folder \(dir)/none does not exist")
    }

    /// A write that a file-size limit cuts short (EFBIG, as a full disk gives ENOSPC) leaves the log at its last
    /// whole line, and the error names the cause.
    func testAShortAppendIsCutBackToTheLastWholeLine() throws {
        let path = dir + "/metrics.jsonl"
        try Data("{\"a\":1}\n".utf8).write(to: URL(fileURLWithPath: path))
        let log = try LineLog(path: path)
        var old = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        let oldSignal = signal(SIGXFSZ, SIG_IGN)
        var small = old
        small.rlim_cur = 16
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &small), 0)
        defer {
            setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, oldSignal)
        }
        assertThrows(try log.append(String(repeating: "x", count: 100)), mentioning: "file too large")
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "{\"a\":1}\n")
    }
}
