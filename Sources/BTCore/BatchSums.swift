/// How every sum over a training batch is taken, so that it comes out the same to the bit on any number of threads
/// and of MPI ranks. A batch of N images is cut into groups that depend on N only (`BatchGroups`); a layer computes
/// one partial per group (from that group's images alone, in an order that depends on the group only) and hands
/// the partials to `BatchSums.current`, which adds them over `GroupTree`. One process holds every group; a rank of
/// an MPI run holds a contiguous run of them and its `BatchSumming` adds the tree across the ranks
/// (Ranks/RankBatchSums).
public protocol BatchSumming: AnyObject {
    /// The groups of the images this process holds of the current batch (`images` of them), as ranges of its
    /// own image indices, in group order.
    func localGroups(images: Int) -> [Range<Int>]
    /// The whole batch's images, of which this process holds `images`: the divisor of every mean over the batch.
    func batchImages(local images: Int) -> Int
    /// out[i] = the sum over all the batch's groups of element i; `partials[j]` holds `count` elements of this
    /// process's j-th group.
    func sum(_ partials: [UnsafeMutablePointer<Float>], count: Int, workers: Int, into out: UnsafeMutablePointer<Float>)
    /// The same for small Double sums (batch-norm statistics, the loss).
    func sum(_ partials: [UnsafeMutablePointer<Double>], count: Int, into out: UnsafeMutablePointer<Double>)
    /// `values` as the process holding the batch's first group has them, on every process (one process: as is).
    func shareFromFirstGroup(_ values: UnsafeMutablePointer<Float>, count: Int)
}

public enum BatchSums {
    /// One process unless an MPI launch installs its ranks' version before training starts.
    nonisolated(unsafe) public static var current: any BatchSumming = OneProcessBatchSums.shared
}

/// The groups of a batch of `images`: at most `maxGroups` contiguous runs of whole images, a function of the
/// count alone (`Partition`). Ranks hold whole groups, so there can be no more ranks than groups.
public enum BatchGroups {
    public static let maxGroups = Partition.maxBlocks

    public static func partition(images: Int) -> Partition { Partition(total: images, maxBlocks: maxGroups) }

    /// Ranges of images, one per group.
    public static func ranges(images: Int) -> [Range<Int>] {
        let p = partition(images: images)
        return (0..<p.count).map(p.range)
    }

    /// The images rank `rank` of `ranks` trains on in a batch of `images`: its run of whole groups
    /// (`GroupTree.groups(ofRank:)`), which needs at least as many groups as ranks.
    public static func images(ofRank rank: Int, ranks: Int, batch images: Int) -> Range<Int> {
        let all = ranges(images: images)
        let mine = GroupTree.groups(ofRank: rank, ranks: ranks, groups: all.count)
        precondition(!mine.isEmpty, "a batch of \(images) has fewer groups than \(ranks) ranks")
        return span(of: mine, in: all)
    }

    /// The images of the groups `mine` of `all`: from the first one's first to the last one's last.
    public static func span(of mine: Range<Int>, in all: [Range<Int>]) -> Range<Int> {
        all[mine.lowerBound].lowerBound..<all[mine.upperBound - 1].upperBound
    }

    /// Unit ranges (rows, pixels, tiles) of each group, `perImage` units per image.
    public static func units(_ groups: [Range<Int>], perImage: Int) -> [Range<Int>] {
        groups.map { ($0.lowerBound * perImage)..<($0.upperBound * perImage) }
    }
}

/// Every group in this process: the tree added here, split over the workers by element.
public final class OneProcessBatchSums: BatchSumming {
    public init() {}
    nonisolated(unsafe) public static let shared = OneProcessBatchSums()

    public func localGroups(images: Int) -> [Range<Int>] { BatchGroups.ranges(images: images) }
    public func batchImages(local images: Int) -> Int { images }

    public func sum(_ partials: [UnsafeMutablePointer<Float>], count: Int, workers: Int, into out: UnsafeMutablePointer<Float>) {
        guard !partials.isEmpty else { out.update(repeating: 0, count: count); return }
        let tree = GroupTree(groups: partials.count)
        let block = GroupTree.elementBlock, blocks = (count + block - 1) / block, n = max(1, min(workers, blocks))
        let need = tree.scratchCount(count)
        while scratch.count < n { scratch.append(.allocate(capacity: need)) }
        for i in 0..<n where scratch[i].count < need {
            scratch[i].deallocate(); scratch[i] = .allocate(capacity: need)
        }
        nonisolated(unsafe) let parts = partials, scratch = scratch
        parallelBlocks(n, total: count, block: block) { wk, r in
            tree.sum(tree.root, count: r.count, known: { node in
                node.count == 1 ? UnsafePointer(parts[node.lowerBound] + r.lowerBound) : nil
            }, into: out + r.lowerBound, scratch: scratch[wk].baseAddress!)
        }
    }

    public func sum(_ partials: [UnsafeMutablePointer<Double>], count: Int, into out: UnsafeMutablePointer<Double>) {
        GroupTree.sumSmall(partials.map { UnsafePointer($0) }, count: count, into: out)
    }

    public func shareFromFirstGroup(_ values: UnsafeMutablePointer<Float>, count: Int) {}

    /// Per worker: the tree's scratch, grown to the largest sum asked of it.
    private var scratch: [UnsafeMutableBufferPointer<Float>] = []
    deinit { scratch.forEach { $0.deallocate() } }
}

extension GroupTree {
    /// out[i] = the tree sum over every group's `partials[g][i]` (all G groups at hand): for short vectors of any
    /// floating-point type, element by element.
    public static func sumSmall<T: FloatingPoint>(_ partials: [UnsafePointer<T>], count: Int, into out: UnsafeMutablePointer<T>) {
        guard !partials.isEmpty else { out.update(repeating: 0, count: count); return }
        func node(_ r: Range<Int>, _ i: Int) -> T {
            if r.count == 1 { return partials[r.lowerBound][i] }
            let (a, b) = split(r)
            return node(a, i) + node(b, i)
        }
        for i in 0..<count { out[i] = node(0..<partials.count, i) }
    }
}

/// The ranks of a data-parallel run as the training loop sees them (Ranks/RankBatchSums): every rank assembles
/// the same batch, trains on its share of it with `sums`, and the ranks agree between steps through `exchange`.
public protocol StepPeers: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// This rank's images of a batch of `images`, and the sums its layers use for that batch.
    func share(ofBatch images: Int) -> (images: Range<Int>, sums: any BatchSumming)
    /// Every rank's `message` (the same length on every rank), in rank order.
    func exchange(_ message: [UInt8]) -> [[UInt8]]
}

extension StepPeers {
    /// This rank's images of a batch of `images` (what `share(ofBatch:)` will hand it), for reading only those.
    public func images(ofBatch images: Int) -> Range<Int> { BatchGroups.images(ofRank: rank, ranks: size, batch: images) }
}
