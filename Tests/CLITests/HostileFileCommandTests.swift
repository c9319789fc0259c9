import Foundation
import XCTest

/// Files that crash a library btviz reads through (not btviz's own parser) still end in one line.
final class HostileFileCommandTests: XCTestCase {
    let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/datasets").path

    /// An 8 KB damaged v7.3 (HDF5) .mat file, found by fuzzing, on which Debian's libhdf5 segfaults inside Mat_Open.
    /// The CLI reads v7.3 files in a child process first, so the crash is reported, not suffered.
    func testAFileThatCrashesLibHDF5IsAOneLineError() throws {
        let dir = temporaryDirectory()
        try FileManager.default.copyItem(atPath: fixtures + "/svhn-bad/hdf5-crash.mat", toPath: dir + "/train_32x32.mat")
        try FileManager.default.copyItem(atPath: fixtures + "/svhn-bad/hdf5-crash.mat", toPath: dir + "/test_32x32.mat")
        let o = try btviz(["train", "--dataset", "svhn", "--data-dir", dir, "--epochs", "1", "--headless",
                           "--run-dir", temporaryDirectory() + "/r"])
        assertCleanFailure(o, mentioning: "libhdf5 crashed reading it")
    }
}
