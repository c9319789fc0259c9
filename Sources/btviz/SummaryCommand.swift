import ArgumentParser
import BTCore
import Export
import Foundation
import Layers
import Models
import Quantizers
import Training

/// A bit-aware summary of a run's model (Larq's `summary` is the anchor): per layer the method, its levels, bits
/// per weight both as the information bound and as export stores them, memory, and multiply-accumulates per image;
/// then the totals and the compression ratio against float32.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per layer: method, levels, bits per weight (information bound and as stored), memory and multiply-accumulates per image; totals and the compression ratio.",
        discussion: """
        info bits/w is the information bound, log2 of the levels a layer uses (BT 2.32 for 5 levels, TWN and TTQ \
        1.58: five ternary weights fit in a byte); info memory counts those bits plus the layer's scales as float32 \
        (LQ-Nets: K per output channel). stored bits/w is what `btviz export --format onnx` stores: 4 for levels \
        on one grid of int4 codes times one scale (BWN, TWN, BT, LSQ within 4 bits), 32 where it stores the float32 \
        Q(W) (TTQ, LQ-Nets); stored memory counts the packed codes and the scale. (safetensors keeps int8 codes, \
        8 bits, beside the float32 Q(W).) Layers that stay full precision (the FC layers, batch norm and its running \
        statistics; a super-resolution or denoising net's first and last convs) count 32 bits in every column. \
        quant MACs are the multiply-accumulates per image whose weight is one of a quantized layer's levels (binary, \
        ternary, or the method's few levels), float MACs those with a float32 weight; batch norm and the like count none.
        """)

    @Argument(help: "Run directory.", completion: .directory) var runDir: String
    @Option(help: "Summarize under this method instead of the one the checkpoint was trained with.") var method: QuantMethod?
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        var layer: String, shape: [Int], method: String, levels: Int?, weights: Int
        /// log2 of the levels (32 for float32), and what the ONNX export stores per weight.
        var informationBits: Double, storedBits: Double
        var informationBytes: Double, storedBytes: Double, floatBytes: Double
        /// Multiply-accumulates per image with a quantized weight, and with a float32 weight.
        var quantizedMACs: Int, floatMACs: Int
        enum CodingKeys: String, CodingKey {
            case layer, shape, method, levels, weights
            case informationBits = "information_bits_per_weight", storedBits = "stored_bits_per_weight"
            case informationBytes = "information_bytes", storedBytes = "stored_bytes", floatBytes = "float32_bytes"
            case quantizedMACs = "quantized_macs", floatMACs = "float_macs"
        }
    }

    func run() throws {
        let folder = RunFolder(runDir)
        let h = try folder.readConfig().header
        let run = try folder.open()
        let (model, engine, ckpt) = (run.model, run.engine, run.checkpoint)
        let m = method ?? ckpt.header.method
        _ = engine.quantizers(for: m, toConvergence: true)
        let fits = engine.quantize(m)
        let macs = Self.macsPerImage(model)

        // One row per layer, in the model's order: a quantized conv, or the full-precision tensors sharing a
        // prefix (bn1.gamma, bn1.beta and bn1's running statistics are one row "bn1").
        var rows: [Row] = []
        let quantized = Dictionary(uniqueKeysWithValues: zip(model.quantizedLayers.map(\.weight.name), fits))
        for t in model.allTensors {
            let n = t.buffer.count
            let shape = model.params.first { $0.name == t.name }?.shape ?? [n]
            if let fit = quantized[t.name] {
                let stored = QuantizedWeights(fit: fit, weights: UnsafeBufferPointer(start: t.buffer.ptr, count: n))
                let levels = stored == nil ? nil : fit.levelCount
                let bits = levels.map { log2(Double($0)) } ?? 32
                // The scales stored beside the codes, as the method's definition counts them (TTQ's Wp and Wn,
                // LQ-Nets' basis per channel, ...).
                let scales = stored == nil ? 0 : m.definition.storedScales(fit)
                let layerMACs = macs[t.name] ?? 0
                var row = Row(layer: t.name, shape: shape, method: stored == nil ? "full" : m.label, levels: levels, weights: n,
                              informationBits: bits, storedBits: 32,
                              informationBytes: stored == nil ? Double(4 * n) : (Double(n) * bits / 8).rounded(.up) + Double(4 * scales),
                              storedBytes: Double(4 * n), floatBytes: Double(4 * n),
                              quantizedMACs: stored == nil ? 0 : layerMACs, floatMACs: stored == nil ? layerMACs : 0)
                // What `export --format onnx` writes (ONNXModel): int4 codes two to a byte and one float32 scale
                // for levels on one grid, otherwise the float32 Q(W).
                if case .grid = stored { row.storedBits = 4; row.storedBytes = Double((n + 1) / 2 + 4) }
                rows.append(row)
                continue
            }
            let layer = String(t.name.split(separator: ".").first ?? Substring(t.name))
            let layerMACs = macs[t.name] ?? 0
            if let i = rows.firstIndex(where: { $0.layer == layer }) {
                rows[i].weights += n; rows[i].informationBytes += Double(4 * n); rows[i].storedBytes += Double(4 * n)
                rows[i].floatBytes += Double(4 * n); rows[i].floatMACs += layerMACs
                if shape.count > 1 { rows[i].shape = shape }
            } else {
                rows.append(Row(layer: layer, shape: shape, method: "full", levels: nil, weights: n, informationBits: 32,
                                storedBits: 32, informationBytes: Double(4 * n), storedBytes: Double(4 * n),
                                floatBytes: Double(4 * n), quantizedMACs: 0, floatMACs: layerMACs))
            }
        }
        let quantizedNames = Set(quantized.keys)
        let info = rows.reduce(0) { $0 + $1.informationBytes }, stored = rows.reduce(0) { $0 + $1.storedBytes }
        let f = rows.reduce(0) { $0 + $1.floatBytes }
        let qRows = rows.filter { quantizedNames.contains($0.layer) }
        let qInfo = qRows.reduce(0) { $0 + $1.informationBytes }, qf = qRows.reduce(0) { $0 + $1.floatBytes }
        let qMACs = rows.reduce(0) { $0 + $1.quantizedMACs }, fMACs = rows.reduce(0) { $0 + $1.floatMACs }
        let input = Self.inputSize(model).map { "\($0.h)x\($0.w)" } ?? h.inputShape.map(String.init).joined(separator: "x")
        if json {
            struct Report: Encodable {
                var model: String, method: String, layers: [Row]
                var information_bytes: Double, stored_bytes: Double, float32_bytes: Double
                var compression: Double, stored_compression: Double, quantized_layers_compression: Double
                var quantized_layers_stored_compression: Double
                var macs_input: String, quantized_macs: Int, float_macs: Int, macs: Int
            }
            let r = Report(model: h.modelTitle, method: m.rawValue, layers: rows, information_bytes: info, stored_bytes: stored,
                           float32_bytes: f, compression: f / info, stored_compression: f / stored,
                           quantized_layers_compression: qf / qInfo,
                           quantized_layers_stored_compression: qf / qRows.reduce(0) { $0 + $1.storedBytes }, macs_input: input, quantized_macs: qMACs,
                           float_macs: fMACs, macs: qMACs + fMACs)
            print(try JSONOutput.string(r))
            return
        }
        print("\(runDir): \(h.modelTitle) on \(h.dataset) \(h.inputShape.map(String.init).joined(separator: "x")), \(m.label)"
              + (method == nil ? " (trained, step \(ckpt.header.step))" : " (trained with \(ckpt.header.method.label))"))
        var table = [["layer", "shape", "method", "levels", "info bits/w", "stored bits/w", "weights", "info memory",
                      "stored memory", "float32", "quant MACs", "float MACs"]]
        for r in rows {
            table.append([r.layer, r.shape.map(String.init).joined(separator: "x"), r.method,
                          r.levels.map(String.init) ?? "-", String(format: r.informationBits == 32 ? "%.0f" : "%.2f", r.informationBits),
                          String(format: "%.0f", r.storedBits), String(r.weights), bytes(r.informationBytes),
                          bytes(r.storedBytes), bytes(r.floatBytes), String(r.quantizedMACs), String(r.floatMACs)])
        }
        table.append(["total", "", "", "", "", "", String(rows.reduce(0) { $0 + $1.weights }), bytes(info), bytes(stored), bytes(f),
                      String(qMACs), String(fMACs)])
        printAligned(table, lastColumnLeft: false)
        let qStored = qRows.reduce(0) { $0 + $1.storedBytes }
        print(String(format: "compression against float32: %.2fx at the information bound, %.2fx as stored (the quantized convs alone: %.2fx and %.2fx, %@ -> %@ and %@)",
                     f / info, f / stored, qf / qInfo, qf / qStored, bytes(qf), bytes(qInfo), bytes(qStored)))
        print("multiply-accumulates per \(input) image: \(qMACs + fMACs), \(qMACs) with quantized weights, \(fMACs) with float32 weights")
    }

    /// Multiply-accumulates per image of each weighted layer, by its weight's name: a 3x3 conv's output pixels
    /// times 9 times its input and output channels, a linear layer's inputs times outputs.
    static func macsPerImage(_ model: any Model) -> [String: Int] {
        Dictionary(model.weightedLayers.map { ($0.weight.name, $0.macsPerSample) }, uniquingKeysWith: +)
    }

    /// The image size the MACs are counted for: the first conv's (VGG-6's input, a restoration net's patch).
    static func inputSize(_ model: any Model) -> (h: Int, w: Int)? {
        guard let conv = model.weightedLayers.first as? Conv3x3 else { return nil }
        return (conv.h, conv.w)
    }

    private func bytes(_ b: Double) -> String {
        b >= 1024 * 1024 ? String(format: "%.2f MiB", b / 1048576) : b >= 1024 ? String(format: "%.1f KiB", b / 1024)
            : String(format: "%.0f B", b)
    }
}
