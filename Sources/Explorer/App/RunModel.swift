import Quantizers
import Records

/// One step's scalars, kept for the whole run (the curves); full step records are capped.
public struct SeriesPoint: Sendable, Equatable {
    public var step: Int
    public var taskLoss: Float
    /// λ·R, the regularizer's contribution to the loss (subtracted from it).
    public var lambdaR: Float
    /// The objective's metric on the training batch (accuracy, PSNR).
    public var batchMetric: Float
    public var lambda: Float
}

/// Everything the explorer knows about a run, built from its records alone. Live and replay views
/// both read this; the trainer never touches it (the UI drains the board into it on its own thread).
public struct RunModel: Sendable {
    public let header: RunHeader
    /// Full step records kept (histograms are heavy); older ones are dropped. Replay uses .max.
    public let stepCap: Int
    public private(set) var steps: [StepRecord] = []
    public private(set) var points: [SeriesPoint] = []
    /// What the objective is judged by (a `Metric`'s name; accuracy until a record says otherwise).
    public private(set) var metricName = Metric.accuracy.name
    public private(set) var epochs: [EpochRecord] = []
    public private(set) var events: [EventRecord] = []
    /// What the trainer actually applied (live), or what the records imply (replay).
    public var status: RunState
    public private(set) var recordCount = 0
    /// The run's last "done" or "stop" event, if it has ended (cleared when it resumes).
    public private(set) var ended: EventRecord?
    /// Per layer, the widest |latent weight| any step record has shown: the histogram's fixed x-axis, so it does
    /// not jump from record to record (scrubbing a replay, or watching live).
    public private(set) var weightRange: [Float] = []
    /// Checkpoint events seen (a save the user asked for logs one), and the last.
    public private(set) var checkpointCount = 0
    public private(set) var lastCheckpoint: EventRecord?

    public init(header: RunHeader, stepCap: Int = 2000, method: String = "", lambda: Float = 0) {
        self.header = header
        self.stepCap = max(1, stepCap)
        status = RunState(method: method, lambda: lambda)
    }

    public init(header: RunHeader, records: [RunRecord], stepCap: Int = .max) {
        self.init(header: header, stepCap: stepCap)
        ingest(records)
    }

    public var latest: StepRecord? { steps.last }
    public var layerNames: [String] { steps.last?.layers.map(\.name) ?? [] }

    public mutating func ingest(_ records: [RunRecord]) {
        for r in records { ingest(r) }
    }

    public mutating func ingest(_ record: RunRecord) {
        recordCount += 1
        switch record {
        case .step(let s):
            // A resumed run restarts from its checkpoint: its records replace the ones after it.
            if let last = points.last, s.step <= last.step {
                points.removeAll { $0.step >= s.step }
                steps.removeAll { $0.step >= s.step }
            }
            points.append(SeriesPoint(step: s.step, taskLoss: s.taskLoss, lambdaR: s.lambda * s.regLoss,
                                      batchMetric: s.batchMetric, lambda: s.lambda))
            metricName = s.metric
            for (i, l) in s.layers.enumerated() {
                let r = max(abs(l.histogram.edges.first ?? 0), abs(l.histogram.edges.last ?? 0))
                guard r.isFinite else { continue }
                if i >= weightRange.count { weightRange.append(r) } else { weightRange[i] = max(weightRange[i], r) }
            }
            steps.append(s)
            // Trim in chunks so appends stay amortized O(1).
            if steps.count - stepCap > max(16, stepCap / 4) { steps.removeFirst(steps.count - stepCap) }
        case .epoch(let e):
            if let last = epochs.last, e.epoch <= last.epoch { epochs.removeAll { $0.epoch >= e.epoch } }
            epochs.append(e)
        case .event(let e):
            events.append(e)
            switch e.kind {
            case .start, .resume: ended = nil
            case .done, .stop: ended = e
            case .checkpoint: checkpointCount += 1; lastCheckpoint = e
            default: break
            }
        }
        status.apply(record)
    }

    /// Index of the step record at or just before `step`.
    public func stepIndex(atOrBefore step: Int) -> Int? {
        guard !steps.isEmpty else { return nil }
        var lo = 0, hi = steps.count - 1
        if steps[0].step > step { return 0 }
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if steps[mid].step <= step { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Recent values of one layer metric, ending at step index `end` (inclusive). With `markingSwitches`, a NaN
    /// stands where the method changed (a sparkline draws it as a break); with `droppingSwitchSteps` too, the
    /// first step under the new method is left out: a metric against the previous step (`moved`) measures the
    /// change of level set there, not of the weights, and would set the sparkline's scale.
    public func history(layer: Int, endingAt end: Int, count: Int, markingSwitches: Bool = false,
                        droppingSwitchSteps: Bool = false, _ value: (LayerRecord) -> Float) -> [Float] {
        steps[...].layerHistory(layer: layer, endingAt: end, count: count, markingSwitches: markingSwitches,
                                droppingSwitchSteps: droppingSwitchSteps, value)
    }

    /// Whether step record `i` is the first under a new method.
    public func isSwitchStep(_ i: Int) -> Bool { i > 0 && i < steps.count && steps[i].method != steps[i - 1].method }

    /// Method and λ changes, for the curves' markers.
    public var changeEvents: [EventRecord] { events.filter { $0.kind == .method || $0.kind == .lambda } }
}

extension ArraySlice where Element == StepRecord {
    /// `RunModel.history` over these steps (indices are the run's): a step's switch is seen against the step
    /// before it, so a slice should start one step before the window it is asked for.
    func layerHistory(layer: Int, endingAt end: Int, count: Int, markingSwitches: Bool = false,
                      droppingSwitchSteps: Bool = false, _ value: (LayerRecord) -> Float) -> [Float] {
        guard !isEmpty, count > 0 else { return [] }
        let e = Swift.min(Swift.max(startIndex, end), endIndex - 1)
        let s = Swift.max(startIndex, e - count + 1)
        var out: [Float] = []
        out.reserveCapacity(e - s + 2)
        for i in s...e where layer < self[i].layers.count {
            let switched = i > startIndex && self[i].method != self[i - 1].method
            if markingSwitches && i > s && switched { out.append(.nan) }
            if droppingSwitchSteps && switched { continue }
            out.append(value(self[i].layers[layer]))
        }
        return markingSwitches ? Array(out.suffix(count)) : out
    }
}

extension QuantMethod {
    /// The next method for the `m` key.
    public var next: QuantMethod {
        let all = QuantMethod.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
