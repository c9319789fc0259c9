import BTCore
import Foundation
import Records

/// The `sweep watch` loop: the board, the side-by-side view, the search plot, and Enter into a run's replay
/// explorer (following it live) on the same screen; q or Esc there comes back to the board.
struct SweepExplorer {
    var watcher: SweepWatcher
    let options: ExplorerOptions
    /// Reads a run folder's header (config.json), for the explorer Enter opens.
    let header: (String) throws -> RunHeader
    var view = SweepViewState()
    /// The side-by-side view's runs, read in full while it is open (the board keeps only digests).
    var multiples: [String: (tail: MetricsTail, model: RunModel)] = [:]
    var noticeUntil = ContinuousClock.now

    mutating func run(_ screen: CursesScreen) {
        let options = ExplorerOptions(ascii: self.options.ascii, noColor: !screen.usesColor)
        var lastPoll = ContinuousClock.now
        let frame = Duration.milliseconds(100)
        var dirty = true
        while !screen.interrupted {
            if dirty {
                let (w, h) = screen.size
                screen.draw(render(width: w, height: h, options: options))
                dirty = false
            }
            let now = ContinuousClock.now
            if now - lastPoll >= .seconds(1) || watcher.behind || multiplesBehind {
                lastPoll = now
                let before = watcher.board
                watcher.poll()
                if view.screen == .multiples { pollMultiples() }
                dirty = dirty || watcher.board != before || view.screen == .multiples
            }
            if view.notice != nil && now >= noticeUntil { view.notice = nil; dirty = true }
            guard let key = screen.readKey(timeoutMs: watcher.behind || multiplesBehind ? 1 : milliseconds(frame)) else { continue }
            dirty = true
            guard let action = SweepKeyMap.action(for: key, screen: view.screen) else { continue }
            switch action {
            case .quit: return
            case .open:
                if openSelected(screen, options: options) { return }
            default:
                let wasBoard = view.screen == .board
                SweepController.handle(action, view: &view, board: watcher.board, page: max(1, screen.size.height - 8),
                                       steps: multiplesSteps, layerCount: multiplesLayerCount)
                if wasBoard && view.screen == .multiples { loadMultiples() }
                if view.screen == .board { multiples = [:] }
            }
        }
    }

    func render(width: Int, height: Int, options: ExplorerOptions) -> Canvas {
        switch view.screen {
        case .board:
            return SweepRenderer.renderBoard(watcher.board, view: view, width: width, height: height, options: options)
        case .multiples:
            return SweepRenderer.renderMultiples(watcher.board, view: view, models: multiples.mapValues(\.model),
                                                 width: width, height: height, options: options)
        case .plot:
            return SweepRenderer.renderSearchPlot(watcher.board, view: view, width: width, height: height, options: options)
        }
    }

    /// Enter: the selected run in the replay explorer, following it. Returns true if the user asked to leave
    /// `sweep watch` altogether (Ctrl-C, or a signal, in the explorer).
    private mutating func openSelected(_ screen: CursesScreen, options: ExplorerOptions) -> Bool {
        let board = watcher.board
        guard board.rows.indices.contains(view.selected) else { return false }
        let row = board.rows[view.selected]
        let runDir = watcher.dir + "/" + row.name
        let metrics = RunFiles.metrics(in: runDir)
        guard FileManager.default.isReadableFile(atPath: metrics), let h = try? header(runDir) else {
            say(row.name + ": " + (row.state == .notStarted ? "not started yet" : "no records to show yet"))
            return false
        }
        var replay = ReplayExplorer(header: h, tail: MetricsTail(path: metrics), options: self.options, names: [row.name])
        replay.view.notice = row.name + ": q or Esc back to the board"
        replay.noticeUntil = ContinuousClock.now + .seconds(4)
        replay.run(screen)
        return replay.quitByCtrlC || screen.interrupted
    }

    private mutating func say(_ s: String) {
        view.notice = s
        noticeUntil = ContinuousClock.now + .seconds(3)
    }

    // MARK: the side-by-side view's runs

    private mutating func loadMultiples() {
        multiples = [:]
        pollMultiples()
    }

    private mutating func pollMultiples() {
        // The group changes with the compared option (c), and a run of it may start meanwhile.
        let board = watcher.board
        let names = Set(view.group(in: board).map { board.rows[$0].name })
        multiples = multiples.filter { names.contains($0.key) }
        for n in names where multiples[n] == nil {
            let runDir = watcher.dir + "/" + n
            let metrics = RunFiles.metrics(in: runDir)
            guard FileManager.default.fileExists(atPath: metrics), let h = try? header(runDir) else { continue }
            multiples[n] = (MetricsTail(path: metrics), RunModel(header: h, records: []))
        }
        for (name, var entry) in multiples {
            guard let new = try? entry.tail.poll() else { continue }
            if entry.tail.restarted { entry.model = RunModel(header: entry.model.header, records: []) }
            entry.model.ingest(new)
            multiples[name] = entry
        }
    }

    private var multiplesBehind: Bool { multiples.values.contains { $0.tail.behind } }

    /// Every step some run of the group has a record of, in order: what ←/→ move through.
    private var multiplesSteps: [Int] {
        Array(Set(multiples.values.flatMap { $0.model.steps.map(\.step) })).sorted()
    }

    private var multiplesLayerCount: Int { multiples.values.map { $0.model.layerNames.count }.max() ?? 1 }
}
