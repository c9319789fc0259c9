import BTCore
import Foundation
import Quantizers
import Records
import Synchronization

/// The training process's side of `btviz attach`: takes the requests written into RUN/requests and hands them to
/// the trainer's `TrainerControl`, as the explorer's keys are. Requests waiting when a resumed run starts are taken
/// before its first step (so one written while no trainer ran applies at the resumed run's first step, on every
/// rank); a new run drops them (they were for the run it replaces). After that, a thread looks every 200 ms. Under MPI only rank 0 has one: the ranks' per-step
/// agreement carries rank 0's requests to the others.
final class RequestWatcher: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(runDir: String, control: TrainerControl, applyWaiting: Bool) throws {
        let inbox = UncheckedBox(try RunRequestInbox(runDir: runDir))
        let waiting = inbox.value.take()
        if applyWaiting {
            Self.forward(waiting, to: control)
        } else if !waiting.requests.isEmpty {
            FileHandle.standardError.write(Data("btviz: note: dropped \(waiting.requests.count) request(s) left in \(inbox.value.path) for the run this one replaces\n".utf8))
        }
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: 0.2)
                Self.forward(inbox.value.take(), to: control)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops the thread and waits for it (a request it holds is either forwarded or still in the folder).
    func cancel() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        done.wait()
    }

    private static func forward(_ taken: (requests: [RunRequest], refused: [String]), to control: TrainerControl) {
        var refused = taken.refused
        for r in taken.requests {
            switch r {
            case .method(let id):
                guard let m = QuantMethod(rawValue: id) else {
                    refused.append("ignored a request for method '\(id)': not one of \(QuantMethod.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                control.requestMethod(m)
            case .lambda(let l): control.requestLambda(l)
            case .pause(let p): control.setPaused(p)
            case .save: control.requestSave()
            }
        }
        // Through BTError's escaping: a file name or method id is data from whoever wrote the folder.
        for line in refused { FileHandle.standardError.write(Data("btviz: \(BTError(line).description)\n".utf8)) }
    }
}
