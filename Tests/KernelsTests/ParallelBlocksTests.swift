import XCTest
import BTCore

/// `parallelBlocks` hands out every index once, in ranges of at most a block (the first a whole one), however the
/// sizes fall; one worker or one block's worth takes the whole range in one call.
final class ParallelBlocksTests: XCTestCase {
    func testEveryIndexOnceInBlocks() {
        for (workers, total, block) in [(2, 512, 24), (2, 1000, 24), (2, 7, 24), (2, 24, 24), (2, 25, 24), (3, 100, 1),
                                        (1, 50, 8), (2, 0, 4)] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(total, 1))
            hits.initialize(repeating: 0, count: max(total, 1))
            defer { hits.deallocate() }
            let longest = UnsafeMutablePointer<Int>.allocate(capacity: workers)
            longest.initialize(repeating: 0, count: workers)
            defer { longest.deallocate() }
            parallelBlocks(workers, total: total, block: block) { wk, r in
                longest[wk] = max(longest[wk], r.count)
                for i in r { hits[i] += 1 }  // ranges are disjoint, so no two workers touch one index
            }
            let counts = (0..<total).map { hits[$0] }
            XCTAssertEqual(counts, Array(repeating: 1, count: total), "workers \(workers), total \(total), block \(block)")
            let whole = workers <= 1 || total <= block  // then one call takes the whole range
            XCTAssertEqual((0..<workers).map { longest[$0] }.max()!, whole ? total : block)
        }
    }
}
