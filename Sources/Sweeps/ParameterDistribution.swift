import BTCore
import Foundation
import Yams

/// What a random sweep draws one parameter from: W&B's distributions for random and Bayesian search
/// (https://docs.wandb.ai/guides/sweeps/sweep-config-keys), with W&B's definitions and defaults (mu 0, sigma 1,
/// q 1). A draw is the text `btviz train` gets and its number; the draws of run i for a key depend only on the
/// sweep's seed, i and the key (`rng(seed:run:key:)`), so a grown run cap or a new parameter changes no drawn value.
public enum ParameterDistribution: Codable, Equatable, Sendable {
    /// `value: X`: every run gets X.
    case constant(String)
    /// `values: [...]`, each equally likely or with `probabilities` (one per value, summing to 1).
    case categorical([String], probabilities: [Double]?)
    /// An integer in min...max, each equally likely.
    case intUniform(min: Int, max: Int)
    case uniform(min: Double, max: Double)
    /// round(U(min, max) / q) * q.
    case qUniform(min: Double, max: Double, q: Double)
    /// exp(U(log min, log max)): min and max are the values.
    case logUniformValues(min: Double, max: Double)
    case qLogUniformValues(min: Double, max: Double, q: Double)
    /// exp(U(min, max)): min and max are natural-log exponents (W&B's log_uniform).
    case logUniform(min: Double, max: Double)
    case qLogUniform(min: Double, max: Double, q: Double)
    case normal(mu: Double, sigma: Double)
    case qNormal(mu: Double, sigma: Double, q: Double)
    /// exp(N(mu, sigma)).
    case logNormal(mu: Double, sigma: Double)
    case qLogNormal(mu: Double, sigma: Double, q: Double)

    /// One draw: the text train gets (`--key text`) and its number for plots and rankings (nil for text values).
    public struct Sample: Equatable, Sendable {
        public var text: String
        public var number: Double?
        public init(text: String, number: Double?) { self.text = text; self.number = number }
    }

    /// W&B's names, in the order they are offered in an error.
    public static let names = ["constant", "categorical", "int_uniform", "uniform", "q_uniform", "log_uniform_values",
                               "q_log_uniform_values", "log_uniform", "q_log_uniform", "normal", "q_normal",
                               "log_normal", "q_log_normal"]

    public var name: String {
        switch self {
        case .constant: "constant"
        case .categorical: "categorical"
        case .intUniform: "int_uniform"
        case .uniform: "uniform"
        case .qUniform: "q_uniform"
        case .logUniformValues: "log_uniform_values"
        case .qLogUniformValues: "q_log_uniform_values"
        case .logUniform: "log_uniform"
        case .qLogUniform: "q_log_uniform"
        case .normal: "normal"
        case .qNormal: "q_normal"
        case .logNormal: "log_normal"
        case .qLogNormal: "q_log_normal"
        }
    }

    /// Whether a plot of this parameter wants a log axis.
    public var isLog: Bool {
        switch self {
        case .logUniformValues, .qLogUniformValues, .logUniform, .qLogUniform, .logNormal, .qLogNormal: true
        default: false
        }
    }

    /// Whether runs differ in this parameter (all but a constant).
    public var isSampled: Bool {
        if case .constant = self { return false }
        return true
    }

    /// One line for `sweep status` and tables: "log_uniform_values [1e-05, 0.1]", "normal mu 0 sigma 1 q 0.5".
    public var summary: String {
        let n = Self.shortest
        switch self {
        case .constant(let v): return "constant \(TerminalText.escape(v))"
        case .categorical(let values, let p):
            // A list may have 100,000 values: the first few stand for it.
            let shown = values.prefix(5).enumerated().map { i, v in
                TerminalText.escape(v) + (p.map { " (p \(n($0[i])))" } ?? "")
            }
            let more = values.count > 5 ? ", … (\(values.count) values)" : ""
            return "categorical [\(shown.joined(separator: ", "))\(more)]"
        case .intUniform(let a, let b): return "int_uniform [\(a), \(b)]"
        case .uniform(let a, let b), .logUniformValues(let a, let b), .logUniform(let a, let b):
            return "\(name) [\(n(a)), \(n(b))]"
        case .qUniform(let a, let b, let q), .qLogUniformValues(let a, let b, let q), .qLogUniform(let a, let b, let q):
            return "\(name) [\(n(a)), \(n(b))] q \(n(q))"
        case .normal(let mu, let sigma), .logNormal(let mu, let sigma):
            return "\(name) mu \(n(mu)) sigma \(n(sigma))"
        case .qNormal(let mu, let sigma, let q), .qLogNormal(let mu, let sigma, let q):
            return "\(name) mu \(n(mu)) sigma \(n(sigma)) q \(n(q))"
        }
    }

    // MARK: drawing

    /// The stream for one run's value of one key: it depends on the sweep's seed, the run's index and the key only
    /// (FNV-1a 64 of the key's UTF-8, each step mixed through RNG's splitmix seeding), so run i keeps its value when
    /// the run cap grows or other parameters come and go.
    public static func rng(seed: UInt64, run: Int, key: String) -> RNG {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var bySeed = RNG(seed: seed)
        var byKey = RNG(seed: bySeed.next() ^ hash)
        return RNG(seed: byKey.next() ^ UInt64(bitPattern: Int64(run)))
    }

    /// One draw. Reals are double precision throughout; the text is the number's one spelling
    /// (`SweepValue.canonical`), which `btviz train` reads back as a Float.
    public func sample(_ rng: inout RNG) -> Sample {
        switch self {
        case .constant(let v): return Self.textSample(v)
        case .categorical(let values, let probabilities):
            guard let p = probabilities else { return Self.textSample(values[Int(Self.below(UInt64(values.count), &rng))]) }
            return Self.textSample(values[Self.pick(p, Self.unit(&rng))])
        case .intUniform(let a, let b):
            // b - a was checked not to overflow when the distribution was made, so b - a + 1 <= 2^63.
            let n = UInt64(b - a) + 1
            let v = a + Int(Self.below(n, &rng))
            return Sample(text: String(v), number: Double(v))
        case .uniform(let a, let b): return Self.real(a + Self.unit(&rng) * (b - a))
        case .qUniform(let a, let b, let q): return Self.quantized(a + Self.unit(&rng) * (b - a), q)
        case .logUniformValues(let a, let b): return Self.real(Self.logUniformDraw(log(a), log(b), &rng))
        case .qLogUniformValues(let a, let b, let q): return Self.quantized(Self.logUniformDraw(log(a), log(b), &rng), q)
        case .logUniform(let a, let b): return Self.real(Self.logUniformDraw(a, b, &rng))
        case .qLogUniform(let a, let b, let q): return Self.quantized(Self.logUniformDraw(a, b, &rng), q)
        case .normal(let mu, let sigma): return Self.real(mu + sigma * Self.gaussian(&rng))
        case .qNormal(let mu, let sigma, let q): return Self.quantized(mu + sigma * Self.gaussian(&rng), q)
        case .logNormal(let mu, let sigma): return Self.real(exp(mu + sigma * Self.gaussian(&rng)))
        case .qLogNormal(let mu, let sigma, let q): return Self.quantized(exp(mu + sigma * Self.gaussian(&rng)), q)
        }
    }

    /// Uniform in [0, 1) with all 53 bits of a Double (RNG.uniform() has 24).
    static func unit(_ rng: inout RNG) -> Double { Double(rng.next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<n without modulo bias (Lemire's multiply-and-reject), written out so a draw does not depend
    /// on the standard library's choice of algorithm.
    static func below(_ n: UInt64, _ rng: inout RNG) -> UInt64 {
        var m = rng.next().multipliedFullWidth(by: n)
        if m.low < n {
            let floor = (0 &- n) % n
            while m.low < floor { m = rng.next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// Standard normal by Box–Muller from one pair of uniforms (the second output is dropped, so a draw uses a
    /// fixed two words). u1 is in (0, 1], so |z| <= sqrt(-2 ln 2^-53) < 8.58.
    static func gaussian(_ rng: inout RNG) -> Double {
        let u1 = Double((rng.next() >> 11) + 1) * 0x1p-53
        let u2 = unit(&rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// The most |z| Box–Muller above can return: how far a normal draw can reach.
    static let gaussianReach = (-2 * log(0x1p-53)).squareRoot()

    static func logUniformDraw(_ logMin: Double, _ logMax: Double, _ rng: inout RNG) -> Double {
        exp(logMin + unit(&rng) * (logMax - logMin))
    }

    /// The index whose cumulative probability first passes u (the probabilities sum to 1 within 1e-6: u is scaled
    /// to their sum, and rounding at the end falls to the last value that can be drawn).
    static func pick(_ probabilities: [Double], _ u: Double) -> Int {
        let target = u * probabilities.reduce(0, +)
        var sum = 0.0
        for (i, p) in probabilities.enumerated() {
            sum += p
            if target < sum { return i }
        }
        return probabilities.lastIndex { $0 > 0 } ?? probabilities.count - 1
    }

    static func textSample(_ text: String) -> Sample {
        Sample(text: text, number: Double(text).flatMap { $0.isFinite ? $0 : nil })
    }

    /// A real as its shortest round-trip spelling (`1e-05` is spelled `1e-5`, `-0.0` is `0`).
    static func real(_ x: Double) -> Sample {
        let text = SweepValue.canonical("\(x == 0 ? 0 : x)")
        return Sample(text: text, number: Double(text) ?? x)
    }

    /// round(x / q) * q written with q's decimals, so q 0.1 gives `0.3`, not `0.30000000000000004`. Rounding is
    /// half to even, as numpy's round in W&B's sampler.
    static func quantized(_ x: Double, _ q: Double) -> Sample {
        let k = (x / q).rounded(.toNearestOrEven)
        let v = k * q
        guard v != 0 else { return Sample(text: "0", number: 0) }
        let places = decimals(q)
        // q's decimals bound the text's length; a q finer than 1e-30 is spelled by its shortest form instead.
        let written = places <= 30 ? String(format: "%.\(places)f", v) : "\(v)"
        let text = SweepValue.canonical(written)
        return Sample(text: text, number: Double(text) ?? v)
    }

    /// How many decimals q's shortest spelling has: 0.1 -> 1, 2.5e-05 -> 6, 1.0 -> 0, 100.0 -> 0.
    static func decimals(_ q: Double) -> Int {
        let s = "\(q)"
        let parts = s.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        var fraction = parts[0].split(separator: ".", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return max(0, fraction.count - exponent)
    }

    /// "1e-05", "0.1", "3" (a Double's shortest spelling without a trailing ".0"), for summaries and errors.
    static func shortest(_ x: Double) -> String {
        let s = "\(x)"
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    // MARK: reading

    /// The keys a parameter may have, and which distributions take which.
    static let knownKeys = ["distribution", "value", "values", "probabilities", "min", "max", "q", "mu", "sigma"]

    static func takes(_ name: String) -> [String] {
        switch name {
        case "constant": ["value"]
        case "categorical": ["values", "probabilities"]
        case "int_uniform", "uniform", "log_uniform_values", "log_uniform": ["min", "max"]
        case "q_uniform", "q_log_uniform_values", "q_log_uniform": ["min", "max", "q"]
        case "normal", "log_normal": ["mu", "sigma"]
        default: ["mu", "sigma", "q"]  // q_normal, q_log_normal
        }
    }

    /// A number as written: the text (for errors), its value and, when it is a whole number in Int's range, that.
    struct Number {
        var text: String
        var value: Double
        var integer: Int?
    }

    /// A parameter's settings, as read from YAML or sweep.json, before they are checked.
    struct Fields {
        var distribution: String?
        var value: String?
        var values: [String]?
        var probabilities: [Double]?
        var numbers: [String: Number] = [:]
        /// The keys given, in the order given.
        var given: [String] = []
    }

    /// Reads one parameter of a random sweep: `{distribution, min, max, q, mu, sigma, value, values,
    /// probabilities}`, or for short a bare scalar (constant) or list (categorical). Every problem is one line
    /// naming the parameter.
    public static func parse(_ node: Node, key: String, source: String) throws -> ParameterDistribution {
        let prefix = "\(source): parameter '\(key)': "
        do {
            return try make(fields(node))
        } catch let e as Problem {
            throw BTError(prefix + e.text)
        }
    }

    /// Why a parameter is refused (made a BTError with the source and key by the caller).
    struct Problem: Error { var text: String; init(_ text: String) { self.text = text } }

    static func fields(_ node: Node) throws -> Fields {
        func scalar(_ n: Node, _ what: String) throws -> String {
            guard case .scalar(let s) = n, !(s.style == .plain && ["~", "null", "Null", "NULL", ""].contains(s.string)) else {
                throw Problem("\(what) must be a number, text or true/false, not a list, mapping or null")
            }
            return s.string
        }
        // The count is known before any item is read: a list too long for any sweep is refused at once.
        func list(_ n: Node, _ what: String) throws -> [String] {
            guard case .sequence(let seq) = n else { throw Problem("'\(what)' must be a list") }
            guard seq.count <= SweepSpec.maxValues else {
                throw Problem("'\(what)' lists \(seq.count) items, over the \(SweepSpec.maxValues) a sweep may have")
            }
            return try seq.map { try scalar($0, "an item of '\(what)'") }
        }
        var f = Fields()
        switch node {
        case .scalar:
            f.value = try scalar(node, "a value")
            f.given = ["value"]
        case .sequence:
            f.values = try list(node, "values")
            f.given = ["values"]
        case .mapping(let m):
            for (k, v) in m {
                guard let which = k.scalar?.string, knownKeys.contains(which) else {
                    throw Problem("unknown key '\(k.scalar?.string ?? "?")' (a parameter takes \(knownKeys.joined(separator: ", ")))")
                }
                guard !f.given.contains(which) else { throw Problem("'\(which)' is given twice") }
                f.given.append(which)
                switch which {
                case "distribution":
                    guard case .scalar(let s) = v else { throw Problem("'distribution' must be a name (\(names.joined(separator: ", ")))") }
                    f.distribution = s.string
                case "value": f.value = try scalar(v, "'value'")
                case "values": f.values = try list(v, "values")
                case "probabilities":
                    f.probabilities = try list(v, "probabilities").map { try number($0, "a probability").value }
                default:
                    f.numbers[which] = try number(try scalar(v, "'\(which)'"), "'\(which)'")
                }
            }
        }
        return f
    }

    static func number(_ text: String, _ what: String) throws -> Number {
        // YAML's spellings of infinity and NaN, which Double does not read.
        let yamlNonFinite = [".inf", "+.inf", "-.inf", ".nan"].contains(text.lowercased())
        guard let x = Double(text) ?? (yamlNonFinite ? .infinity : nil) else { throw Problem("\(what) must be a number, not '\(text)'") }
        guard x.isFinite else { throw Problem("\(what) must be a finite number, not '\(text)'") }
        return Number(text: text, value: x, integer: integer(text, x))
    }

    /// `3`, `-2` and whole reals such as `9e18` within Int's range; nil for `0.5`.
    static func integer(_ text: String, _ x: Double) -> Int? {
        if let i = Int(text) { return i }
        // 2^63 is the first Double past Int.max.
        return x == x.rounded() && abs(x) < 0x1p63 ? Int(x) : nil
    }

    /// Checks the fields against W&B's rules for their distribution (named or inferred) and builds it.
    static func make(_ f: Fields) throws -> ParameterDistribution {
        let name: String
        if let given = f.distribution {
            guard names.contains(given) else {
                throw Problem("unknown distribution '\(given)' (btviz offers \(names.joined(separator: ", ")))")
            }
            name = given
        } else if f.value != nil && f.values != nil {
            throw Problem("gives both 'value' and 'values'; give one")
        } else if f.values != nil {
            name = "categorical"
        } else if f.value != nil {
            name = "constant"
        } else if f.numbers["min"] != nil || f.numbers["max"] != nil {
            // W&B's inference: whole-number bounds draw integers.
            let whole = [f.numbers["min"], f.numbers["max"]].allSatisfy { $0.flatMap { Int($0.text) } != nil }
            name = whole ? "int_uniform" : "uniform"
        } else {
            throw Problem("no 'value', 'values', 'min' and 'max' or 'distribution' to draw it from")
        }
        let takes = takes(name)
        if let stray = f.given.first(where: { $0 != "distribution" && !takes.contains($0) }) {
            throw Problem("'\(stray)' does not belong to \(name) (it takes \(takes.joined(separator: ", ")))")
        }
        let made = try build(name, f)
        try checkReach(made)
        return made
    }

    static func build(_ name: String, _ f: Fields) throws -> ParameterDistribution {
        func q() throws -> Double {
            let q = f.numbers["q"]?.value ?? 1
            guard q > 0 else { throw Problem("'q' must be above 0, not \(f.numbers["q"]!.text)") }
            return q
        }
        func normal() throws -> (mu: Double, sigma: Double) {
            let sigma = f.numbers["sigma"]?.value ?? 1
            guard sigma > 0 else { throw Problem("'sigma' must be above 0, not \(f.numbers["sigma"]!.text)") }
            return (f.numbers["mu"]?.value ?? 0, sigma)
        }
        func bounds() throws -> (min: Number, max: Number) {
            guard let a = f.numbers["min"], let b = f.numbers["max"] else {
                throw Problem("\(name) needs both 'min' and 'max'")
            }
            guard a.value < b.value else { throw Problem("min \(a.text) is not below max \(b.text)") }
            guard (b.value - a.value).isFinite else { throw Problem("the interval [\(a.text), \(b.text)] is too wide to draw from") }
            return (a, b)
        }
        func positive() throws -> (min: Double, max: Double) {
            let (a, b) = try bounds()
            guard a.value > 0 else {
                throw Problem("\(name) draws between the logs of its bounds, so min must be above 0, not \(a.text)")
            }
            return (a.value, b.value)
        }
        switch name {
        case "constant":
            guard let v = f.value else { throw Problem("constant needs 'value'") }
            return .constant(SweepValue.canonical(v))
        case "categorical":
            guard let values = f.values else { throw Problem("categorical needs 'values'") }
            guard !values.isEmpty else { throw Problem("'values' is empty: nothing to draw") }
            if let p = f.probabilities {
                guard p.count == values.count else {
                    throw Problem("\(p.count) probabilities for \(values.count) values: give one per value")
                }
                if let negative = p.first(where: { $0 < 0 }) { throw Problem("the probability \(shortest(negative)) is negative") }
                let sum = p.reduce(0, +)
                guard abs(sum - 1) <= 1e-6 else { throw Problem("the probabilities sum to \(shortest(sum)), not 1") }
            }
            return .categorical(values.map(SweepValue.canonical), probabilities: f.probabilities)
        case "int_uniform":
            let (a, b) = try bounds()
            guard let lo = a.integer, let hi = b.integer else {
                throw Problem("int_uniform draws integers: min and max must be whole numbers, not \(a.integer == nil ? a.text : b.text)")
            }
            guard !hi.subtractingReportingOverflow(lo).overflow else {
                throw Problem("the interval [\(a.text), \(b.text)] is too wide to draw from")
            }
            return .intUniform(min: lo, max: hi)
        case "uniform": let (a, b) = try bounds(); return .uniform(min: a.value, max: b.value)
        case "q_uniform": let (a, b) = try bounds(); return .qUniform(min: a.value, max: b.value, q: try q())
        case "log_uniform_values": let (a, b) = try positive(); return .logUniformValues(min: a, max: b)
        case "q_log_uniform_values": let (a, b) = try positive(); return .qLogUniformValues(min: a, max: b, q: try q())
        case "log_uniform": let (a, b) = try bounds(); return .logUniform(min: a.value, max: b.value)
        case "q_log_uniform": let (a, b) = try bounds(); return .qLogUniform(min: a.value, max: b.value, q: try q())
        case "normal": let n = try normal(); return .normal(mu: n.mu, sigma: n.sigma)
        case "q_normal": let n = try normal(); return .qNormal(mu: n.mu, sigma: n.sigma, q: try q())
        case "log_normal": let n = try normal(); return .logNormal(mu: n.mu, sigma: n.sigma)
        default: let n = try normal(); return .qLogNormal(mu: n.mu, sigma: n.sigma, q: try q())
        }
    }

    /// The largest magnitude a draw can have, or nil for text and integers: train reads a real option as a 32-bit
    /// Float, so no draw may pass Float's range (it would become inf).
    var reach: Double? {
        let z = Self.gaussianReach
        switch self {
        case .constant, .categorical, .intUniform: return nil
        case .uniform(let a, let b), .logUniformValues(let a, let b): return max(abs(a), abs(b))
        case .qUniform(let a, let b, let q), .qLogUniformValues(let a, let b, let q): return max(abs(a), abs(b)) + q
        case .logUniform(_, let b): return exp(b)
        case .qLogUniform(_, let b, let q): return exp(b) + q
        case .normal(let mu, let sigma): return abs(mu) + z * sigma
        case .qNormal(let mu, let sigma, let q): return abs(mu) + z * sigma + q
        case .logNormal(let mu, let sigma): return exp(mu + z * sigma)
        case .qLogNormal(let mu, let sigma, let q): return exp(mu + z * sigma) + q
        }
    }

    static func checkReach(_ d: ParameterDistribution) throws {
        guard let r = d.reach else { return }
        guard r <= Double(Float.greatestFiniteMagnitude) else {
            let reached = r.isFinite ? String(format: "%.3g", r) : "infinity"
            throw Problem("\(d.name) can draw values up to \(reached), past the 3.4e38 a real option (a 32-bit float) holds")
        }
    }

    // MARK: sweep.json

    /// Stored in sweep.json as W&B writes it: `{"distribution": "log_uniform_values", "min": 1e-05, "max": 0.1}`.
    /// Read back through the same checks as a spec, since a file may say anything.
    enum CodingKeys: String, CodingKey, CaseIterable { case distribution, value, values, probabilities, min, max, q, mu, sigma }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .distribution)
        switch self {
        case .constant(let v): try c.encode(v, forKey: .value)
        case .categorical(let values, let p):
            try c.encode(values, forKey: .values)
            try c.encodeIfPresent(p, forKey: .probabilities)
        case .intUniform(let a, let b):
            try c.encode(a, forKey: .min)
            try c.encode(b, forKey: .max)
        case .uniform(let a, let b), .logUniformValues(let a, let b), .logUniform(let a, let b):
            try c.encode(a, forKey: .min)
            try c.encode(b, forKey: .max)
        case .qUniform(let a, let b, let q), .qLogUniformValues(let a, let b, let q), .qLogUniform(let a, let b, let q):
            try c.encode(a, forKey: .min)
            try c.encode(b, forKey: .max)
            try c.encode(q, forKey: .q)
        case .normal(let mu, let sigma), .logNormal(let mu, let sigma):
            try c.encode(mu, forKey: .mu)
            try c.encode(sigma, forKey: .sigma)
        case .qNormal(let mu, let sigma, let q), .qLogNormal(let mu, let sigma, let q):
            try c.encode(mu, forKey: .mu)
            try c.encode(sigma, forKey: .sigma)
            try c.encode(q, forKey: .q)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var f = Fields()
        f.distribution = try c.decode(String.self, forKey: .distribution)
        f.value = try c.decodeIfPresent(String.self, forKey: .value)
        if c.contains(.values) {
            // The count first: a file may list a billion values.
            var list = try c.nestedUnkeyedContainer(forKey: .values)
            guard (list.count ?? 0) <= SweepSpec.maxValues else {
                throw DecodingError.dataCorruptedError(forKey: .values, in: c, debugDescription: "over \(SweepSpec.maxValues) values")
            }
            var values: [String] = []
            while !list.isAtEnd { values.append(try list.decode(String.self)) }
            f.values = values
        }
        f.probabilities = try c.decodeIfPresent([Double].self, forKey: .probabilities)
        for k in [CodingKeys.min, .max, .q, .mu, .sigma] where c.contains(k) {
            let x = try c.decode(Double.self, forKey: k)
            let i = try? c.decode(Int.self, forKey: k)
            f.numbers[k.rawValue] = Number(text: i.map(String.init) ?? Self.shortest(x), value: x, integer: i ?? Self.integer("", x))
        }
        f.given = CodingKeys.allCases.filter { $0 != .distribution && c.contains($0) }.map(\.rawValue)
        do { self = try Self.make(f) } catch let e as Problem {
            throw DecodingError.dataCorruptedError(forKey: .distribution, in: c, debugDescription: e.text)
        }
    }
}
