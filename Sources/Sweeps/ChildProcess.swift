import BTCore
import Foundation

/// Child processes as the launchers need them: posix_spawn with a chosen process group and output, waited for
/// without blocking, signalled by pid. (Foundation's Process puts every child in the parent's group and reaps
/// on its own thread, which leaves a forwarded stop to chance.)
public enum ChildProcess {
    /// Starts `executable` with `args`. `newGroup` puts it in a process group of its own, so a Ctrl-C at the
    /// terminal reaches the parent alone, which forwards exactly one stop. `output` receives stdout and stderr
    /// (nil: /dev/null).
    public static func spawn(_ executable: String, _ args: [String], newGroup: Bool, output: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with default signal handling and nothing blocked, whatever this process set up.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attr, 0)
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, argv, environ)
        guard rc == 0 else { throw BTError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// How a child ended.
    public struct Exit: Equatable, Sendable {
        public var code: Int32
        public var signal: Int32?
        /// The shell's number: the exit code, or 128 + the signal.
        public var shellCode: Int32 { signal.map { 128 + $0 } ?? code }
    }

    public static func exit(fromWaitStatus s: Int32) -> Exit {
        s & 0x7f == 0 ? Exit(code: (s >> 8) & 0xff, signal: nil) : Exit(code: 128 + (s & 0x7f), signal: s & 0x7f)
    }

    /// A child that has ended, if any (never blocks).
    public static func reap(_ pid: pid_t) -> Exit? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        return r == pid ? exit(fromWaitStatus: status) : nil
    }

    /// Waits for `pid` to end (through signals).
    public static func wait(_ pid: pid_t) -> Exit {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return exit(fromWaitStatus: status)
    }
}

/// The stop signals (SIGINT, SIGTERM, SIGHUP) as a count the caller polls: a launcher forwards each one to its
/// children rather than dying with them.
public enum StopSignals {
    nonisolated(unsafe) private static var lastSignal: sig_atomic_t = 0
    nonisolated(unsafe) private static var counter: sig_atomic_t = 0

    public static func install() {
        for sig in Outcome.stopSignals {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { s in
                StopSignals.lastSignal = s
                StopSignals.counter &+= 1
            }
            sigemptyset(&sa.sa_mask)
            sa.sa_flags = 0
            sigaction(sig, &sa, nil)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    /// How many stop signals arrived so far, and the last one.
    public static var count: Int { Int(counter) }
    public static var last: Int32 { lastSignal }

    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case SIGKILL: return "SIGKILL"
        default: return "signal \(sig)"
        }
    }
}
