import BTCore
import Foundation

/// What a run is, for telling runs apart: every option of its TrainConfig as canonical JSON (so a new option
/// counts without a change here), less the bookkeeping options that do not change what is trained. `train --resume`
/// refuses given options that change a run's identity; `compare` groups runs whose identities, less the seed, and
/// data are equal. One list of what does not count, for both.
public struct RunIdentity: Equatable, Sendable {
    /// Options that never change what is trained: where the data is and what gets logged.
    public static let bookkeepingKeys: Set<String> = ["data_dir", "log_every", "histogram_bins"]

    /// Option key (config.json's spelling) to its value as canonical JSON.
    public private(set) var fields: [String: String]

    public init(_ config: TrainConfig) throws {
        let object = try JSONSerialization.jsonObject(with: JSONOutput.data(config)) as? [String: Any] ?? [:]
        fields = [:]
        for (key, value) in object where !Self.bookkeepingKeys.contains(key) { fields[key] = try Self.canonical(value) }
    }

    /// The identity without `key` (compare leaves out the seed, which a group averages over).
    public func removing(_ key: String) -> RunIdentity {
        var copy = self
        copy.fields[key] = nil
        return copy
    }

    /// The identity with one more fact that is not an option (compare adds what the data is).
    public func adding(_ key: String, _ value: String) -> RunIdentity {
        var copy = self
        copy.fields[key] = (try? Self.canonical(value)) ?? value
        return copy
    }

    /// One string that is equal exactly when the identities are.
    public var key: String { fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: "\n") }

    /// The first option, by key, whose value differs from `other`'s: this identity's value and the other's, shown
    /// as a user types them (a string without its quotes); nil where a key is missing.
    public func firstDifference(from other: RunIdentity) -> (key: String, mine: String?, theirs: String?)? {
        let keys = Set(fields.keys).union(other.fields.keys).sorted()
        return keys.first { fields[$0] != other.fields[$0] }.map { ($0, display($0), other.display($0)) }
    }

    /// `key`'s value as a user types it: a JSON string without its quotes, anything else as JSON.
    public func display(_ key: String) -> String? {
        guard let v = fields[key] else { return nil }
        if v.hasPrefix("\""), let s = try? JSONSerialization.jsonObject(with: Data(v.utf8), options: .fragmentsAllowed) as? String { return s }
        return v
    }

    /// The fields as JSON values again (for a JSON report).
    public var jsonObject: [String: Any] {
        fields.mapValues { (try? JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed)) ?? $0 }
    }

    static func canonical(_ value: Any) throws -> String {
        try JSONOutput.string(object: value)
    }
}
