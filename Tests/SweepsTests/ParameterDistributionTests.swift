import BTCore
import Foundation
import Sweeps
import XCTest
import Yams

/// W&B's parameter distributions for random sweeps: each draws what its definition says (a Kolmogorov–Smirnov or
/// chi-square test against the exact law, with fixed seeds), a run's value never moves, and every bad spec is one
/// line naming its parameter.
final class ParameterDistributionTests: XCTestCase {
    typealias D = ParameterDistribution

    func parse(_ yaml: String) throws -> D {
        guard let node = try Yams.compose(yaml: yaml) else { throw BTError("empty test YAML") }
        return try D.parse(node, key: "lr", source: "s.yaml")
    }

    func assertRefused(_ yaml: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(yaml), file: file, line: line) { e in
            let text = "\(e)"
            XCTAssertTrue(e is BTError, "\(type(of: e))", file: file, line: line)
            XCTAssertTrue(text.hasPrefix("s.yaml: parameter 'lr': "), text, file: file, line: line)
            XCTAssertTrue(text.contains(message), "\(text) should mention \(message)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
        }
    }

    /// n draws, each from its own run's stream (as a sweep draws them).
    func draws(_ d: D, _ n: Int = 10_000, seed: UInt64 = 42) -> [D.Sample] {
        (0..<n).map { i in
            var rng = D.rng(seed: seed, run: i, key: "lr")
            return d.sample(&rng)
        }
    }

    // MARK: exact laws

    static func normalCDF(_ x: Double, _ mu: Double, _ sigma: Double) -> Double {
        0.5 * (1 + erf((x - mu) / (sigma * 2.0.squareRoot())))
    }

    static func clamp(_ p: Double) -> Double { min(1, max(0, p)) }

    /// The CDF of the unquantized law behind each distribution.
    static func cdf(_ d: D) -> (Double) -> Double {
        switch d {
        case .uniform(let a, let b), .qUniform(let a, let b, _): return { clamp(($0 - a) / (b - a)) }
        case .logUniformValues(let a, let b), .qLogUniformValues(let a, let b, _):
            return { $0 <= 0 ? 0 : clamp((log($0) - log(a)) / (log(b) - log(a))) }
        case .logUniform(let a, let b), .qLogUniform(let a, let b, _): return { $0 <= 0 ? 0 : clamp((log($0) - a) / (b - a)) }
        case .normal(let mu, let s), .qNormal(let mu, let s, _): return { normalCDF($0, mu, s) }
        case .logNormal(let mu, let s), .qLogNormal(let mu, let s, _): return { $0 <= 0 ? 0 : normalCDF(log($0), mu, s) }
        default: fatalError("no CDF for \(d)")
        }
    }

    /// The one-sample Kolmogorov–Smirnov statistic of xs against a law given by its CDF at and just below a point
    /// (the same for a continuous law; for a quantized one P(X <= kq) = F(kq + q/2) and P(X < kq) = F(kq - q/2)).
    /// Between two observed values both the empirical and the law's CDF are flat, so the sup is at the observed
    /// values, from the right or the left.
    static func ks(_ xs: [Double], at: (Double) -> Double, below: (Double) -> Double) -> Double {
        let sorted = xs.sorted()
        let n = Double(sorted.count)
        var d = 0.0, i = 0
        while i < sorted.count {
            var j = i
            while j < sorted.count && sorted[j] == sorted[i] { j += 1 }
            d = max(d, abs(Double(j) / n - at(sorted[i])), abs(Double(i) / n - below(sorted[i])))
            i = j
        }
        return d
    }

    static func ks(_ xs: [Double], _ cdf: @escaping (Double) -> Double) -> Double { ks(xs, at: cdf, below: cdf) }

    /// 1% critical value of the one-sample KS statistic for n draws.
    static func critical(_ n: Int) -> Double { 1.63 / Double(n).squareRoot() }

    /// Pearson's chi-square of observed counts against expected probabilities.
    static func chiSquare(_ counts: [String: Int], _ expected: [String: Double], n: Int) -> Double {
        expected.reduce(0) { sum, e in
            let want = e.value * Double(n)
            let got = Double(counts[e.key] ?? 0)
            return sum + (got - want) * (got - want) / want
        }
    }

    func assertFloatReadable(_ samples: [D.Sample], file: StaticString = #filePath, line: UInt = #line) {
        for s in samples {
            guard let f = Float(s.text), f.isFinite, let x = Double(s.text), x == s.number else {
                return XCTFail("'\(s.text)' (\(String(describing: s.number))) is not a finite Float train reads back", file: file, line: line)
            }
        }
    }

    // MARK: continuous laws

    func testEveryContinuousDistributionPassesKolmogorovSmirnovAgainstItsExactCDF() throws {
        let cases: [(String, D, ClosedRange<Double>)] = [
            ("uniform", .uniform(min: -2, max: 3), -2...3),
            ("log_uniform_values", .logUniformValues(min: 1e-5, max: 0.1), 1e-5...0.1),
            ("log_uniform", .logUniform(min: -5, max: 1), exp(-5)...exp(1)),
            ("normal", .normal(mu: 1, sigma: 2), -100...100),
            ("log_normal", .logNormal(mu: -1, sigma: 0.5), 0...100),
        ]
        for (name, d, range) in cases {
            let samples = draws(d)
            assertFloatReadable(samples)
            let xs = samples.map { $0.number! }
            XCTAssertTrue(xs.allSatisfy { range.contains($0) }, name)
            let stat = Self.ks(xs, Self.cdf(d))
            XCTAssertLessThan(stat, Self.critical(xs.count), name)
        }
    }

    func testKolmogorovSmirnovTellsALogUniformFromAUniform() {
        let d = D.logUniformValues(min: 1e-5, max: 0.1)
        let xs = draws(d).map { $0.number! }
        // Draws uniform in log space fail against plain uniform on [min, max] (D near 0.8), so the test above
        // would catch a log_uniform_values that drew uniformly.
        let plain = Self.ks(xs, Self.cdf(.uniform(min: 1e-5, max: 0.1)))
        XCTAssertGreaterThan(plain, Self.critical(xs.count))
        XCTAssertGreaterThan(plain, 0.5)
        // And log_uniform (exponents) is not log_uniform_values (values): e^-5..e^1 is not 1e-5..0.1.
        XCTAssertGreaterThan(Self.ks(draws(.logUniform(min: -5, max: 1)).map { $0.number! }, Self.cdf(d)), Self.critical(xs.count))
        // A normal drawn with sigma 1 fails against sigma 2.
        let normal = draws(.normal(mu: 1, sigma: 1)).map { $0.number! }
        XCTAssertGreaterThan(Self.ks(normal, Self.cdf(.normal(mu: 1, sigma: 2))), Self.critical(normal.count))
    }

    // MARK: discrete laws

    func testQuantizedDistributionsDrawMultiplesOfQWithTheirExactDiscreteLaw() {
        let cases: [(String, D, Double)] = [
            ("q_uniform", .qUniform(min: 0, max: 1, q: 0.1), 0.1),
            ("q_log_uniform_values", .qLogUniformValues(min: 1, max: 1000, q: 5), 5),
            ("q_log_uniform", .qLogUniform(min: 0, max: 5, q: 2.5), 2.5),
            ("q_normal", .qNormal(mu: 0, sigma: 3, q: 0.5), 0.5),
            ("q_log_normal", .qLogNormal(mu: 1, sigma: 0.7, q: 0.25), 0.25),
            ("q_uniform fine", .qUniform(min: 0, max: 0.001, q: 1e-5), 1e-5),
        ]
        for (name, d, q) in cases {
            let samples = draws(d)
            assertFloatReadable(samples)
            let qDecimals = String("\(q)".split(separator: ".").last ?? "").filter(\.isNumber).count
            for s in samples {
                let k = s.number! / q
                XCTAssertEqual(k, k.rounded(), accuracy: 1e-6, "\(name): \(s.text) is not a multiple of \(q)")
                // No float noise: a multiple of q has at most q's decimals (q 1e-05 has 5).
                let decimals = s.text.split(separator: ".").dropFirst().first?.count ?? 0
                XCTAssertLessThanOrEqual(decimals, q < 1e-4 ? 5 : qDecimals, "\(name): \(s.text)")
            }
            let f = Self.cdf(d)
            let stat = Self.ks(samples.map { $0.number! }, at: { f($0 + q / 2) }, below: { f($0 - q / 2) })
            XCTAssertLessThan(stat, Self.critical(samples.count), name)
        }
    }

    func testQUniformHitsEachTenthAsOftenAsRoundingSays() {
        // round(U(0, 1) / 0.1) * 0.1: 0 and 1 take half a cell each (0.05), 0.1 ... 0.9 a whole cell (0.1).
        let samples = draws(.qUniform(min: 0, max: 1, q: 0.1))
        let counts = Dictionary(grouping: samples, by: \.text).mapValues(\.count)
        var expected = ["0": 0.05, "1": 0.05]
        for k in 1...9 { expected["0.\(k)"] = 0.1 }
        XCTAssertEqual(Set(counts.keys), Set(expected.keys), "only the 11 tenths, spelled without float noise")
        // 11 cells, 10 degrees of freedom: the 1% critical value is 23.21.
        XCTAssertLessThan(Self.chiSquare(counts, expected, n: samples.count), 23.21)
    }

    func testIntUniformDrawsEveryIntegerOfTheClosedIntervalEquallyOften() {
        let samples = draws(.intUniform(min: 1, max: 10))
        XCTAssertTrue(samples.allSatisfy { Int($0.text) != nil && Double($0.text) == $0.number }, "integers print as integers")
        let counts = Dictionary(grouping: samples, by: \.text).mapValues(\.count)
        let expected = Dictionary(uniqueKeysWithValues: (1...10).map { (String($0), 0.1) })
        XCTAssertEqual(Set(counts.keys), Set(expected.keys), "both ends drawn, nothing outside")
        // 10 cells, 9 degrees of freedom: the 1% critical value is 21.67.
        XCTAssertLessThan(Self.chiSquare(counts, expected, n: samples.count), 21.67)
        // The widest interval that does not overflow draws within it.
        for s in draws(.intUniform(min: Int.min / 2, max: Int.max / 2), 100) {
            XCTAssertTrue((Int.min / 2...Int.max / 2).contains(Int(s.text)!), s.text)
        }
    }

    func testCategoricalFollowsItsProbabilitiesOrDrawsEachValueEquallyOften() throws {
        let weighted = draws(.categorical(["a", "b", "c"], probabilities: [0.2, 0.3, 0.5]))
        let counts = Dictionary(grouping: weighted, by: \.text).mapValues(\.count)
        // 3 cells, 2 degrees of freedom: the 1% critical value is 9.21.
        XCTAssertLessThan(Self.chiSquare(counts, ["a": 0.2, "b": 0.3, "c": 0.5], n: weighted.count), 9.21)
        XCTAssertNil(weighted.first?.number, "text values have no number")

        let plain = draws(try parse("{values: [16, 32, 64, 128]}"))
        let plainCounts = Dictionary(grouping: plain, by: \.text).mapValues(\.count)
        // 4 cells, 3 degrees of freedom: the 1% critical value is 11.34.
        XCTAssertLessThan(Self.chiSquare(plainCounts, ["16": 0.25, "32": 0.25, "64": 0.25, "128": 0.25], n: plain.count), 11.34)
        XCTAssertTrue(plain.allSatisfy { $0.number == Double($0.text) }, "numeric values keep their number")

        let never = draws(.categorical(["x", "y", "z"], probabilities: [0.5, 0, 0.5]), 2000)
        XCTAssertFalse(never.contains { $0.text == "y" }, "a value with probability 0 is never drawn")
    }

    // MARK: one value per run, for good

    func testARunsValueDependsOnlyOnSeedRunAndKey() throws {
        let d = D.logUniformValues(min: 1e-5, max: 0.1)
        func value(_ run: Int, seed: UInt64 = 7, key: String = "lambda") -> String {
            var rng = D.rng(seed: seed, run: run, key: key)
            return d.sample(&rng).text
        }
        // Pinned once: a change here changes every random sweep already run.
        XCTAssertEqual((0..<5).map { value($0) }, PINNED)
        // The same whether drawn alone or in a loop over 100 runs, with another key drawn in between.
        var inLoop: [String] = []
        for run in 0..<100 {
            var other = D.rng(seed: 7, run: run, key: "mu")
            _ = D.normal(mu: 0, sigma: 1).sample(&other)
            inLoop.append(value(run))
        }
        XCTAssertEqual(Array(inLoop.prefix(5)), PINNED)
        XCTAssertEqual(inLoop[99], value(99))
        // Keys, runs and seeds each give their own stream.
        XCTAssertNotEqual(value(3), value(3, key: "lambda2"))
        XCTAssertNotEqual(value(3), value(4))
        XCTAssertNotEqual(value(3), value(3, seed: 8))
        XCTAssertEqual(Set(inLoop).count, 100)
    }

    let PINNED = ["4.534835665661234e-5", "9.644754854029678e-5", "0.0004183963345487587", "0.00026074088211936066",
                  "2.6384865031121044e-5"]

    // MARK: text train reads

    func testRealsAreTextTrainReadsAsAFloat() {
        for d: D in [.normal(mu: 1e30, sigma: 1e29), .uniform(min: 1e-30, max: 1e-29), .logUniformValues(min: 1e-12, max: 1e12),
                     .qNormal(mu: 1e20, sigma: 1e19, q: 1e15), .qUniform(min: -1, max: 1, q: 0.25)] {
            let samples = draws(d, 1000)
            assertFloatReadable(samples)
            XCTAssertFalse(samples.contains { $0.text.contains("e+") || $0.text.hasPrefix("+") }, "one spelling: \(d)")
        }
        XCTAssertEqual(draws(.qUniform(min: -0.04, max: 0.04, q: 0.1), 50).map(\.text), Array(repeating: "0", count: 50), "never -0")
    }

    // MARK: reading specs

    func testWandBsInferenceAndDefaults() throws {
        XCTAssertEqual(try parse("{values: [adam, sgd]}"), .categorical(["adam", "sgd"], probabilities: nil))
        XCTAssertEqual(try parse("[adam, sgd]"), .categorical(["adam", "sgd"], probabilities: nil))
        XCTAssertEqual(try parse("{value: 3e-04}"), .constant("3e-4"), "one spelling, as the grid")
        XCTAssertEqual(try parse("7"), .constant("7"))
        XCTAssertEqual(try parse("{min: 1, max: 10}"), .intUniform(min: 1, max: 10))
        XCTAssertEqual(try parse("{min: 1, max: 10.0}"), .uniform(min: 1, max: 10))
        XCTAssertEqual(try parse("{min: 1e-5, max: 0.1}"), .uniform(min: 1e-5, max: 0.1))
        XCTAssertEqual(try parse("{distribution: log_uniform_values, min: 1e-5, max: 0.1}"), .logUniformValues(min: 1e-5, max: 0.1))
        XCTAssertEqual(try parse("{distribution: normal}"), .normal(mu: 0, sigma: 1))
        XCTAssertEqual(try parse("{distribution: q_log_normal, mu: 2}"), .qLogNormal(mu: 2, sigma: 1, q: 1))
        XCTAssertEqual(try parse("{distribution: q_uniform, min: 0, max: 10}"), .qUniform(min: 0, max: 10, q: 1))
        XCTAssertEqual(try parse("{distribution: int_uniform, min: 2.0, max: 9e3}"), .intUniform(min: 2, max: 9000))
        XCTAssertEqual(try parse("{values: [a, b], probabilities: [0.25, 0.75]}"), .categorical(["a", "b"], probabilities: [0.25, 0.75]))
        XCTAssertEqual(try parse("{distribution: constant, value: x}"), .constant("x"))
        // q 1 draws whole numbers, printed as integers.
        XCTAssertTrue(draws(try parse("{distribution: q_normal, mu: 50, sigma: 10}"), 200).allSatisfy { Int($0.text) != nil })
    }

    func testEveryBadSpecIsOneLineNamingTheParameter() {
        assertRefused("{distribution: gaussian, mu: 0}",
                      "unknown distribution 'gaussian' (btviz offers constant, categorical, int_uniform, uniform, q_uniform, log_uniform_values")
        assertRefused("{distribution: uniform, min: 0}", "uniform needs both 'min' and 'max'")
        assertRefused("{distribution: log_uniform_values, max: 1}", "log_uniform_values needs both 'min' and 'max'")
        assertRefused("{max: 1.5}", "uniform needs both 'min' and 'max'")
        assertRefused("{min: 0.5, max: 0.5}", "min 0.5 is not below max 0.5")
        assertRefused("{min: 3, max: 1}", "min 3 is not below max 1")
        assertRefused("{distribution: log_uniform_values, min: 0, max: 1}", "min must be above 0, not 0")
        assertRefused("{distribution: q_log_uniform_values, min: -1, max: 1}", "min must be above 0, not -1")
        assertRefused("{distribution: q_uniform, min: 0, max: 1, q: 0}", "'q' must be above 0, not 0")
        assertRefused("{distribution: q_normal, q: -0.5}", "'q' must be above 0, not -0.5")
        assertRefused("{distribution: normal, sigma: 0}", "'sigma' must be above 0, not 0")
        assertRefused("{distribution: log_normal, sigma: -1}", "'sigma' must be above 0, not -1")
        assertRefused("{min: .inf, max: 1}", "'min' must be a finite number, not '.inf'")
        assertRefused("{min: 0, max: 1e999}", "'max' must be a finite number, not '1e999'")
        assertRefused("{distribution: normal, mu: .nan}", "'mu' must be a finite number, not '.nan'")
        assertRefused("{min: abc, max: 1}", "'min' must be a number, not 'abc'")
        assertRefused("{min: [1], max: 2}", "'min' must be a number, text or true/false")
        assertRefused("{distribution: int_uniform, min: 0.5, max: 3}", "int_uniform draws integers: min and max must be whole numbers, not 0.5")
        assertRefused("{min: 0.0, max: 1.0, q: 0.1}", "'q' does not belong to uniform (it takes min, max)")
        assertRefused("{distribution: uniform, min: 0, max: 1, mu: 0}", "'mu' does not belong to uniform")
        assertRefused("{distribution: normal, min: 0}", "'min' does not belong to normal (it takes mu, sigma)")
        assertRefused("{value: 3, probabilities: [1]}", "'probabilities' does not belong to constant")
        assertRefused("{values: []}", "'values' is empty")
        assertRefused("{values: [\(Array(repeating: "0", count: SweepSpec.maxValues + 1).joined(separator: ","))]}",
                      "'values' lists 100001 items, over the 100000 a sweep may have")
        assertRefused("{values: [a, b], probabilities: [1]}", "1 probabilities for 2 values")
        assertRefused("{values: [a, b], probabilities: [0.5, 0.4]}", "the probabilities sum to 0.9, not 1")
        assertRefused("{values: [a, b], probabilities: [1.5, -0.5]}", "the probability -0.5 is negative")
        assertRefused("{values: [a, b], probabilities: [0.5, x]}", "a probability must be a number, not 'x'")
        assertRefused("{distribution: int_uniform, min: -9e18, max: 9e18}", "the interval [-9e18, 9e18] is too wide to draw from")
        assertRefused("{min: -9000000000000000000, max: 9000000000000000000}", "is too wide to draw from")
        assertRefused("{min: -1.7e308, max: 1.7e308}", "the interval [-1.7e308, 1.7e308] is too wide to draw from")
        assertRefused("{distribution: log_uniform, min: 0, max: 100}", "log_uniform can draw values up to 2.69e+43, past the 3.4e38")
        assertRefused("{distribution: normal, mu: 3e38, sigma: 1e37}", "past the 3.4e38")
        assertRefused("{step: 1}", "unknown key 'step' (a parameter takes distribution, value, values")
        assertRefused("{value: 1, values: [1, 2]}", "gives both 'value' and 'values'; give one")
        assertRefused("{}", "no 'value', 'values', 'min' and 'max' or 'distribution'")
        assertRefused("{value: ~}", "'value' must be a number, text or true/false, not a list, mapping or null")
        assertRefused("{distribution: constant}", "constant needs 'value'")
        assertRefused("{distribution: categorical}", "categorical needs 'values'")
        assertRefused("{distribution: [normal]}", "'distribution' must be a name")
    }

    func testAKeyGivenTwiceIsRefused() throws {
        // Yams keeps both entries of a repeated key; the second must not silently win.
        guard let node = try? Yams.compose(yaml: "{min: 1, min: 2, max: 3}") else { return XCTFail("Yams refused the YAML itself") }
        XCTAssertThrowsError(try D.parse(node, key: "lr", source: "s.yaml")) {
            XCTAssertEqual("\($0)", "s.yaml: parameter 'lr': 'min' is given twice")
        }
    }

    // MARK: sweep.json

    func testStoredAsWandBWritesItAndReadBackThroughTheSameChecks() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(D.logUniformValues(min: 1e-5, max: 0.1)), as: UTF8.self)
        XCTAssertEqual(json, #"{"distribution":"log_uniform_values","max":0.1,"min":1e-05}"#)
        XCTAssertEqual(String(decoding: try encoder.encode(D.intUniform(min: 1, max: 10)), as: UTF8.self),
                       #"{"distribution":"int_uniform","max":10,"min":1}"#)
        let all: [D] = [.constant("x"), .categorical(["a", "b"], probabilities: nil), .categorical(["a", "b"], probabilities: [0.25, 0.75]),
                        .intUniform(min: -3, max: 9), .uniform(min: 0, max: 1), .qUniform(min: 0, max: 1, q: 0.1),
                        .logUniformValues(min: 1e-5, max: 0.1), .qLogUniformValues(min: 1, max: 100, q: 5), .logUniform(min: -3, max: 0),
                        .qLogUniform(min: 0, max: 3, q: 2), .normal(mu: 0, sigma: 1), .qNormal(mu: 1, sigma: 2, q: 0.5),
                        .logNormal(mu: -1, sigma: 0.5), .qLogNormal(mu: 1, sigma: 0.25, q: 0.01)]
        XCTAssertEqual(Set(all.map(\.name)), Set(D.names))
        for d in all {
            XCTAssertEqual(try JSONDecoder().decode(D.self, from: try JSONEncoder().encode(d)), d, d.summary)
        }
        // A damaged file is refused, not drawn from.
        for bad in [#"{"distribution":"uniform","min":1,"max":0}"#, #"{"distribution":"beta","min":0,"max":1}"#,
                    #"{"distribution":"uniform","min":0,"max":1,"q":0.1}"#, #"{"distribution":"normal","sigma":-1}"#,
                    #"{"distribution":"categorical","values":[]}"#, #"{"distribution":"int_uniform","min":0.5,"max":2}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(D.self, from: Data(bad.utf8)), bad)
        }
    }

    func testSummaryAndPlotAxis() {
        XCTAssertEqual(D.logUniformValues(min: 1e-5, max: 0.1).summary, "log_uniform_values [1e-05, 0.1]")
        XCTAssertEqual(D.intUniform(min: 1, max: 10).summary, "int_uniform [1, 10]")
        XCTAssertEqual(D.qUniform(min: 0, max: 1, q: 0.1).summary, "q_uniform [0, 1] q 0.1")
        XCTAssertEqual(D.normal(mu: 0, sigma: 1).summary, "normal mu 0 sigma 1")
        XCTAssertEqual(D.categorical(["a", "b"], probabilities: [0.25, 0.75]).summary, "categorical [a (p 0.25), b (p 0.75)]")
        XCTAssertEqual(D.categorical((1...7).map(String.init), probabilities: nil).summary, "categorical [1, 2, 3, 4, 5, … (7 values)]")
        XCTAssertEqual(D.constant("a\u{1b}b").summary, "constant a\\x1Bb")
        XCTAssertTrue(D.logUniform(min: 0, max: 1).isLog && D.qLogNormal(mu: 0, sigma: 1, q: 1).isLog)
        XCTAssertFalse(D.uniform(min: 0, max: 1).isLog || D.qNormal(mu: 0, sigma: 1, q: 1).isLog)
        XCTAssertFalse(D.constant("1").isSampled)
        XCTAssertTrue(D.categorical(["1"], probabilities: nil).isSampled && D.normal(mu: 0, sigma: 1).isSampled)
    }
}
