import BTCore
import Foundation
import Kernels
import Layers
import Quantizers

/// RUN/checkpoint.bin: "BTVZCKP1", a little-endian UInt32 header length, a JSON header, then the raw
/// Float32 tensors the header lists, in order: the model's parameters and state, every used method's quantizer
/// parameters and state ("quant.ttq.conv1.wp"), then Adam's m and v for every tensor it has stepped.
/// Written atomically, so an interrupted save leaves the previous checkpoint intact. The header's keys are sorted,
/// so identical runs write identical files; reading does not depend on the order. Files written before
/// quantizers had state (no `spec`, `quantizers` or `adam_steps`) load as before.
public struct Checkpoint {
    public struct Header: Codable {
        public var step: Int
        public var method: QuantMethod
        public var lambda: Float
        public var adamT: Int
        public var normalizerMean: [Float]
        public var normalizerStd: [Float]
        public var config: TrainConfig
        /// The quantizer options; absent in older files (then the config's).
        public var spec: QuantSpec?
        /// Methods whose quantizer parameters and state the file holds.
        public var quantizers: [QuantMethod]?
        /// Adam's step count per tensor; absent in older files, where every tensor had `adamT`.
        public var adamSteps: [String: Int]?
        /// The model's build facts beside the config's model id and options: one input's shape and a classifier's
        /// class count; absent in files written before the model registry (then config.json's header and fc2.bias).
        public var inputShape: [Int]?
        public var classes: Int?
        /// The training sums of the epoch in progress when the run was stopped part-way through one (absent at an
        /// epoch's end and in older files): a resumed epoch's train loss and metric then cover all its batches.
        public var epochSums: EpochSums?
        public var tensors: [Entry]

        public struct Entry: Codable { public var name: String; public var count: Int }

        enum CodingKeys: String, CodingKey {
            case step, method, lambda, config, tensors, spec, quantizers
            case adamT = "adam_t", normalizerMean = "normalizer_mean", normalizerStd = "normalizer_std"
            case adamSteps = "adam_steps", inputShape = "input_shape", classes, epochSums = "epoch_sums"
        }

        /// Every number read from the file is checked before anything uses it.
        func validate(path: String) throws {
            func bad(_ what: String) -> BTError { BTError("\(path) is damaged: \(what)") }
            do { try config.validate() } catch { throw bad("its training options are invalid (\(error))") }
            guard step >= 0, adamT >= 0, adamT <= Int(Int32.max) else { throw bad("step \(step), Adam step \(adamT)") }
            guard let total = config.stepsLimit, step <= total else { throw bad("step \(step) is beyond the run's length") }
            guard lambda >= 0, lambda.isFinite else { throw bad("lambda \(lambda)") }
            guard !normalizerMean.isEmpty, normalizerMean.count == normalizerStd.count, normalizerMean.count <= 16,
                  normalizerMean.allSatisfy(\.isFinite), normalizerStd.allSatisfy({ $0.isFinite && $0 > 0 })
            else { throw bad("normalizer of \(normalizerMean.count) means and \(normalizerStd.count) deviations") }
            guard tensors.count <= 10_000 else { throw bad("\(tensors.count) tensors") }
            if let problem = spec?.problem { throw bad(problem.description) }
            guard (adamSteps ?? [:]).values.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else { throw bad("Adam step counts") }
            if let inputShape, inputShape.count != 3 || !inputShape.allSatisfy({ (1...65536).contains($0) }) {
                throw bad("input_shape \(inputShape)")
            }
            if let classes, !(0...1_000_000).contains(classes) { throw bad("classes \(classes)") }
            if let s = epochSums, !s.fits(step: step, batchSize: config.batchSize) { throw bad("epoch sums \(s)") }
        }
    }

    /// An epoch's running sums over the samples trained so far (Doubles: the JSON keeps every bit).
    public struct EpochSums: Codable, Equatable, Sendable {
        public var metric: Double = 0, loss: Double = 0
        public var seen = 0
        public init() {}

        /// Sums a run of `step` steps could have made: no more samples than it stepped through, and means (the
        /// figures printed for the epoch) that are finite as Floats; nothing summed over no samples.
        func fits(step: Int, batchSize: Int) -> Bool {
            let (most, overflow) = step.multipliedReportingOverflow(by: max(batchSize, 0))
            guard metric.isFinite, loss.isFinite, seen >= 0, seen <= (overflow ? Int(Int32.max) : most) else { return false }
            if seen == 0 { return metric == 0 && loss == 0 }
            let bound = 1e30 * Double(seen)
            return abs(metric) <= bound && abs(loss) <= bound
        }
    }

    static let magic = Array("BTVZCKP1".utf8)

    /// A classifier's class count: the header's, or for a file from before the model registry (always VGG-6) the
    /// size of its last layer's bias.
    public func classCount() throws -> Int {
        if let classes = header.classes { return classes }
        guard let classes = data["fc2.bias"]?.count, classes >= 2 else {
            throw BTError("the checkpoint names no class count and holds no VGG-6 classifier (fc2.bias)")
        }
        return classes
    }

    public var header: Header
    public var data: [String: [Float]]

    /// The tensors a checkpoint holds for an engine, in file order.
    static func tensors(engine: StepEngine) -> [NamedTensor] {
        let adam = engine.optimizer
        return engine.model.allTensors + engine.quantizers.tensors
            + adam.names.map { NamedTensor("adam.m." + $0, adam.moments[$0]!.m) }
            + adam.names.map { NamedTensor("adam.v." + $0, adam.moments[$0]!.v) }
    }

    public static func save(path: String, engine: StepEngine, step: Int, method: QuantMethod,
                            lambda: Float, normalizer: (mean: [Float], std: [Float]), config: TrainConfig,
                            inputShape: [Int], classes: Int, epochSums: EpochSums? = nil) throws {
        let ts = tensors(engine: engine)
        let adam = engine.optimizer
        let header = Header(step: step, method: method, lambda: lambda, adamT: adam.t,
                            normalizerMean: normalizer.mean, normalizerStd: normalizer.std, config: config,
                            spec: engine.quantizers.spec, quantizers: engine.quantizers.methods,
                            adamSteps: Dictionary(uniqueKeysWithValues: adam.names.map { ($0, adam.moments[$0]!.t) }),
                            inputShape: inputShape, classes: classes, epochSums: epochSums,
                            tensors: ts.map { Header.Entry(name: $0.name, count: $0.buffer.count) })
        // Sorted keys: two identical runs write identical bytes (Adam's per-tensor steps are a dictionary, whose
        // order would otherwise change with every process), so md5 can show that they are the same.
        let json = try JSONOutput.data(header)
        var out = Data(magic)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in ts { out.append(UnsafeBufferPointer(start: t.buffer.ptr, count: t.buffer.count)) }
        try AtomicFile.write(out, to: path)
    }

    public static func load(path: String) throws -> Checkpoint {
        var st = stat()
        guard stat(path, &st) == 0 else { throw BTError("no checkpoint at \(path)") }
        let bytes = Data(try RegularFile(path).readAll(limit: Int.max, what: "a checkpoint"))
        let fail = BTError("\(path) is not a btviz checkpoint or is damaged")
        guard bytes.count >= 12, Array(bytes.prefix(8)) == magic else { throw fail }
        let len = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard 12 + len <= bytes.count,
              let header = try? JSONDecoder().decode(Header.self, from: bytes.subdata(in: 12..<12 + len))
        else { throw fail }
        try header.validate(path: path)
        var offset = 12 + len
        var data: [String: [Float]] = [:]
        for e in header.tensors {
            // Counts come from the file: compare without arithmetic that could overflow.
            guard e.count >= 0, e.count <= (bytes.count - offset) / 4, data[e.name] == nil else { throw fail }
            data[e.name] = bytes.subdata(in: offset..<offset + 4 * e.count).withUnsafeBytes {
                Array($0.bindMemory(to: Float.self))
            }
            offset += 4 * e.count
        }
        guard offset == bytes.count else { throw fail }
        return Checkpoint(header: header, data: data)
    }

    /// Copies the stored tensors into an engine of the same shape: the model, the quantizers of every method
    /// the file holds and, with `optimizer`, Adam's moments.
    public func restore(into engine: StepEngine, optimizer: Bool) throws {
        let held = header.quantizers ?? []
        for m in held { engine.quantizers.prepare(m) }
        func fill(_ name: String, _ buf: FloatBuffer) throws {
            guard let values = data[name], values.count == buf.count else {
                throw BTError("checkpoint does not match the model: tensor \(name) is missing or has the wrong size")
            }
            values.withUnsafeBufferPointer { buf.ptr.update(from: $0.baseAddress!, count: buf.count) }
        }
        for t in engine.model.allTensors + engine.quantizers.tensors(of: held) { try fill(t.name, t.buffer) }
        guard optimizer else { return }
        let trained = engine.model.params + engine.quantizers.parameters
        for p in trained where data["adam.m." + p.name] != nil {
            let s = engine.optimizer.moments(for: p.name, count: p.count)
            try fill("adam.m." + p.name, s.m)
            try fill("adam.v." + p.name, s.v)
            s.t = header.adamSteps?[p.name] ?? header.adamT
        }
    }
}
