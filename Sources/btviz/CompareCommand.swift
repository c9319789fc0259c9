import ArgumentParser
import BTCore
import Foundation
import Training

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize finished runs side by side: final test accuracy (mean over seeds), flip fraction and distance to transitions.")

    @Argument(help: "Run directories.") var runs: [String]

    struct Row {
        var run: String, method: String, lambda: Float, seed: UInt64
        var testAcc: Float, flip: Float, distance: Float, near: Float
    }

    func run() throws {
        guard !runs.isEmpty else { throw BTError("name at least one run directory") }
        var rows: [Row] = []
        for dir in runs {
            let config = try RunDirectory.readConfig(dir).config
            let records = try RunRecordCoding.read(path: dir + "/metrics.jsonl")
            let epochs = records.compactMap { if case .epoch(let e) = $0 { e } else { nil } }
            let steps = records.compactMap { if case .step(let s) = $0 { s } else { nil } }
            guard let last = epochs.last, let final = steps.last else { throw BTError("\(dir) has no finished epoch yet") }
            // The last five logged steps, all layers: one noise draw per step is itself noisy.
            let layers = steps.suffix(5).flatMap(\.layers)
            let n = Float(max(layers.count, 1))
            rows.append(Row(run: dir, method: final.method, lambda: final.lambda, seed: config.seed, testAcc: last.testAcc,
                            flip: layers.map(\.flipFraction).reduce(0, +) / n,
                            distance: layers.map(\.meanTransitionDistance).reduce(0, +) / n,
                            near: layers.map { $0.nearTransitionShare() }.reduce(0, +) / n))
        }
        print("run                                      method  lambda  seed  test acc   flip~  dist/a  <0.1a")
        for r in rows {
            print(String(format: "%@  %@  %6.3g  %4d  %7.2f%%  %6.4f  %6.4f  %5.3f", pad(r.run, 39), pad(r.method, 6), r.lambda,
                         Int(r.seed), 100 * r.testAcc, r.flip, r.distance, r.near))
        }
        print("\nmethod  lambda  runs  test acc (mean ± sd)")
        let groups = Dictionary(grouping: rows) { "\($0.method)|\($0.lambda)" }
        for key in groups.keys.sorted() {
            let g = groups[key]!, accs = g.map { Double($0.testAcc) * 100 }
            let mean = accs.reduce(0, +) / Double(accs.count)
            let sd = accs.count > 1 ? (accs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(accs.count - 1)).squareRoot() : 0
            print(String(format: "%@  %6.3g  %4d  %6.2f%% ± %.2f", pad(g[0].method, 6), g[0].lambda, g.count, mean, sd))
        }
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.suffix(n)) : s + String(repeating: " ", count: n - s.count)
    }
}
