import Foundation
import Records

/// Run records as TensorBoard summaries, at the record's step:
/// - step records: scalars `train/loss`, `train/task_loss`, `train/reg_loss`, `train/lambda`, `train/lr`,
///   `train/batch_<metric>`, `train/flip_share` (the run's flip share, `FlipShare`; from step 1); per quantized layer `layers/<name>/flip_fraction`, `flip_ratio`,
///   `mean_transition_distance` and `quant_error`; and the histogram `latent_weights/<name>` (the record's own bins);
/// - epoch records: `test/<metric>`, `test/loss`, `train/<metric>`, `train/epoch_loss`;
/// - events (start, method and λ changes, stops, ...): text under `events`.
/// Each event has its record's wall time. With a `session`, the file starts with the HParams plugin's session start
/// (the run's options) and ends, when the run does, with its end (`HParamsSession`).
/// A write error becomes the sink's `failure`, which stops the run as a metrics.jsonl error does.
public final class TensorBoardSink: RunSink {
    private let writer: EventFileWriter
    private let session: HParamsSession?
    public private(set) var failure: String?
    public var path: String { writer.path }

    /// `startTime`: the session's and the file's first wall time (now for a live run; an export gives the first
    /// record's).
    public init(folder: String, session: HParamsSession? = nil, startTime: Double = Date().timeIntervalSince1970) throws {
        writer = try EventFileWriter(folder: folder, startTime: startTime)
        self.session = session
        if let session { try writer.write(session.startEvent(time: startTime)) }
    }

    public func receive(_ record: RunRecord) {
        guard failure == nil else { return }
        do {
            let event = TensorBoardSink.event(record)
            try writer.write(event)
            if session != nil, let end = HParamsSession.endEvent(after: record, time: event.wallTime) { try writer.write(end) }
        } catch { failure = "\(error)" }
    }

    /// One event holding every summary of a record, at the record's wall time (now for a record that has none: a
    /// run written before records held their time).
    public static func event(_ record: RunRecord) -> Tensorboard_Event {
        var values: [Tensorboard_Summary.Value] = []
        let step: Int
        switch record {
        case .step(let s):
            step = s.step
            values += [scalar("train/loss", s.loss), scalar("train/task_loss", s.taskLoss), scalar("train/reg_loss", s.regLoss),
                       scalar("train/lambda", s.lambda), scalar("train/lr", s.lr), scalar("train/batch_" + s.metric, s.batchMetric)]
            if let share = FlipShare.of(s) { values.append(scalar("train/flip_share", share)) }
            for l in s.layers {
                values += [scalar("layers/\(l.name)/flip_fraction", l.flipFraction),
                           scalar("layers/\(l.name)/flip_ratio", l.flipRatio),
                           scalar("layers/\(l.name)/mean_transition_distance", l.meanTransitionDistance),
                           scalar("layers/\(l.name)/quant_error", l.quantError),
                           histogram("latent_weights/\(l.name)", l.histogram)]
            }
        case .epoch(let e):
            step = e.step
            values += [scalar("test/" + e.metric, e.testMetric), scalar("test/loss", e.testLoss),
                       scalar("train/" + e.metric, e.trainMetric), scalar("train/epoch_loss", e.trainLoss)]
        case .event(let e):
            step = e.step
            let change = e.from.map { "\($0) → \(e.to ?? "")" } ?? e.to ?? ""
            values.append(text("events", "\(e.kind.rawValue)\(change.isEmpty ? "" : " (" + change + ")"): \(e.message)"))
        }
        var ev = Tensorboard_Event()
        ev.wallTime = record.time ?? Date().timeIntervalSince1970
        ev.step = Int64(step)
        ev.summary.value = values
        return ev
    }

    static func scalar(_ tag: String, _ v: Float) -> Tensorboard_Summary.Value {
        var s = Tensorboard_Summary.Value()
        s.tag = tag
        s.simpleValue = v
        return s
    }

    /// The record's bins as TensorBoard's buckets: bucket i holds the weights up to bucket_limit[i] = edges[i + 1].
    /// sum and sum_squares (which TensorBoard's charts do not draw) are from bin centres: the record keeps no more.
    static func histogram(_ tag: String, _ h: Histogram) -> Tensorboard_Summary.Value {
        var p = Tensorboard_HistogramProto()
        p.min = Double(h.edges.first ?? 0)
        p.max = Double(h.edges.last ?? 0)
        p.num = Double(h.counts.reduce(0, +))
        p.bucketLimit = h.edges.dropFirst().map(Double.init)
        p.bucket = h.counts.map(Double.init)
        for (i, n) in h.counts.enumerated() where i + 1 < h.edges.count {
            let centre = Double(h.edges[i] + h.edges[i + 1]) / 2
            p.sum += centre * Double(n)
            p.sumSquares += centre * centre * Double(n)
        }
        var s = Tensorboard_Summary.Value()
        s.tag = tag
        s.histo = p
        return s
    }

    /// TensorBoard's text plugin: a DT_STRING tensor with plugin_name "text".
    static func text(_ tag: String, _ message: String) -> Tensorboard_Summary.Value {
        var t = Tensorboard_TensorProto()
        t.dtype = 7  // DT_STRING
        t.stringVal = [Data(message.utf8)]
        var s = Tensorboard_Summary.Value()
        s.tag = tag
        s.metadata.pluginData.pluginName = "text"
        s.tensor = t
        return s
    }
}
