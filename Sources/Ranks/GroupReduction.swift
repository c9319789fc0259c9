import BTCore

/// How the ranks combine a batch's per-group partials (docs/scaling.md, "One run on many ranks"):
/// - tree: the GroupTree's order. Each rank adds its whole subtrees, sends each rank that rank's slice of them
///   (MPI_Alltoallv), adds the rest of the tree on its own slice and gathers the slices (MPI_Allgatherv). The
///   same bits on any rank count; about the traffic of a ring allreduce.
/// - ordered: the groups added one after another (the order one process used before groups); no rank can add
///   ahead of the one before it, so every group's partial crosses the network: G/P times the traffic.
/// - plain: each rank adds its groups, MPI_Allreduce adds the ranks' sums in the library's order: the bits
///   depend on the rank count.
public enum ReductionScheme: String, CaseIterable, Sendable {
    case tree, ordered, plain
}

/// Sums of per-group partials over the ranks of a launch (or one process: `comm` nil). Keeps its buffers between
/// sums (a step reduces the same sizes every time; fresh pages would cost a fault each).
public final class GroupReduction {
    public let tree: GroupTree
    public let comm: Communicator?

    public init(groups: Int, comm: Communicator?) {
        tree = GroupTree(groups: groups)
        self.comm = comm
    }

    public var ranks: Int { comm?.size ?? 1 }
    public var rank: Int { comm?.rank ?? 0 }
    /// The groups this rank computes partials for.
    public var myGroups: Range<Int> { GroupTree.groups(ofRank: rank, ranks: ranks, groups: tree.groups) }

    /// out[0..<count] = the sum over all groups of the batch, on every rank. `partial(g)` gives this rank's
    /// group g's count floats (g in myGroups).
    public func sum(count: Int, scheme: ReductionScheme, partial: (Int) -> UnsafePointer<Float>,
                    into out: UnsafeMutablePointer<Float>) {
        let scratch = buffers.scratch.reserve(max(count, 1) + tree.scratchCount(count))
        let mine = myGroups
        func leaf(_ node: Range<Int>) -> UnsafePointer<Float>? {
            node.count == 1 && mine.contains(node.lowerBound) ? partial(node.lowerBound) : nil
        }
        guard let comm, comm.size > 1 else {
            switch scheme {
            case .tree, .plain: tree.sum(tree.root, count: count, known: leaf, into: out, scratch: scratch)
            case .ordered: GroupReduction.inOrder(count: count, groups: tree.root, partial: partial, into: out)
            }
            return
        }
        switch scheme {
        case .plain:
            // This rank's groups in tree order, then the library's sum over ranks.
            let nodes = tree.maximalNodes(inside: mine)
            out.update(repeating: 0, count: count)
            for n in nodes {
                tree.sum(n, count: count, known: leaf, into: scratch, scratch: scratch + count)
                for i in 0..<count { out[i] += scratch[i] }
            }
            comm.allReduceSum(UnsafeMutableBufferPointer(start: out, count: count))
        case .tree:
            // What each rank sends: its maximal subtrees; everyone can list everyone's.
            let nodesOf = (0..<comm.size).map {
                tree.maximalNodes(inside: GroupTree.groups(ofRank: $0, ranks: comm.size, groups: tree.groups))
            }
            exchange(count: count, comm: comm, nodesOf: nodesOf, into: out) { node, elements, dst in
                tree.sum(node, count: elements.count, known: { leaf($0).map { $0 + elements.lowerBound } }, into: dst, scratch: scratch)
            } combine: { slice, known, dst in
                tree.sum(tree.root, count: slice, known: known, into: dst, scratch: scratch)
            }
        case .ordered:
            let nodesOf = (0..<comm.size).map {
                GroupTree.groups(ofRank: $0, ranks: comm.size, groups: tree.groups).map { $0..<($0 + 1) }
            }
            exchange(count: count, comm: comm, nodesOf: nodesOf, into: out) { node, elements, dst in
                dst.update(from: partial(node.lowerBound) + elements.lowerBound, count: elements.count)
            } combine: { slice, known, dst in
                GroupReduction.inOrder(count: slice, groups: tree.root, partial: { known($0..<($0 + 1))! }, into: dst)
            }
        }
    }

    /// out = the groups' partials added one after another, left to right (the ordered scheme).
    private static func inOrder(count: Int, groups: Range<Int>, partial: (Int) -> UnsafePointer<Float>,
                                   into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: count)
        for g in groups { let p = partial(g); for i in 0..<count { out[i] += p[i] } }
    }

    /// Each rank computes its nodes' slices (`local(node, elements, into)`) straight into the send buffer, slice s
    /// for rank s, sends them, combines all ranks' nodes on its own slice of the elements (`combine`, given each
    /// node's slice by range) and gathers the slices.
    private func exchange(count: Int, comm: Communicator, nodesOf: [[Range<Int>]], into out: UnsafeMutablePointer<Float>,
                          local: (Range<Int>, Range<Int>, UnsafeMutablePointer<Float>) -> Void,
                          combine: (Int, (Range<Int>) -> UnsafePointer<Float>?, UnsafeMutablePointer<Float>) -> Void) {
        let p = comm.size, me = comm.rank
        let slices = (0..<p).map { (count * $0 / p)..<(count * ($0 + 1) / p) }
        let mine = nodesOf[me]
        let send = buffers.send.reserve(mine.count * count)
        var at = 0
        for s in slices { for node in mine { local(node, s, send + at); at += s.count } }
        let recvCounts = nodesOf.map { $0.count * slices[me].count }
        let recv = buffers.recv.reserve(recvCounts.reduce(0, +))
        comm.allToAll(send, sendCounts: slices.map { $0.count * mine.count }, into: recv, recvCounts: recvCounts)
        var located: [Range<Int>: UnsafePointer<Float>] = [:]
        var off = 0
        for nodes in nodesOf { for n in nodes { located[n] = UnsafePointer(recv + off); off += slices[me].count } }
        let result = buffers.result.reserve(slices[me].count)
        combine(slices[me].count, { located[$0] }, result)
        comm.allGather(UnsafeBufferPointer(start: result, count: slices[me].count), into: out, counts: slices.map(\.count))
    }

    private let buffers = (send: Buffer(), recv: Buffer(), result: Buffer(), scratch: Buffer())

    /// A float buffer that grows to the largest size asked of it and is kept.
    private final class Buffer {
        private var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        private var capacity = 1
        func reserve(_ n: Int) -> UnsafeMutablePointer<Float> {
            if n > capacity {
                pointer.deallocate()
                pointer = .allocate(capacity: n)
                capacity = n
            }
            return pointer
        }
        deinit { pointer.deallocate() }
    }
}
