/// Where run records go. The trainer hands every record to each sink, in order; sinks never talk back. Here, beside
/// the records, so a sink (metrics.jsonl, the board, TensorBoard) needs nothing of the training stack.
public protocol RunSink: AnyObject {
    func receive(_ record: RunRecord)
    /// A write error that should stop the run (nil when fine).
    var failure: String? { get }
}

extension RunSink {
    public var failure: String? { nil }
}
