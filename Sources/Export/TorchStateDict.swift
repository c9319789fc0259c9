import BTCore
import Kernels
import Layers
import Models

/// btviz's tensors under the names and layouts of PyTorch's `state_dict`, both ways: the one mapping every export
/// and import uses. Each model names its own tensors (`Model.torchNames`, after its reference in Samples/pytorch);
/// this resolves the names to the model's tensors and converts layouts. It extends the differential test's
/// (Samples/pytorch/fixtures.py `btviz_tensors`): conv weights are [out, 3, 3, in] in btviz and [out, in, 3, 3] in
/// PyTorch; a linear layer after a flatten takes HWC features in btviz and CHW in PyTorch.
public struct TorchStateDict {
    public typealias Layout = TorchTensorName.Layout

    public struct Entry {
        public let torchName: String
        public let torchShape: [Int]
        /// The btviz tensor it maps to, or nil for batch norm's num_batches_tracked (btviz keeps no count).
        public let tensor: NamedTensor?
        public let layout: Layout
        /// A quantized layer's latent weights.
        public let quantized: Bool
    }

    public let entries: [Entry]

    /// The mapping for a model, or a one-line reason PyTorch's samples have no such network.
    public init(model: any Model) throws {
        let named = Dictionary(model.allTensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let quantized = Set(model.quantizedLayers.map(\.weight.name))
        entries = try model.torchNames().map { n in
            let tensor = try n.tensor.map { name -> NamedTensor in
                guard let t = named[name] else { throw BTError("\(model.title) names no tensor \(name) (for \(n.torchName))") }
                return t
            }
            return Entry(torchName: n.torchName, torchShape: n.torchShape, tensor: tensor, layout: n.layout,
                         quantized: n.tensor.map(quantized.contains) ?? false)
        }
    }

    /// The entries by btviz tensor name.
    public var byTensorName: [String: Entry] {
        Dictionary(entries.compactMap { e in e.tensor.map { ($0.name, e) } }, uniquingKeysWith: { a, _ in a })
    }

    /// btviz's values of a tensor in PyTorch's layout.
    public static func toTorch(_ values: UnsafeBufferPointer<Float>, torchShape: [Int], layout: Layout) -> [Float] {
        switch layout {
        case .plain: return Array(values)
        case .conv:
            let (o, i) = (torchShape[0], torchShape[1])
            var out = [Float](repeating: 0, count: values.count)
            for a in 0..<o { for k in 0..<9 { for b in 0..<i { out[(a * i + b) * 9 + k] = values[(a * 9 + k) * i + b] } } }
            return out
        case .flattenedHWC(let c, let h, let w):
            let o = torchShape[0], per = c * h * w
            var out = [Float](repeating: 0, count: values.count)
            for a in 0..<o { for y in 0..<h * w { for ch in 0..<c { out[a * per + ch * h * w + y] = values[a * per + y * c + ch] } } }
            return out
        }
    }

    /// PyTorch-layout values back into btviz's layout (the inverse of `toTorch`).
    public static func fromTorch(_ values: [Float], torchShape: [Int], layout: Layout, into out: UnsafeMutableBufferPointer<Float>) {
        switch layout {
        case .plain: _ = out.update(fromContentsOf: values)
        case .conv:
            let (o, i) = (torchShape[0], torchShape[1])
            for a in 0..<o { for k in 0..<9 { for b in 0..<i { out[(a * 9 + k) * i + b] = values[(a * i + b) * 9 + k] } } }
        case .flattenedHWC(let c, let h, let w):
            let o = torchShape[0], per = c * h * w
            for a in 0..<o { for y in 0..<h * w { for ch in 0..<c { out[a * per + y * c + ch] = values[a * per + ch * h * w + y] } } }
        }
    }
}
