/// A coding key made from a string at run time: options declared in registries (a quantizer's, a model's) are read
/// and written at the top level of config.json under keys no enum lists.
public struct OptionKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
