import Foundation
import XCTest

/// docs/man/btviz.1 as scripts/man writes it: every character the help has, and nothing groff warns about.
final class ManPageTests: XCTestCase {
    let page = repoRoot.appendingPathComponent("docs/man/btviz.1").path

    /// The generator keeps only ASCII; scripts/man hands it the rest as tokens and writes groff escapes back.
    func testTheManPageKeepsLambdaAndEveryOtherCharacter() throws {
        let text = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(text.contains("+ and - move \\[u03BB] in 1-3-10 steps"), "the explorer keys' λ")
        XCTAssertFalse(text.contains("move  in"), "a character was dropped")
        XCTAssertFalse(text.contains("@U03BB@"), "a token was left unescaped")
        XCTAssertTrue(text.unicodeScalars.allSatisfy(\.isASCII), "non-ASCII is written as groff escapes")
        XCTAssertFalse(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().contains(""),
                       "a blank line (groff warns: empty input line)")
    }

    /// groff, where it is installed, renders λ and warns about nothing (-ww: every warning).
    func testGroffRendersItWithoutWarnings() throws {
        guard let groff = ["/usr/bin/groff", "/usr/local/bin/groff"].first(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("groff is not installed") }
        let o = try runProgram(groff, ["-man", "-Tutf8", "-ww", page], environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(o.stderr, "", "groff warned")
        // Lines are filled and may break anywhere: compare with the whitespace collapsed.
        let words = o.stdout.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        XCTAssertTrue(words.contains("move λ in 1-3-10 steps"), String(words.prefix(800)))
    }
}
