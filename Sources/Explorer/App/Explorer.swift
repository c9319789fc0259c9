import BTCore
import CNCurses
import Foundation
import Records

public struct ExplorerOptions: Sendable {
    /// Plain ASCII drawing, for fonts without block or braille characters.
    public var ascii: Bool
    /// No colours at all (attributes only); also set when NO_COLOR is in the environment.
    public var noColor: Bool
    /// A test's fault (BTVIZ_FAULT=trap-after-draw, read once at start): trap after the first frame, to show a
    /// trap leaves the terminal usable.
    public var trapAfterDraw = ProcessInfo.processInfo.environment["BTVIZ_FAULT"] == "trap-after-draw"
    public init(ascii: Bool, noColor: Bool) { self.ascii = ascii; self.noColor = noColor }
}

/// How the live screen was left: quit (the trainer is told to stop) or detached (training goes on without it).
public enum LiveExit: Sendable { case quit, detached }

public enum Explorer {
    /// Runs the live screen until the trainer finishes and the user quits, or the user quits (then it
    /// requests stop and keeps drawing until `trainerDone()` returns true; a second q leaves at once).
    /// Throws BTError if the terminal cannot be opened. Call on the main thread.
    /// `history`: the run's records so far (a resumed run's metrics.jsonl), shown before the board's.
    @discardableResult
    public static func runLive(header: RunHeader, board: RunBoard, control: TrainerControl, options: ExplorerOptions,
                               history: [RunRecord] = [], trainerDone: @escaping @Sendable () -> Bool) throws -> LiveExit {
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = LiveExplorer(header: header, board: board, control: control, trainerDone: trainerDone,
                                options: effective(options), history: history)
        return loop.run(screen)
    }

    /// The same screen over a run's metrics.jsonl, finished or still being written (re-read each second); with a
    /// second run, both side by side. Returns how many malformed lines were skipped in each.
    @discardableResult
    public static func runReplay(runs: [(name: String, header: RunHeader, metricsPath: String)],
                                 options: ExplorerOptions) throws -> [Int] {
        // An unreadable file is a plain error before the screen opens; a big one loads on screen.
        for r in runs where !FileManager.default.isReadableFile(atPath: r.metricsPath) { throw BTError("cannot read \(r.metricsPath)") }
        guard let first = runs.first else { return [] }
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = ReplayExplorer(header: first.header, tail: MetricsTail(path: first.metricsPath), options: effective(options),
                                  second: runs.count > 1 ? (runs[1].header, MetricsTail(path: runs[1].metricsPath)) : nil,
                                  names: runs.map(\.name))
        loop.run(screen)
        return [loop.tail.skipped] + (loop.secondTail.map { [$0.skipped] } ?? [])
    }

    /// `btviz attach RUN`: the live screen over a run another process trains, its trainer keys sent through the
    /// run folder by `send` (which returns why a request could not be written, or nil). `trainerRunning` says
    /// whether a trainer holds the run now. Throws BTError before the screen opens if the terminal cannot be used.
    public static func runAttached(header: RunHeader, metricsPath: String, options: ExplorerOptions,
                                   send: @escaping (RunRequest) -> String?, trainerRunning: @escaping () -> Bool) throws {
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = AttachExplorer(header: header, tail: MetricsTail(path: metricsPath), options: effective(options),
                                  send: send, trainerRunning: trainerRunning)
        loop.run(screen)
    }

    /// `sweep watch DIR`: the board of every run of the sweep in DIR (its sweep.json), live while the sweep runs
    /// and afterwards; Enter opens a run in the replay explorer, m shows a row group side by side.
    /// `header` reads a run folder's header (its config.json), `staleness` says why a run is not its spec's. Throws BTError before the screen opens if DIR is not
    /// a sweep folder or the terminal cannot be used.
    public static func runSweepWatch(dir: String, header: @escaping (String) throws -> RunHeader,
                                     staleness: SweepWatcher.Staleness? = nil, options: ExplorerOptions) throws {
        let watcher = try SweepWatcher(dir: dir, staleness: staleness)
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = SweepExplorer(watcher: watcher, options: effective(options), header: header)
        loop.run(screen)
    }

    /// Leaves the alternate screen and shows the cursor when the process must exit now (a second signal) while
    /// the explorer is open on the main thread. Not for the normal path, which closes the screen itself.
    public static func restoreTerminalBeforeExit() {
        guard screenOpen.exchange(false, ordering: .relaxed) else { return }
        endwin()
    }

    /// NO_COLOR (any value, https://no-color.org) turns colours off whatever the caller passed.
    static func effective(_ o: ExplorerOptions) -> ExplorerOptions {
        var o = o
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { o.noColor = true }
        return o
    }
}

