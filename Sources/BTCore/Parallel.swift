import Dispatch

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
