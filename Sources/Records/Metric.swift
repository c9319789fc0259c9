import Foundation

/// What a figure of a run is judged by: its name in the records, how it reads (label, unit, decimals), which way is
/// better and where a decoded value must lie. Records keep the name (`"accuracy"`, `"psnr"`); `Metric(named:)` turns
/// it into this type, and every printer formats through it, so a figure reads the same in every command.
public struct Metric: Sendable, Hashable {
    public enum Unit: Sendable, Hashable {
        /// A fraction in 0...1, printed ×100 with "%".
        case percent
        /// Decibels, printed as they are with " dB".
        case decibels
        /// A plain number (a loss, or a metric this build does not know).
        case none
    }

    public enum Direction: Sendable, Hashable { case higherIsBetter, lowerIsBetter }

    /// As records and JSON name it: "accuracy", "psnr", "loss".
    public let name: String
    /// The short label where space is tight: "acc", "PSNR".
    public let label: String
    /// Its name in a sentence or a title: "accuracy", "PSNR".
    public let title: String
    public let unit: Unit
    public let direction: Direction
    /// Decimals of a printed value (of the percentage for `.percent`).
    public let decimals: Int
    /// The values a decoded record may hold: anything outside is damage, not a measurement.
    public let plausible: ClosedRange<Float>

    public init(name: String, label: String, title: String, unit: Unit, direction: Direction, decimals: Int,
                plausible: ClosedRange<Float>) {
        self.name = name; self.label = label; self.title = title; self.unit = unit; self.direction = direction
        self.decimals = decimals; self.plausible = plausible
    }

    /// A classifier's share of correct predictions.
    public static let accuracy = Metric(name: "accuracy", label: "acc", title: "accuracy", unit: .percent,
                                        direction: .higherIsBetter, decimals: 2, plausible: 0...1)
    /// A restoration's peak signal-to-noise ratio (capped at 100 dB for an exact match; below 0 for a hopeless one).
    public static let psnr = Metric(name: "psnr", label: "PSNR", title: "PSNR", unit: .decibels,
                                    direction: .higherIsBetter, decimals: 2, plausible: -1e6...1e6)
    /// A test loss (about 0.1-2 for cross-entropy, 1e-3 for a restoration's MSE): 4 decimals, lower is better.
    public static let loss = Metric(name: "loss", label: "loss", title: "loss", unit: .none,
                                    direction: .lowerIsBetter, decimals: 4, plausible: -1e6...1e6)

    /// The metrics a model may report, as its records name them.
    public static let reported: [Metric] = [.accuracy, .psnr]

    /// The reported metric of that name, or nil for a name this build does not know.
    public init?(named name: String) {
        guard let m = Metric.reported.first(where: { $0.name == name }) else { return nil }
        self = m
    }

    /// For printing what a record names: the known metric, or for a name this build does not know (a newer
    /// btviz's, a damaged file's) a neutral plain number under that name, so nothing is scaled or mislabelled.
    public static func printing(_ name: String) -> Metric {
        Metric(named: name) ?? Metric(name: name, label: name, title: name, unit: .none, direction: .higherIsBetter,
                                      decimals: 4, plausible: -1e6...1e6)
    }

    /// The unit as printed after a value or in a header: "%", "dB", or "".
    public var symbol: String {
        switch unit {
        case .percent: return "%"
        case .decibels: return "dB"
        case .none: return ""
        }
    }

    /// A stored value on the scale it is printed in: a fraction as a percentage.
    public func scaled(_ v: Double) -> Double { unit == .percent ? 100 * v : v }

    /// The value as a number on its printed scale, without the unit: "85.20", "33.65" (for a column whose header
    /// names the unit).
    public func number(_ v: Double, decimals: Int? = nil) -> String {
        String(format: "%.\(decimals ?? self.decimals)f", scaled(v))
    }

    /// The value with its unit: "85.20%", "33.65 dB", "0.4321".
    public func format(_ v: Double, decimals: Int? = nil) -> String {
        let n = number(v, decimals: decimals)
        switch unit {
        case .percent: return n + "%"
        case .decibels: return n + " dB"
        case .none: return n
        }
    }

    public func format(_ v: Float, decimals: Int? = nil) -> String { format(Double(v), decimals: decimals) }

    /// A mean with its unit and the spread on the same scale: "85.20% ± 0.31", "33.65 dB ± 0.12".
    public func format(mean: Double, sd: Double?, decimals: Int? = nil) -> String {
        format(mean, decimals: decimals) + (sd.map { " ± " + number($0, decimals: decimals) } ?? "")
    }

    /// "accuracy (%)", "PSNR (dB)", "loss": a column or axis title.
    public var titleWithUnit: String { symbol.isEmpty ? title : "\(title) (\(symbol))" }

    /// Whether a decoded value can be a measurement of this metric.
    public func isPlausible(_ v: Float) -> Bool { v.isFinite && plausible.contains(v) }
    public func isPlausible(_ v: Double) -> Bool {
        v.isFinite && (Double(plausible.lowerBound)...Double(plausible.upperBound)).contains(v)
    }
}
