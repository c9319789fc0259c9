import XCTest
import BTCore

/// The default worker count comes from what this process may use, and `Partition` does not depend on it.
final class WorkersTests: XCTestCase {
    func testCPUListsAndQuotas() {
        XCTAssertEqual(Workers.cpuListCount("0-1"), 2)
        XCTAssertEqual(Workers.cpuListCount("0-3,8,10-11\n"), 7)
        XCTAssertNil(Workers.cpuListCount("x"))
        XCTAssertEqual(Workers.quota(cpuMax: "200000 100000\n"), 2)
        XCTAssertEqual(Workers.quota(cpuMax: "150000 100000"), 2)
        XCTAssertEqual(Workers.quota(cpuMax: "50000 100000"), 1)
        XCTAssertNil(Workers.quota(cpuMax: "max 100000"))
        XCTAssertGreaterThanOrEqual(Workers.available, 1)
    }

    /// The tightest cpu.max on the way from the process's cgroup up to the root counts.
    func testCgroupQuotaTakesTheTightestAncestor() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        try "max 100000\n".write(toFile: root + "/cpu.max", atomically: true, encoding: .utf8)
        try "300000 100000\n".write(toFile: root + "/a/cpu.max", atomically: true, encoding: .utf8)
        try "max 100000\n".write(toFile: root + "/a/b/cpu.max", atomically: true, encoding: .utf8)
        try "0::/a/b\n".write(toFile: root + "/cgroup", atomically: true, encoding: .utf8)
        XCTAssertEqual(Workers.cgroupQuota(cgroupFile: root + "/cgroup", root: root), 3)
        try "1:cpu:/\n".write(toFile: root + "/cgroup", atomically: true, encoding: .utf8)
        XCTAssertNil(Workers.cgroupQuota(cgroupFile: root + "/cgroup", root: root))
    }

    /// Every block of the partition once, whatever the worker count; blocks depend on the total alone.
    func testPartitionIsTheSameForEveryWorkerCount() {
        for (total, maxBlocks, minSize, multiple) in [(128, 16, 1, 1), (7, 16, 1, 1), (6272, 16, 96, 96), (0, 16, 1, 1), (100, 64, 64, 1)] {
            let p = Partition(total: total, maxBlocks: maxBlocks, minSize: minSize, multiple: multiple)
            XCTAssertLessThanOrEqual(p.count, maxBlocks)
            XCTAssertEqual((0..<p.count).map { p.range($0).count }.reduce(0, +), total)
            for workers in 1...4 {
                let seen = UnsafeMutablePointer<Int>.allocate(capacity: max(p.count, 1))
                seen.initialize(repeating: 0, count: max(p.count, 1))
                defer { seen.deallocate() }
                parallelPartition(workers, p) { _, b, r in XCTAssert(r == p.range(b)); seen[b] += 1 }
                XCTAssertEqual((0..<p.count).map { seen[$0] }, Array(repeating: 1, count: p.count))
            }
        }
    }
}
