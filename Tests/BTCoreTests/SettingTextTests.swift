import BTCore
import XCTest

/// An error below the command line names a run's settings by their config.json keys; a front end spells them.
final class SettingTextTests: XCTestCase {
    func testSettingsAreKeysUntilAFrontEndSpellsThem() {
        let e = BTError(settings: "lower \(setting: "batch_size") or \(setting: "k") (got \(4096))")
        XCTAssertEqual(e.description, "lower batch_size or k (got 4096)")
        XCTAssertEqual(e.message { "--" + $0.replacingOccurrences(of: "_", with: "-") }, "lower --batch-size or --k (got 4096)")
        // A plain error names no setting: every spelling gives its text.
        XCTAssertEqual(BTError("no checkpoint at /r").message { "<\($0)>" }, "no checkpoint at /r")
    }

    func testTextFromAFileIsNeverASetting() {
        // Braces and control characters in a value are text: escaped, and never spelled as a setting.
        let name = "{k}\u{1B}[2J"
        let e = BTError(settings: "unknown \(setting: "val_set") \(name)")
        XCTAssertEqual(e.message { "--" + $0 }, "unknown --val_set {k}\\x1B[2J")
        XCTAssertEqual(e.description, "unknown val_set {k}\\x1B[2J")
    }

    func testATextKeepsTheSettingsOfATextInIt() {
        let hint: SettingText = "lower \(setting: "image_size")"
        let e = BTError(settings: "too big; \(hint)")
        XCTAssertEqual(e.message { "--" + $0.replacingOccurrences(of: "_", with: "-") }, "too big; lower --image-size")
        XCTAssertTrue(("" as SettingText).isEmpty)
        XCTAssertFalse(hint.isEmpty)
    }
}
