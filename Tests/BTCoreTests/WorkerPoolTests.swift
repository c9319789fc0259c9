import BTCore
import Dispatch
import Foundation
import Synchronization
import XCTest

/// The persistent workers: every iteration of a region runs once, on its own worker index, whether the workers
/// are spinning (regions back to back), asleep (idle longer than the spin), nested, or asked by two threads at once.
final class WorkerPoolTests: XCTestCase {
    /// Runs a region of n and checks each index ran exactly once, each on a different thread.
    /// `ownThreads`: the pool's regions run index i on worker i; a region it hands to GCD (another caller holds the
    /// pool) may run several indices on one thread.
    private func checkRegion(_ n: Int, ownThreads: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: n)
        hits.initialize(repeating: 0, count: n)
        defer { hits.deallocate() }
        let threads = Mutex<Set<UInt>>([])
        parallelFor(n) { i in
            hits[i] += 1
            threads.withLock { _ = $0.insert(UInt(pthread_self())) }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: n)), Array(repeating: 1, count: n), "region of \(n)", file: file, line: line)
        if ownThreads { XCTAssertEqual(threads.withLock { $0.count }, n, "each index on its own worker", file: file, line: line) }
    }

    func testRegionsBackToBackAndOfEverySize() {
        for round in 0..<3000 { checkRegion(1 + round % 8) }
    }

    /// Idle past the spin: the workers sleep and are woken; a region smaller than the pool leaves the rest asleep.
    func testRegionsAfterTheWorkersHaveGoneToSleep() {
        for round in 0..<60 {
            checkRegion(round % 2 == 0 ? 4 : 2)
            usleep(UInt32(round % 3 == 0 ? 2_000 : 150))
        }
    }

    /// A region inside a region, and regions from two threads at once, run (on GCD) rather than wait for the pool.
    func testNestedAndConcurrentRegions() {
        let total = Atomic<Int>(0)
        parallelFor(3) { _ in
            parallelFor(3) { _ in total.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 9)
        let done = DispatchGroup()
        for _ in 0..<2 {
            done.enter()
            Thread {
                for k in 0..<500 { self.checkRegion(2 + k % 3, ownThreads: false) }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "two callers finished")
    }

    /// Blocks handed out dynamically cover the range exactly once.
    func testBlocksAndRangesCoverTheirWorkOnce() {
        for n in 1...5 {
            let seen = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
            seen.initialize(repeating: 0, count: 1000)
            parallelBlocks(n, total: 1000, block: 37) { _, r in for i in r { seen[i] += 1 } }
            XCTAssertTrue(UnsafeBufferPointer(start: seen, count: 1000).allSatisfy { $0 == 1 }, "parallelBlocks on \(n)")
            seen.update(repeating: 0, count: 1000)
            parallelPartition(n, Partition(total: 1000, maxBlocks: 16)) { _, _, r in for i in r { seen[i] += 1 } }
            XCTAssertTrue(UnsafeBufferPointer(start: seen, count: 1000).allSatisfy { $0 == 1 }, "parallelPartition on \(n)")
            seen.deallocate()
        }
    }
}
