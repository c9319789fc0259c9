import Foundation
import XCTest

/// `btviz export`, `train --init-from/--tensorboard` and `eval --weights`, each file read back by the other tool's
/// own reader (onnxruntime, safetensors, numpy, TensorBoard's event_accumulator) in the Python that scripts/pyenv
/// makes; Tests/Python/export_checks.py does the reading and prints JSON, asserted on here.
final class ExportCommandTests: XCTestCase {
    /// One short Fashion-MNIST run per method, trained once for the whole class (real weights: 1 epoch of the 2,557
    /// images in batches of 32 takes about 2 s and reaches about 70% test accuracy).
    nonisolated(unsafe) static var runs: [String: String] = [:]
    static let root = temporaryDirectory()

    func run(_ method: String) throws -> String {
        if let dir = Self.runs[method] { return dir }
        let dir = Self.root + "/run-" + method
        let o = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--method", method, "--k", "8",
                           "--epochs", "1", "--batch-size", "32", "--test-limit", "256", "--headless", "--run-dir", dir],
                          timeout: 300)
        XCTAssertEqual(o.status, 0, o.stderr)
        Self.runs[method] = dir
        return dir
    }

    /// onnxruntime's logits on 256 test images equal btviz's within 1e-4 of the largest logit, and the predictions
    /// (so the accuracy) are the same image for image, for every method; grid methods store 4 bits per weight.
    func testONNXLogitsEqualBtvizForEveryMethod() throws {
        for method in ["full", "bwn", "twn", "bt", "ttq", "lq"] {
            let dir = try run(method), model = Self.root + "/\(method).onnx", ref = Self.root + "/ref-\(method)"
            let e = try btviz(["export", dir, "--format", "onnx", "--out", model])
            XCTAssertEqual(e.status, 0, e.stderr)
            switch method {
            case "bwn", "twn", "bt":
                XCTAssertTrue(e.stdout.contains("0.500 bytes per weight"), e.stdout)
                XCTAssertEqual(e.stdout.components(separatedBy: "int4 codes × scale").count - 1, 6, e.stdout)
            case "ttq", "lq":
                XCTAssertEqual(e.stdout.components(separatedBy: "float32 Q(W)").count - 1, 6, e.stdout)
            default:
                XCTAssertFalse(e.stdout.contains("bytes per weight"), e.stdout)
            }
            try assertONNXLogitsEqualBtviz(run: dir, model: model, reference: ref, atLeastCorrect: 100, method)
        }
        // The same network's file is smaller by the convs' 28 of every 32 bits.
        let bt = try fileSize(Self.root + "/bt.onnx"), full = try fileSize(Self.root + "/full.onnx")
        XCTAssertLessThan(bt, full)
    }

    /// The SR net through onnxruntime (bicubic image as its second input) gives `btviz eval`'s Set5 PSNR within 0.01 dB.
    func testSuperResolutionPSNRThroughONNXRuntimeEqualsEval() throws {
        let dir = Self.root + "/sr"
        let t = try btviz(["train", "--task", "sr", "--data-dir", sharedData.appendingPathComponent("sr").path, "--method", "bt",
                           "--epochs", "1", "--epoch-steps", "5", "--batch-size", "4", "--headless", "--run-dir", dir], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        let e = try btviz(["eval", dir, "--sets", "set5", "--methods", "bt", "--json"], timeout: 300)
        XCTAssertEqual(e.status, 0, e.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let set5 = try XCTUnwrap((json["sets"] as? [[String: Any]])?.first)
        let evalPSNR = try XCTUnwrap((set5["methods"] as? [String: Double])?["bt"])
        let x = try btviz(["export", dir, "--format", "onnx", "--out", dir + "/sr.onnx"])
        XCTAssertEqual(x.status, 0, x.stderr)
        XCTAssertTrue(x.stdout.contains("0.500 bytes per weight"), x.stdout)
        XCTAssertEqual(try btviz(["export", dir, "--format", "reference", "--out", dir + "/ref", "--sets", "set5"]).status, 0)
        let r = try python(["sr-psnr", dir + "/sr.onnx", dir + "/ref", "set5", "2"])
        XCTAssertEqual(r["images"] as? Int, 5)
        // eval prints PSNR to 0.01 dB: the rounding adds up to 0.005 to the difference.
        XCTAssertEqual(try XCTUnwrap(r["psnr"] as? Double), evalPSNR, accuracy: 0.01 + 0.005, "\(r) vs eval \(evalPSNR)")
        // The one-input variant, a cubic Resize node instead of btviz's bicubic image, is as close on Set5.
        XCTAssertEqual(try btviz(["export", dir, "--format", "onnx", "--bicubic", "resize", "--out", dir + "/resize.onnx"]).status, 0)
        let resized = try python(["sr-psnr", dir + "/resize.onnx", dir + "/ref", "set5", "2"])
        XCTAssertEqual(try XCTUnwrap(resized["psnr"] as? Double), evalPSNR, accuracy: 0.01 + 0.005, "\(resized) vs eval \(evalPSNR)")
    }

    /// Exported, loaded with numpy: every layer's Q(W) equals what `btviz quantize` makes of the same latent weights,
    /// and equals codes (in -2...2) times the scale.
    func testSafetensorsQuantizedWeightsEqualBtvizQuantize() throws {
        let dir = try run("bt"), file = Self.root + "/bt.safetensors", latent = Self.root + "/bt-latent"
        XCTAssertEqual(try btviz(["export", dir, "--format", "safetensors", "--out", file]).status, 0)
        let layers = try XCTUnwrap(try python(["latent", file, latent])["layers"] as? [String])
        XCTAssertEqual(layers.count, 6)
        for name in layers {
            let q = try btviz(["quantize", "--method", "bt", "--input", latent + "/\(name).npy", "--output", latent + "/\(name).q.npy"])
            XCTAssertEqual(q.status, 0, q.stderr)
        }
        let rows = try XCTUnwrap(try python(["quantized", latent, file])["layers"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 6)
        for row in rows {
            XCTAssertEqual(row["equal"] as? Bool, true, "\(row)")
            XCTAssertEqual(row["codes_times_scale_equal"] as? Bool, true, "\(row)")
            XCTAssertTrue(Set(row["codes"] as? [Int] ?? [9]).isSubset(of: [-2, -1, 0, 1, 2]), "\(row)")
        }
    }

    /// The .npz export read by numpy.load holds exactly the safetensors export's arrays (read by safetensors' own
    /// reader): the same names, dtypes, shapes and bits, btviz's extras (the int4 codes as int8, Q(W)) included; with
    /// --state-dict-only, exactly PyTorch's names.
    func testNpzHoldsTheSafetensorsArrays() throws {
        let dir = try run("bt")
        for extra in [[], ["--state-dict-only"]] {
            let st = Self.root + "/same\(extra.count).safetensors", npz = Self.root + "/same\(extra.count).npz"
            XCTAssertEqual(try btviz(["export", dir, "--format", "safetensors", "--out", st] + extra).status, 0)
            let e = try btviz(["export", dir, "--format", "npz", "--out", npz] + extra)
            XCTAssertEqual(e.status, 0, e.stderr)
            let r = try python(["npz-equals-safetensors", npz, st])
            XCTAssertEqual(r["equal"] as? Bool, true, "\(r)")
            let arrays = try XCTUnwrap(r["arrays"] as? Int)
            // 6 convs, 7 batch norms of 5 (num_batches_tracked too), fc1, fc2's weight and bias; BT adds q, codes, scale a conv.
            XCTAssertEqual(arrays, extra.isEmpty ? 44 + 6 * 3 : 44, "\(r)")
            XCTAssertEqual(r["extras"] as? Int, extra.isEmpty ? 18 : 0, "\(r)")
        }
    }

    /// A state_dict written by Python's safetensors package: `eval --weights` gives the accuracy a numpy forward
    /// pass of the same weights gives, to the image; `train --init-from` starts from exactly those weights.
    func testPythonWrittenStateDictEvaluatesAndInitializesTraining() throws {
        let dir = try run("full"), exported = Self.root + "/full.safetensors", file = Self.root + "/python.safetensors"
        XCTAssertEqual(try btviz(["export", dir, "--format", "safetensors", "--out", exported]).status, 0)
        XCTAssertEqual(try python(["state-dict", exported, file])["tensors"] as? Int, 6 + 6 * 5 + 1 + 5 + 2)  // convs, their batch norms, fc1, bn7, fc2
        let reference = try python(["numpy-accuracy", file, fashionDir])
        let e = try btviz(["eval", "--weights", file, "--dataset", "fashion", "--data-dir", fashionDir])
        XCTAssertEqual(e.status, 0, e.stderr)
        let images = try XCTUnwrap(reference["images"] as? Int), correct = try XCTUnwrap(reference["correct"] as? Int)
        XCTAssertTrue(e.stdout.contains("(\(images) images)"), e.stdout)
        let percent = String(format: "%.2f%%", 100 * Double(correct) / Double(images))
        let row = e.stdout.split(separator: "\n").first { $0.hasPrefix("full ") }?.split(separator: " ").map(String.init)
        XCTAssertEqual(row?[1], percent, "numpy \(correct)/\(images): \(e.stdout)")
        XCTAssertGreaterThan(correct, images / 2)

        // A learning rate of 1e-30 leaves every weight as it is: the trained run's parameters are the file's.
        let started = Self.root + "/init-from"
        let t = try btviz(["train", "--dataset", "fashion", "--data-dir", fashionDir, "--method", "full", "--k", "8",
                           "--init-from", file, "--lr", "1e-30", "--epochs", "1", "--train-limit", "256", "--test-limit", "64",
                           "--headless", "--run-dir", started], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try btviz(["export", started, "--format", "safetensors", "--out", started + "/out.safetensors"]).status, 0)
        let same = try python(["same-weights", file, started + "/out.safetensors"])
        XCTAssertEqual(same["compared"] as? Int, 6 + 2 * 7 + 3)
        XCTAssertEqual(same["differ"] as? [String], [])
    }

    /// TensorBoard's own reader finds, at the right steps, the values metrics.jsonl holds: scalars, the latent-weight
    /// histograms' buckets, and the events as text; `export --format tensorboard` of the finished run gives the same.
    func testTensorBoardReadsScalarsHistogramsAndEvents() throws {
        let dir = Self.root + "/tb", live = Self.root + "/tb-live", after = Self.root + "/tb-after"
        let t = try btviz(["train", "--method", "bt", "--k", "4", "--epochs", "1", "--train-limit", "256", "--test-limit", "64",
                           "--batch-size", "64", "--log-every", "1", "--headless", "--run-dir", dir, "--tensorboard", live], timeout: 300)
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try btviz(["export", dir, "--format", "tensorboard", "--out", after]).status, 0)
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let steps = records.filter { $0["type"] as? String == "step" }
        XCTAssertEqual(steps.map { $0["step"] as? Int }, [0, 1, 2, 3, 4])
        let epoch = try XCTUnwrap(records.first { $0["type"] as? String == "epoch" })
        for folder in [live, after] {
            let r = try python(["tensorboard", folder])
            let scalars = try XCTUnwrap(r["scalars"] as? [String: [[Double]]])
            for (tag, key) in [("train/loss", "loss"), ("train/lambda", "lambda"), ("train/reg_loss", "reg_loss")] {
                XCTAssertEqual(scalars[tag]?.map { Int($0[0]) }, [0, 1, 2, 3, 4], tag)
                XCTAssertEqual(scalars[tag]?.map { Float($0[1]) }, steps.map { Float($0[key] as? Double ?? .nan) }, tag)
            }
            let conv3 = steps.map { ($0["layers"] as? [[String: Any]])?.first { $0["name"] as? String == "conv3" } }
            XCTAssertEqual(scalars["layers/conv3/flip_fraction"]?.map { Float($0[1]) },
                           conv3.map { Float($0?["flip_fraction"] as? Double ?? .nan) })
            XCTAssertEqual(scalars["layers/conv3/mean_transition_distance"]?.map { Float($0[1]) },
                           conv3.map { Float($0?["mean_transition_distance"] as? Double ?? .nan) })
            XCTAssertEqual(scalars["test/accuracy"]?.map { Int($0[0]) }, [epoch["step"] as? Int ?? -1])
            XCTAssertEqual(scalars["test/accuracy"]?.map { Float($0[1]) }, [Float(epoch["test_metric"] as? Double ?? .nan)])
            let histograms = try XCTUnwrap(r["histograms"] as? [String: [[String: Any]]])
            let h = try XCTUnwrap(histograms["latent_weights/conv3"])
            XCTAssertEqual(h.map { $0["step"] as? Int }, [0, 1, 2, 3, 4])
            let recorded = try XCTUnwrap(conv3.last??["histogram"] as? [String: Any])
            XCTAssertEqual(h.last?["bucket"] as? [Double], (recorded["counts"] as? [Int])?.map(Double.init))
            XCTAssertEqual((h.last?["bucket_limit"] as? [Double])?.map(Float.init),
                           (recorded["edges"] as? [Double])?.dropFirst().map(Float.init))
            XCTAssertEqual(h.last?["num"] as? Double, Double(8 * 3 * 3 * 4))
            let texts = try XCTUnwrap((r["texts"] as? [String: [[Any]]])?["events"])
            XCTAssertEqual(texts.first?[0] as? Int, 0)
            XCTAssertTrue("\(texts.first?[1] ?? "")".contains("start (bt): training synthetic VGG-6(4) with BT"), "\(texts)")
        }
    }

    /// Without --out, export writes into the run folder under a name that says what it holds, prints that path, and
    /// writes the same bytes as with --out; the run still reads as a run afterwards.
    func testWithoutOutWritesIntoTheRunFolder() throws {
        let dir = Self.root + "/default-out"
        let t = try btviz(["train", "--k", "4", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--headless",
                           "--run-dir", dir])
        XCTAssertEqual(t.status, 0, t.stderr)
        for (format, args, name) in [("onnx", [], "model-bt.onnx"), ("safetensors", [], "model-bt.safetensors"),
                                     ("npz", [], "model-bt.npz"), ("onnx", ["--method", "bwn"], "model-bwn.onnx")] {
            let o = try btviz(["export", dir, "--format", format] + args)
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.hasPrefix("wrote \(dir)/\(name): "), o.stdout)
            let named = Self.root + "/named-\(name)"
            XCTAssertEqual(try btviz(["export", dir, "--format", format, "--out", named] + args).status, 0)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)),
                           try Data(contentsOf: URL(fileURLWithPath: named)), name)
        }
        let tb = try btviz(["export", dir, "--format", "tensorboard"])
        XCTAssertEqual(tb.status, 0, tb.stderr)
        XCTAssertTrue(tb.stdout.hasPrefix("wrote \(dir)/tensorboard/"), tb.stdout)
        let events = try FileManager.default.contentsOfDirectory(atPath: dir + "/tensorboard")
        XCTAssertTrue(events.contains { $0.hasPrefix("events.out.tfevents.") }, "\(events)")
        let e = try btviz(["eval", dir, "--json", "--no-recalibrate"])
        XCTAssertEqual(e.status, 0, e.stderr)
    }

    /// Each bad input: one line naming what is wrong, a non-zero exit, and nothing written (no output file, no run folder).
    func testBadInputsAreOneLineAndWriteNothing() throws {
        let dir = Self.root + "/bad"
        try FileManager.default.createDirectory(atPath: dir + "/empty-run", withIntermediateDirectories: true)
        assertCleanFailure(try btviz(["export", dir + "/empty-run", "--format", "onnx", "--out", dir + "/x.onnx"]),
                           mentioning: "no checkpoint")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.onnx"))

        let good = Self.root + "/bad-base.safetensors"
        XCTAssertEqual(try btviz(["export", try run("full"), "--format", "safetensors", "--state-dict-only", "--out", good]).status, 0)
        let base = try SafetensorsBytes(path: good)
        var cases: [(String, Data, String)] = []
        var huge = base.data
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        cases.append(("huge header length", huge, "header length 1099511627776 is beyond the file"))
        cases.append(("wrong dtype", base.changing("features.0.weight") { $0["dtype"] = "I32" },
                      "features.0.weight is I32, not F32"))
        cases.append(("truncated", base.data.prefix(base.data.count - 100), "not within the file"))
        cases.append(("missing tensor", base.dropping("fc2.bias"), "has no tensor fc2.bias"))
        cases.append(("extra tensor", base.adding("features.2.weight"), "tensor features.2.weight is not in VGG-6(8)'s state_dict"))
        cases.append(("non-finite", base.poisoning("features.3.weight"), "features.3.weight holds a non-finite value"))
        // Finite but beyond what the kernels and histograms can take (the campaign's 3e38 trapped in the histogram).
        cases.append(("huge", base.poisoning("features.3.weight", with: 3e38),
                      "tensor features.3.weight has 3e+38 at index 0; btviz takes values of magnitude at most 1e6"))
        cases.append(("negative variance", base.poisoning("features.1.running_var", with: -1),
                      "tensor features.1.running_var is a variance but has -1.0 at index 0"))
        for (what, bytes, message) in cases {
            let file = dir + "/\(what).safetensors", runDir = dir + "/run-\(what)"
            try bytes.write(to: URL(fileURLWithPath: file))
            // The synthetic set has Fashion-MNIST's shapes and no note about the data on stderr.
            assertCleanFailure(try btviz(["train", "--k", "8", "--init-from", file, "--headless", "--run-dir", runDir]),
                               mentioning: message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: runDir), "\(what): \(runDir) was left behind")
            assertCleanFailure(try btviz(["eval", "--weights", file]), mentioning: message)
        }
        // A network of another width: the first tensor whose shape differs is named.
        assertCleanFailure(try btviz(["train", "--k", "16", "--init-from", good, "--headless", "--run-dir", dir + "/run-k16"]),
                           mentioning: "features.0.weight has shape [8, 1, 3, 3], VGG-6(16) needs [16, 1, 3, 3]")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run-k16"))
    }

    // MARK: helpers

    func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }
}

/// A safetensors file taken apart by hand (independently of btviz's writer), to make broken copies of it.
struct SafetensorsBytes {
    let data: Data
    let header: [String: Any]
    let body: Data

    init(path: String) throws {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        header = try JSONSerialization.jsonObject(with: data[8..<8 + n]) as! [String: Any]
        body = data[(8 + n)...]
    }

    func file(_ header: [String: Any], _ body: Data) -> Data {
        let json = try! JSONSerialization.data(withJSONObject: header)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) } + json + body
    }

    func changing(_ name: String, _ edit: (inout [String: Any]) -> Void) -> Data {
        var h = header, e = h[name] as! [String: Any]
        edit(&e)
        h[name] = e
        return file(h, body)
    }

    /// Without `name`'s entry and bytes (the offsets after it moved down).
    func dropping(_ name: String) -> Data {
        var h = header
        let range = (h[name] as! [String: Any])["data_offsets"] as! [Int]
        h[name] = nil
        for (k, v) in h where k != "__metadata__" {
            var e = v as! [String: Any], o = e["data_offsets"] as! [Int]
            if o[0] >= range[1] { o = o.map { $0 - (range[1] - range[0]) } }
            e["data_offsets"] = o
            h[k] = e
        }
        var b = Data(body)
        b.removeSubrange(range[0]..<range[1])
        return file(h, b)
    }

    /// With one more F32 tensor of 4 values at the end.
    func adding(_ name: String) -> Data {
        var h = header
        h[name] = ["dtype": "F32", "shape": [4], "data_offsets": [body.count, body.count + 16]]
        return file(h, body + Data(count: 16))
    }

    /// `name`'s first value replaced by `value` (NaN unless given).
    func poisoning(_ name: String, with value: Float = .nan) -> Data {
        let start = ((header[name] as! [String: Any])["data_offsets"] as! [Int])[0]
        var b = Data(body)
        b.replaceSubrange(start..<start + 4, with: withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) })
        return file(header, b)
    }
}
