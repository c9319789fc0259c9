import BTCore
import Kernels
import Layers
import Models

/// btviz's tensors under the names and layouts of PyTorch's `state_dict` of Samples/pytorch/vgg6.py (`VGG6`),
/// resnet.py (`ResNet`) and srnet.py (`SRNet`), both ways: the one mapping every export and import uses. It extends the differential test's
/// (Samples/pytorch/fixtures.py `btviz_tensors`): conv weights are [out, 3, 3, in] in btviz and [out, in, 3, 3] in
/// PyTorch; fc1's input features are flattened HWC in btviz and CHW in PyTorch.
public struct TorchStateDict {
    public enum Layout: Equatable {
        case plain
        /// btviz [out, 3, 3, in] <-> PyTorch [out, in, 3, 3].
        case conv
        /// fc1: btviz [out, h*w*c] (HWC) <-> PyTorch [out, c*h*w] (CHW).
        case flattenedHWC(c: Int, h: Int, w: Int)
    }

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
        func tensor(_ name: String) -> NamedTensor { named[name]! }
        var out: [Entry] = []
        func add(_ torch: String, _ btviz: String, _ shape: [Int], _ layout: Layout = .plain) {
            out.append(Entry(torchName: torch, torchShape: shape, tensor: tensor(btviz), layout: layout,
                             quantized: quantized.contains(btviz)))
        }
        func batchNorm(_ torch: String, _ bn: BatchNorm) {
            let base = String(bn.gamma.name.dropLast(".gamma".count)), c = [bn.channels]
            add(torch + ".weight", base + ".gamma", c)
            add(torch + ".bias", base + ".beta", c)
            add(torch + ".running_mean", base + ".running_mean", c)
            add(torch + ".running_var", base + ".running_var", c)
            out.append(Entry(torchName: torch + ".num_batches_tracked", torchShape: [], tensor: nil, layout: .plain, quantized: false))
        }
        func conv(_ torch: String, _ weight: Param, bias: Param?) {
            let s = weight.shape
            add(torch + ".weight", weight.name, [s[0], s[3], 3, 3], .conv)
            if let bias { add(torch + ".bias", bias.name, [s[0]]) }
        }
        if let vgg = model as? VGG6 {
            // nn.Sequential `features`: [conv, bn, relu] x 2 + maxpool per stage, so stage s's convs sit at 7s and 7s + 3.
            for (i, c) in vgg.convs.enumerated() {
                let index = 7 * (i / 2) + 3 * (i % 2)
                conv("features.\(index)", c.weight, bias: nil)
                batchNorm("features.\(index + 1)", vgg.batchNorms[i])
            }
            let last = vgg.convs[vgg.convs.count - 1]
            let (c, h, w) = (last.cout, last.h / 2, last.w / 2)
            let fc1 = vgg.layers.compactMap { $0 as? Linear }
            add("fc1.weight", "fc1.weight", [fc1[0].outFeatures, c * h * w], .flattenedHWC(c: c, h: h, w: w))
            batchNorm("bn7", vgg.batchNorms[6])
            add("fc2.weight", "fc2.weight", [fc1[1].outFeatures, fc1[1].inFeatures])
            add("fc2.bias", "fc2.bias", [fc1[1].outFeatures])
        } else if let net = model as? RestorationNet {
            guard net.batchNorms.isEmpty, net.body.allSatisfy({ $0.gain == nil }) else {
                throw BTError("this run's network has batch norm or per-channel gains, which Samples/pytorch/srnet.py does not")
            }
            conv("conv_first", net.convFirst.weight, bias: net.convFirst.bias)
            for (i, b) in net.body.enumerated() { conv("body.\(i)", b.weight, bias: b.bias) }
            for (i, u) in net.upsamplers.enumerated() { conv("up_convs.\(i)", u.conv.weight, bias: u.conv.bias) }
            conv("conv_last", net.convLast.weight, bias: net.convLast.bias)
        } else if let net = model as? ResNet {
            // Samples/pytorch/resnet.py, akamaster/pytorch_resnet_cifar10's names: btviz names its layers the same.
            conv("conv1", net.conv1.weight, bias: nil)
            batchNorm("bn1", net.bn1)
            for b in net.blocks {
                conv(b.name + ".conv1", b.conv1.weight, bias: nil)
                batchNorm(b.name + ".bn1", b.bn1)
                conv(b.name + ".conv2", b.conv2.weight, bias: nil)
                batchNorm(b.name + ".bn2", b.bn2)
            }
            add("linear.weight", "linear.weight", [net.linear.outFeatures, net.linear.inFeatures])
            add("linear.bias", "linear.bias", [net.linear.outFeatures])
        } else {
            throw BTError("\(model.title) has no PyTorch counterpart in Samples/pytorch")
        }
        entries = out
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
