import Foundation
import XCTest

/// The second hostile campaign's cases on what a run reads and prints (issue 31): predict's memory and escaping,
/// messages that name the file rather than an option nobody gave, and a run killed between checkpoints.
final class HostileRunInputTests: XCTestCase {
    let images = repoRoot.appendingPathComponent("Tests/Fixtures/datasets/images").path

    /// A run on 512x512 images from a folder of 6; `classNames` are the class subfolders.
    func folderRun(classNames: [String], side: Int = 512) throws -> String {
        let root = temporaryDirectory(), data = root + "/data", run = root + "/run"
        for c in classNames {
            try FileManager.default.createDirectory(atPath: data + "/" + c, withIntermediateDirectories: true)
            for i in 0..<3 { try FileManager.default.copyItem(atPath: images + "/rgb.png", toPath: "\(data)/\(c)/\(i).png") }
        }
        let o = try btviz(["train", "--dataset", "folder", "--data-dir", data, "--test-ratio", "0.34", "--image-size", "\(side)",
                           "--k", "1", "--epochs", "1", "--headless", "--run-dir", run], timeout: 300)
        XCTAssertEqual(o.status, 0, o.stderr)
        return run
    }

    /// 500 images for a 512-pixel run are 1.6 GB of inputs: predict classifies them a batch at a time under a
    /// 1.5 GB address-space limit (it allocated all of them at once before, 12.6 GB for the campaign's 4,000).
    func testPredictKeepsOneBatchOfImagesInMemory() throws {
        let run = try folderRun(classNames: ["a", "b"])
        let many = temporaryDirectory()
        for i in 0..<500 { XCTAssertEqual(link(images + "/rgb.png", String(format: "%@/%03d.png", many, i)), 0) }
        let o = try btviz(["predict", "--run", run, many, "--json"], timeout: 600, addressSpaceKB: 1_500_000)
        XCTAssertEqual(o.status, 0, o.stderr)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(results.count, 500)
        // The same image everywhere: the same class and probability, whichever batch it was in.
        XCTAssertEqual(Set(results.map { "\($0["class"]!) \($0["probability"]!)" }).count, 1)
        XCTAssertEqual(results.last?["path"] as? String, many + "/499.png")
    }

    /// Class names (from a folder's subfolders) and file names reach the terminal escaped; --top takes -1 as a
    /// value and refuses it as one.
    func testPredictPrintsNamesFromFilesEscaped() throws {
        let run = try folderRun(classNames: ["cat\u{1B}[2J", "dog\u{1B}]0;owned\u{07}"], side: 32)
        let dir = temporaryDirectory(), evil = dir + "/x\u{1B}[31m.png"
        try FileManager.default.copyItem(atPath: images + "/rgb.png", toPath: evil)
        let o = try btviz(["predict", "--run", run, evil, "--top", "2"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertFalse(o.stdout.contains("\u{1B}"), o.stdout.debugDescription)
        XCTAssertTrue(o.stdout.contains("x\\x1B[31m.png"), o.stdout.debugDescription)
        XCTAssertTrue(o.stdout.contains("cat\\x1B[2J") && o.stdout.contains("dog\\x1B]0;owned\\x07"), o.stdout.debugDescription)
        assertCleanFailure(try btviz(["predict", "--run", run, evil, "--top", "-1"]), mentioning: "--top must be at least 1 (got -1)")
    }

    /// A state_dict whose first conv has 600 filters is refused naming the file's tensor, not an option --k.
    func testEvalWeightsBeyondTheLargestKNamesTheFile() throws {
        let file = temporaryDirectory() + "/wide.safetensors"
        let header = #"{"features.0.weight":{"dtype":"F32","shape":[600,1,3,3],"data_offsets":[0,21600]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        bytes.append(Data(header.utf8))
        bytes.append(Data(count: 21600))
        try bytes.write(to: URL(fileURLWithPath: file))
        let o = try btviz(["eval", "--weights", file])
        assertCleanFailure(o, mentioning: "features.0.weight has 600 filters (VGG-6 K=600); btviz builds VGG-6 with K up to 512")
        XCTAssertFalse(o.stderr.contains("--k"), o.stderr)
    }

    /// A run that stops between checkpoints (here a NaN at step 40 of 64, the checkpoint at step 32) and is resumed
    /// logs every step once: the records after its checkpoint are dropped (and said so), and the resumed file's
    /// step records equal an uninterrupted run's.
    func testAResumeAfterAStopBetweenCheckpointsLogsEachStepOnce() throws {
        let root = temporaryDirectory()
        let common = ["train", "--dataset", "fashion", "--data-dir", fashionDir, "--k", "4", "--epochs", "2", "--batch-size", "32",
                      "--train-limit", "1024", "--test-limit", "64", "--log-every", "1", "--headless"]
        XCTAssertEqual(try btviz(common + ["--run-dir", root + "/whole"], timeout: 300).status, 0)
        let cut = try btviz(common + ["--run-dir", root + "/cut", "--inject-nan-at", "40"], timeout: 300)
        XCTAssertNotEqual(cut.status, 0)
        XCTAssertTrue(try steps(root + "/cut").contains(39), "the stopped run logged steps after its checkpoint")
        let resumed = try btviz(["train", "--resume", root + "/cut", "--headless"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("were dropped from") && resumed.stderr.contains("(step 32)"), resumed.stderr)
        let got = try steps(root + "/cut"), want = try steps(root + "/whole")
        XCTAssertEqual(got, want)
        XCTAssertEqual(got, Array(0...64))
        XCTAssertEqual(try losses(root + "/cut"), try losses(root + "/whole"), "the resumed run is the uninterrupted one")
    }

    private func records(_ run: String, type: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["type"] as? String == type }
    }

    private func steps(_ run: String) throws -> [Int] { try records(run, type: "step").compactMap { $0["step"] as? Int } }
    private func losses(_ run: String) throws -> [String] { try records(run, type: "step").map { "\($0["step"]!) \($0["task_loss"] ?? "-")" } }
}
