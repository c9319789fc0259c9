// Coverage-guided fuzzing of every reader of outside bytes: IDX, .npy, BMP, checkpoints, metrics records (decoded,
// loaded into the explorer's model and drawn), CIFAR-10's .tar.gz, SVHN's .mat (v5 and v7.3), ImageNet 64x64's
// .npz, PNG and JPEG (both image readers), safetensors, sweep specs (YAML) and sweep.json. Not part of the package: `scripts/fuzz` builds btviz's modules
// with -sanitize=fuzzer into .build-fuzz and links this file against them (libFuzzer supplies main); the reader
// is picked with BTVIZ_FUZZ_TARGET. A reader may throw; it must not trap, hang or allocate without bound.
import BTCore
import Datasets
import Explorer
import Foundation
import Records
import Restoration
import Sweeps
import Training

/// The inputs go through a file because that is how btviz reads them (gzip detection, sizes from stat).
private let scratch = "/dev/shm/btviz-fuzz-\(getpid())"

private func throughFile(_ data: UnsafePointer<UInt8>, _ size: Int, suffix: String, _ body: (String) throws -> Void) {
    let path = scratch + suffix
    guard let f = fopen(path, "wb") else { return }
    fwrite(data, 1, size, f)
    fclose(f)
    _ = try? body(path)
}

private func fuzzOne(_ target: String, _ data: UnsafePointer<UInt8>, _ size: Int) {
    switch target {
    case "idx":
        throughFile(data, size, suffix: ".idx") { p in
            _ = try readIDXImages(path: p)
            _ = try readIDXLabels(path: p, classes: 10)
        }
    case "npy":
        throughFile(data, size, suffix: ".npy") { p in _ = try readNpy(path: p) }
    case "bmp":
        _ = try? BMP.decode(Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz.bmp")
    case "checkpoint":
        throughFile(data, size, suffix: ".ckpt") { p in
            let c = try Checkpoint.load(path: p)
            _ = try Normalizer(mean: c.header.normalizerMean, std: c.header.normalizerStd)
        }
    case "metrics":
        let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        let records = text.split(separator: "\n").compactMap(RunRecordCoding.decode)
        let header = RunHeader(dataset: "fuzz", k: 4, inputShape: [1, 28, 28], totalSteps: 100, epochs: 2, batchSize: 8)
        let model = RunModel(header: header, records: records)
        for mode in [ExplorerMode.live, .replay] {
            _ = ExplorerRenderer.render(model: model, view: ExplorerViewState(mode: mode), width: 120, height: 40,
                                        options: ExplorerOptions(ascii: false, noColor: false))
        }
    case "tar":
        throughFile(data, size, suffix: ".tar.gz") { p in _ = try loadCIFAR10(.archive(p), classes: 10) }
    case "mat":
        // libhdf5 (Debian's 1.10) itself crashes on damaged v7.3 files (a SEGV in H5F__accum_read under Mat_Open),
        // which no check before Mat_Open can rule out: v7.3 inputs are only run with BTVIZ_FUZZ_HDF5=1.
        let v73 = size >= 128 && data[124] == 0 && data[125] == 2
        guard !v73 || ProcessInfo.processInfo.environment["BTVIZ_FUZZ_HDF5"] == "1" else { return }
        throughFile(data, size, suffix: ".mat") { p in _ = try readSVHNMat(path: p) }
    case "safetensors":
        // Safetensors.swift is compiled into the harness itself (scripts/fuzz): the Export module it lives in also
        // holds the protobuf code, which would add an instrumented SwiftProtobuf build to every regress run.
        throughFile(data, size, suffix: ".safetensors") { p in
            let r = try Safetensors.Reader(path: p)
            for e in r.entries { _ = e.dtype == .f32 ? try r.finiteFloats(e.name).values.count : try r.tensor(e.name).count }
        }
    case "npz":
        throughFile(data, size, suffix: ".npz") { p in
            let s = try NpzImageStream(paths: [p], channels: 3, height: 64, width: 64, classes: 1000)
            let r = try s.pass(.stored)
            var pixels = [Float](repeating: 0, count: 4 * 64 * 64 * 3), labels = [Int32](repeating: 0, count: 4)
            while try r.read(4, into: &pixels, labels: &labels) > 0 {}
        }
    case "png", "jpeg":
        throughFile(data, size, suffix: target == "png" ? ".png" : ".jpg") { p in
            _ = try? RGBImage.read(path: p)
            _ = try? ImageFiles.read(path: p)
            _ = try HRImage.read(path: p)
        }
    case "sweepspec":
        // A spec as `sweep run` reads it, then expanded as a plan (the run count bounds the expansion).
        let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
        guard let spec = try? SweepSpec.parse(yaml: text, source: "fuzz.yaml", defaultName: "fuzz") else { return }
        _ = spec.yaml
        _ = try? SweepPlan.expand(spec, flags: ["no-crop"], paths: .requireAbsolute, confirmed: true)
    case "sweepplan":
        // sweep.json as status, table and task read it: decoded and checked, then laid out and printed as a table.
        guard let plan = try? SweepPlan.decode(Data(UnsafeBufferPointer(start: data, count: size)), path: "sweep.json") else { return }
        let results = plan.runs.map { SweepTable.RunResult(name: $0.name, options: $0.options, state: .done, progress: RunProgress()) }
        let layout = SweepTable.defaultLayout(plan)
        guard let table = try? SweepTable(plan: plan, results: results, rows: layout.rows, columns: layout.columns, paper: "table1") else { return }
        for format in SweepTableFormat.allCases { _ = try? format.render(table) }
    default:
        fputs("BTVIZ_FUZZ_TARGET must be idx, npy, bmp, checkpoint, metrics, tar, mat, npz, png, jpeg, safetensors, sweepspec or sweepplan\n", stderr)
        exit(2)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(target, data, size)
    return 0
}

private let target = ProcessInfo.processInfo.environment["BTVIZ_FUZZ_TARGET"] ?? ""
