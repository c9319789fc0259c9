import Foundation

/// Up to `jobs` children at once, one per name: the loop both local launchers (training, evaluation) share. A
/// stop signal (Ctrl-C, SIGTERM, SIGHUP) is forwarded once to every child and nothing more starts; the pool then
/// waits for the children under way, each of which saves or gives up its own work.
struct ChildPool {
    let jobs: Int

    struct Ended {
        var name: String, exit: ChildProcess.Exit, seconds: Int
        /// The stop signal forwarded so far, if any (a child that ended after one was stopped, not broken).
        var stoppedBy: Int32?
    }

    /// Starts each name with `spawn` (a child in its own process group), calling `started` (name, count so far)
    /// or `unstartable`, and `ended` as each is reaped. Returns the stop signal, if one came, and how many names
    /// were never started.
    func run(_ names: [String], spawn: (String) throws -> pid_t, started: (String, Int) -> Void,
             unstartable: (String, Error) -> Void, ended: (Ended) -> Void) -> (stoppedBy: Int32?, notStarted: Int) {
        StopSignals.install()
        var queue = names[...], running: [pid_t: (name: String, started: Date)] = [:]
        var forwarded = 0, count = 0, stoppedBy: Int32?
        while (!queue.isEmpty && stoppedBy == nil) || !running.isEmpty {
            if StopSignals.count > forwarded {
                forwarded = StopSignals.count
                stoppedBy = StopSignals.last
                for pid in running.keys { kill(pid, SIGTERM) }
            }
            while stoppedBy == nil && running.count < jobs, let name = queue.popFirst() {
                do {
                    let pid = try spawn(name)
                    running[pid] = (name, Date())
                    count += 1
                    started(name, count)
                } catch {
                    unstartable(name, error)
                }
            }
            for (pid, child) in running {
                guard let exit = ChildProcess.reap(pid) else { continue }
                running[pid] = nil
                ended(Ended(name: child.name, exit: exit, seconds: Int(Date().timeIntervalSince(child.started).rounded()),
                            stoppedBy: stoppedBy))
            }
            if !running.isEmpty { usleep(100_000) }
        }
        return (stoppedBy, queue.count)
    }
}
