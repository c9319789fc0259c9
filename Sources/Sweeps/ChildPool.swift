import Foundation

/// Up to `jobs` children at once: the loop every local launcher (training, evaluation, a search) shares. A stop
/// signal (Ctrl-C, SIGTERM, SIGHUP) is forwarded once to every child and nothing more starts; the pool then waits for
/// the children under way, each of which saves or gives up its own work.
struct ChildPool {
    let jobs: Int

    struct Ended<Job> {
        var job: Job, exit: ChildProcess.Exit, seconds: Int
        /// The stop signal forwarded so far, if any (a child that ended after one was stopped, not broken).
        var stoppedBy: Int32?
    }

    /// One child per name of a fixed list, in order. Returns the stop signal, if one came, and how many names were
    /// never started.
    func run(_ names: [String], spawn: (String) throws -> pid_t, started: (String, Int) -> Void,
             unstartable: (String, Error) -> Void, ended: (Ended<String>) -> Void) -> (stoppedBy: Int32?, notStarted: Int) {
        var queue = names[...]
        let stoppedBy = run(next: { queue.popFirst() }, spawn: spawn, started: started, unstartable: unstartable, ended: ended)
        return (stoppedBy, queue.count)
    }

    /// Children for the jobs `next` hands out. `next` is asked whenever a worker is free and something changed since
    /// it last said nil (a child ended, or one could not start): a scheduler that waits for a running child to decide
    /// returns nil meanwhile. The pool ends when `next` says nil and no child runs, or after a stop signal once its
    /// children have ended. Returns the stop signal, if one came.
    func run<Job>(next: () -> Job?, spawn: (Job) throws -> pid_t, started: (Job, Int) -> Void,
                  unstartable: (Job, Error) -> Void, ended: (Ended<Job>) -> Void) -> Int32? {
        StopSignals.install()
        var running: [pid_t: (job: Job, started: Date)] = [:]
        var forwarded = 0, count = 0, stoppedBy: Int32?, exhausted = false
        while true {
            if StopSignals.count > forwarded {
                forwarded = StopSignals.count
                stoppedBy = StopSignals.last
                for pid in running.keys { kill(pid, SIGTERM) }
            }
            while stoppedBy == nil && !exhausted && running.count < jobs {
                guard let job = next() else { exhausted = true; break }
                do {
                    let pid = try spawn(job)
                    running[pid] = (job, Date())
                    count += 1
                    started(job, count)
                } catch {
                    unstartable(job, error)
                }
            }
            if running.isEmpty && (exhausted || stoppedBy != nil) { break }
            for (pid, child) in running {
                guard let exit = ChildProcess.reap(pid) else { continue }
                running[pid] = nil
                exhausted = false  // a child ended: the scheduler may have work again
                ended(Ended(job: child.job, exit: exit, seconds: Int(Date().timeIntervalSince(child.started).rounded()),
                            stoppedBy: stoppedBy))
            }
            if !running.isEmpty { usleep(100_000) }
        }
        return stoppedBy
    }
}
