import BTCore
import Foundation
import Records

/// The replay loop: the live screen over recorded steps, with a time cursor instead of training keys.
struct ReplayExplorer {
    var tail: MetricsTail
    let header: RunHeader
    let options: ExplorerOptions
    var model: RunModel
    /// The run compared with (replay A B), read the same way.
    var secondTail: MetricsTail?
    var secondModel: RunModel?
    let names: [String]
    var view = ExplorerViewState(mode: .replay)
    var noticeUntil = ContinuousClock.now

    init(header: RunHeader, tail: MetricsTail, options: ExplorerOptions, second: (RunHeader, MetricsTail)? = nil,
         names: [String] = []) {
        self.header = header; self.tail = tail; self.options = options; self.names = names
        model = RunModel(header: header, records: [])
        if let (h, t) = second { secondTail = t; secondModel = RunModel(header: h, records: []) }
    }

    /// The other run's records since the last poll (a rewritten file starts it over).
    private mutating func pollSecond() -> Bool {
        guard var t = secondTail, var m = secondModel, let new = try? t.poll() else { return false }
        if t.restarted { m = RunModel(header: m.header, records: []) }
        m.ingest(new)
        secondTail = t; secondModel = m
        return !new.isEmpty
    }

    mutating func run(_ screen: CursesScreen) {
        let options = ExplorerOptions(ascii: self.options.ascii, noColor: !screen.usesColor)
        var lastPoll = ContinuousClock.now - .seconds(2)   // first poll right after the "loading" frame
        let frame = Duration.milliseconds(100)
        var lastDraw = ContinuousClock.now - frame
        var dirty = true
        while true {
            if screen.interrupted { return }
            // Redraw on change, at most 10 times a second (held arrow keys repeat faster).
            if dirty && ContinuousClock.now - lastDraw >= frame {
                let (w, h) = screen.size
                view.screen = ScreenSize(width: w, height: h)
                screen.draw(ExplorerRenderer.render(model: model, view: view, width: w, height: h, options: options,
                                                    compare: secondModel.map { ComparedRun(model: $0, names: names) }))
                dirty = false
                lastDraw = ContinuousClock.now
                if options.trapAfterDraw { fatalError("injected trap") }
            }
            let now = ContinuousClock.now
            if now - lastPoll >= .seconds(1) || tail.behind || (secondTail?.behind ?? false) {
                lastPoll = now
                if pollSecond() { dirty = true }
                if let new = try? tail.poll() {
                    if tail.restarted { model = RunModel(header: header, records: []); view.cursor = nil }
                    if !new.isEmpty { model.ingest(new); dirty = true }
                }
            }
            if view.notice != nil && now >= noticeUntil { view.notice = nil; dirty = true }
            // Playing: about 20 s for the whole run, one frame at a time; it stops at the last record.
            if view.playing && now - lastDraw >= frame {
                let n = model.steps.count
                let next = (view.cursor ?? n - 1) + max(1, n / 200)
                if next >= n - 1 { view.cursor = max(0, n - 1); view.playing = false } else { view.cursor = next }
                dirty = true
            }
            let wait = tail.behind || (secondTail?.behind ?? false) || view.playing ? 1 : dirty ? max(1, milliseconds(frame - (ContinuousClock.now - lastDraw))) : 100
            guard let key = screen.readKey(timeoutMs: wait) else { continue }
            dirty = true
            if view.showHelp && ExplorerController.handleHelp(key, view: &view) { continue }
            guard let action = KeyMap.action(for: key, mode: .replay) else { continue }
            if action == .quit { return }
            let before = view.notice
            _ = ExplorerController.handle(action, view: &view, model: model, compare: secondModel)
            if view.notice != before { noticeUntil = ContinuousClock.now + .seconds(3) }
        }
    }
}
