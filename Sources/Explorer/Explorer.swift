import BTCore
import CNCurses
import Foundation
import Training

public struct ExplorerOptions: Sendable {
    /// Plain ASCII drawing, for fonts without block or braille characters.
    public var ascii: Bool
    /// No colours at all (attributes only); also set when NO_COLOR is in the environment.
    public var noColor: Bool
    public init(ascii: Bool, noColor: Bool) { self.ascii = ascii; self.noColor = noColor }
}

public enum Explorer {
    /// Runs the live screen until the trainer finishes and the user quits, or the user quits (then it
    /// requests stop and keeps drawing until `trainerDone()` returns true; a second q leaves at once).
    /// Throws BTError if the terminal cannot be opened. Call on the main thread.
    public static func runLive(header: RunHeader, board: RunBoard, control: TrainerControl, options: ExplorerOptions,
                               trainerDone: @escaping @Sendable () -> Bool) throws {
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = LiveExplorer(header: header, board: board, control: control, trainerDone: trainerDone,
                                options: effective(options))
        loop.run(screen)
    }

    /// The same screen over a run's metrics.jsonl, finished or still being written (re-read each second).
    /// Returns how many malformed lines were skipped.
    @discardableResult
    public static func runReplay(header: RunHeader, metricsPath: String, options: ExplorerOptions) throws -> Int {
        // An unreadable file is a plain error before the screen opens; a big one loads on screen.
        guard FileManager.default.isReadableFile(atPath: metricsPath) else { throw BTError("cannot read \(metricsPath)") }
        let screen = try CursesScreen(options: effective(options))
        defer { screen.close() }
        var loop = ReplayExplorer(header: header, tail: MetricsTail(path: metricsPath), options: effective(options))
        loop.run(screen)
        return loop.tail.skipped
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

