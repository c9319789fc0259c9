import BTCore

/// The batch's sums on one rank of a data-parallel run: the batch's groups (`BatchGroups`, a function of the batch
/// size alone) are split over the ranks in order (`GroupTree.groups(ofRank:)`), this rank computes its groups'
/// partials, and the tree over all groups is added across the ranks (`GroupReduction`'s tree scheme for the large
/// Float sums; every group's partial gathered and the tree added on every rank for the small Double ones). So
/// each sum is the one a single process adds, to the bit, on any number of ranks.
public final class RankBatchSums: BatchSumming {
    public let comm: Communicator
    private var reductions: [Int: GroupReduction] = [:]
    /// The current batch: its size, its groups, and this rank's run of them.
    private var batch = 0
    private var allGroups: [Range<Int>] = []
    private var mine: Range<Int> = 0..<0

    public init(comm: Communicator) { self.comm = comm }

    /// The fewest groups a batch of `images` has: no more ranks than that can share it.
    public static func groups(images: Int) -> Int { BatchGroups.partition(images: images).count }

    /// Sets the batch the next sums belong to; returns this rank's images of it (whole groups, contiguous).
    public func begin(batch images: Int) -> Range<Int> {
        precondition(RankBatchSums.groups(images: images) >= comm.size, "a batch of \(images) has fewer groups than ranks")
        batch = images
        allGroups = BatchGroups.ranges(images: images)
        mine = GroupTree.groups(ofRank: comm.rank, ranks: comm.size, groups: allGroups.count)
        return BatchGroups.span(of: mine, in: allGroups)
    }

    public func localGroups(images: Int) -> [Range<Int>] {
        let first = allGroups[mine.lowerBound].lowerBound
        precondition(images == allGroups[mine.upperBound - 1].upperBound - first, "rank \(comm.rank): \(images) images are not its share of the batch")
        return allGroups[mine].map { ($0.lowerBound - first)..<($0.upperBound - first) }
    }

    public func batchImages(local images: Int) -> Int { batch }

    public func sum(_ partials: [UnsafeMutablePointer<Float>], count: Int, workers: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(partials.count == mine.count)
        let g = allGroups.count
        let reduction = reductions[g] ?? GroupReduction(groups: g, comm: comm)
        reductions[g] = reduction
        let first = mine.lowerBound
        reduction.sum(count: count, scheme: .tree, partial: { UnsafePointer(partials[$0 - first]) }, into: out)
    }

    /// Rank 0 holds the first group.
    public func shareFromFirstGroup(_ values: UnsafeMutablePointer<Float>, count: Int) {
        comm.broadcast(UnsafeMutableRawBufferPointer(start: values, count: count * 4), from: 0)
    }

    public func sum(_ partials: [UnsafeMutablePointer<Double>], count: Int, into out: UnsafeMutablePointer<Double>) {
        precondition(partials.count == mine.count)
        // Small: every group's partial to every rank, then the whole tree here.
        let g = allGroups.count, stride = count * 8
        var send = [Double](repeating: 0, count: mine.count * count)
        for (j, p) in partials.enumerated() { for i in 0..<count { send[j * count + i] = p[i] } }
        var all = [Double](repeating: 0, count: g * count)
        let counts = (0..<comm.size).map { GroupTree.groups(ofRank: $0, ranks: comm.size, groups: g).count * stride }
        send.withUnsafeBytes { s in all.withUnsafeMutableBytes { comm.allGatherBytes(s, into: $0.baseAddress!, counts: counts) } }
        all.withUnsafeBufferPointer { a in
            GroupTree.sumSmall((0..<g).map { a.baseAddress! + $0 * count }, count: count, into: out)
        }
    }
}

extension RankBatchSums: StepPeers {
    public var rank: Int { comm.rank }
    public var size: Int { comm.size }

    public func share(ofBatch images: Int) -> (images: Range<Int>, sums: any BatchSumming) { (begin(batch: images), self) }

    public func exchange(_ message: [UInt8]) -> [[UInt8]] {
        var all = [UInt8](repeating: 0, count: message.count * comm.size)
        message.withUnsafeBytes { m in
            all.withUnsafeMutableBytes { comm.allGatherBytes(m, into: $0.baseAddress!, counts: Array(repeating: message.count, count: comm.size)) }
        }
        return (0..<comm.size).map { Array(all[($0 * message.count)..<(($0 + 1) * message.count)]) }
    }
}
