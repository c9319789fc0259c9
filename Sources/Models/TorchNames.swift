import Kernels
import Layers

/// One tensor of a model under its PyTorch `state_dict` name, shape and layout: the module names of the model's
/// reference in Samples/pytorch (vgg6.py, resnet.py, srnet.py), which export and import both use.
public struct TorchTensorName: Equatable, Sendable {
    public enum Layout: Equatable, Sendable {
        case plain
        /// btviz [out, 3, 3, in] <-> PyTorch [out, in, 3, 3].
        case conv
        /// A linear layer after a flatten: btviz [out, h*w*c] (HWC) <-> PyTorch [out, c*h*w] (CHW).
        case flattenedHWC(c: Int, h: Int, w: Int)
    }

    public let torchName: String
    public let torchShape: [Int]
    /// The btviz tensor it maps to, or nil for batch norm's num_batches_tracked (btviz keeps no count).
    public let tensor: String?
    public let layout: Layout
}

/// A model's list of `TorchTensorName`s, written module by module in state_dict order.
public struct TorchNaming {
    public private(set) var names: [TorchTensorName] = []

    public init() {}

    public mutating func add(_ torch: String, _ btviz: String, _ shape: [Int], _ layout: TorchTensorName.Layout = .plain) {
        names.append(TorchTensorName(torchName: torch, torchShape: shape, tensor: btviz, layout: layout))
    }

    /// nn.BatchNorm2d/1d: weight, bias, running statistics and the step count btviz does not keep.
    public mutating func batchNorm(_ torch: String, _ bn: BatchNorm) {
        let base = String(bn.gamma.name.dropLast(".gamma".count)), c = [bn.channels]
        add(torch + ".weight", base + ".gamma", c)
        add(torch + ".bias", base + ".beta", c)
        add(torch + ".running_mean", base + ".running_mean", c)
        add(torch + ".running_var", base + ".running_var", c)
        names.append(TorchTensorName(torchName: torch + ".num_batches_tracked", torchShape: [], tensor: nil, layout: .plain))
    }

    /// nn.Conv2d 3x3: its weight and bias, if it has one.
    public mutating func conv(_ torch: String, _ weight: Param, bias: Param?) {
        let s = weight.shape
        add(torch + ".weight", weight.name, [s[0], s[3], 3, 3], .conv)
        if let bias { add(torch + ".bias", bias.name, [s[0]]) }
    }

    /// nn.Linear: its weight and bias, if it has one.
    public mutating func linear(_ torch: String, _ layer: Linear, layout: TorchTensorName.Layout = .plain) {
        add(torch + ".weight", layer.weight.name, [layer.outFeatures, layer.inFeatures], layout)
        if let bias = layer.bias { add(torch + ".bias", bias.name, [layer.outFeatures]) }
    }
}
