import BTCore
import Foundation
import Kernels
import Layers
import Quantizers

/// RUN/checkpoint.bin: "BTVZCKP1", a little-endian UInt32 header length, a JSON header, then the raw
/// Float32 tensors the header lists, in order (model state, then Adam's m and v for every parameter).
/// Written atomically, so an interrupted save leaves the previous checkpoint intact.
public struct Checkpoint {
    public struct Header: Codable {
        public var step: Int
        public var method: QuantMethod
        public var lambda: Float
        public var adamT: Int
        public var normalizerMean: [Float]
        public var normalizerStd: [Float]
        public var config: TrainConfig
        public var tensors: [Entry]

        public struct Entry: Codable { public var name: String; public var count: Int }

        enum CodingKeys: String, CodingKey {
            case step, method, lambda, config, tensors
            case adamT = "adam_t", normalizerMean = "normalizer_mean", normalizerStd = "normalizer_std"
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
        }
    }

    static let magic = Array("BTVZCKP1".utf8)

    public var header: Header
    public var data: [String: [Float]]

    /// The tensors a checkpoint holds for a model and its optimizer, in file order.
    static func tensors(model: VGG6, optimizer: Adam) -> [(String, FloatBuffer)] {
        model.stateTensors
            + zip(optimizer.params, optimizer.m).map { ("adam.m." + $0.name, $1) }
            + zip(optimizer.params, optimizer.v).map { ("adam.v." + $0.name, $1) }
    }

    public static func save(path: String, model: VGG6, optimizer: Adam, step: Int, method: QuantMethod,
                            lambda: Float, normalizer: (mean: [Float], std: [Float]), config: TrainConfig) throws {
        let ts = tensors(model: model, optimizer: optimizer)
        let header = Header(step: step, method: method, lambda: lambda, adamT: optimizer.t,
                            normalizerMean: normalizer.mean, normalizerStd: normalizer.std, config: config,
                            tensors: ts.map { Header.Entry(name: $0.0, count: $0.1.count) })
        let json = try JSONEncoder().encode(header)
        var out = Data(magic)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, buf) in ts { out.append(UnsafeBufferPointer(start: buf.ptr, count: buf.count)) }
        try AtomicFile.write(out, to: path)
    }

    public static func load(path: String) throws -> Checkpoint {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw BTError("no checkpoint at \(path)")
        }
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

    /// Copies the stored tensors into a model (and optimizer, if given) of the same shape.
    public func restore(into model: VGG6, optimizer: Adam?) throws {
        let targets = optimizer.map { Self.tensors(model: model, optimizer: $0) } ?? model.stateTensors
        for (name, buf) in targets {
            guard let values = data[name], values.count == buf.count else {
                throw BTError("checkpoint does not match the model: tensor \(name) is missing or has the wrong size")
            }
            values.withUnsafeBufferPointer { buf.ptr.update(from: $0.baseAddress!, count: buf.count) }
        }
        if let optimizer { optimizer.t = header.adamT }
    }
}
