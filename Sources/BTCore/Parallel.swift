import Dispatch
import Synchronization

/// How many workers the engine splits a batch over (both cores by default).
public enum Workers {
    nonisolated(unsafe) public static var count = 2
}

/// Runs `body(worker)` for worker in 0..<n on n threads and waits for all of them.
@inline(__always)
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { body(0); return }
    DispatchQueue.concurrentPerform(iterations: n, execute: body)
}

/// The half-open slice of 0..<total that worker `w` of `n` owns (contiguous, deterministic).
@inline(__always)
public func workerRange(_ w: Int, of n: Int, total: Int) -> Range<Int> {
    let lo = total * w / n, hi = total * (w + 1) / n
    return lo..<hi
}

/// Runs `body(worker, range)` on n threads over 0..<total, handing out `block`-sized ranges as workers come
/// free, and waits for all of them. Why: with a fixed half each, a core the machine takes away for a few ms
/// (a shared VM, another process) stalls the whole layer; here the other worker takes the rest. Callers
/// whose result is the same however the range is split (each index written by one range) may use it.
/// With one worker, or no more than one block of work, `body(0, 0..<total)` runs once on the caller's thread.
public func parallelBlocks(_ n: Int, total: Int, block: Int, _ body: (Int, Range<Int>) -> Void) {
    if n <= 1 || total <= block { body(0, 0..<total); return }
    let next = BlockCounter()
    DispatchQueue.concurrentPerform(iterations: n) { wk in
        while true {
            let lo = next.claim(block)
            if lo >= total { return }
            body(wk, lo..<min(lo + block, total))
        }
    }
}

/// The next unclaimed index of `parallelBlocks`.
private final class BlockCounter: @unchecked Sendable {
    private let value = Atomic<Int>(0)
    func claim(_ count: Int) -> Int { value.add(count, ordering: .relaxed).oldValue }
}
