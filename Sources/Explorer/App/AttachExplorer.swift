import BTCore
import Foundation
import Records

/// `btviz attach RUN`: the live screen over a run another process trains. It reads the run's metrics.jsonl as
/// `replay --follow` does, and sends the trainer keys as requests through the run folder (`RunRequests`); what the
/// trainer applied comes back as its records (method and λ events), so the header shows the run's state, not the
/// keys pressed. Leaving (q) leaves the run training.
struct AttachExplorer {
    var tail: MetricsTail
    let options: ExplorerOptions
    /// Writes a request for the trainer; returns why it could not, or nil.
    let send: (RunRequest) -> String?
    /// Whether a trainer holds the run now (checked once a second).
    let trainerRunning: () -> Bool
    var model: RunModel
    var view = ExplorerViewState(mode: .attached)
    var noticeUntil = ContinuousClock.now
    private var running = true

    init(header: RunHeader, tail: MetricsTail, options: ExplorerOptions, send: @escaping (RunRequest) -> String?,
         trainerRunning: @escaping () -> Bool) {
        self.tail = tail; self.options = options; self.send = send; self.trainerRunning = trainerRunning
        model = RunModel(header: header, records: [])
    }

    mutating func run(_ screen: CursesScreen) {
        let options = ExplorerOptions(ascii: self.options.ascii, noColor: !screen.usesColor)
        let frame = Duration.milliseconds(100)
        var lastDraw = ContinuousClock.now - frame
        var lastPoll = ContinuousClock.now - .seconds(2)
        var dirty = true
        while true {
            if screen.interrupted { return }
            let now = ContinuousClock.now
            // Twice a second: a request's effect shows within a step or two of the trainer taking it.
            if now - lastPoll >= .milliseconds(500) || tail.behind {
                lastPoll = now
                if let new = try? tail.poll() {
                    if tail.restarted { model = RunModel(header: model.header, records: []) }
                    if !new.isEmpty { model.ingest(new); dirty = true }
                }
                let wasRunning = running
                running = trainerRunning()
                if wasRunning && !running && !model.status.ended {
                    notice("no trainer holds this run now: keys are not sent (resume it with btviz train --resume RUN)")
                    dirty = true
                }
                if ExplorerController.reconcile(&view, model: model) { noticeUntil = now + .seconds(3); dirty = true }
            }
            if view.notice != nil && now >= noticeUntil { view.notice = nil; dirty = true }
            if dirty && now - lastDraw >= frame {
                let (w, h) = screen.size
                view.screen = ScreenSize(width: w, height: h)
                screen.draw(ExplorerRenderer.render(model: model, view: view, width: w, height: h, options: options))
                lastDraw = ContinuousClock.now
                dirty = false
            }
            let wait = tail.behind ? 1 : dirty ? max(1, milliseconds(frame - (ContinuousClock.now - lastDraw))) : 100
            guard let key = screen.readKey(timeoutMs: wait) else { continue }
            dirty = true
            if view.showHelp && ExplorerController.handleHelp(key, view: &view) { continue }
            guard let action = KeyMap.action(for: key, mode: .attached) else { continue }
            if action == .quit { return }
            let before = view.notice
            let effects = ExplorerController.handle(action, view: &view, model: model)
            if !effects.isEmpty && !running {
                // Nothing would take the request: say so rather than show a change that never comes.
                view.requestedMethod = nil; view.requestedLambda = nil; view.saveRequestedAt = nil
                notice("no trainer holds this run: the keys that steer it do nothing now")
                continue
            }
            for e in effects {
                let request: RunRequest
                switch e {
                case .requestMethod(let m): request = .method(m.rawValue)
                case .requestLambda(let l): request = .lambda(l)
                case .togglePause: request = .pause(!model.status.paused)
                case .save: request = .save
                }
                if let failure = send(request) {
                    view.requestedMethod = nil; view.requestedLambda = nil; view.saveRequestedAt = nil
                    view.notice = failure
                }
            }
            if view.notice != before { noticeUntil = ContinuousClock.now + .seconds(3) }
        }
    }

    private mutating func notice(_ text: String) {
        view.notice = text
        noticeUntil = ContinuousClock.now + .seconds(4)
    }
}
