#if canImport(Glibc)
import Glibc
#endif
import Records

/// The live loop: drains the board into a RunModel, turns keys into TrainerControl requests, and
/// redraws at most every 100 ms, and only when something changed (or once a second, for the clock):
/// the screen shares the cores with training, so an idle frame is a cost with nothing to show.
struct LiveExplorer {
    let board: RunBoard
    let control: TrainerControl
    let trainerDone: @Sendable () -> Bool
    let options: ExplorerOptions
    var model: RunModel
    var view = ExplorerViewState(mode: .live)
    var noticeUntil = ContinuousClock.now

    init(header: RunHeader, board: RunBoard, control: TrainerControl, trainerDone: @escaping @Sendable () -> Bool,
         options: ExplorerOptions, history: [RunRecord] = []) {
        self.board = board; self.control = control; self.trainerDone = trainerDone; self.options = options
        let (records, status) = board.drain()
        model = RunModel(header: header, stepCap: 2000, method: status.method, lambda: status.lambda)
        model.ingest(history)
        model.ingest(records)
        model.status = status
    }

    mutating func run(_ screen: CursesScreen) -> LiveExit {
        let options = ExplorerOptions(ascii: self.options.ascii, noColor: !screen.usesColor)
        let frame = Duration.milliseconds(100)
        var lastDraw = ContinuousClock.now - frame
        var dirty = true
        while true {
            let (records, status) = board.drain()
            if !records.isEmpty || status != model.status { dirty = true }
            model.ingest(records)
            model.status = status   // what the trainer actually applied
            if ExplorerController.reconcile(&view, model: model) { noticeUntil = ContinuousClock.now + .seconds(3); dirty = true }
            if view.quitting && trainerDone() { return .quit }
            // Ctrl-C as a key, or SIGINT/SIGTERM/SIGHUP from outside: stop, save, and leave once the trainer is done.
            if (screen.interrupted || control.stopSignal != 0) && !view.quitting { quit(); dirty = true }

            let now = ContinuousClock.now
            if view.notice != nil && now >= noticeUntil { view.notice = nil; dirty = true }
            // At most 10 frames a second; keys are read in between and show on the next frame.
            if now - lastDraw >= frame && (dirty || now - lastDraw >= .seconds(1)) {
                let (w, h) = screen.size
                view.screen = ScreenSize(width: w, height: h)
                screen.draw(ExplorerRenderer.render(model: model, view: view, width: w, height: h, options: options))
                lastDraw = now
                dirty = false
            }
            let left = frame - (ContinuousClock.now - lastDraw)
            guard let key = screen.readKey(timeoutMs: max(1, milliseconds(left))) else { continue }
            dirty = true
            if view.showHelp && ExplorerController.handleHelp(key, view: &view) { continue }
            guard let action = KeyMap.action(for: key, mode: .live) else { continue }
            if action == .quit {
                if view.quitting { return .quit }   // second q: leave now; the caller still waits for the trainer
                // Ctrl-C as a key (raw mode) stops as SIGINT does, with the same exit status as headless.
                if key == .ctrlC { control.requestStop(signal: SIGINT) }
                quit()
                continue
            }
            if action == .detach {
                if model.status.ended || view.quitting { view.notice = "nothing to detach from: the run has ended"; continue }
                return .detached
            }
            let before = view.notice
            for e in ExplorerController.handle(action, view: &view, model: model) {
                switch e {
                case .requestMethod(let m): control.requestMethod(m)
                case .requestLambda(let l): control.requestLambda(l)
                case .togglePause: control.togglePause()
                case .save: control.requestSave()
                }
            }
            if view.notice != before { noticeUntil = ContinuousClock.now + .seconds(3) }
        }
    }

    private mutating func quit() {
        control.requestStop()
        view.quitting = true
    }
}

func milliseconds(_ d: Duration) -> Int {
    let (s, atto) = d.components
    return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
}
