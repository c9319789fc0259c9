/// The weight quantizers btviz trains with.
public enum QuantMethod: String, CaseIterable, Sendable, Codable {
    case full, bwn, twn, bt

    public var label: String {
        switch self {
        case .full: "full"
        case .bwn: "BWN"
        case .twn: "TWN"
        case .bt: "BT"
        }
    }
}
