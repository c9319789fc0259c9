import BTCore
import Dispatch
import Foundation

/// `bench --region-cost`: the fixed cost of one parallel region (wake the workers, hand out the blocks, wait for
/// all) for 1...4 workers: what every layer pays per pass on top of its work (docs/scaling.md). An empty region
/// would mostly run on the caller's thread before any other wakes, so each block spins for a fixed time; the cost
/// is the region's time less that work spread over min(workers, cores). Median and minimum, in microseconds.
enum RegionCost {
    static func run(maxWorkers: Int = 4, repeats: Int = 2000) {
        let cores = Workers.available
        @inline(never) func spin(_ us: Double) {
            let end = DispatchTime.now().uptimeNanoseconds + UInt64(us * 1000)
            while DispatchTime.now().uptimeNanoseconds < end {}
        }
        func time(ideal: Double, _ region: () -> Void) -> String {
            for _ in 0..<100 { region() }
            var t = [Double]()
            for _ in 0..<repeats {
                let a = DispatchTime.now().uptimeNanoseconds
                region()
                t.append(Double(DispatchTime.now().uptimeNanoseconds - a) / 1000 - ideal)
            }
            t.sort()
            return String(format: "%6.1f / %-5.1f", t[t.count / 2], t[0])
        }
        print("fixed cost of one parallel region, microseconds over its work (median / min of \(repeats)); \(cores) cores available")
        print("workers  parallelFor (20 us each)  parallelPartition (16 blocks x 5 us)")
        for n in 1...maxWorkers {
            let rounds = Double((n + min(n, cores) - 1) / min(n, cores))
            let a = time(ideal: rounds * 20) { parallelFor(n) { _ in spin(20) } }
            let p = Partition(total: 16, maxBlocks: 16)
            let perWorker = Double((16 + min(n, cores) - 1) / min(n, cores))
            let b = time(ideal: perWorker * 5) { parallelPartition(n, p) { _, _, _ in spin(5) } }
            print("\(n)        \(a)            \(b)")
        }
    }
}
