import ArgumentParser
import BTCore
import Foundation
import Training

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize finished runs side by side: final test accuracy (mean over seeds), flip fraction and distance to transitions.")

    @Argument(help: "Run directories.") var runs: [String]
    @Option(help: "Measure flips and distances over the last logged steps of the first N epochs (how fast the regularizer acts) instead of the run's end.")
    var withinEpochs: Int?

    struct Row {
        var run: String, method: String, lambda: Float, seed: UInt64
        var testAcc: Float, flip: Float, distance: Float, near: Float
    }

    func run() throws {
        guard !runs.isEmpty else { throw BTError("name at least one run directory") }
        if let n = withinEpochs, n < 1 { throw BTError("--within-epochs must be at least 1 (got \(n))") }
        var rows: [Row] = []
        var notes: [String] = []
        for dir in runs {
            let config = try RunDirectory.readConfig(dir).config
            let (records, skipped) = try RunRecordCoding.read(path: dir + "/metrics.jsonl")
            if skipped > 0 { notes.append("\(dir)/metrics.jsonl: skipped \(skipped) malformed line(s)") }
            let epochs = records.compactMap { if case .epoch(let e) = $0 { e } else { nil } }
            let all = records.compactMap { if case .step(let s) = $0 { s } else { nil } }
            let steps = withinEpochs.map { n in all.filter { $0.epoch < n } } ?? all
            guard let last = epochs.last, let final = steps.last else { throw BTError("\(dir) has no finished epoch yet") }
            // The last five logged steps, all layers: one noise draw per step is itself noisy.
            let layers = steps.suffix(5).flatMap(\.layers)
            let n = Float(max(layers.count, 1))
            rows.append(Row(run: dir, method: final.method, lambda: final.lambda, seed: config.seed, testAcc: last.testMetric,
                            flip: layers.map(\.flipFraction).reduce(0, +) / n,
                            distance: layers.map(\.meanTransitionDistance).reduce(0, +) / n,
                            near: layers.map { $0.nearTransitionShare() }.reduce(0, +) / n))
        }
        print("run                                      method  lambda  seed  test acc   flip~  dist/a  <0.1a")
        for r in rows {
            print(String(format: "%@  %@  %6.3g  %4d  %7.2f%%  %6.4f  %6.4f  %5.3f", pad(r.run, 39), pad(r.method, 6), r.lambda,
                         Int(r.seed), 100 * r.testAcc, r.flip, r.distance, r.near))
        }
        notes.forEach { print($0) }
        if let n = withinEpochs { print("flip~, dist/a and <0.1a: the last 5 logged steps of the first \(n) epoch(s), all layers") }
        print("\nmethod  lambda  runs  test acc (mean ± sd)   flip~ (mean ± sd)   dist/a (mean ± sd)  <0.1a (mean ± sd)")
        let groups = Dictionary(grouping: rows) { "\($0.method)|\($0.lambda)" }
        for key in groups.keys.sorted() {
            let g = groups[key]!
            let acc = meanSD(g.map { Double($0.testAcc) * 100 }), flip = meanSD(g.map { Double($0.flip) })
            let dist = meanSD(g.map { Double($0.distance) }), near = meanSD(g.map { Double($0.near) })
            print(String(format: "%@  %6.3g  %4d  %6.2f%% ± %.2f        %.4f ± %.4f     %.4f ± %.4f     %.3f ± %.3f",
                         pad(g[0].method, 6), g[0].lambda, g.count, acc.mean, acc.sd, flip.mean, flip.sd,
                         dist.mean, dist.sd, near.mean, near.sd))
        }
    }

    /// Mean and sample standard deviation (0 for one value).
    private func meanSD(_ xs: [Double]) -> (mean: Double, sd: Double) {
        let mean = xs.reduce(0, +) / Double(max(xs.count, 1))
        guard xs.count > 1 else { return (mean, 0) }
        return (mean, (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)).squareRoot())
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.suffix(n)) : s + String(repeating: " ", count: n - s.count)
    }
}
