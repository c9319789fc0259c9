import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many workers the engine splits its work over: the cores this process may use (`Workers.available`) unless
/// BTVIZ_THREADS or `--threads` says otherwise. Layers size their per-worker scratch when they are made, so set it
/// before building a model. Results do not depend on it: every sum over workers is taken over a `Partition`.
public enum Workers {
    nonisolated(unsafe) public static var count = defaultCount
    /// The largest count `--threads` and BTVIZ_THREADS take.
    public static let limit = 256

    /// BTVIZ_THREADS if set, else the cores available (at most `limit`). A bad BTVIZ_THREADS is reported by
    /// `fromEnvironment`; here it falls back to the cores available.
    public static var defaultCount: Int {
        (try? fromEnvironment()) ?? min(available, limit)
    }

    /// BTVIZ_THREADS, validated: nil when unset or empty.
    public static func fromEnvironment() throws -> Int? {
        guard let raw = getenv("BTVIZ_THREADS").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        return try validated(raw, source: "BTVIZ_THREADS")
    }

    /// `text` as a thread count in 1...limit, or a one-line error naming `source`.
    public static func validated(_ text: String, source: String) throws -> Int {
        guard let n = Int(text.trimmingWhitespace), (1...limit).contains(n) else {
            throw BTError("\(source) must be a whole number in 1...\(limit), not '\(text)'")
        }
        return n
    }

    /// The cores this process may use: the CPUs in its affinity mask (what taskset, Slurm's --cpus-per-task and
    /// container runtimes set), fewer where a cgroup v2 CPU quota (cpu.max of this cgroup or an ancestor) allows
    /// less, rounded up; never below 1. The machine's core count only where neither can be read.
    public static var available: Int {
        var n = affinityCount() ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let q = cgroupQuota() { n = min(n, q) }
        return max(1, n)
    }

    /// CPUs in the affinity mask (Cpus_allowed_list of /proc/self/status, what sched_getaffinity reports;
    /// Swift's Glibc does not export that call), nil where there is none to read.
    public static func affinityCount(status: String = "/proc/self/status") -> Int? {
        guard let text = readSmallFile(status, limit: 1 << 16),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// "0-3,8,10-11" -> 7; nil if it does not parse.
    public static func cpuListCount(_ list: String) -> Int? {
        var n = 0
        for part in list.split(separator: ",") {
            let bounds = part.trimmingWhitespace.split(separator: "-").map { Int($0) }
            guard bounds.count == 1 || bounds.count == 2, let lo = bounds[0], let hi = bounds[bounds.count - 1],
                  hi >= lo else { return nil }
            n += hi - lo + 1
        }
        return n > 0 ? n : nil
    }

    /// The tightest cgroup v2 quota (cpu.max "quota period", rounded up to whole CPUs) on the way from this
    /// process's cgroup to the root; nil where there is no limit or no cgroup v2.
    public static func cgroupQuota(cgroupFile: String = "/proc/self/cgroup", root: String = "/sys/fs/cgroup") -> Int? {
        CgroupV2.directories(cgroupFile: cgroupFile, root: root)
            .compactMap { readSmallFile($0 + "/cpu.max").flatMap(quota(cpuMax:)) }.min()
    }

    /// "200000 100000" -> 2, "150000 100000" -> 2, "max 100000" -> nil.
    public static func quota(cpuMax: String) -> Int? {
        let parts = cpuMax.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let q = Int(parts[0]), let p = Int(parts[1]), q > 0, p > 0 else { return nil }
        return max(1, (q + p - 1) / p)
    }

    private static func readSmallFile(_ path: String, limit: Int = 4096) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: limit)
        let n = fread(&buf, 1, buf.count - 1, f)
        return n > 0 ? String(decoding: buf[..<n], as: UTF8.self) : nil
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: SubSequence {
        let s = drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" })
        var end = s.endIndex
        while end > s.startIndex, [" ", "\t", "\n"].contains(s[s.index(before: end)]) { end = s.index(before: end) }
        return s[s.startIndex..<end]
    }
}

/// Runs `body(worker)` for worker in 0..<n on n threads (`WorkerPool`) and waits for all of them.
@inline(__always)
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { body(0); return }
    WorkerPool.shared.run(n, body)
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
    WorkerPool.shared.run(min(n, (total + block - 1) / block)) { wk in
        while true {
            let lo = next.claim(block)
            if lo >= total { return }
            body(wk, lo..<min(lo + block, total))
        }
    }
}

/// A split of 0..<total into contiguous blocks that depends only on the problem (total, and how many blocks at
/// most), never on the worker count. Sums over a batch are taken per block and added in block order, so they
/// come out the same to the bit on any number of threads, and a run resumed on another count continues exactly.
public struct Partition: Sendable, Equatable {
    public let total: Int
    /// Units per block (the last block may hold fewer).
    public let size: Int
    public var count: Int { total == 0 ? 0 : (total + size - 1) / size }

    /// At most `maxBlocks` blocks of at least `minSize` units (and a multiple of `multiple`).
    public init(total: Int, maxBlocks: Int, minSize: Int = 1, multiple: Int = 1) {
        self.total = max(total, 0)
        var s = max(minSize, (self.total + maxBlocks - 1) / max(maxBlocks, 1), 1)
        s = (s + multiple - 1) / multiple * multiple
        size = s
    }

    @inline(__always)
    public func range(_ b: Int) -> Range<Int> { b * size..<min((b + 1) * size, total) }

    /// The blocks of a batch's weight gradients and statistics: at most this many per layer (see docs/scaling.md).
    public static let maxBlocks = 16
}

/// Runs `body(worker, block, range)` for every block of `p` on up to n threads, handing blocks out as workers come
/// free; with one worker (or one block) all run in order on the caller's thread. The result of a caller that
/// keeps one partial per block and adds them in block order does not depend on n.
public func parallelPartition(_ n: Int, _ p: Partition, _ body: (Int, Int, Range<Int>) -> Void) {
    parallelRanges(n, (0..<p.count).map(p.range), body)
}

/// Runs `body(worker, index, range)` for every range of `ranges` (a batch's groups, say) on up to n threads, handing
/// them out as workers come free; with one worker (or one range) all run in order on the caller's thread. A caller
/// that keeps one partial per range gets the same partials on any n.
public func parallelRanges(_ n: Int, _ ranges: [Range<Int>], _ body: (Int, Int, Range<Int>) -> Void) {
    if n <= 1 || ranges.count <= 1 {
        for (b, r) in ranges.enumerated() { body(0, b, r) }
        return
    }
    let next = BlockCounter()
    WorkerPool.shared.run(min(n, ranges.count)) { wk in
        while true {
            let b = next.claim(1)
            if b >= ranges.count { return }
            body(wk, b, ranges[b])
        }
    }
}

/// Runs `body(tensor, range)` over the elements of every tensor (`counts[tensor]` each) cut into blocks of `block`,
/// all tensors' blocks in one region, handed out as workers come free. For elementwise work (nothing summed across
/// elements), which comes out the same however it is cut.
public func parallelElements(_ n: Int, counts: [Int], block: Int, _ body: (Int, Range<Int>) -> Void) {
    var blocks: [(tensor: Int, range: Range<Int>)] = []
    for (t, c) in counts.enumerated() {
        for lo in stride(from: 0, to: c, by: block) { blocks.append((t, lo..<min(lo + block, c))) }
    }
    parallelRanges(n, blocks.map(\.range)) { _, b, range in body(blocks[b].tensor, range) }
}

/// The next unclaimed index of `parallelBlocks`.
private final class BlockCounter: @unchecked Sendable {
    private let value = Atomic<Int>(0)
    func claim(_ count: Int) -> Int { value.add(count, ordering: .relaxed).oldValue }
}
