import BTCore
import Foundation
import Kernels
import Models
import Quantizers

/// A model's tensors as a safetensors file under PyTorch's state_dict names (`TorchStateDict`), and back.
public enum StateDictFile {
    /// Tensors btviz adds beside the state_dict, derived from the latent weights: `btviz.<weight>.q` (Q(W), F32),
    /// `btviz.<weight>.codes` (I8) with `btviz.<weight>.scale` (grid methods: Q = code·scale) or
    /// `btviz.<weight>.levels` ([channels, levels], F32: Q = levels[channel][code]). All in PyTorch's layout.
    public static let extraPrefix = "btviz."

    /// Every state_dict tensor, then (unless `stateDictOnly`) each quantized layer's Q(W), codes and scale or levels.
    /// `fits` are the quantized layers' fits in order (empty for full precision).
    public static func tensors(model: any Model, fits: [QuantFit], stateDictOnly: Bool) throws -> [(name: String, tensor: SafeTensor)] {
        let map = try TorchStateDict(model: model)
        var out: [(name: String, tensor: SafeTensor)] = []
        var quantizedEntries: [TorchStateDict.Entry] = []
        for e in map.entries {
            guard let t = e.tensor else {
                out.append((e.torchName, SafeTensor(int64: [0], shape: [])))  // btviz keeps no batch count
                continue
            }
            let values = TorchStateDict.toTorch(UnsafeBufferPointer(t.buffer.buffer), torchShape: e.torchShape, layout: e.layout)
            out.append((e.torchName, SafeTensor(floats: values, shape: e.torchShape)))
            if e.quantized { quantizedEntries.append(e) }
        }
        guard !stateDictOnly else { return out }
        for (e, fit) in zip(quantizedEntries, fits) {
            let w = UnsafeBufferPointer(e.tensor!.buffer.buffer)
            guard let q = QuantizedWeights(fit: fit, weights: w) else { continue }
            let name = extraPrefix + e.torchName
            func torch(_ v: [Float]) -> [Float] {
                v.withUnsafeBufferPointer { TorchStateDict.toTorch($0, torchShape: e.torchShape, layout: e.layout) }
            }
            out.append((name + ".q", SafeTensor(floats: torch(q.values), shape: e.torchShape)))
            switch q {
            case .grid(let codes, let scale):
                out.append((name + ".codes", SafeTensor(int8: torch(codes.map(Float.init)).map { Int8($0) }, shape: e.torchShape)))
                out.append((name + ".scale", SafeTensor(floats: [scale], shape: [])))
            case .table(let indices, let levels, let channels):
                out.append((name + ".codes", SafeTensor(int8: torch(indices.map(Float.init)).map { Int8($0) }, shape: e.torchShape)))
                out.append((name + ".levels", SafeTensor(floats: levels, shape: [channels, levels.count / channels])))
            }
        }
        return out
    }

    /// The largest magnitude a loaded tensor may hold. Trained weights and statistics are many orders of magnitude
    /// smaller; above it, a 3x3 conv's sums over a few hundred channels and squared values in batch norm and
    /// the histograms could overflow Float (3e38) into infinities and NaN.
    public static let largestMagnitude: Float = 1e6  // said as "1e6" in the message below

    /// Why a tensor's values cannot be trained from, or nil: too large, or a negative batch-norm variance.
    static func rangeProblem(_ values: [Float], name: String) -> String? {
        if let i = values.firstIndex(where: { abs($0) > largestMagnitude }) {
            return "has \(values[i]) at index \(i); btviz takes values of magnitude at most 1e6"
        }
        if name.hasSuffix("running_var"), let i = values.firstIndex(where: { $0 < 0 }) {
            return "is a variance but has \(values[i]) at index \(i)"
        }
        return nil
    }

    /// Loads a state_dict file into `model`: every state_dict tensor must be there with PyTorch's shape, as F32,
    /// finite, of magnitude at most `largestMagnitude`, and variances not negative; a tensor the model lacks is
    /// refused, except btviz's derived `btviz.*` tensors (ignored: recomputed from the latent weights) and
    /// num_batches_tracked (btviz keeps no count). Nothing is changed unless all is well.
    public static func load(_ reader: Safetensors.Reader, into model: any Model) throws {
        let map = try TorchStateDict(model: model)
        let known = Set(map.entries.map(\.torchName))
        if let extra = reader.names.sorted().first(where: { !known.contains($0) && !$0.hasPrefix(extraPrefix) }) {
            throw BTError("\(reader.path): tensor \(extra) is not in \(model.title)'s state_dict")
        }
        var staged: [(TorchStateDict.Entry, [Float])] = []
        for e in map.entries {
            guard let have = reader.entry(e.torchName) else {
                if e.tensor == nil { continue }  // num_batches_tracked may be left out
                throw BTError("\(reader.path) has no tensor \(e.torchName) (\(model.title) needs shape \(e.torchShape))")
            }
            guard have.shape == e.torchShape else {
                throw BTError("\(reader.path): tensor \(e.torchName) has shape \(have.shape), \(model.title) needs \(e.torchShape)")
            }
            guard e.tensor != nil else { continue }
            let values = try reader.finiteFloats(e.torchName).values
            if let problem = rangeProblem(values, name: e.torchName) { throw BTError("\(reader.path): tensor \(e.torchName) \(problem)") }
            staged.append((e, values))
        }
        for (e, values) in staged {
            TorchStateDict.fromTorch(values, torchShape: e.torchShape, layout: e.layout, into: e.tensor!.buffer.buffer)
        }
    }
}
