import CNCurses
import Foundation

public enum Terminal {
    /// Whether the full-screen explorer can run here: stdin and stdout are terminals and TERM names a
    /// terminal terminfo knows and that can address the cursor. Otherwise callers use headless output.
    public static func canRunExplorer(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return false }
        return termIsUsable(environment["TERM"])
    }

    /// The TERM part of the check alone (testable without a tty).
    public static func termIsUsable(_ term: String?) -> Bool {
        guard let t = term, !t.isEmpty, t != "dumb", t != "unknown" else { return false }
        return btviz_terminfo_usable(t) != 0
    }
}
