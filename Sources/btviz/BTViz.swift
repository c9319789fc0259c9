import ArgumentParser
import BTCore
import Foundation
import Kernels

/// btviz: explore and train binarized and ternary weight networks from the terminal.
struct BTViz: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btviz",
        abstract: "Train and explore binarized and ternary weight networks (BWN, TWN, TTQ, LQ-Nets, BT) in the terminal.",
        version: "0.3.0",
        subcommands: [Train.self, Eval.self, Compare.self, Summary.self, Quantize.self, ListDatasets.self, Fetch.self, Bench.self, Replay.self, Plot.self, Baseline.self, Upscale.self, Denoise.self],
        defaultSubcommand: Train.self)
}

/// Every failure leaves as one line on stderr and a non-zero exit; help and version exit 0.
@main
enum Main {
    static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        Gemm.configure()
        do {
            var command = try BTViz.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch let exitCode as ExitCode {
            exit(exitCode.rawValue)  // already explained on stdout (e.g. stopped by Ctrl-C after saving)
        } catch {
            let code = BTViz.exitCode(for: error)
            if code == .success {
                print(BTViz.fullMessage(for: error))
                exit(0)
            }
            let message = (error as? BTError)?.description ?? BTViz.message(for: error)
            // One line: ArgumentParser lists a long set of accepted values below its message ("- bwn"); they join it.
            let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let listed = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { "'" + $0.dropFirst(2) + "'" }
            let line = (lines.first ?? "failed") + (listed.isEmpty ? "" : " " + listed.joined(separator: ", "))
            FileHandle.standardError.write(Data("btviz: \(line)\n".utf8))
            exit(code == .validationFailure ? 64 : (code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}
