import Foundation
import XCTest
import Explorer
import Records

/// `btviz attach`'s channel: what a sender writes the trainer's inbox takes back, in order, once; and what anyone
/// else put in the folder is refused with a reason, never applied, never followed.
final class RunRequestsTests: XCTestCase {
    private var run = ""

    override func setUpWithError() throws {
        run = FileManager.default.temporaryDirectory.appendingPathComponent("btviz-requests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: run) }

    private func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: RunRequests.folder(of: run))) ?? []).sorted()
    }

    func testRequestsComeBackInTheOrderSentAndOnlyOnce() throws {
        XCTAssertThrowsError(try RunRequests.send(.save, to: run), "no trainer has made the folder yet") {
            XCTAssertTrue("\($0)".contains("no requests folder"), "\($0)")
        }
        let inbox = try RunRequestInbox(runDir: run)
        let sent: [RunRequest] = [.method("twn"), .lambda(0.05), .pause(true), .save, .pause(false), .lambda(0)]
        for r in sent { try RunRequests.send(r, to: run) }
        let taken = inbox.take()
        XCTAssertEqual(taken.requests, sent)
        XCTAssertEqual(taken.refused, [])
        XCTAssertEqual(entries(), [], "taken requests are removed")
        XCTAssertEqual(inbox.take().requests, [], "and not taken twice")
    }

    func testNamesAreTheSendersOnly() {
        XCTAssertTrue(RunRequests.isRequestName(RunRequests.newName()))
        for bad in ["x.json", "00000000000000000001-1-0123456789abcdef.txt", ".00000000000000000001-1-0123456789abcdef.json",
                    "0000000000000000001-1-0123456789abcdef.json", "00000000000000000001--0123456789abcdef.json",
                    "00000000000000000001-1-0123456789ABCDEF.json", "00000000000000000001-1-0123456789abcdef.json.tmp"] {
            XCTAssertFalse(RunRequests.isRequestName(bad), bad)
        }
    }

    /// A link, a FIFO, an oversized file, bad JSON, two requests in one, a negative λ: each refused with its reason
    /// and removed (the link itself, not what it names); other files in the folder are left alone.
    func testWhatOthersPutInTheFolderIsRefusedNotFollowed() throws {
        let inbox = try RunRequestInbox(runDir: run)
        let dir = RunRequests.folder(of: run)
        let target = run + "/target.json"
        try Data(#"{"save":true}"#.utf8).write(to: URL(fileURLWithPath: target))
        func name(_ i: Int) -> String { String(format: "%020d-1-0123456789abcdef.json", i) }
        XCTAssertEqual(symlink(target, dir + "/" + name(1)), 0)
        XCTAssertEqual(mkfifo(dir + "/" + name(2), 0o644), 0)
        try Data(repeating: 32, count: RunRequests.maxBytes + 1).write(to: URL(fileURLWithPath: dir + "/" + name(3)))
        let bodies = [#"{"method":"twn""#, #"{"method":"twn","lambda":1}"#, #"{"lambda":-1}"#, #"{"pause":1}"#, #"[]"#, #"{"save":false}"#]
        for (i, b) in bodies.enumerated() { try Data(b.utf8).write(to: URL(fileURLWithPath: dir + "/" + name(4 + i))) }
        try Data(#"{"lambda":0.5}"#.utf8).write(to: URL(fileURLWithPath: dir + "/" + name(20)))
        try Data(#"{"save":true}"#.utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))

        let taken = inbox.take()
        XCTAssertEqual(taken.requests, [.lambda(0.5)], "only the well-formed request")
        XCTAssertEqual(taken.refused.count, 3 + bodies.count, taken.refused.joined(separator: "\n"))
        XCTAssertTrue(taken.refused[0].contains("a link"), taken.refused[0])
        XCTAssertTrue(taken.refused[1].contains("not a regular file"), taken.refused[1])
        XCTAssertTrue(taken.refused[2].contains("over the \(RunRequests.maxBytes)"), taken.refused[2])
        XCTAssertTrue(taken.refused[4].contains("exactly one"), taken.refused[4])
        XCTAssertTrue(taken.refused[5].contains("lambda must be"), taken.refused[5])
        XCTAssertEqual(entries(), ["notes.txt"], "every request file is gone, the other file stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: target), "the link's target is untouched")
    }

    func testAFolderThatIsALinkIsRefused() throws {
        let elsewhere = run + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        XCTAssertEqual(symlink(elsewhere, RunRequests.folder(of: run)), 0)
        XCTAssertThrowsError(try RunRequestInbox(runDir: run)) { XCTAssertTrue("\($0)".contains("not a folder"), "\($0)") }
        XCTAssertThrowsError(try RunRequests.send(.save, to: run), "nor does a sender write through it")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [])
    }

    func testTheInboxTakesABoundedNumberAPoll() throws {
        let inbox = try RunRequestInbox(runDir: run)
        for _ in 0..<(RunRequests.maxPerTake + 5) { try RunRequests.send(.save, to: run) }
        XCTAssertEqual(inbox.take().requests.count, RunRequests.maxPerTake)
        XCTAssertEqual(inbox.take().requests.count, 5)
    }

    /// Attached, the trainer keys are the live ones; q, d and Esc leave (the run goes on), nothing detaches.
    func testAttachedKeys() {
        let k = { KeyMap.action(for: $0, mode: .attached) }
        XCTAssertEqual(k(.char("3")), .method(.twn))
        XCTAssertEqual(k(.char("+")), .lambdaUp)
        XCTAssertEqual(k(.char(" ")), .togglePause)
        XCTAssertEqual(k(.char("s")), .save)
        for key: KeyInput in [.char("q"), .char("d"), .escape, .ctrlC] { XCTAssertEqual(k(key), .quit, "\(key)") }
        XCTAssertEqual(KeyMap.action(for: .char("d"), mode: .live), .detach)
        XCTAssertTrue(ExplorerMode.attached.steersTrainer)
        XCTAssertFalse(ExplorerMode.replay.steersTrainer)
    }
}
