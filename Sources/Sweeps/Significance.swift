import Foundation

/// Student's t distribution and Welch's unequal-variance t-test, for tables that say a cell is better only when
/// its runs show it. The t distribution's tail is the regularized incomplete beta function, evaluated by its
/// continued fraction (Numerical Recipes, 3rd ed., §6.4), which converges fast for the degrees of freedom of a
/// few seeds.
public enum Significance {
    /// Two-sided p-value of Welch's t-test of two samples' means given as mean, sample sd and n; nil when either
    /// has fewer than 2 values. Equal means with no spread give 1; different means with no spread give 0.
    public static func welchP(_ a: MeanSD, _ b: MeanSD) -> Double? {
        guard a.n >= 2, b.n >= 2, let sa = a.sd, let sb = b.sd else { return nil }
        let va = sa * sa / Double(a.n), vb = sb * sb / Double(b.n)
        let diff = abs(a.mean - b.mean)
        guard va + vb > 0 else { return diff == 0 ? 1 : 0 }
        let t = diff / (va + vb).squareRoot()
        // Welch-Satterthwaite degrees of freedom.
        let df = (va + vb) * (va + vb) / (va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1))
        return twoSidedTailP(t: t, df: df)
    }

    /// P(|T| >= t) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
    public static func twoSidedTailP(t: Double, df: Double) -> Double {
        guard t.isFinite else { return 0 }
        return regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// The t such that P(|T| >= t) = 1 - level (level 0.95: the 97.5th percentile), by bisection on the tail.
    public static func tQuantile(twoSidedLevel level: Double, df: Double) -> Double {
        var lo = 0.0, hi = 1.0
        while twoSidedTailP(t: hi, df: df) > 1 - level { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if twoSidedTailP(t: mid, df: df) > 1 - level { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1.
    static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let lnPowers: Double = a * log(x) + b * log(1 - x)
        let lnFront = lnPowers - lnBeta
        // The continued fraction converges for x < (a+1)/(a+b+2); the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) covers the rest.
        if x < (a + 1) / (a + b + 2) { return exp(lnFront) * continuedFraction(x: x, a: a, b: b) / a }
        return 1 - exp(lnFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    /// Lentz's method for the incomplete beta function's continued fraction.
    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}

/// Which cells a table prints in bold.
public enum BoldRule: String, CaseIterable, Sendable {
    /// None.
    case none
    /// The highest mean among the quantized cells of a group (ties all bold), whatever the spread.
    case best
    /// The highest mean, only when Welch's t-test finds it better than every other quantized cell of its group at
    /// p < 0.05 (two-sided), every cell with n >= 2; never with a single candidate.
    case significant

    public static let alpha = 0.05
}

/// What follows a cell's mean: the sample standard deviation, the standard error, or the 95% confidence interval's
/// half-width from Student's t with n - 1 degrees of freedom.
public enum SpreadRule: String, CaseIterable, Sendable {
    case sd, se, ci95

    public func value(_ s: MeanSD) -> Double? {
        guard let sd = s.sd, s.n >= 2 else { return nil }
        switch self {
        case .sd: return sd
        case .se: return sd / Double(s.n).squareRoot()
        case .ci95: return Significance.tQuantile(twoSidedLevel: 0.95, df: Double(s.n - 1)) * sd / Double(s.n).squareRoot()
        }
    }

    /// How the caption names it.
    public var caption: String {
        switch self {
        case .sd: return "sample standard deviation"
        case .se: return "standard error of the mean"
        case .ci95: return "half-width of the 95% confidence interval (Student's t, n − 1 degrees of freedom)"
        }
    }

    public var symbol: String {
        switch self {
        case .sd: return "sd"
        case .se: return "se"
        case .ci95: return "95% CI"
        }
    }
}
