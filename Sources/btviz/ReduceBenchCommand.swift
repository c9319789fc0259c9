import ArgumentParser
import BTCore
import Foundation
import Models
import Ranks

/// `mpirun -n P btviz reduce-bench`: what combining a batch's gradient over P ranks costs with each ReductionScheme,
/// and whether the result's bits depend on P. Each rank fills its groups' partials with the same numbers it would
/// have on any rank count (a function of group and element), sums them, and rank 0 prints per scheme the median
/// and fastest time of a sum and a fingerprint of its bits (equal on every rank count for tree and ordered).
struct ReduceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduce-bench", abstract: "Time the ranks' reduction of one gradient (run under mpirun).", shouldDisplay: false)

    @Option(parsing: .unconditional, help: "The gradient of VGG-6(K) on 1x28x28 (every trainable float).") var k = 16
    @Option(parsing: .unconditional, help: "Floats in the gradient, instead of --k.") var floats: Int?
    @Option(parsing: .unconditional, help: "Image groups of the batch.") var groups = 16
    @Option(parsing: .unconditional, help: "Timed sums per scheme.") var repeats = 50
    @Option(help: "tree, ordered, plain or all.") var scheme = "all"

    func validate() throws {
        guard (1...512).contains(k) else { throw ValidationError("--k must be 1...512") }
        guard floats.map({ (1...50_000_000).contains($0) }) ?? true else { throw ValidationError("--floats must be 1...50000000") }
        guard (1...1024).contains(groups) else { throw ValidationError("--groups must be 1...1024") }
        guard (1...100_000).contains(repeats) else { throw ValidationError("--repeats must be 1...100000") }
        guard scheme == "all" || ReductionScheme(rawValue: scheme) != nil else {
            throw ValidationError("--scheme must be tree, ordered, plain or all")
        }
    }

    func run() throws {
        let floats = self.floats ?? VGG6(k: k, inputShape: [1, 28, 28], classes: 10, maxBatch: 1).params.reduce(0) { $0 + $1.count }
        let comm = try Communicator.join(ProcessInfo.processInfo.environment)
        defer { comm?.finish() }
        let reduction = GroupReduction(groups: groups, comm: comm)
        let mine = reduction.myGroups
        // Partials of varied magnitude (2^-12 ... 2^12), so the order of the additions shows in the last bits.
        let partials = mine.map { g -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: floats)
            var rng = RNG(seed: UInt64(g) &+ 1)
            for i in 0..<floats {
                let r = rng.next()
                let m = Float(r >> 40) / Float(1 << 24) * (r & 1 == 0 ? 1 : -1)
                p[i] = m * Float(sign: .plus, exponent: Int((r >> 1) % 25) - 12, significand: 1)
            }
            return p
        }
        defer { partials.forEach { $0.deallocate() } }
        let out = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { out.deallocate() }
        let schemes = scheme == "all" ? ReductionScheme.allCases : [ReductionScheme(rawValue: scheme)!]
        if reduction.rank == 0 {
            print("ranks \(reduction.ranks), \(groups) groups, \(floats) floats (\(floats * 4 / 1000) kB) per sum; \(comm?.libraryVersion ?? "one process, no MPI")")
        }
        for s in schemes {
            var times: [Double] = []
            for rep in 0...repeats {
                comm?.barrier()
                let t0 = DispatchTime.now().uptimeNanoseconds
                reduction.sum(count: floats, scheme: s, partial: { UnsafePointer(partials[$0 - mine.lowerBound]) }, into: out)
                if rep > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }  // the first warms up
            }
            times.sort()
            let print_ = fingerprint(out, floats)
            // Every rank's fingerprint, so rank 0 can say whether the ranks agree.
            var all = [UInt64](repeating: 0, count: reduction.ranks)
            if let comm {
                withUnsafeBytes(of: print_) { m in
                    all.withUnsafeMutableBytes { comm.allGatherBytes(m, into: $0.baseAddress!, counts: Array(repeating: 8, count: comm.size)) }
                }
            } else {
                all[0] = print_
            }
            if reduction.rank == 0 {
                let agree = Set(all).count == 1 ? "all ranks agree" : "RANKS DIFFER"
                print(String(format: "%@ median %8.3f ms  min %8.3f ms  bits %016llx  %@", s.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) as NSString,
                             times[times.count / 2], times[0], print_, agree as NSString))
            }
        }
    }

    private func fingerprint(_ p: UnsafePointer<Float>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n { h = (h ^ UInt64(p[i].bitPattern)) &* 0x100_0000_01b3 }
        return h
    }
}
