import ArgumentParser
import BTCore
import Datasets
import Foundation
import Quantizers

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a .npy weight array (float32 or float64, any shape) and report the quantizer's fit.")

    @Option(help: "bwn, twn or bt.") var method: QuantMethod
    @Option(help: "Input .npy (as written by numpy.save).") var input: String
    @Option(help: "Write Q(W) here as float32 .npy, same shape.") var output: String?
    @Option(help: "TWN/BT threshold ratio.") var deltaRatio: Float = 0.66

    func validate() throws {
        guard method != .full else { throw ValidationError("--method must be bwn, twn or bt") }
        guard deltaRatio.isFinite, deltaRatio > 0, deltaRatio < 2 else {
            throw ValidationError("--delta-ratio must be in (0, 2) (got \(deltaRatio))")
        }
    }

    func run() throws {
        let (shape, values) = try readNpy(path: input)
        guard !values.isEmpty else { throw BTError("\(input) holds an empty array") }
        guard values.allSatisfy(\.isFinite) else { throw BTError("\(input) holds NaN or infinite values") }
        let fit = values.withUnsafeBufferPointer { method.quantizer(deltaRatio: deltaRatio).fit($0) }
        var q = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { w in q.withUnsafeMutableBufferPointer { fit.quantize(w, into: $0) } }
        let counts = values.withUnsafeBufferPointer { fit.levelCounts($0) }
        let error = values.withUnsafeBufferPointer { fit.relativeError($0) }
        // Finite weights can still overflow the fit's sums (|w| near Float.greatestFiniteMagnitude).
        guard (Array(fit.scales.values) + Array(fit.thresholds.values) + fit.transitions + fit.levels + [error]).allSatisfy(\.isFinite),
              q.allSatisfy(\.isFinite) else {
            throw BTError("\(input): the weights are too large to quantize in float32 (largest |w| \(values.map(abs).max() ?? 0))")
        }
        struct Report: Encodable {
            let method: String, shape: [Int], scales: [String: Float], thresholds: [String: Float]
            let transitions: [Float], levels: [Float], level_counts: [Int], quant_error: Float
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let report = Report(method: method.rawValue, shape: shape, scales: fit.scales, thresholds: fit.thresholds,
                            transitions: fit.transitions, levels: fit.levels, level_counts: counts, quant_error: error)
        print(String(decoding: try e.encode(report), as: UTF8.self))
        if let output { try writeNpy(path: output, shape: shape, values: q) }
    }
}
