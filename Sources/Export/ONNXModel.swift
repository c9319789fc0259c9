import BTCore
import Foundation
import Kernels
import Layers
import Models
import Quantizers
import SwiftProtobuf

/// A trained network as an ONNX model (opset 21, IR version 10) that onnxruntime runs, in NCHW.
///
/// - Quantized conv weights are stored as what they are (`QuantizedWeights`): grid methods (BWN, TWN, BT) as INT4
///   codes, two per byte, with their one scale through DequantizeLinear, so code · scale is btviz's Q(W) bit for bit;
///   table methods (TTQ, LQ-Nets) as the exact Float32 values of Q(W). Full precision and the unquantized layers
///   (VGG-6's FC layers, the restoration net's first and last convs) as Float32.
/// - VGG-6: input `input` [N, C, H, W], the pixels as btviz reads them (0...1), normalized inside the graph with the
///   run's normalizer (Sub, Mul by 1/std, as btviz); each conv, BatchNormalization in eval mode with the stored
///   running statistics (not folded: folding would scale the codes off their grid), ReLU, MaxPool 2x2 after every
///   second; Flatten (CHW), fc1 (Gemm), BatchNormalization, ReLU, fc2 (Gemm); output `logits` [N, classes].
/// - Restoration net: input `input` [N, 1, h, w] (Y / 255) and, for super-resolution by default, `bicubic`
///   [N, 1, sh, sw]: btviz's bicubic upscaling of the input (MATLAB's imresize), so the residual is btviz's exactly;
///   or (`Bicubic.resize`) a cubic Resize node, see `Bicubic`. Pixel shuffle is DepthToSpace in CRD mode (PyTorch's
///   PixelShuffle order). Output `output` [N, 1, sh, sw].
public struct ONNXExport {
    public static let opset: Int64 = 21

    /// How each quantized layer's weights went into the file, for the report.
    public struct LayerNote { public let name: String; public let form: String; public let weights: Int; public let bytes: Int }

    public private(set) var notes: [LayerNote] = []
    private var graph = Onnx_GraphProto()

    /// `fits`: the quantized layers' fits in order (the identity for full precision).
    /// How the SR net's bicubic residual is expressed: btviz's own upscaling as a second input (exact), or a cubic
    /// `Resize` node (a = -0.5, half-pixel): one input, equal to btviz's inside the image, borders clamped where
    /// MATLAB's imresize mirrors them (measured on Set5's first image: 2.4e-7 inside, 0.0044 at the edge, PSNR 1e-4 dB apart).
    public enum Bicubic: String, CaseIterable, Sendable { case input, resize }

    public static func build(model: any Model, fits: [QuantFit], normalizer: (mean: [Float], std: [Float]),
                             method: String, bicubic: Bicubic = .input) throws -> (data: Data, notes: [LayerNote]) {
        var e = ONNXExport()
        e.graph.name = "btviz " + model.title + " " + method
        let map = try TorchStateDict(model: model)
        var fitOf: [String: QuantFit] = [:]
        for (layer, fit) in zip(model.quantizedLayers, fits) { fitOf[layer.weight.name] = fit }
        if let vgg = model as? VGG6 {
            try e.vgg(vgg, map: map, fits: fitOf, normalizer: normalizer)
        } else if let net = model as? RestorationNet {
            try e.restoration(net, map: map, fits: fitOf, bicubic: bicubic)
        } else {
            throw BTError("\(model.title) cannot be exported to ONNX")
        }
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

    // MARK: networks

    private mutating func vgg(_ vgg: VGG6, map: TorchStateDict, fits: [String: QuantFit],
                              normalizer: (mean: [Float], std: [Float])) throws {
        let (c, h, w) = (vgg.inputShape[0], vgg.inputShape[1], vgg.inputShape[2])
        input("input", [nil, c, h, w])
        let mean = constant("normalizer.mean", normalizer.mean, shape: [1, c, 1, 1])
        let inv = constant("normalizer.inv_std", normalizer.std.map { 1 / $0 }, shape: [1, c, 1, 1])
        var x = node("Mul", [node("Sub", ["input", mean]), inv])
        let entry = Dictionary(map.entries.compactMap { e in e.tensor.map { ($0.name, e) } }, uniquingKeysWith: { a, _ in a })
        for (i, conv) in vgg.convs.enumerated() {
            let weight = try self.weight(entry[conv.weight.name]!, fit: fits[conv.weight.name])
            x = node("Conv", [x, weight], [intList("pads", [1, 1, 1, 1]), intList("kernel_shape", [3, 3])])
            x = batchNorm(x, vgg.batchNorms[i], entry)
            x = node("Relu", [x])
            if i % 2 == 1 { x = node("MaxPool", [x], [intList("kernel_shape", [2, 2]), intList("strides", [2, 2])]) }
        }
        x = node("Flatten", [x], [int("axis", 1)])
        x = node("Gemm", [x, try weight(entry["fc1.weight"]!, fit: nil)], [int("transB", 1)])
        x = batchNorm(x, vgg.batchNorms[6], entry)
        x = node("Relu", [x])
        let fc2 = try weight(entry["fc2.weight"]!, fit: nil), bias = try weight(entry["fc2.bias"]!, fit: nil)
        _ = node("Gemm", [x, fc2, bias], [int("transB", 1)], output: "logits")
        output("logits", [nil, vgg.classes])
    }

    private mutating func restoration(_ net: RestorationNet, map: TorchStateDict, fits: [String: QuantFit], bicubic: Bicubic) throws {
        let entry = Dictionary(map.entries.compactMap { e in e.tensor.map { ($0.name, e) } }, uniquingKeysWith: { a, _ in a })
        let s = net.scale
        input("input", [nil, 1, nil, nil])
        func conv(_ x: String, _ layer: any WeightedLayer) throws -> String {
            let w = try weight(entry[layer.weight.name]!, fit: fits[layer.weight.name])
            let b = try weight(entry[layer.bias!.name]!, fit: nil)
            return node("Conv", [x, w, b], [intList("pads", [1, 1, 1, 1]), intList("kernel_shape", [3, 3])])
        }
        var x = node("Relu", [try conv("input", net.convFirst)])
        for b in net.body { x = node("Relu", [try conv(x, b)]) }
        for u in net.upsamplers {
            x = node("DepthToSpace", [try conv(x, u.conv)], [int("blocksize", u.shuffle.scale), string("mode", "CRD")])
        }
        let residual = try conv(x, net.convLast)
        if s > 1 && bicubic == .input {
            input("bicubic", [nil, 1, nil, nil])
            _ = node("Add", ["bicubic", residual], output: "output")
        } else if s > 1 {
            let scales = constant("upscale", [1, 1, Float(s), Float(s)], shape: [4])
            var a = Onnx_AttributeProto()
            a.name = "cubic_coeff_a"; a.type = .float; a.f = -0.5
            let up = node("Resize", ["input", "", scales], [string("mode", "cubic"), a, string("coordinate_transformation_mode", "half_pixel")])
            _ = node("Add", [up, residual], output: "output")
        } else {
            _ = node("Sub", ["input", residual], output: "output")
        }
        output("output", [nil, 1, nil, nil])
    }

    // MARK: pieces

    /// A weight initializer in PyTorch's layout: INT4 codes + DequantizeLinear for grid fits, Float32 otherwise.
    private mutating func weight(_ e: TorchStateDict.Entry, fit: QuantFit?) throws -> String {
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

    private mutating func batchNorm(_ x: String, _ bn: BatchNorm, _ entry: [String: TorchStateDict.Entry]) -> String {
        let base = String(bn.gamma.name.dropLast(".gamma".count))
        let names = [".gamma", ".beta", ".running_mean", ".running_var"].map { suffix -> String in
            let e = entry[base + suffix]!
            return constant(e.torchName, Array(e.tensor!.buffer.buffer), shape: e.torchShape)
        }
        var eps = Onnx_AttributeProto()
        eps.name = "epsilon"; eps.type = .float; eps.f = bn.eps
        return node("BatchNormalization", [x] + names, [eps])
    }

    private mutating func constant(_ name: String, _ values: [Float], shape: [Int]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.dims = shape.map(Int64.init)
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

    private mutating func input(_ name: String, _ dims: [Int?]) { graph.input.append(valueInfo(name, dims)) }
    private mutating func output(_ name: String, _ dims: [Int?]) { graph.output.append(valueInfo(name, dims)) }
}
