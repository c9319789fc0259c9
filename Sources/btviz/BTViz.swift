import ArgumentParser
import BTCore
import Datasets
import Foundation
import Kernels
import Quantizers
import Training

/// btviz: explore and train binarized and ternary weight networks from the terminal.
struct BTViz: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "btviz",
        // The methods come from the registry, so a new quantizer is in the help without an edit here.
        abstract: "Train and explore binarized and ternary weight networks ("
            + QuantizerRegistry.quantizing.map(\.label).joined(separator: ", ") + ") in the terminal.",
        version: "0.3.0",
        subcommands: [Train.self, Eval.self, Compare.self, Summary.self, Quantize.self, ListDatasets.self, Fetch.self, Bench.self, ReduceBench.self, Replay.self, Attach.self, Plot.self, Baseline.self, Upscale.self, Denoise.self, Predict.self, Sweep.self, ExportRun.self],
        defaultSubcommand: Train.self)
}

/// Every failure leaves as one line on stderr and a non-zero exit; help and version exit 0.
@main
enum Main {
    static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        Gemm.configure()
        do {
            if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == MatProbe.argument {
                MatProbe.runChild(path: CommandLine.arguments[2])
            }
            HDF5Isolation.probe = MatProbe.readInChild
            // Bare `btviz` prints the help (as every CLI does) instead of starting a 15-epoch training;
            // `btviz --dataset ...` without a subcommand still trains.
            if CommandLine.arguments.count == 1 {
                print(BTViz.helpMessage())
                exit(0)
            }
            try CommandNames.check(Array(CommandLine.arguments.dropFirst()))
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
            let message = Flags.report(error, parser: BTViz.self)
            // One line: ArgumentParser lists a long set of accepted values below its message ("- bwn"); they join it.
            let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let listed = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { "'" + $0.dropFirst(2) + "'" }
            let line = (lines.first ?? "failed") + (listed.isEmpty ? "" : " " + listed.joined(separator: ", "))
            FileHandle.standardError.write(Data("btviz: \(line)\n".utf8))
            exit(code == .validationFailure ? 64 : (code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}

/// Reads a MATLAB v7.3 (HDF5) file in a child process of this program before the real read (HDF5Isolation).
enum MatProbe {
    static let argument = "__read-mat-probe"

    /// The child: read the file as training would, exit 0 if it reads, 1 with the error's line if not.
    static func runChild(path: String) -> Never {
        HDF5Isolation.probe = nil
        do { _ = try readSVHNMat(path: path); exit(0) } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        }
    }

    /// The parent: a clean refusal for whatever the child could not read, or for the child's crash.
    static func readInChild(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        p.arguments = [argument, path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"  // a crash there is expected and reported here, without a backtrace
        p.environment = env
        do { try p.run() } catch { return }  // cannot isolate: read in-process as before
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationReason == .uncaughtSignal {
            throw BTError("bad .mat file \(path) (MATLAB v7.3 (HDF5)): libhdf5 crashed reading it (signal \(p.terminationStatus)); the file is damaged")
        }
        if p.terminationStatus != 0 {
            throw BTError(message.split(separator: "\n").first.map(String.init) ?? "bad .mat file \(path)")
        }
    }
}
