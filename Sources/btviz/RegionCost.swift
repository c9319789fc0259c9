import BTCore
import Dispatch
import Foundation

/// `bench --region-cost`: the fixed cost of one parallel region (start the workers, hand out the blocks, wait for
/// all), with nothing to do in it, for 1...4 workers: what every layer pays per pass on top of its work
/// (docs/scaling.md). Median and minimum over many regions, in microseconds.
enum RegionCost {
    static func run(maxWorkers: Int = 4, repeats: Int = 4000) {
        let sink = UnsafeMutablePointer<Int>.allocate(capacity: 64 * 16)
        sink.initialize(repeating: 0, count: 64 * 16)
        defer { sink.deallocate() }
        nonisolated(unsafe) let s = sink
        func time(_ region: () -> Void) -> (median: Double, min: Double) {
            for _ in 0..<200 { region() }
            var t = [Double]()
            t.reserveCapacity(repeats)
            for _ in 0..<repeats {
                let a = DispatchTime.now().uptimeNanoseconds
                region()
                t.append(Double(DispatchTime.now().uptimeNanoseconds - a) / 1000)
            }
            t.sort()
            return (t[t.count / 2], t[0])
        }
        func f(_ v: (median: Double, min: Double)) -> String { String(format: "%7.2f / %-6.2f", v.median, v.min) }
        print("one empty parallel region, microseconds (median / min over \(repeats)); \(Workers.available) cores available")
        print("workers  parallelFor         parallelBlocks x16  parallelPartition x16  partition x64")
        for n in 1...maxWorkers {
            let p16 = Partition(total: 16, maxBlocks: 16), p64 = Partition(total: 64, maxBlocks: 64)
            let a = time { parallelFor(n) { wk in s[wk * 16] &+= 1 } }
            let b = time { parallelBlocks(n, total: 16, block: 1) { wk, _ in s[wk * 16] &+= 1 } }
            let c = time { parallelPartition(n, p16) { wk, _, _ in s[wk * 16] &+= 1 } }
            let d = time { parallelPartition(n, p64) { wk, _, _ in s[wk * 16] &+= 1 } }
            print("\(n)        \(f(a))     \(f(b))     \(f(c))        \(f(d))")
        }
    }
}
