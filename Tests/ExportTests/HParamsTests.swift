import Export
import Foundation
import Records
import SwiftProtobuf
import Training
import XCTest

/// A record's wall time on its way from the trainer to metrics.jsonl and TensorBoard, and the HParams session's
/// hand-checked contents (TensorBoard's own reading of both is in Tests/CLITests/SweepTensorBoardTests.swift).
final class HParamsTests: XCTestCase {
    /// The session as btviz makes one (ExchangeOptions.session): every option of the run's identity.
    func session(_ config: TrainConfig, runDir: String) throws -> HParamsSession {
        HParamsSession(options: try RunIdentity(config).fields.compactMapValues(HParamsSession.Value.init(json:)), runDir: runDir)
    }

    func event(_ kind: EventKind, step: Int = 7) -> RunRecord {
        .event(EventRecord(step: step, epoch: 0, kind: kind, message: "m"))
    }

    func testARecordKeepsItsTimeAndAnImpossibleTimeIsNotARecord() throws {
        let line = RunRecordCoding.encode(event(.done).stamped(1_796_611_650.3506694))
        XCTAssertTrue(line.contains("\"time\":1796611650.3506694"), line)
        XCTAssertEqual(RunRecordCoding.decode(line[...])?.time, 1_796_611_650.3506694)
        // Older runs: no time, the record as before.
        let old = RunRecordCoding.encode(event(.done))
        XCTAssertFalse(old.contains("time"), old)
        XCTAssertNotNil(RunRecordCoding.decode(old[...]))
        XCTAssertNil(RunRecordCoding.decode(old[...])?.time)
        for bad in ["\"nan\"", "\"inf\"", "-1", "1e300"] {
            let edited = line.replacingOccurrences(of: "1796611650.3506694", with: bad)
            XCTAssertNil(RunRecordCoding.decode(edited[...]), edited)
        }
        // The sink's event carries the record's time, not the moment it is written.
        XCTAssertEqual(TensorBoardSink.event(event(.start).stamped(1_000_000_000.25)).wallTime, 1_000_000_000.25)
    }

    func testTheSessionHoldsTheRunsOptionsTyped() throws {
        var config = TrainConfig()
        config.method = .bt
        config.lambda = 3e-4
        config.seed = 2
        config.dataDir = "/data/fashion"
        let session = try session(config, runDir: "/runs/a")
        XCTAssertEqual(session.hparams["method"]?.stringValue, "bt")
        XCTAssertEqual(session.hparams["dataset"]?.stringValue, config.dataset)
        XCTAssertEqual(session.hparams["lambda"]?.numberValue ?? 0, 3e-4, accuracy: 1e-12)
        XCTAssertEqual(session.hparams["seed"]?.numberValue, 2)
        XCTAssertEqual(session.hparams["k"]?.numberValue, Double(config.k))
        XCTAssertEqual(session.hparams["crop"]?.boolValue, true)
        // Where the data is and what gets logged do not tell runs apart (RunIdentity's bookkeeping keys).
        XCTAssertNil(session.hparams["data_dir"])
        XCTAssertNil(session.hparams["log_every"])

        // As TensorBoard's hparams summary.py writes it: plugin "hparams", version 0, an empty float tensor.
        let start = session.startEvent(time: 12.5)
        let value = try XCTUnwrap(start.summary.value.first)
        XCTAssertEqual(value.tag, "_hparams_/session_start_info")
        XCTAssertEqual(value.metadata.pluginData.pluginName, "hparams")
        XCTAssertEqual(value.tensor.dtype, 1)
        XCTAssertEqual(value.tensor.tensorShape.dim.map(\.size), [0])
        let data = try Tensorboard_Hparams_HParamsPluginData(serializedBytes: value.metadata.pluginData.content)
        XCTAssertEqual(data.version, 0)
        XCTAssertEqual(data.sessionStartInfo.modelUri, "/runs/a")
        XCTAssertEqual(data.sessionStartInfo.startTimeSecs, 12.5)
        XCTAssertEqual(data.sessionStartInfo.hparams, session.hparams)
    }

    /// The session's hparams are a protobuf map, which SwiftProtobuf writes in the dictionary's hash order (seeded
    /// per process) unless asked: the sink writes them in key order, so two identical runs write the same bytes.
    func testTheSessionsBytesDoNotDependOnTheDictionarysOrder() throws {
        let session = try session(TrainConfig(), runDir: "/runs/a")
        let content = try XCTUnwrap(session.startEvent(time: 1).summary.value.first).metadata.pluginData.content
        var data = try Tensorboard_Hparams_HParamsPluginData(serializedBytes: content)
        XCTAssertGreaterThan(data.sessionStartInfo.hparams.count, 20)
        // The same map built another way (reversed insertions, another capacity): another iteration order.
        var rebuilt: [String: Google_Protobuf_Value] = [:]
        rebuilt.reserveCapacity(4096)
        for k in data.sessionStartInfo.hparams.keys.sorted().reversed() { rebuilt[k] = data.sessionStartInfo.hparams[k] }
        data.sessionStartInfo.hparams = rebuilt
        var sorted = BinaryEncodingOptions()
        sorted.useDeterministicOrdering = true
        XCTAssertEqual(content, try data.serializedData(options: sorted), "the session's hparams are not written in key order")
    }

    func testAnOptionsJSONValueTypedAsThePluginSortsIt() {
        typealias V = HParamsSession.Value
        XCTAssertNil(V(json: "null"))
        XCTAssertEqual(V(json: "true"), .bool(true))
        XCTAssertEqual(V(json: "3e-4"), .number(3e-4))
        XCTAssertEqual(V(json: "\"runs/a \\\"b\\\"\""), .string("runs/a \"b\""))
        XCTAssertEqual(V(json: "[1,2]"), .string("[1,2]"))
    }

    func testOnlyTheLastStepOrANaNEndsTheSession() throws {
        let done = try XCTUnwrap(HParamsSession.endEvent(after: event(.done, step: 60), time: 99))
        let end = try Tensorboard_Hparams_HParamsPluginData(serializedBytes: done.summary.value[0].metadata.pluginData.content)
        XCTAssertEqual(done.summary.value[0].tag, "_hparams_/session_end_info")
        XCTAssertEqual(done.step, 60)
        XCTAssertEqual(end.sessionEndInfo.status, .success)
        XCTAssertEqual(end.sessionEndInfo.endTimeSecs, 99)
        let nan = try XCTUnwrap(HParamsSession.endEvent(after: event(.nan), time: 1))
        XCTAssertEqual(try Tensorboard_Hparams_HParamsPluginData(serializedBytes: nan.summary.value[0].metadata.pluginData.content)
            .sessionEndInfo.status, .failure)
        // A stop resumes later; a start, a method change: nothing ends.
        for kind in [EventKind.stop, .start, .resume, .method, .checkpoint] {
            XCTAssertNil(HParamsSession.endEvent(after: event(kind), time: 1), kind.rawValue)
        }
    }
}
