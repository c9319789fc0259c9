import ArgumentParser
import BTCore
import Explorer
import Foundation
import Quantizers
import Records
import Training

struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Steer a running run from another terminal or machine: its explorer, with the keys that switch method and λ.",
        discussion: """
        For a headless run, a detached one (d), a Slurm job or an MPI run: the screen follows RUN/metrics.jsonl as \
        `replay --follow` does, and the trainer keys (method, m, + - 0, space, s) reach the trainer through \
        RUN/requests, which it reads between steps (under mpirun, rank 0 reads them and every rank applies them at \
        the same step). The header shows what the trainer applied, from its records. q leaves; the run goes on. \
        With --method, --lambda, --pause, --unpause or --save, the requests are sent without a screen (for scripts).
        """)

    @Argument(help: "The run's directory (on a shared filesystem, from any machine that sees it).", completion: .directory) var runDir: String
    @Option(help: "Switch the quantizer: \(QuantMethod.allCases.map(\.rawValue).joined(separator: ", ")).") var method: QuantMethod?
    @Option(help: "Set λ, the transition regularizer's weight (>= 0).") var lambda: Float?
    @Flag(help: "Pause training (the trainer keeps its state and waits).") var pause = false
    @Flag(help: "Continue a paused run.") var unpause = false
    @Flag(help: "Save a checkpoint at the next step.") var save = false
    @OptionGroup var screen: ScreenOptions

    func validate() throws {
        if pause && unpause { throw ValidationError("give --pause or --unpause, not both") }
        if let lambda, !(lambda.isFinite && lambda >= 0) { throw ValidationError("--lambda must be a finite number >= 0 (got \(lambda))") }
    }

    /// The requests the options ask for, in the order the trainer applies them.
    var requests: [RunRequest] {
        var r: [RunRequest] = []
        if let method { r.append(.method(method.rawValue)) }
        if let lambda { r.append(.lambda(lambda)) }
        if save { r.append(.save) }
        if pause || unpause { r.append(.pause(pause)) }
        return r
    }

    func run() throws {
        let folder = RunFolder(runDir)
        let file = try folder.readConfig()  // a run folder, or one line saying why not
        guard let holder = RunLock.holder(of: runDir) else {
            throw BTError("no trainer is running in \(runDir) (finished, stopped or not started); continue it with btviz train --resume \(Train.shellWord(runDir)), or watch it with btviz replay")
        }
        if !requests.isEmpty {
            for r in requests { try RunRequests.send(r, to: runDir) }
            print("sent to \(holder): \(requests.map(Self.describe).joined(separator: ", ")); the trainer applies them at its next step (its events in \(folder.metricsPath) say when)")
            return
        }
        guard Terminal.canRunExplorer() else {
            throw BTError("attach needs an interactive terminal (stdin and stdout a tty, TERM set); without one, send requests with --method, --lambda, --pause, --unpause or --save")
        }
        try Explorer.runAttached(header: file.header, metricsPath: folder.metricsPath,
                                 options: ExplorerOptions(ascii: screen.ascii, noColor: false),
                                 send: { r in
                                     do { try RunRequests.send(r, to: runDir); return nil } catch { return "\(error)" }
                                 },
                                 trainerRunning: { RunLock.holder(of: runDir) != nil })
    }

    static func describe(_ r: RunRequest) -> String {
        switch r {
        case .method(let id): return "method " + QuantMethod.label(recorded: id)
        case .lambda(let l): return "λ \(l)"
        case .pause(let p): return p ? "pause" : "unpause"
        case .save: return "save"
        }
    }
}
