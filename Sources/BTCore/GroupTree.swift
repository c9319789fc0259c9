/// The one order in which a batch's per-group partial sums are added, on one process or many: a fixed binary tree
/// over the groups 0..<G, node [lo, hi) = node [lo, mid) + node [mid, hi) with mid = lo + (hi - lo) / 2, a leaf one
/// group. It depends on G only, so any split of the groups over ranks adds the same numbers in the same order:
/// a rank adds the subtrees that lie wholly in its groups, and the rest of the tree is added from those.
public struct GroupTree: Sendable, Equatable {
    public let groups: Int

    public init(groups: Int) {
        precondition(groups >= 1)
        self.groups = groups
    }

    public var root: Range<Int> { 0..<groups }

    /// The children of a node of more than one group.
    @inline(__always)
    public static func split(_ node: Range<Int>) -> (Range<Int>, Range<Int>) {
        let mid = node.lowerBound + node.count / 2
        return (node.lowerBound..<mid, mid..<node.upperBound)
    }

    /// Rank r's groups of `groups` split over `ranks`: contiguous, in rank order, depending on the two counts only.
    public static func groups(ofRank r: Int, ranks: Int, groups: Int) -> Range<Int> {
        (groups * r / ranks)..<(groups * (r + 1) / ranks)
    }

    /// The subtrees wholly inside `range` whose parents are not, left to right: what one rank can add alone.
    public func maximalNodes(inside range: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        func visit(_ node: Range<Int>) {
            if node.lowerBound >= range.upperBound || node.upperBound <= range.lowerBound { return }
            if node.lowerBound >= range.lowerBound && node.upperBound <= range.upperBound { out.append(node); return }
            let (l, r) = GroupTree.split(node)
            visit(l); visit(r)
        }
        if !range.isEmpty { visit(root) }
        return out
    }

    /// out[i] = node's sum of element i for i in 0..<count, where `known(n)` gives the elements of node n's sum
    /// when they are at hand (a leaf's always are) and nil when they are to be added from n's children.
    /// `scratch` holds `scratchCount(count)` floats. The tree is added a cache-sized block of elements at a time:
    /// each element's additions are the same, only the memory traffic falls (every partial read once).
    public func sum(_ node: Range<Int>, count: Int, known: (Range<Int>) -> UnsafePointer<Float>?,
                    into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        var e = 0
        while e < count {
            let m = min(GroupTree.elementBlock, count - e)
            sumBlock(node, elements: e, m, known: known, into: out + e, scratch: scratch)
            e += m
        }
    }

    private func sumBlock(_ node: Range<Int>, elements e: Int, _ m: Int, known: (Range<Int>) -> UnsafePointer<Float>?,
                          into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        if let v = known(node) {
            out.update(from: v + e, count: m)
            return
        }
        precondition(node.count > 1, "GroupTree: leaf \(node) has no partial")
        let (l, r) = GroupTree.split(node)
        // A child at hand is read where it is; only the others are added into out and scratch first.
        let a: UnsafePointer<Float>
        if let v = known(l) { a = v + e } else { sumBlock(l, elements: e, m, known: known, into: out, scratch: scratch); a = UnsafePointer(out) }
        let b: UnsafePointer<Float>
        if let v = known(r) { b = v + e } else { sumBlock(r, elements: e, m, known: known, into: scratch, scratch: scratch + m); b = UnsafePointer(scratch) }
        for i in 0..<m { out[i] = a[i] + b[i] }
    }

    /// Elements added through the whole tree at a time (16 KB per level).
    static let elementBlock = 4096

    /// The scratch `sum` needs for `count` elements.
    public func scratchCount(_ count: Int) -> Int { min(max(count, 1), GroupTree.elementBlock) * scratchDepth }

    /// Levels below the root: the scratch vectors `sum` needs.
    public var scratchDepth: Int {
        var d = 0, n = groups
        while n > 1 { n = (n + 1) / 2; d += 1 }
        return max(d, 1)
    }
}
