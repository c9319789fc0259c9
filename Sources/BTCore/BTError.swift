/// An error a user can act on: its description is one line, printed as `btviz: <description>`.
public struct BTError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
