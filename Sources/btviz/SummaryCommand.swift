import ArgumentParser
import BTCore
import Foundation
import Layers
import Models
import Quantizers
import Training

/// A bit-aware summary of a run's model (Larq's `summary` is the anchor): per layer the method, its levels, bits
/// per weight and memory, then the totals and the compression ratio against float32.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per layer: method, levels, bits per weight (log2 of the levels), quantized and float32 memory; totals and the compression ratio.",
        discussion: """
        Bits per weight are log2 of the levels a layer uses (TWN and TTQ 1.58: five ternary weights fit in a \
        byte). Quantized memory counts those bits plus the layer's scales as float32 (LQ-Nets: K per output \
        channel). Layers that stay full precision (the FC layers, batch norm and its running statistics; a \
        super-resolution or denoising net's first and last convs) count 32 bits in both columns.
        """)

    @Argument(help: "Run directory.") var runDir: String
    @Option(help: "Summarize under this method instead of the one the checkpoint was trained with.") var method: QuantMethod?
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        var layer: String, shape: [Int], method: String, levels: Int?, bitsPerWeight: Double, weights: Int
        var quantizedBytes: Double, floatBytes: Double
        enum CodingKeys: String, CodingKey {
            case layer, shape, method, levels, weights
            case bitsPerWeight = "bits_per_weight", quantizedBytes = "quantized_bytes", floatBytes = "float32_bytes"
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

        // One row per layer, in the model's order: a quantized conv, or the full-precision tensors sharing a
        // prefix (bn1.gamma, bn1.beta and bn1's running statistics are one row "bn1").
        var rows: [Row] = []
        let quantized = Dictionary(uniqueKeysWithValues: zip(model.quantizedLayers.map(\.weight.name), fits))
        for t in model.allTensors {
            let n = t.buffer.count
            if let fit = quantized[t.name] {
                let levels = fit.isIdentity ? nil : fit.levelCount
                let bits = levels.map { log2(Double($0)) } ?? 32
                // The scales stored beside the codes, as the method's definition counts them (TTQ's Wp and Wn,
                // LQ-Nets' basis per channel, ...).
                let scales = fit.isIdentity ? 0 : m.definition.storedScales(fit)
                rows.append(Row(layer: t.name, shape: model.params.first { $0.name == t.name }?.shape ?? [n],
                                method: fit.isIdentity ? "full" : m.label, levels: levels, bitsPerWeight: bits, weights: n,
                                quantizedBytes: fit.isIdentity ? Double(4 * n) : (Double(n) * bits / 8).rounded(.up) + Double(4 * scales),
                                floatBytes: Double(4 * n)))
                continue
            }
            let layer = String(t.name.split(separator: ".").first ?? Substring(t.name))
            if let i = rows.firstIndex(where: { $0.layer == layer }) {
                rows[i].weights += n; rows[i].quantizedBytes += Double(4 * n); rows[i].floatBytes += Double(4 * n)
                if let p = model.params.first(where: { $0.name == t.name }), p.shape.count > 1 { rows[i].shape = p.shape }
            } else {
                rows.append(Row(layer: layer, shape: model.params.first { $0.name == t.name }?.shape ?? [n], method: "full",
                                levels: nil, bitsPerWeight: 32, weights: n, quantizedBytes: Double(4 * n), floatBytes: Double(4 * n)))
            }
        }
        let quantizedNames = Set(quantized.keys)
        let q = rows.reduce(0) { $0 + $1.quantizedBytes }, f = rows.reduce(0) { $0 + $1.floatBytes }
        let qRows = rows.filter { quantizedNames.contains($0.layer) }
        let qq = qRows.reduce(0) { $0 + $1.quantizedBytes }, qf = qRows.reduce(0) { $0 + $1.floatBytes }
        if json {
            struct Report: Encodable {
                var model: String, method: String, layers: [Row], quantized_bytes: Double, float32_bytes: Double
                var compression: Double, quantized_layers_compression: Double
            }
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            let r = Report(model: h.modelTitle, method: m.rawValue, layers: rows, quantized_bytes: q, float32_bytes: f,
                           compression: f / q, quantized_layers_compression: qf / qq)
            print(String(decoding: try e.encode(r), as: UTF8.self))
            return
        }
        print("\(runDir): \(h.modelTitle) on \(h.dataset) \(h.inputShape.map(String.init).joined(separator: "x")), \(m.label)"
              + (method == nil ? " (trained, step \(ckpt.header.step))" : " (trained with \(ckpt.header.method.label))"))
        var table = [["layer", "shape", "method", "levels", "bits/w", "weights", "quantized", "float32"]]
        for r in rows {
            table.append([r.layer, r.shape.map(String.init).joined(separator: "x"), r.method,
                          r.levels.map(String.init) ?? "-", String(format: r.bitsPerWeight == 32 ? "%.0f" : "%.2f", r.bitsPerWeight),
                          String(r.weights), bytes(r.quantizedBytes), bytes(r.floatBytes)])
        }
        table.append(["total", "", "", "", "", String(rows.reduce(0) { $0 + $1.weights }), bytes(q), bytes(f)])
        printAligned(table, lastColumnLeft: false)
        print(String(format: "compression %.2fx against float32 (the quantized convs alone: %.2fx, %@ -> %@)",
                     f / q, qf / qq, bytes(qf), bytes(qq)))
    }

    private func bytes(_ b: Double) -> String {
        b >= 1024 * 1024 ? String(format: "%.2f MiB", b / 1048576) : b >= 1024 ? String(format: "%.1f KiB", b / 1024)
            : String(format: "%.0f B", b)
    }
}
