/// The weight quantizers btviz trains with, in the order of the paper's Table 1.
public enum QuantMethod: String, CaseIterable, Sendable, Codable {
    case full, bwn, twn, ttq, lq, bt

    public var label: String {
        switch self {
        case .full: "full"
        case .bwn: "BWN"
        case .twn: "TWN"
        case .ttq: "TTQ"
        case .lq: "LQ"
        case .bt: "BT"
        }
    }
}
