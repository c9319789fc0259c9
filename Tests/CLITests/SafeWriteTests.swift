import Foundation
import XCTest

/// What btviz writes, under the hostile campaign of issue 31: links planted beside a target or as the target, a
/// FIFO or a device as the output, a user's folder named like a temporary, a FIFO as metrics.jsonl. Each case
/// checks that nothing was written outside the folder the user named (a victim file's bytes, and no new entry).
final class SafeWriteTests: XCTestCase {
    let quick = ["--dataset", "fashion", "--data-dir", fashionDir, "--k", "4", "--epochs", "1", "--train-limit", "128",
                 "--test-limit", "32", "--headless"]
    nonisolated(unsafe) static var trained: String?
    static let root = temporaryDirectory()

    /// One short run for the export cases, trained once for the class.
    func trainedRun() throws -> String {
        if let run = Self.trained { return run }
        let run = Self.root + "/run"
        let o = try btviz(["train"] + quick + ["--run-dir", run], timeout: 300)
        XCTAssertEqual(o.status, 0, o.stderr)
        Self.trained = run
        return run
    }

    /// A folder `out` to write into, and beside it a folder `elsewhere` holding only `victim`: the campaign's
    /// target outside the folder the user named.
    struct Scene {
        let out: String, elsewhere: String, victim: String, marker: timespec
        static let precious = "precious bytes\n"
        init() throws {
            let root = temporaryDirectory()
            out = root + "/out"; elsewhere = root + "/elsewhere"; victim = elsewhere + "/victim"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
            try Data(Scene.precious.utf8).write(to: URL(fileURLWithPath: victim))
            var st = stat()
            lstat(victim, &st)
            marker = st.st_mtim
        }

        /// The victim's bytes are as they were, and nothing in `elsewhere` is new or newer than the victim was.
        func assertNothingWrittenOutside(file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(try? String(contentsOfFile: victim, encoding: .utf8), Scene.precious, "the victim's bytes", file: file, line: line)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: elsewhere)) ?? []
            XCTAssertEqual(entries, ["victim"], "nothing new outside the folder", file: file, line: line)
            for name in entries {
                var st = stat()
                lstat(elsewhere + "/" + name, &st)
                let newer = (st.st_mtim.tv_sec, st.st_mtim.tv_nsec) > (marker.tv_sec, marker.tv_nsec)
                XCTAssertFalse(newer, "\(name) was written", file: file, line: line)
            }
        }
    }

    /// Runs btviz through `sh -c 'ln -sfn TARGET LINK-with-$$; exec btviz ...'`: the shell's pid is btviz's, so
    /// the link has the name the old AtomicFile gave its temporary (".<name>.tmp-<pid>").
    func btvizWithPlantedTemporary(folder: String, name: String, target: String, _ args: [String]) throws -> Output {
        try runProgram("/bin/sh", ["-c", "t=$0 d=$1 n=$2 b=$3; shift 3; ln -sfn \"$t\" \"$d/.$n.tmp-$$\" && exec \"$b\" \"$@\"", target, folder, name, btvizPath] + args)
    }

    func kind(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    // MARK: - Links planted beside the target

    func testALinkPlantedUnderTheOldTemporaryNameIsNotFollowedByExport() throws {
        let run = try trainedRun()
        for (format, name) in [("onnx", "m.onnx"), ("safetensors", "m.safetensors")] {
            let s = try Scene()
            let o = try btvizWithPlantedTemporary(folder: s.out, name: name, target: s.victim,
                                                  ["export", run, "--format", format, "--out", s.out + "/" + name])
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: s.out + "/" + name)).count, 1000, "the model is in the folder")
            XCTAssertEqual(kind(s.out + "/" + name), S_IFREG)
            let left = try FileManager.default.contentsOfDirectory(atPath: s.out).sorted()
            XCTAssertEqual(left.count, 2, "the model and the planted link, no temporary: \(left)")
            s.assertNothingWrittenOutside()
        }
    }

    /// A training's checkpoint.bin: a link planted in the run folder under the old temporary name is left alone,
    /// and the checkpoint lands in the folder.
    func testALinkPlantedInARunFolderIsNotFollowedByTheCheckpoint() throws {
        let s = try Scene()
        let run = s.out + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let o = try btvizWithPlantedTemporary(folder: run, name: "checkpoint.bin", target: s.victim, ["train"] + quick + ["--run-dir", run])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(kind(run + "/checkpoint.bin"), S_IFREG)
        XCTAssertEqual(try btviz(["eval", run]).status, 0, "the checkpoint is whole")
        s.assertNothingWrittenOutside()
    }

    // MARK: - Links as the target

    /// checkpoint.bin itself a link out of the run folder: the resume is refused with one line before it trains,
    /// and the link and its target stay as they were.
    func testALinkedCheckpointIsRefused() throws {
        let s = try Scene()
        let run = s.out + "/run"
        XCTAssertEqual(try btviz(["train"] + quick + ["--run-dir", run]).status, 0)
        try FileManager.default.removeItem(atPath: s.victim)
        try FileManager.default.moveItem(atPath: run + "/checkpoint.bin", toPath: s.victim)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.victim))
        try FileManager.default.createSymbolicLink(atPath: run + "/checkpoint.bin", withDestinationPath: s.victim)
        assertCleanFailure(try btviz(["train", "--resume", run, "--headless", "--epochs", "2"]),
                           mentioning: "its checkpoint.bin is a symbolic link, not a file btviz wrote")
        assertCleanFailure(try btviz(["train"] + quick + ["--run-dir", run, "--replace"]), mentioning: "is a symbolic link")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: s.victim)), bytes, "the checkpoint outside is untouched")
        XCTAssertEqual(kind(run + "/checkpoint.bin"), S_IFLNK)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.elsewhere), ["victim"])
    }

    /// sweep.json a link to a file outside (a copy of the real plan, so it reads as one): the rerun refuses to
    /// write through or over it; a link under the old temporary name is not followed either.
    func testALinkedSweepPlanIsRefused() throws {
        let s = try Scene()
        let sweep = s.out + "/sweep", spec = s.out + "/spec.yaml"
        try Data("name: safe\nmethod: grid\nparameters:\n  seed: {values: [0]}\n  epochs: {value: 1}\n  k: {value: 4}\n  train_limit: {value: 64}\n  test_limit: {value: 16}\n  dataset: {value: fashion}\n  data_dir: {value: \(fashionDir)}\n".utf8)
            .write(to: URL(fileURLWithPath: spec))
        let first = try btviz(["sweep", "run", spec, "--out", sweep], timeout: 300)
        XCTAssertEqual(first.status, 0, first.stderr)
        // The old temporary name of sweep.json, planted for the rerun's pid.
        let again = try btvizWithPlantedTemporary(folder: sweep, name: "sweep.json", target: s.victim, ["sweep", "run", spec, "--out", sweep])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(kind(sweep + "/sweep.json"), S_IFREG)
        s.assertNothingWrittenOutside()

        // sweep.json itself a link to a copy outside.
        let plan = try Data(contentsOf: URL(fileURLWithPath: sweep + "/sweep.json"))
        try plan.write(to: URL(fileURLWithPath: s.victim))
        try FileManager.default.removeItem(atPath: sweep + "/sweep.json")
        try FileManager.default.createSymbolicLink(atPath: sweep + "/sweep.json", withDestinationPath: s.victim)
        assertCleanFailure(try btviz(["sweep", "run", spec, "--out", sweep]), mentioning: "sweep.json: it is a symbolic link")
        XCTAssertEqual(kind(sweep + "/sweep.json"), S_IFLNK, "the link was not replaced")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: s.victim)), plan, "nor written through")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.elsewhere), ["victim"])
    }

    // MARK: - export --out that is not a regular file

    func testExportRefusesAFIFOADeviceAndLinks() throws {
        let run = try trainedRun()
        let s = try Scene()
        let fifo = s.out + "/pipe.onnx", node = s.out + "/full", link = s.out + "/link.onnx", dangling = s.out + "/dangling.onnx"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: s.victim)
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: s.elsewhere + "/created.onnx")
        for format in ["onnx", "safetensors", "npz"] {
            assertCleanFailure(try btviz(["export", run, "--format", format, "--out", fifo]), mentioning: "a FIFO (named pipe), not a regular file")
            assertCleanFailure(try btviz(["export", run, "--format", format, "--out", link]), mentioning: "is a symbolic link")
            assertCleanFailure(try btviz(["export", run, "--format", format, "--out", dangling]), mentioning: "is a symbolic link")
            assertCleanFailure(try btviz(["export", run, "--format", format, "--out", s.out]), mentioning: "a directory, not a regular file")
        }
        XCTAssertEqual(kind(fifo), S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertEqual(kind(link), S_IFLNK)
        XCTAssertEqual(kind(dangling), S_IFLNK)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.elsewhere + "/created.onnx"), "a dangling link's target is not created")

        // A character device with /dev/full's numbers, made in the test's folder: no real device is at risk.
        if mknod(node, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0 {
            assertCleanFailure(try btviz(["export", run, "--format", "onnx", "--out", node]), mentioning: "a character device, not a regular file")
            XCTAssertEqual(kind(node), S_IFCHR, "the node is still a device")
        } else if errno != EPERM {
            XCTFail("mknod: \(String(cString: strerror(errno)))")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.out).sorted(),
                       ((kind(node) == nil ? [] : ["full"]) + ["dangling.onnx", "link.onnx", "pipe.onnx"]).sorted(), "no temporary left")
        s.assertNothingWrittenOutside()
        if kind(node) == nil { throw XCTSkip("mknod is not permitted here (EPERM): the device case did not run") }
    }

    /// `--out -` writes the model to standard output (the summary to stderr): the same bytes as the file.
    func testExportToStandardOutput() throws {
        let run = try trainedRun()
        let s = try Scene()
        for format in ["onnx", "safetensors"] {
            let file = s.out + "/m." + format
            XCTAssertEqual(try btviz(["export", run, "--format", format, "--out", file]).status, 0)
            let o = try btviz(["export", run, "--format", format, "--out", "-"])
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertEqual(Data(o.stdout.utf8).count > 0, true)
            XCTAssertTrue(o.stderr.hasPrefix("wrote standard output: "), o.stderr)
        }
        // Byte for byte, through a shell redirection (the Output helper decodes stdout as text).
        let viaShell = s.out + "/shell.onnx"
        let sh = try runProgram("/bin/sh", ["-c", "exec \"$0\" export \"$1\" --format onnx --out - > \"$2\"", btvizPath, run, viaShell])
        XCTAssertEqual(sh.status, 0, sh.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: viaShell)), try Data(contentsOf: URL(fileURLWithPath: s.out + "/m.onnx")))
        assertCleanFailure(try btviz(["export", run, "--format", "reference", "--out", "-"]), mentioning: "--out - (standard output) is for onnx, safetensors and npz")
        s.assertNothingWrittenOutside()
    }

    // MARK: - Cleanup and appends

    /// A user's folder named like an old temporary survives a run start in that folder.
    func testAUserFolderNamedLikeATemporarySurvivesARunStart() throws {
        let s = try Scene()
        let run = s.out
        try FileManager.default.createDirectory(atPath: run + "/.notes.tmp-999999", withIntermediateDirectories: true)
        try Data("my notes\n".utf8).write(to: URL(fileURLWithPath: run + "/.notes.tmp-999999/important.txt"))
        try Data("mine\n".utf8).write(to: URL(fileURLWithPath: run + "/.draft.tmp-999999"))
        try FileManager.default.createSymbolicLink(atPath: run + "/.config.json.tmp-999999-0123456789abcdef", withDestinationPath: s.victim)
        let o = try btviz(["train"] + quick + ["--run-dir", run])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(try String(contentsOfFile: run + "/.notes.tmp-999999/important.txt", encoding: .utf8), "my notes\n")
        XCTAssertEqual(try String(contentsOfFile: run + "/.draft.tmp-999999", encoding: .utf8), "mine\n", "a file of the old pattern is not btviz's to delete")
        XCTAssertEqual(kind(run + "/.config.json.tmp-999999-0123456789abcdef"), S_IFLNK, "a link is never removed or followed")
        s.assertNothingWrittenOutside()
    }

    /// metrics.jsonl a FIFO: --resume fails with one line at once (it used to block for ever, deaf to SIGTERM), and
    /// the FIFO is left as it was.
    func testAFIFOAsMetricsFailsAResumeAtOnce() throws {
        let s = try Scene()
        let run = s.out + "/run"
        XCTAssertEqual(try btviz(["train"] + quick + ["--run-dir", run]).status, 0)
        try FileManager.default.removeItem(atPath: run + "/metrics.jsonl")
        XCTAssertEqual(mkfifo(run + "/metrics.jsonl", 0o644), 0)
        // The helper's time limit fails the test on a hang; the refusal comes before any training.
        assertCleanFailure(try btviz(["train", "--resume", run, "--headless", "--epochs", "2"], timeout: 60),
                           mentioning: "its metrics.jsonl is a FIFO (named pipe)")
        assertCleanFailure(try btviz(["plot", run, "--curves"], timeout: 60), mentioning: "a FIFO (named pipe), not a regular file")
        XCTAssertEqual(kind(run + "/metrics.jsonl"), S_IFIFO)
        s.assertNothingWrittenOutside()
    }

    // MARK: - Output folders

    /// A folder below a file, and empty paths: one line each, never Foundation's "NSCocoaErrorDomain error 512".
    func testOutputFoldersBelowAFileAndEmptyPaths() throws {
        let run = try trainedRun()
        let s = try Scene()
        let file = s.out + "/f"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let spec = s.out + "/spec.yaml"
        try Data("name: f\nmethod: grid\nparameters:\n  seed: {values: [0]}\n".utf8).write(to: URL(fileURLWithPath: spec))
        let cases: [([String], String)] = [
            (["sweep", "run", spec, "--out", file + "/sweep"], "cannot create the sweep folder \(file)/sweep: \(file) is a file, not a folder"),
            (["export", run, "--format", "tensorboard", "--out", file + "/tb"], "cannot create the TensorBoard folder \(file)/tb: \(file) is a file, not a folder"),
            (["export", run, "--format", "reference", "--out", file + "/ref", "--images", "2"], "cannot create the --out folder \(file)/ref: \(file) is a file, not a folder"),
            (["export", run, "--format", "onnx", "--out", file + "/m.onnx"], "cannot write \(file)/m.onnx: \(file) is a file, not a folder"),
            (["plot", run, "--curves", "--out", file + "/c.svg"], "cannot write \(file)/c.svg: \(file) is a file, not a folder"),
            (["train", "--dataset", "synthetic", "--epochs", "1", "--headless", "--run-dir", s.out + "/r", "--tensorboard", file + "/tb"],
             "cannot create the TensorBoard folder \(file)/tb: \(file) is a file, not a folder"),
            (["export", run, "--format", "onnx", "--out", ""], "an empty path"),
            (["export", run, "--format", "tensorboard", "--out", ""], "the TensorBoard folder is an empty path"),
            (["plot", run, "--curves", "--out", ""], "an empty path"),
            (["sweep", "run", spec, "--out", ""], "the sweep folder is an empty path"),
        ]
        for (args, message) in cases {
            let o = try btviz(args)
            assertCleanFailure(o, mentioning: message)
            XCTAssertFalse(o.stderr.contains("NSCocoaErrorDomain"), o.stderr)
            XCTAssertFalse(o.stderr.contains("Is a directory"), o.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "x")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.out + "/r"), "a failed start leaves no run folder")
        s.assertNothingWrittenOutside()
    }
}
