/// How a fit names its parts, for the explorer, the figures and reports: records carry it, so nothing
/// downstream switches on the method.
public struct FitDescription: Codable, Sendable, Equatable {
    /// The transitions by kind: the nonzero magnitudes, smallest first ("±Δ"; BT's "±(a1−d1)", "±(a1+d1)").
    /// A transition at 0 is "0"; kinds past the list are "±t<k>". Unicode: ASCII screens fold it.
    public var transitions: [String]
    /// The headline scales in display order (keys of the fit's scales) and their column title ("a1/a2/ao").
    /// The first is the one a table's sparkline follows.
    public var scales: [String]
    public var scaleTitle: String
    /// The threshold shown beside them ("delta", "d1"), if any.
    public var threshold: String?
    /// Names of the levels, where they have their own ("−Wn", "", "Wp"): reports name the jumps after them.
    public var levels: [String]?

    enum CodingKeys: String, CodingKey {
        case transitions, scales, threshold, levels, scaleTitle = "scale_title"
    }

    public init(transitions: [String] = [], scales: [String] = [], scaleTitle: String = "a", threshold: String? = nil,
                levels: [String]? = nil) {
        self.transitions = transitions; self.scales = scales; self.scaleTitle = scaleTitle
        self.threshold = threshold; self.levels = levels
    }

    /// For a method no longer (or not yet) in the registry: unnamed transitions, no headline scales.
    public static let unnamed = FitDescription()
}
