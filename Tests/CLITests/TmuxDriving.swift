import Foundation
import XCTest

/// What a tmux-driven test needs: its own tmux server (socket), a session named "t" in it, keys in, screen out.
/// Shared by the explorer's and `sweep watch`'s tmux tests.
protocol TmuxDriving: AnyObject {
    var socket: String { get }
}

extension TmuxDriving {
    /// Fails (not skips) when tmux is missing: scripts/test installs it.
    func requireTmux(for what: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            XCTFail("tmux is required for \(what) (apt-get install tmux)")
            throw XCTSkip("no tmux")
        }
    }

    /// Runs a tmux command with posix_spawn and waitpid. Foundation's Process can miss the exit of a
    /// client whose server daemonizes; and output is read only for capture-pane, because a command that
    /// starts the server hands it our pipe, which the server would hold open forever.
    /// Runs a tmux command; a new session is checked and, if the server did not take it (seen once under a
    /// loaded CI machine: an empty pane and no process), started again.
    @discardableResult
    func tmux(_ args: [String], capture: Bool = false) -> String {
        let out = spawnTmux(args, capture: capture)
        if args.first == "new-session" {
            for _ in 0..<3 where spawnTmux(["has-session", "-t", "t"], capture: true, status: true) != "0" {
                usleep(300_000)
                _ = spawnTmux(args, capture: capture)
            }
        }
        return out
    }

    @discardableResult
    func spawnTmux(_ args: [String], capture: Bool = false, status: Bool = false) -> String {
        var fds: [Int32] = [-1, -1]
        if capture { _ = pipe(&fds) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if capture {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addclose(&actions, fds[0])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        let argv = (["tmux", "-L", socket] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ) == 0 else { return "" }
        var output = Data()
        if capture {
            close(fds[1])
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fds[0], &buf, buf.count)
                if n <= 0 { break }
                output.append(contentsOf: buf[0..<n])
            }
            close(fds[0])
        }
        var code: Int32 = 0
        waitpid(pid, &code, 0)
        if status { return String((code >> 8) & 0xff) }
        return String(decoding: output, as: UTF8.self)
    }

    func screen(_ session: String = "t") -> String { tmux(["capture-pane", "-p", "-t", session], capture: true) }

    /// Polls the screen (of session "t" unless told) until `predicate` holds; fails with the last screen after `seconds`.
    @discardableResult
    func waitForScreen(_ what: String, seconds: Double = 20, session: String = "t", file: StaticString = #filePath, line: UInt = #line,
                       _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var s = ""
        while Date() < deadline {
            s = screen(session)
            if predicate(s) { return s }
            usleep(200_000)
        }
        XCTFail("timed out waiting for \(what); screen:\n\(s)", file: file, line: line)
        return s
    }
}
