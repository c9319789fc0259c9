import Foundation
import Records
import SwiftProtobuf

/// One run as a session of TensorBoard's HParams plugin: its options at the start, its status at the end. The
/// dashboard lists every run (folder) that holds a session start as a row: the start's hparams, and as metrics the
/// last value of each scalar the run logged (`test/accuracy`, `test/loss`, `layers/<name>/flip_fraction`, ...).
/// btviz writes no experiment summary: there is one per log folder and a run cannot know the others' values, so
/// the plugin builds the columns from the sessions themselves (tensorboard/plugins/hparams/backend_context.py).
public struct HParamsSession {
    static let plugin = "hparams"
    static let startTag = "_hparams_/session_start_info", endTag = "_hparams_/session_end_info"

    /// The run's options, typed as the plugin sorts and filters them (numbers, strings, booleans).
    public let hparams: [String: Google_Protobuf_Value]
    /// The run folder, where the checkpoint is (the plugin shows it as the session's model).
    public let runDir: String

    /// An option's value as the plugin types it.
    public enum Value: Equatable, Sendable {
        case bool(Bool), number(Double), string(String)

        /// A JSON value (as config.json holds it): true/false a bool, a finite number a number, a string its text,
        /// anything else (a list) its JSON text; null none (the option is unset).
        public init?(json: String) {
            switch json {
            case "null": return nil
            case "true": self = .bool(true)
            case "false": self = .bool(false)
            default:
                if json.hasPrefix("\""),
                   let s = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String {
                    self = .string(s)
                } else if let d = Double(json), d.isFinite {
                    self = .number(d)
                } else {
                    self = .string(json)
                }
            }
        }
    }

    /// `options`: the run's options by key (btviz gives every option of the run's identity, so two sessions differ
    /// exactly where two runs do).
    public init(options: [String: Value], runDir: String) {
        hparams = options.mapValues { value in
            var v = Google_Protobuf_Value()
            switch value {
            case .bool(let b): v.kind = .boolValue(b)
            case .number(let d): v.kind = .numberValue(d)
            case .string(let s): v.kind = .stringValue(s)
            }
            return v
        }
        self.runDir = runDir
    }

    /// The session start, written first in the run's event file (and again by a resumed run: the same options).
    public func startEvent(time: Double) -> Tensorboard_Event {
        var start = Tensorboard_Hparams_SessionStartInfo()
        start.hparams = hparams
        start.modelUri = runDir
        start.startTimeSecs = time
        var data = Tensorboard_Hparams_HParamsPluginData()
        data.sessionStartInfo = start
        return Self.event(Self.startTag, data, step: 0, time: time)
    }

    /// The session end after `record`, if it ends the run: `done` is a success, a non-finite loss a failure. A stop
    /// ends nothing (the run resumes), so a stopped run's status stays unknown, as TensorBoard shows a run in progress.
    public static func endEvent(after record: RunRecord, time: Double) -> Tensorboard_Event? {
        guard case .event(let e) = record else { return nil }
        let status: Tensorboard_Hparams_Status
        switch e.kind {
        case .done: status = .success
        case .nan: status = .failure
        default: return nil
        }
        var end = Tensorboard_Hparams_SessionEndInfo()
        end.status = status
        end.endTimeSecs = time
        var data = Tensorboard_Hparams_HParamsPluginData()
        data.sessionEndInfo = end
        return event(endTag, data, step: e.step, time: time)
    }

    /// The plugin's summary form (tensorboard/plugins/hparams/summary.py): the data as the metadata's plugin
    /// content, version 0, over an empty float tensor.
    static func event(_ tag: String, _ data: Tensorboard_Hparams_HParamsPluginData, step: Int, time: Double) -> Tensorboard_Event {
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.metadata.pluginData.pluginName = plugin
        // Serializing a message built here cannot fail (no required fields, no unknown types).
        // Its hparams are a protobuf map: in hash order unless asked, and two identical runs must write the same bytes.
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        value.metadata.pluginData.content = (try? data.serializedData(options: options)) ?? Data()
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = 1  // DT_FLOAT
        var dim = Tensorboard_TensorShapeProto.Dim()
        dim.size = 0
        tensor.tensorShape.dim = [dim]
        value.tensor = tensor
        var ev = Tensorboard_Event()
        ev.wallTime = time
        ev.step = Int64(step)
        ev.summary.value = [value]
        return ev
    }
}
