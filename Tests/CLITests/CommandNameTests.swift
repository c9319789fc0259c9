import Foundation
import XCTest

/// A misspelt command names the nearest real one, on one line with a usage error's exit status (64).
final class CommandNameTests: XCTestCase {
    func testMisspeltCommandsSuggestTheNearest() throws {
        for (args, suggestion) in [(["trian"], "'trian' is not a btviz command; did you mean 'train'?"),
                                   (["help", "trian"], "'trian' is not a btviz command; did you mean 'train'?"),
                                   (["sweep", "statsu"], "'statsu' is not a btviz sweep command; did you mean 'status'?"),
                                   (["help", "sweep", "tabel"], "'tabel' is not a btviz sweep command; did you mean 'table'?"),
                                   (["exprot", "run"], "did you mean 'export'?")] {
            let o = try btviz(args)
            assertCleanFailure(o, mentioning: suggestion)
            XCTAssertEqual(o.status, 64, args.joined(separator: " "))
            XCTAssertEqual(o.stdout, "", "nothing on stdout: \(o.stdout)")
        }
        // A word near no command lists them instead of guessing.
        let far = try btviz(["zzzzzz"])
        assertCleanFailure(far, mentioning: "'zzzzzz' is not a btviz command (btviz --help lists them: train, eval,")
        XCTAssertFalse(far.stderr.contains("did you mean"), far.stderr)
        // The word is printed back escaped: an escape sequence in it does not reach the terminal.
        let hostile = try btviz(["\u{1B}[31mtrian"])
        assertCleanFailure(hostile, mentioning: "is not a btviz command")
        XCTAssertFalse(hostile.stderr.contains("\u{1B}"), hostile.stderr)
    }

    /// What was accepted before still is: help for a real command, options for the default command (train).
    func testRealCommandsAndOptionsAreUntouched() throws {
        let help = try btviz(["help", "sweep", "status"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("USAGE: btviz sweep status"), help.stdout)
        let version = try btviz(["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        let option = try btviz(["--epochz", "3"])
        assertCleanFailure(option, mentioning: "Did you mean '--epochs'?")
    }

    /// The methods in the top-level help come from the quantizer registry: LSQ is there.
    func testTopLevelHelpListsEveryMethod() throws {
        let o = try btviz(["--help"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let text = o.stdout.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        XCTAssertTrue(text.contains("(BWN, TWN, TTQ, LQ, BT, LSQ)"), text)
    }
}
