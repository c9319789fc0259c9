import BTCore
import CNCurses
import Foundation
import Synchronization

/// Set by the SIGINT handler (e.g. `kill -INT`); Ctrl-C typed at the keyboard arrives as key 3 in raw mode.
let interruptFlag = Atomic<Bool>(false)
/// True while a screen is open, so an exit path on another thread knows to restore the terminal.
let screenOpen = Atomic<Bool>(false)

/// What the fatal-signal handler needs, prepared before the screen opens (a C handler captures nothing, and
/// may call only async-signal-safe functions: write(2), tcsetattr(3), raise(3)).
nonisolated(unsafe) private var savedTermios = termios()
nonisolated(unsafe) private var terminalReset: UnsafeMutableBufferPointer<UInt8>?
/// The handlers we displace (Swift's backtracer among them), by signal number: put back before re-raising.
nonisolated(unsafe) private var displaced = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
private let fatalSignals: [Int32] = [SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE]

/// A trap (a Swift precondition is SIGILL or SIGTRAP) while the screen is open would leave the terminal raw, in
/// the alternate screen, cursor hidden. This handler puts it back, then hands the signal to the handler it
/// displaced (Swift's backtracer prints the trap's backtrace on the normal screen) or the default.
private func installFatalSignalRestore() {
    guard tcgetattr(STDIN_FILENO, &savedTermios) == 0 else { return }
    if terminalReset == nil {
        let bytes = Array("\u{1b}[?1049l\u{1b}[?25h\u{1b}[?1l\u{1b}>\u{1b}[0m\r\n".utf8)
        let buf = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = buf.initialize(from: bytes)
        terminalReset = buf
    }
    for sig in fatalSignals {
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = { sig in
            if let r = terminalReset { _ = write(STDOUT_FILENO, r.baseAddress, r.count) }
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedTermios)
            sigaction(sig, displaced + Int(sig), nil)
            raise(sig)  // blocked while we run: delivered to the displaced handler as we return
        }
        sigemptyset(&sa.sa_mask)
        sigaction(sig, &sa, displaced + Int(sig))
    }
}

private func removeFatalSignalRestore() {
    for sig in fatalSignals { sigaction(sig, displaced + Int(sig), nil) }
}

/// The only place that talks to ncurses. Main thread only.
final class CursesScreen {
    private let screen: OpaquePointer
    private let win: UnsafeMutablePointer<WINDOW>
    private let colors: Bool
    private var closed = false
    private var oldSigint = sigaction()
    private var attrs: [attr_t] = []

    init(options: ExplorerOptions) throws {
        let env = ProcessInfo.processInfo.environment
        guard Terminal.canRunExplorer(environment: env) else {
            throw BTError("the explorer needs an interactive terminal (stdin and stdout a tty, TERM set and known to terminfo)")
        }
        setlocale(LC_ALL, "")
        installFatalSignalRestore()
        guard let s = newterm(nil, stdout, stdin) else {
            removeFatalSignalRestore()
            throw BTError("cannot open the terminal '\(env["TERM"] ?? "")' for the explorer")
        }
        screen = s
        _ = set_term(s)
        guard let w = btviz_stdscr() else {
            endwin(); delscreen(s); removeFatalSignalRestore()
            throw BTError("cannot open the terminal for the explorer")
        }
        win = w
        raw()        // Ctrl-C arrives as key 3, so q and Ctrl-C share one path and the terminal is restored
        noecho()
        keypad(win, true)
        btviz_enable_mouse()
        _ = curs_set(0)
        set_escdelay(25)
        colors = !options.noColor && has_colors()
        if colors {
            start_color()
            _ = use_default_colors()
        }
        attrs = Style.allCases.map { Self.attr(for: $0, colors: colors) }

        // kill -INT sets a flag the loop reads, unless the caller already handles SIGINT (training does: it
        // saves a checkpoint and exits 130).
        interruptFlag.store(false, ordering: .relaxed)
        var current = sigaction()
        sigaction(SIGINT, nil, &current)
        if current.__sigaction_handler.sa_handler == nil {  // SIG_DFL
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { _ in interruptFlag.store(true, ordering: .relaxed) }
            sigemptyset(&sa.sa_mask)
            sigaction(SIGINT, &sa, &oldSigint)
            ownsSigint = true
        }
        screenOpen.store(true, ordering: .relaxed)
    }
    private var ownsSigint = false

    deinit { close() }

    /// Restores the terminal; safe to call more than once.
    func close() {
        guard !closed else { return }
        closed = true
        screenOpen.store(false, ordering: .relaxed)
        endwin()
        delscreen(screen)
        removeFatalSignalRestore()
        if ownsSigint { sigaction(SIGINT, &oldSigint, nil) }
    }

    /// False under NO_COLOR, --no-color or a monochrome terminal: panels then avoid colour-only cues.
    var usesColor: Bool { colors }

    var size: (width: Int, height: Int) { (Int(btviz_maxx(win)), Int(btviz_maxy(win))) }

    var interrupted: Bool { interruptFlag.load(ordering: .relaxed) }

    /// Colour pairs: one per meaning. Default background so the terminal's theme shows through.
    private static let pairs: [(Style, Int16)] = [
        (.title, Int16(COLOR_CYAN)), (.accent, Int16(COLOR_CYAN)), (.markerZero, Int16(COLOR_RED)),
        (.markerInner, Int16(COLOR_YELLOW)), (.markerOuter, Int16(COLOR_MAGENTA)), (.level, Int16(COLOR_GREEN)),
        (.bar, Int16(COLOR_BLUE)), (.series1, Int16(COLOR_CYAN)), (.series2, Int16(COLOR_YELLOW)),
        (.event, Int16(COLOR_MAGENTA)), (.good, Int16(COLOR_GREEN)), (.warn, Int16(COLOR_YELLOW)),
        (.bad, Int16(COLOR_RED)),
    ]

    private static func attr(for style: Style, colors: Bool) -> attr_t {
        let bold = btviz_bold(), dim = btviz_dim(), rev = btviz_reverse()
        if !colors {
            switch style {
            case .normal, .bar, .series1, .level: return 0
            case .dim, .series2, .event, .faint: return dim
            case .bold, .title, .markerZero, .markerInner, .markerOuter, .good: return bold
            case .accent, .keyCap, .warn: return rev
            case .bad, .cursor: return bold | rev
            }
        }
        if let i = pairs.firstIndex(where: { $0.0 == style }) {
            let n = Int16(i + 1)
            init_pair(n, pairs[i].1, -1)
            let extra: attr_t = [.title, .accent, .markerZero, .markerInner, .markerOuter, .good, .warn, .bad, .bar]
                .contains(style) ? bold : 0
            return btviz_color_pair(n) | extra
        }
        switch style {
        case .dim: return dim
        case .bold: return bold
        case .keyCap: return rev | bold
        case .faint: return dim
        case .cursor: return rev | bold
        default: return 0
        }
    }

    /// Draws the canvas, grouping runs of one style into single calls.
    func draw(_ c: Canvas) {
        werase(win)
        let (w, h) = size
        var buf: [wchar_t] = []
        buf.reserveCapacity(w + 1)
        for y in 0..<min(h, c.height) {
            var x = 0
            let rowW = min(w, c.width)
            while x < rowW {
                let style = c[x, y].style
                var end = x
                buf.removeAll(keepingCapacity: true)
                while end < rowW && c[end, y].style == style {
                    buf.append(wchar_t(bitPattern: c[end, y].ch.value))
                    end += 1
                }
                _ = btviz_attrset(win, attrs[Int(style.rawValue)])
                buf.append(0)
                // Writing the bottom-right cell reports ERR (the cursor cannot advance) but draws it.
                _ = mvwaddnwstr(win, Int32(y), Int32(x), buf, Int32(end - x))
                x = end
            }
        }
        _ = btviz_attrset(win, 0)
        wrefresh(win)
    }

    /// Waits up to `timeoutMs` for a key; nil on timeout.
    func readKey(timeoutMs: Int) -> KeyInput? {
        wtimeout(win, Int32(max(0, timeoutMs)))
        let k = wgetch(win)
        if k == btviz_err() { return nil }
        switch k {
        case btviz_key_resize(): return .resize
        case btviz_key_left(): return .left
        case btviz_key_right(): return .right
        case btviz_key_up(): return .up
        case btviz_key_down(): return .down
        case btviz_key_home(): return .home
        case btviz_key_end(): return .end
        case btviz_key_ppage(): return .pageUp
        case btviz_key_npage(): return .pageDown
        case btviz_key_btab(): return .backTab
        case btviz_key_mouse():
            var x: Int32 = 0, y: Int32 = 0
            let kind: MouseKind
            switch btviz_read_mouse(&x, &y) {
            case 1: kind = .press
            case 2: kind = .release
            case 3: kind = .wheelUp
            case 4: kind = .wheelDown
            case 5: kind = .drag
            default: return nil
            }
            return .mouse(x: Int(x), y: Int(y), kind: kind)
        case 3: return .ctrlC
        case 9: return .tab
        case 27: return .escape
        case 32...126: return .char(Character(Unicode.Scalar(UInt8(k))))
        default: return .other(k)
        }
    }
}
