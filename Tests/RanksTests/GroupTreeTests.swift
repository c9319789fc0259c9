import BTCore
import Ranks
import XCTest

final class GroupTreeTests: XCTestCase {
    /// Worked by hand: 16 groups over 3 ranks are 0..<5, 5..<10, 10..<16; the tree halves 16 -> 8 -> 4 -> 2 -> 1.
    func testTheSubtreesEachRankAddsAloneAreTheOnesWorkedByHand() {
        let tree = GroupTree(groups: 16)
        XCTAssertEqual((0..<3).map { GroupTree.groups(ofRank: $0, ranks: 3, groups: 16) }, [0..<5, 5..<10, 10..<16])
        XCTAssertEqual(tree.maximalNodes(inside: 0..<5), [0..<4, 4..<5])
        XCTAssertEqual(tree.maximalNodes(inside: 5..<10), [5..<6, 6..<8, 8..<10])
        XCTAssertEqual(tree.maximalNodes(inside: 10..<16), [10..<12, 12..<16])
        XCTAssertEqual(tree.maximalNodes(inside: 0..<16), [0..<16])
        // 5 groups: 5 -> (2, 3) -> (1, 1), (1, 2) -> (1, 1).
        XCTAssertEqual(GroupTree(groups: 5).maximalNodes(inside: 1..<4), [1..<2, 2..<3, 3..<4])
        XCTAssertEqual(GroupTree(groups: 5).maximalNodes(inside: 2..<5), [2..<5])
    }

    /// The ranks' subtrees tile the groups, in order, for every group and rank count.
    func testTheRanksSubtreesCoverEveryGroupOnceInOrder() {
        for g in 1...40 {
            let tree = GroupTree(groups: g)
            for p in 1...g {
                let nodes = (0..<p).flatMap { tree.maximalNodes(inside: GroupTree.groups(ofRank: $0, ranks: p, groups: g)) }
                var at = 0
                for n in nodes { XCTAssertEqual(n.lowerBound, at, "G \(g) P \(p)"); at = n.upperBound }
                XCTAssertEqual(at, g, "G \(g) P \(p)")
            }
        }
    }

    /// The point of the tree: adding each rank's subtrees first, then the rest of the tree from them, gives the bits
    /// of adding it from the single groups, for every rank count (values of wide range, so order shows).
    func testASumFromTheRanksSubtreesHasTheBitsOfTheSumFromTheGroups() {
        let count = 9001  // more than one block of elements
        var rng = RNG(seed: 7)
        for g in [1, 2, 3, 5, 8, 13, 16, 31, 64] {
            let tree = GroupTree(groups: g)
            let partials = (0..<g).map { _ in (0..<count).map { _ in (rng.uniform() - 0.5) * Float(sign: .plus, exponent: rng.below(30) - 15, significand: 1) } }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tree.scratchCount(count))
            defer { scratch.deallocate() }
            var leaves: [Range<Int>: [Float]] = [:]
            for i in 0..<g { leaves[i..<(i + 1)] = partials[i] }
            func sum(_ node: Range<Int>, _ known: [Range<Int>: [Float]]) -> [Float] {
                var out = [Float](repeating: 0, count: count)
                let stored = known.mapValues { v -> UnsafeMutablePointer<Float> in
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: count); p.update(from: v, count: count); return p
                }
                defer { stored.values.forEach { $0.deallocate() } }
                out.withUnsafeMutableBufferPointer { tree.sum(node, count: count, known: { r in stored[r].map { UnsafePointer($0) } }, into: $0.baseAddress!, scratch: scratch) }
                return out
            }
            let reference = sum(tree.root, leaves)
            // The order matters: a plain left-to-right sum differs somewhere once there are 3 or more groups.
            let sequential = (0..<count).map { i in partials.reduce(Float(0)) { $0 + $1[i] } }
            if g >= 8 { XCTAssertNotEqual(reference.map(\.bitPattern), sequential.map(\.bitPattern), "G \(g)") }
            for p in 1...min(g, 9) {
                var known: [Range<Int>: [Float]] = [:]
                for r in 0..<p {
                    for node in tree.maximalNodes(inside: GroupTree.groups(ofRank: r, ranks: p, groups: g)) { known[node] = sum(node, leaves) }
                }
                XCTAssertEqual(sum(tree.root, known).map(\.bitPattern), reference.map(\.bitPattern), "G \(g) P \(p)")
            }
        }
    }

    /// One process: every scheme is a sum over the groups; tree and plain in the tree's order, ordered left to right.
    func testOneProcessSumsTheGroupsInTheSchemesOrder() {
        let g = 6, count = 33
        var rng = RNG(seed: 3)
        let parts = (0..<g).map { _ in (0..<count).map { _ in rng.uniform() * 1000 - 500 + rng.uniform() * 1e-3 } }
        let stored = parts.map { v -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count); p.update(from: v, count: count); return p
        }
        defer { stored.forEach { $0.deallocate() } }
        let reduction = GroupReduction(groups: g, comm: nil)
        XCTAssertEqual(reduction.myGroups, 0..<g)
        func run(_ s: ReductionScheme) -> [UInt32] {
            var out = [Float](repeating: .nan, count: count)
            out.withUnsafeMutableBufferPointer { reduction.sum(count: count, scheme: s, partial: { UnsafePointer(stored[$0]) }, into: $0.baseAddress!) }
            return out.map(\.bitPattern)
        }
        // By hand: 6 -> (0..<3, 3..<6); 3 -> (0..<1, 1..<3).
        let tree = (0..<count).map { i -> UInt32 in
            let p = parts.map { $0[i] }
            let left: Float = p[0] + (p[1] + p[2]), right: Float = p[3] + (p[4] + p[5])
            return (left + right).bitPattern
        }
        let ordered = (0..<count).map { i -> UInt32 in
            var s: Float = 0
            for g in 0..<6 { s += parts[g][i] }
            return s.bitPattern
        }
        XCTAssertEqual(run(.tree), tree)
        XCTAssertEqual(run(.plain), tree)
        XCTAssertEqual(run(.ordered), ordered)
    }
}
