import ArgumentParser
import BTCore
import Datasets
import Foundation
import Quantizers

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a .npy weight array (float32 or float64, any shape) and report the quantizer's fit.",
        discussion: """
        With no training behind it, TTQ's Wp and Wn are the least-squares scales of the two regions, and LQ-Nets' \
        basis comes from alternating least squares run to convergence. Output channels are the array's first axis \
        (PyTorch's (out, in, kh, kw) and btviz's own (out, 3, 3, in)); LQ-Nets fits one basis per channel.
        """)

    @Option(name: .customLong("method"), help: "The quantizer.") var quantizer: QuantizingMethod
    @Option(help: "Input .npy (as written by numpy.save).", completion: .file(extensions: ["npy"])) var input: String
    @Option(help: "Write Q(W) here as float32 .npy, same shape.", completion: .file()) var output: String?
    @OptionGroup var quant: QuantizerOptions

    var method: QuantMethod { quantizer.method }

    func validate() throws {
        if let problem = spec.problem { throw ValidationError(QuantizerOptions.message(problem)) }
    }

    /// The methods that quantize: `full` does not, so it is neither listed in the help nor accepted.
    struct QuantizingMethod: ExpressibleByArgument {
        let method: QuantMethod
        init?(argument: String) {
            guard let m = QuantMethod(argument: argument), m.definition.hasTransitions else { return nil }
            method = m
        }
        static var allValueStrings: [String] { QuantizerRegistry.quantizing.map(\.id) }
        static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
    }

    var spec: QuantSpec { QuantSpec(method: method, options: quant.applied(to: QuantOptions())) }

    func run() throws {
        let (shape, values) = try readNpy(path: input)
        guard !values.isEmpty else { throw BTError("\(input) holds an empty array") }
        guard values.allSatisfy(\.isFinite) else { throw BTError("\(input) holds NaN or infinite values") }
        let fitShape = shape.isEmpty ? [values.count] : shape
        let fit = values.withUnsafeBufferPointer { spec.fitStandalone($0, shape: fitShape) }
        var q = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { w in q.withUnsafeMutableBufferPointer { fit.quantize(w, into: $0) } }
        let counts = values.withUnsafeBufferPointer { fit.levelCounts($0) }
        let error = values.withUnsafeBufferPointer { fit.relativeError($0) }
        // Finite weights can still overflow the fit's sums (|w| near Float.greatestFiniteMagnitude).
        let numbers: [Float] = Array(fit.scales.values) + Array(fit.thresholds.values) + fit.levelTable + fit.transitionTable
        guard numbers.allSatisfy(\.isFinite), error.isFinite, q.allSatisfy(\.isFinite) else {
            throw BTError("\(input): the weights are too large to quantize in float32 (largest |w| \(values.map(abs).max() ?? 0))")
        }
        struct Report: Encodable {
            let method: String, shape: [Int], scales: [String: Float], thresholds: [String: Float]
            let transitions: [Float], levels: [Float], level_counts: [Int], quant_error: Float
            let channels: Int, channel_levels: [[Float]]?
        }
        let perChannel: [[Float]]? = fit.channels > 1
            ? (0..<fit.channels).map { c in (0..<fit.levelCount).map { fit.level($0, channel: c) } } : nil
        let report = Report(method: method.rawValue, shape: shape, scales: fit.scales, thresholds: fit.thresholds,
                            transitions: fit.transitions, levels: fit.levels, level_counts: counts, quant_error: error,
                            channels: fit.channels, channel_levels: perChannel)
        print(try JSONOutput.string(report))
        if let output { try writeNpy(path: output, shape: shape, values: q) }
    }
}
