import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The threads the engine's parallel regions run on: made once and kept, instead of a GCD dispatch per region.
/// A region publishes its work with one atomic store; a worker that finished the last region less than
/// `spinNanoseconds` ago is still spinning and starts at once, one that has been idle longer sleeps on its
/// semaphore and is woken. The caller runs iteration 0 itself and spins (then sleeps) until the others are done.
///
/// Iteration i of a region runs on worker i (the caller is 0), so a body may index per-worker scratch by it, as
/// with `DispatchQueue.concurrentPerform`. A region asked for while another runs (from another thread, or nested
/// inside a body) goes to `concurrentPerform`: the pool serves one region at a time and never waits for itself.
/// Nothing here decides what a result is: every sum over a batch is over a `Partition`, whoever computes it.
public final class WorkerPool: @unchecked Sendable {
    public static let shared = WorkerPool()
    /// How long a worker keeps looking for the next region before it sleeps (OpenMP's spin count, in time), and
    /// how long the caller spins for the region's end. Long enough to span the serial work between a step's
    /// regions, short enough not to hold a core an oversubscribed machine needs.
    public static let spinNanoseconds: UInt64 = 100_000

    private final class Worker: @unchecked Sendable {
        let wake = DispatchSemaphore(value: 0)
        let sleeping = Atomic<Bool>(false)
    }

    /// region number << 10 | iterations: what a worker reads in one load to know whether it takes part.
    private let ticket = Atomic<Int>(0)
    /// The address of the region's body, valid while its participants run: the caller waits for all of them.
    private let job = Atomic<UInt>(0)
    private let remaining = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    private let callerWake = DispatchSemaphore(value: 0)
    private let busy = Atomic<Bool>(false)
    private var workers: [Worker] = []  // touched only by the caller that holds `busy`

    /// Runs `body(i)` for i in 0..<n, i on worker i, and returns when all have.
    public func run(_ n: Int, _ body: (Int) -> Void) {
        if n <= 1 { body(0); return }
        guard n <= 1023, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            DispatchQueue.concurrentPerform(iterations: n, execute: body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workers.count < n - 1 { start(index: workers.count + 1) }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { closure in
                job.store(UInt(bitPattern: closure), ordering: .relaxed)
                remaining.store(n - 1, ordering: .relaxed)
                let region = (ticket.load(ordering: .relaxed) >> 10) + 1
                ticket.store(region << 10 | n, ordering: .sequentiallyConsistent)
                for w in workers[0..<(n - 1)] where w.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                    w.wake.signal()
                }
                body(0)
                waitForWorkers()
            }
        }
    }

    /// Calls the region's body; not inlined, so the worker's copy of the closure is gone before it reports done
    /// (the caller's `withoutActuallyEscaping` checks that nothing kept it).
    @inline(never)
    private static func call(_ closure: UInt, _ index: Int) {
        UnsafePointer<(Int) -> Void>(bitPattern: closure)!.pointee(index)
    }

    private func waitForWorkers() {
        let until = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            sched_yield()  // a core shared with more threads (more workers than cores, ranks beside us) goes to them
            if spins & 15 == 0 && DispatchTime.now().uptimeNanoseconds > until {
                callerSleeping.store(true, ordering: .sequentiallyConsistent)
                if remaining.load(ordering: .sequentiallyConsistent) == 0 {
                    // Done meanwhile; if the last worker already took the flag, its signal must be taken.
                    if !callerSleeping.exchange(false, ordering: .sequentiallyConsistent) { callerWake.wait() }
                    return
                }
                callerWake.wait()
                return
            }
        }
    }

    private func start(index: Int) {
        let w = Worker()
        workers.append(w)
        // The ticket before the region that needs this worker: read on the new thread, it could already be that
        // region's, which the worker would then take for one it has served, and its caller would wait forever.
        let before = ticket.load(ordering: .relaxed)
        let t = Thread { [self] in work(index: index, w, seen: before) }
        t.stackSize = 8 << 20
        t.start()
    }

    private func work(index: Int, _ w: Worker, seen initial: Int) {
        var seen = initial
        while true {
            var t = ticket.load(ordering: .acquiring)
            if t == seen {
                var until = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                var spins = 0
                while t == seen {
                    spins += 1
                    sched_yield()
                    if spins & 15 == 0 && DispatchTime.now().uptimeNanoseconds > until {
                        w.sleeping.store(true, ordering: .sequentiallyConsistent)
                        if ticket.load(ordering: .sequentiallyConsistent) != seen {
                            // A region came meanwhile; if its caller already took the flag, its signal must be taken.
                            if !w.sleeping.exchange(false, ordering: .sequentiallyConsistent) { w.wake.wait() }
                        } else {
                            w.wake.wait()
                        }
                        spins = 0
                        until = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                    }
                    t = ticket.load(ordering: .acquiring)
                }
            }
            seen = t
            guard index < t & 1023 else { continue }  // not in this region: its caller does not wait for us
            Self.call(job.load(ordering: .relaxed), index)
            if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
               callerSleeping.exchange(false, ordering: .sequentiallyConsistent) {
                callerWake.signal()
            }
        }
    }
}
