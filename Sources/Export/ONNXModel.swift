import BTCore
import Foundation
import Kernels
import Layers
import Models
import Quantizers
import SwiftProtobuf

/// A trained network as an ONNX model (opset 21, IR version 10) that onnxruntime runs, in NCHW. The model writes
/// its own inference (`Model.writeInference`); this spells each operation in ONNX.
///
/// - Quantized weights are stored as what they are (`QuantizedWeights`): grid methods (BWN, TWN, BT) as INT4 codes,
///   two per byte, with their one scale through DequantizeLinear, so code · scale is btviz's Q(W) bit for bit; table
///   methods (TTQ, LQ-Nets) as the exact Float32 values of Q(W). Full precision and the unquantized layers (VGG-6's
///   FC layers, a ResNet's first conv and FC, the restoration net's first and last convs) as Float32, each under
///   its PyTorch state_dict name (`TorchStateDict`).
/// - Classifiers: input `input` [N, C, H, W], the pixels as btviz reads them (0...1), normalized inside the graph
///   with the run's normalizer (Sub, Mul by 1/std, as btviz); batch norm as BatchNormalization in eval mode with the
///   stored running statistics (not folded: folding would scale the codes off their grid); a ResNet's shortcuts as
///   Add, option A's as Slice (every second pixel) and Pad (zero channels); output `logits` [N, classes].
/// - Restoration net: input `input` [N, 1, h, w] (Y / 255) and, for super-resolution by default, `bicubic`
///   [N, 1, sh, sw]: btviz's bicubic upscaling of the input (MATLAB's imresize), so the residual is btviz's exactly;
///   or (`Bicubic.resize`) a cubic Resize node, see `Bicubic`. Pixel shuffle is DepthToSpace in CRD mode (PyTorch's
///   PixelShuffle order). Output `output` [N, 1, sh, sw].
public struct ONNXExport: InferenceWriter {
    public static let opset: Int64 = 21

    /// How each quantized layer's weights went into the file, for the report.
    public struct LayerNote { public let name: String; public let form: String; public let weights: Int; public let bytes: Int }

    /// How the SR net's bicubic residual is expressed: btviz's own upscaling as a second input (exact), or a cubic
    /// `Resize` node (a = -0.5, half-pixel): one input, equal to btviz's inside the image, borders clamped where
    /// MATLAB's imresize mirrors them (measured on Set5's first image: 2.4e-7 inside, 0.0044 at the edge, PSNR 1e-4 dB apart).
    public enum Bicubic: String, CaseIterable, Sendable { case input, resize }

    public private(set) var notes: [LayerNote] = []
    private var graph = Onnx_GraphProto()
    private let entries: [String: TorchStateDict.Entry]
    private let fits: [String: QuantFit]
    private let normalizer: (mean: [Float], std: [Float])
    private let bicubic: Bicubic
    private var constants: Set<String> = []

    private init(entries: [String: TorchStateDict.Entry], fits: [String: QuantFit], normalizer: (mean: [Float], std: [Float]),
                 bicubic: Bicubic) {
        self.entries = entries; self.fits = fits; self.normalizer = normalizer; self.bicubic = bicubic
    }

    /// `fits`: the quantized layers' fits in order (the identity for full precision).
    public static func build(model: any Model, fits: [QuantFit], normalizer: (mean: [Float], std: [Float]),
                             method: String, bicubic: Bicubic = .input) throws -> (data: Data, notes: [LayerNote]) {
        var fitOf: [String: QuantFit] = [:]
        for (layer, fit) in zip(model.quantizedLayers, fits) { fitOf[layer.weight.name] = fit }
        var e = ONNXExport(entries: try TorchStateDict(model: model).byTensorName, fits: fitOf, normalizer: normalizer,
                           bicubic: bicubic)
        e.graph.name = "btviz " + model.title + " " + method
        try model.writeInference(to: &e)
        var m = Onnx_ModelProto()
        m.irVersion = 10
        m.producerName = "btviz"
        m.graph = e.graph
        var op = Onnx_OperatorSetIdProto()
        op.domain = ""
        op.version = opset
        m.opsetImport = [op]
        return (try m.serializedData(), e.notes)
    }

    // MARK: the operations (InferenceWriter)

    public mutating func input(_ name: String, shape: [Int?]) -> String {
        graph.input.append(valueInfo(name, shape))
        return name
    }

    public mutating func normalized(_ x: String) -> String {
        let c = normalizer.mean.count
        let mean = constant("normalizer.mean", normalizer.mean, shape: [1, c, 1, 1])
        let inv = constant("normalizer.inv_std", normalizer.std.map { 1 / $0 }, shape: [1, c, 1, 1])
        return node("Mul", [node("Sub", [x, mean]), inv])
    }

    public mutating func conv3x3(_ x: String, weight: Param, bias: Param?, stride: Int) throws -> String {
        let inputs = [x, try self.weight(weight)] + (try bias.map { [try self.weight($0)] } ?? [])
        return node("Conv", inputs, [intList("pads", [1, 1, 1, 1]), intList("kernel_shape", [3, 3]),
                                     intList("strides", [stride, stride])])
    }

    public mutating func batchNorm(_ x: String, _ bn: BatchNorm) throws -> String {
        let base = String(bn.gamma.name.dropLast(".gamma".count))
        let names = try [".gamma", ".beta", ".running_mean", ".running_var"].map { suffix -> String in
            let e = try entry(base + suffix)
            return constant(e.torchName, Array(e.tensor!.buffer.buffer), shape: e.torchShape)
        }
        var eps = Onnx_AttributeProto()
        eps.name = "epsilon"; eps.type = .float; eps.f = bn.eps
        return node("BatchNormalization", [x] + names, [eps])
    }

    public mutating func relu(_ x: String) -> String { node("Relu", [x]) }

    public mutating func maxPool2x2(_ x: String) -> String {
        node("MaxPool", [x], [intList("kernel_shape", [2, 2]), intList("strides", [2, 2])])
    }

    public mutating func add(_ a: String, _ b: String) -> String { node("Add", [a, b]) }

    public mutating func subtract(_ a: String, _ b: String) -> String { node("Sub", [a, b]) }

    /// x[:, :, ::2, ::2] (Slice with step 2 on H and W), then Pad with zero channels before and after.
    public mutating func subsampledZeroPadded(_ x: String, padChannels p: Int) -> String {
        let starts = int64Constant("shortcut.starts", [0, 0]), ends = int64Constant("shortcut.ends", [Int64.max, Int64.max])
        let axes = int64Constant("shortcut.axes", [2, 3]), steps = int64Constant("shortcut.steps", [2, 2])
        let sliced = node("Slice", [x, starts, ends, axes, steps])
        // ONNX's pads: every axis's start, then every axis's end (N, C, H, W).
        return node("Pad", [sliced, int64Constant("shortcut.pads.\(p)", [0, Int64(p), 0, 0, 0, Int64(p), 0, 0])])
    }

    public mutating func globalAveragePool(_ x: String) -> String { node("GlobalAveragePool", [x]) }

    public mutating func flatten(_ x: String) -> String { node("Flatten", [x], [int("axis", 1)]) }

    public mutating func linear(_ x: String, weight: Param, bias: Param?) throws -> String {
        let inputs = [x, try self.weight(weight)] + (try bias.map { [try self.weight($0)] } ?? [])
        return node("Gemm", inputs, [int("transB", 1)])
    }

    public mutating func depthToSpace(_ x: String, blockSize: Int) -> String {
        node("DepthToSpace", [x], [int("blocksize", blockSize), string("mode", "CRD")])
    }

    public mutating func bicubicUpscaled(_ x: String, scale: Int) -> String {
        switch bicubic {
        case .input:
            return input("bicubic", shape: [nil, 1, nil, nil])
        case .resize:
            let scales = constant("upscale", [1, 1, Float(scale), Float(scale)], shape: [4])
            var a = Onnx_AttributeProto()
            a.name = "cubic_coeff_a"; a.type = .float; a.f = -0.5
            return node("Resize", [x, "", scales], [string("mode", "cubic"), a, string("coordinate_transformation_mode", "half_pixel")])
        }
    }

    /// Renames the node that made `x` to `name` (every value has one producer, and nothing reads an output).
    public mutating func output(_ x: String, name: String, shape: [Int?]) {
        if let i = graph.node.lastIndex(where: { $0.output == [x] }) { graph.node[i].output = [name] }
        graph.output.append(valueInfo(name, shape))
    }

    // MARK: pieces

    private func entry(_ tensorName: String) throws -> TorchStateDict.Entry {
        guard let e = entries[tensorName] else { throw BTError("the model's PyTorch names miss \(tensorName)") }
        return e
    }

    /// A weight initializer in PyTorch's layout: INT4 codes + DequantizeLinear for grid fits, Float32 otherwise.
    private mutating func weight(_ param: Param) throws -> String {
        let e = try entry(param.name), fit = fits[param.name]
        let w = UnsafeBufferPointer(e.tensor!.buffer.buffer)
        let torch = { (v: [Float]) in v.withUnsafeBufferPointer { TorchStateDict.toTorch($0, torchShape: e.torchShape, layout: e.layout) } }
        guard let fit, let q = QuantizedWeights(fit: fit, weights: w) else {
            let values = TorchStateDict.toTorch(w, torchShape: e.torchShape, layout: e.layout)
            return constant(e.torchName, values, shape: e.torchShape)
        }
        switch q {
        case .grid(let codes, let scale):
            let c = torch(codes.map(Float.init)).map { Int8($0) }
            var t = Onnx_TensorProto()
            t.name = e.torchName + ".codes"
            t.dataType = Int32(Onnx_TensorProto.DataType.int4.rawValue)
            t.dims = e.torchShape.map(Int64.init)
            t.rawData = ONNXExport.packInt4(c)
            graph.initializer.append(t)
            let s = constant(e.torchName + ".scale", [scale], shape: [])
            notes.append(LayerNote(name: e.torchName, form: "int4 codes × scale (DequantizeLinear)", weights: c.count, bytes: t.rawData.count))
            return node("DequantizeLinear", [t.name, s], output: e.torchName)
        case .table:
            let name = constant(e.torchName, torch(q.values), shape: e.torchShape)
            notes.append(LayerNote(name: e.torchName, form: "float32 Q(W) (levels not on one grid)", weights: w.count, bytes: 4 * w.count))
            return name
        }
    }

    /// Two's-complement int4, two per byte, the first element in the low nibble (ONNX's INT4 packing).
    public static func packInt4(_ codes: [Int8]) -> Data {
        var out = Data(count: (codes.count + 1) / 2)
        for (i, c) in codes.enumerated() {
            precondition(c >= -8 && c <= 7)
            let nibble = UInt8(bitPattern: c) & 0x0F
            out[i / 2] |= i % 2 == 0 ? nibble : nibble << 4
        }
        return out
    }

    private mutating func constant(_ name: String, _ values: [Float], shape: [Int]) -> String {
        guard constants.insert(name).inserted else { return name }
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = shape.map(Int64.init)
        t.rawData = values.withUnsafeBytes { Data($0) }  // little-endian, as ONNX's raw_data
        graph.initializer.append(t)
        return name
    }

    /// A 1-D int64 initializer (Slice's and Pad's index inputs), written once under its name.
    private mutating func int64Constant(_ name: String, _ values: [Int64]) -> String {
        guard constants.insert(name).inserted else { return name }
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.dims = [Int64(values.count)]
        t.rawData = values.withUnsafeBytes { Data($0) }  // little-endian, as ONNX's raw_data
        graph.initializer.append(t)
        return name
    }

    private var counter = 0

    @discardableResult
    private mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [],
                               output: String? = nil) -> String {
        counter += 1
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "\(op.lowercased())_\(counter)"
        n.input = inputs
        n.output = [output ?? n.name]
        n.attribute = attributes
        graph.node.append(n)
        return n.output[0]
    }

    private func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(v); return a
    }

    private func intList(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = v.map(Int64.init); return a
    }

    private func string(_ name: String, _ v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(v.utf8); return a
    }

    /// A float tensor value; nil dimensions are symbolic (the batch, a whole image's side).
    private func valueInfo(_ name: String, _ dims: [Int?]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.shape.dim = dims.enumerated().map { i, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = i == 0 ? "N" : "\(name)_\(i == 2 ? "height" : "width")" }
            return dim
        }
        v.type.tensorType = t
        return v
    }

}
