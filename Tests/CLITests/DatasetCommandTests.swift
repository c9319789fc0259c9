import Foundation
import XCTest

/// The new datasets through the real binary: training and evaluating on each, `btviz datasets`, `btviz fetch`
/// against a loopback server (resume and progress bar included), and every kind of bad data as one clean line.
final class DatasetCommandTests: XCTestCase {
    let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/datasets").path
    var cifarDir: String { sharedData.appendingPathComponent("cifar10-subset").path }
    let quick = ["--epochs", "1", "--k", "4", "--headless", "--log-every", "1"]

    func requireCIFAR() throws {
        guard FileManager.default.fileExists(atPath: cifarDir + "/data_batch_1.bin") else {
            XCTFail("no shared data: ../shared beside the repository is part of the test setup"); throw XCTSkip("no shared data")
        }
    }

    func config(_ run: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
    }

    func testTrainAndEvalOnCIFAR10() throws {
        try requireCIFAR()
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--dataset", "cifar10", "--data-dir", cifarDir, "--train-limit", "256", "--test-limit", "128",
                           "--run-dir", run] + quick)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("epoch 1/1 done"), o.stdout)
        let c = try config(run)
        XCTAssertEqual((c["header"] as! [String: Any])["input_shape"] as? [Int], [3, 32, 32])
        XCTAssertEqual((c["header"] as! [String: Any])["dataset"] as? String, "cifar10")
        XCTAssertEqual((c["config"] as! [String: Any])["flip"] as? Bool, true)
        let e = try btviz(["eval", run, "--json", "--calibration-images", "64"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("\"method\":\"bt\""), e.stdout)
    }

    /// The explorer's header names the dataset and its image shape (replayed in tmux from a CIFAR-10 run).
    func testExplorerHeaderShowsTheImageShape() throws {
        try requireCIFAR()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { XCTFail("tmux is required"); throw XCTSkip("no tmux") }
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--dataset", "cifar10", "--data-dir", cifarDir, "--train-limit", "64", "--test-limit", "32",
                           "--run-dir", run] + quick)
        XCTAssertEqual(o.status, 0, o.stderr)
        let socket = "btviz-ds-\(UUID().uuidString.prefix(8))", capture = temporaryDirectory() + "/pane.txt"
        // posix_spawn and waitpid, not Process: Process can miss the exit of a tmux client whose server
        // daemonizes (see ExplorerTmuxTests). The pane goes to a file, so no pipe is left to a server.
        func sh(_ command: String) {
            let args: [String] = ["/bin/sh", "-c", command]
            let argv = args.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
            var pid: pid_t = 0, status: Int32 = 0
            guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ) == 0 else { return }
            waitpid(pid, &status, 0)
        }
        defer { sh("tmux -L \(socket) kill-server") }
        sh("tmux -L \(socket) new-session -d -s t -x 150 -y 40 \"'\(btvizPath)' replay '\(run)'\"")
        var screen = ""
        for _ in 0..<50 {
            usleep(200_000)
            sh("tmux -L \(socket) capture-pane -p -t t > '\(capture)'")
            screen = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
            if screen.contains("VGG-6") { break }
        }
        let header = screen.split(separator: "\n").first { $0.contains("VGG-6") } ?? ""
        XCTAssertTrue(header.contains("cifar10") && header.contains("3x32x32"), screen)
    }

    func testTrainOnSVHNAndImageNet64Files() throws {
        let svhn = try btviz(["train", "--dataset", "svhn", "--data-dir", fixtures + "/svhn", "--batch-size", "4",
                              "--run-dir", temporaryDirectory() + "/run"] + quick)
        XCTAssertEqual(svhn.status, 0, svhn.stderr)
        // ImageNet 64x64 as unpacked: the parts in the folder itself; 1,000 classes.
        let inet = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--dataset", "imagenet64", "--data-dir", fixtures + "/imagenet64", "--batch-size", "4",
                           "--run-dir", inet] + quick)
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertEqual(((try config(inet))["header"] as! [String: Any])["input_shape"] as? [Int], [3, 64, 64])
        XCTAssertTrue(o.stdout.contains("step 3/3"), o.stdout)  // 9 images, batches of 4
    }

    func makeFolder(_ classes: [String: [String]]) throws -> String {
        let root = temporaryDirectory()
        for (name, files) in classes {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            for (i, f) in files.enumerated() {
                try FileManager.default.copyItem(atPath: fixtures + "/images/" + f, toPath: root + "/\(name)/\(i)-\(f)")
            }
        }
        return root
    }

    func testTrainOnAnImageFolder() throws {
        let good = ["rgb.png", "rgb.jpg", "palette.png", "rgba.png"]
        let root = try makeFolder(["one": good + ["truncated.png"], "two": ["grey.png", "grey.jpg", "grey16.png", "grey.png"]])
        let run = temporaryDirectory() + "/run"
        let o = try btviz(["train", "--dataset", "folder", "--data-dir", root, "--test-ratio", "0.25", "--image-size", "16",
                           "--fit", "center-crop", "--batch-size", "2", "--run-dir", run] + quick)
        XCTAssertEqual(o.status, 0, o.stderr)
        // One warning line that counts the skipped file, then training as usual.
        XCTAssertEqual(o.stderr.split(separator: "\n").count, 1, o.stderr)
        XCTAssertTrue(o.stderr.hasPrefix("btviz: warning: skipped 1 of 9 image files"), o.stderr)
        let c = try config(run)
        XCTAssertEqual((c["header"] as! [String: Any])["input_shape"] as? [Int], [3, 16, 16])
        XCTAssertEqual((c["config"] as! [String: Any])["fit"] as? String, "center-crop")
        XCTAssertEqual((c["config"] as! [String: Any])["test_ratio"] as? Double, 0.25)
        // eval reads the same folder with the same options from the run's config.
        let e = try btviz(["eval", run, "--calibration-images", "4", "--no-recalibrate"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("folder test split (2 images)"), e.stdout)
    }

    func testDatasetsListing() throws {
        try requireCIFAR()
        let home = temporaryDirectory()
        let o = try btviz(["datasets"], environment: ["HOME": home])
        XCTAssertEqual(o.status, 0, o.stderr)
        for name in ["synthetic", "fashion", "mnist", "kmnist", "cifar10", "svhn", "imagenet64", "folder"] {
            XCTAssertTrue(o.stdout.contains("\n\(name) ") || o.stdout.hasPrefix(name), "\(name) missing:\n\(o.stdout)")
        }
        XCTAssertTrue(o.stdout.contains("btviz fetch cifar10"), o.stdout)
        XCTAssertTrue(o.stdout.contains("3x64x64"), o.stdout)
        // Found through $BTVIZ_DATA/<name>, and through --data-dir.
        let data = temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: data + "/cifar10", withDestinationPath: cifarDir)
        let viaEnv = try btviz(["datasets"], environment: ["HOME": home, "BTVIZ_DATA": data])
        let line = viaEnv.stdout.split(separator: "\n").first { $0.hasPrefix("cifar10 ") } ?? ""
        XCTAssertTrue(line.contains(data + "/cifar10") && line.contains("1 of 5 training batches"), viaEnv.stdout)
        let viaDir = try btviz(["datasets", "--data-dir", fixtures + "/svhn"], environment: ["HOME": home])
        XCTAssertTrue(viaDir.stdout.split(separator: "\n").contains { $0.hasPrefix("svhn ") && $0.contains(fixtures + "/svhn") }, viaDir.stdout)
    }

    /// Bad data of every new kind: one line on stderr that names the problem, a non-zero exit.
    func testBadData() throws {
        try requireCIFAR()
        func train(_ dataset: String, _ dir: String, _ extra: [String] = []) throws -> Output {
            try btviz(["train", "--dataset", dataset, "--data-dir", dir, "--batch-size", "4", "--run-dir", temporaryDirectory() + "/r"] + quick + extra)
        }
        // CIFAR-10: a record cut short.
        let c = temporaryDirectory()
        let raw = try Data(contentsOf: URL(fileURLWithPath: cifarDir + "/test_batch.bin"))
        try raw.prefix(10 * 3073).write(to: URL(fileURLWithPath: c + "/test_batch.bin"))
        try raw.prefix(20 * 3073 - 7).write(to: URL(fileURLWithPath: c + "/data_batch_1.bin"))
        assertCleanFailure(try train("cifar10", c), mentioning: "3073-byte records")
        // SVHN: a .mat without y, and X of the wrong shape.
        for (bad, says) in [("no_y.mat", "no variable 'y'"), ("wrong_shape.mat", "X has shape 28x28x3x4")] {
            let s = temporaryDirectory()
            try FileManager.default.copyItem(atPath: fixtures + "/svhn-bad/" + bad, toPath: s + "/train_32x32.mat")
            try FileManager.default.copyItem(atPath: fixtures + "/svhn/test_32x32.mat", toPath: s + "/test_32x32.mat")
            assertCleanFailure(try train("svhn", s), mentioning: says)
        }
        // ImageNet 64x64: a part without its labels member.
        let n = temporaryDirectory()
        try FileManager.default.copyItem(atPath: fixtures + "/npz-bad/no_labels.npz", toPath: n + "/train_data_batch_1.npz")
        try FileManager.default.copyItem(atPath: fixtures + "/imagenet64/val_data.npz", toPath: n + "/val_data.npz")
        assertCleanFailure(try train("imagenet64", n), mentioning: "no 'labels' array")
        // Image folders: a class folder without images; every file unreadable; no test split; no folder.
        let empty = try makeFolder(["a": ["rgb.png", "rgb.jpg"], "b": []])
        assertCleanFailure(try train("folder", empty, ["--test-ratio", "0.5"]), mentioning: "has no PNG or JPEG images")
        let broken = try makeFolder(["a": ["truncated.png", "truncated.jpg"], "b": ["not_an_image.jpg", "truncated.png"]])
        assertCleanFailure(try train("folder", broken, ["--test-ratio", "0.5"]), mentioning: "could be read")
        let fine = try makeFolder(["a": ["rgb.png", "rgb.jpg"], "b": ["grey.png", "grey.jpg"]])
        assertCleanFailure(try train("folder", fine), mentioning: "--test-ratio")
        assertCleanFailure(try btviz(["train", "--dataset", "folder", "--test-ratio", "0.5", "--run-dir", temporaryDirectory() + "/r"] + quick),
                           mentioning: "--data-dir")
        // Options that belong to image folders, given for a dataset with its own size and split.
        assertCleanFailure(try train("cifar10", cifarDir, ["--image-size", "64"]), mentioning: "--image-size does not apply to cifar10")
        assertCleanFailure(try train("folder", fine, ["--test-ratio", "1.5"]), mentioning: "--test-ratio must be between 0 and 1")
        // A dataset name fetch does not know.
        assertCleanFailure(try btviz(["fetch", "cifar100"]), mentioning: "unknown dataset 'cifar100'")
        assertCleanFailure(try btviz(["fetch", "folder"]), mentioning: "nothing to fetch")
    }

    /// The real fetch against a loopback server that drops the first connection part-way: the run fails with one
    /// line and keeps the .part, the next resumes it with a Range request, and the official md5s check out.
    func testFetchResumesOverLoopback() throws {
        let official = sharedData.appendingPathComponent("fashion").path
        guard FileManager.default.fileExists(atPath: official) else { XCTFail("no shared data"); throw XCTSkip("no shared data") }
        let log = temporaryDirectory() + "/requests.log"
        let server = try RangeServer(serving: official, options: ["--cut-after", "3000000", "--log", log])
        defer { server.stop() }
        let dest = temporaryDirectory() + "/fashion"
        let first = try btviz(["fetch", "fashion", "--dir", dest, "--base-url", server.url], timeout: 120)
        assertCleanFailure(first, mentioning: "run again to resume")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dest)
        XCTAssertEqual(parts, ["train-images-idx3-ubyte.gz.part"])
        let second = try btviz(["fetch", "fashion", "--dir", dest, "--base-url", server.url], timeout: 120)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("train-images-idx3-ubyte.gz: resuming"), second.stdout)
        XCTAssertEqual(second.stdout.components(separatedBy: "md5 ok").count - 1, 4, second.stdout)
        XCTAssertFalse(second.stdout.contains("\r"), "no progress bar when stdout is not a terminal")
        XCTAssertTrue(try String(contentsOfFile: log, encoding: .utf8).contains("GET /train-images-idx3-ubyte.gz range=bytes=3000000-"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dest).sorted(),
                       ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
        // The fetched folder trains.
        let t = try btviz(["train", "--dataset", "fashion", "--data-dir", dest, "--train-limit", "128", "--test-limit", "64",
                           "--run-dir", temporaryDirectory() + "/r"] + quick)
        XCTAssertEqual(t.status, 0, t.stderr)
    }

    /// On a terminal the fetch draws a progress bar (redrawn in place with \r).
    func testFetchDrawsAProgressBarOnATerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no script(1) for a pseudo-terminal") }
        let official = sharedData.appendingPathComponent("fashion").path
        guard FileManager.default.fileExists(atPath: official) else { XCTFail("no shared data"); throw XCTSkip("no shared data") }
        let server = try RangeServer(serving: official, options: [])
        defer { server.stop() }
        let dest = temporaryDirectory() + "/fashion", out = temporaryDirectory() + "/typescript"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-q", "-e", "-c", "'\(btvizPath)' fetch fashion --dir '\(dest)' --base-url \(server.url)", out]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let screen = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(screen.contains("\r\u{1B}[K"), "redrawn in place")
        XCTAssertTrue(screen.contains("[##############################] 100%"), screen)
        XCTAssertTrue(screen.contains("MB/s"), screen)
        XCTAssertTrue(screen.contains("fashion is in \(dest)"), screen)
    }
}

/// Tests/Fixtures/datasets/range_server.py on a free loopback port: answers Range requests, can drop a first
/// response part-way, logs requests.
final class RangeServer {
    let process = Process()
    private(set) var url = ""

    init(serving dir: String, options: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", repoRoot.appendingPathComponent("Tests/Fixtures/datasets/range_server.py").path, dir] + options
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "port N".
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            stop(); throw XCTSkip("range server did not start: \(line)")
        }
        url = "http://127.0.0.1:\(port)/"
    }

    /// SIGKILL: children of the test runner inherit a signal mask that blocks SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
