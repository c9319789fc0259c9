import BTCore
import Quantizers
import Records
import Training
import XCTest

/// The run folder, the run's identity, typed option problems and the one status fold.
final class RunFolderTests: XCTestCase {
    /// Logging and where the data is never change a run's identity; every other option does, named by its key.
    func testIdentityIgnoresOnlyBookkeeping() throws {
        var a = TrainConfig(), b = TrainConfig()
        b.dataDir = "/elsewhere"; b.logEvery = 7; b.histogramBins = 40
        XCTAssertEqual(try RunIdentity(a), try RunIdentity(b))
        b.k = 32
        let d = try XCTUnwrap(try RunIdentity(b).firstDifference(from: RunIdentity(a)))
        XCTAssertEqual(d.key, "k"); XCTAssertEqual(d.mine, "32"); XCTAssertEqual(d.theirs, "16")
        a.method = .twn
        let m = try XCTUnwrap(try RunIdentity(a).firstDifference(from: RunIdentity(TrainConfig())))
        XCTAssertEqual(m.key, "method"); XCTAssertEqual(m.mine, "twn", "a string shown as typed, without JSON quotes")
        // Compare's groups: the seed is what a group averages over.
        var s = TrainConfig(); s.seed = 5
        XCTAssertNotEqual(try RunIdentity(s), try RunIdentity(TrainConfig()))
        XCTAssertEqual(try RunIdentity(s).removing("seed"), try RunIdentity(TrainConfig()).removing("seed"))
    }

    /// Validation names options by their config.json keys; a front end chooses how to spell them.
    func testProblemsNameKeysNotFlags() {
        var c = TrainConfig(); c.k = 0
        XCTAssertThrowsError(try c.validate()) {
            let p = $0 as? ConfigProblem
            XCTAssertEqual(p?.key, "k")
            XCTAssertEqual(p?.description, "k must be in 1...512 (got 0)")
            XCTAssertEqual(p?.message { "--" + $0 }, "--k must be in 1...512 (got 0)")
        }
        var r = TrainConfig(); r.testRatio = 0.2; r.testDir = "/t"; r.dataset = "folder"
        XCTAssertThrowsError(try r.validate()) {
            XCTAssertEqual(($0 as? ConfigProblem)?.message { "<\($0)>" }, "<test_dir> and <test_ratio> are two ways to choose the test split: give one")
        }
        var q = TrainConfig(); q.quantOptions["lq_bits"] = .integer(9)
        XCTAssertThrowsError(try q.validate()) { XCTAssertEqual(($0 as? QuantProblem)?.key, "lq_bits") }
    }

    /// One fold of the records gives a run's status: method and λ changes, pause, and how it ended.
    func testRunStateFold() {
        func ev(_ step: Int, _ kind: EventKind, to: String? = nil, _ message: String = "") -> RunRecord {
            .event(EventRecord(step: step, epoch: 0, kind: kind, to: to, message: message))
        }
        var s = RunState(records: [ev(0, .start, to: "bt"), ev(3, .method, to: "twn"), ev(4, .lambda, to: EventRecord.lambdaText(0.002)),
                                   ev(5, .pause)])
        XCTAssertEqual(s.method, "twn"); XCTAssertEqual(s.lambda, 0.002); XCTAssertTrue(s.paused); XCTAssertNil(s.end)
        s.apply(ev(9, .stop))
        XCTAssertEqual(s.end, .stopped); XCTAssertEqual(s.step, 9)
        s.apply(ev(9, .resume))
        XCTAssertNil(s.end, "a resumed run goes on"); XCTAssertFalse(s.paused)
        s.apply(ev(12, .nan, "loss is nan at step 12"))
        XCTAssertEqual(s.failure, "loss is nan at step 12")
        // A kind a later version writes decodes, and changes nothing here.
        let line = #"{"type":"event","step":13,"epoch":0,"kind":"future-kind","message":""}"#
        let r = RunRecordCoding.decode(line[...])
        XCTAssertNotNil(r)
        s.apply(r!)
        XCTAssertEqual(s.failure, "loss is nan at step 12")
    }

    /// A run trained into a folder opens again as the same model: eval through the folder gives the trainer's figure.
    func testOpenedRunEvaluatesAsTrained() throws {
        let data = try fashionSubset()
        var c = TrainConfig()
        c.dataset = "fashion"; c.method = .bt; c.k = 4; c.epochs = 1; c.trainLimit = 512; c.testLimit = 256
        c.dataDir = sharedData.appendingPathComponent("fashion-subset").path
        let dir = temporaryDirectory()
        let folder = RunFolder(dir)
        let sink = RecordingSink()
        let trainer = try Trainer(config: c, dataset: data, runDir: dir, control: TrainerControl(), sinks: [sink])
        try folder.writeConfig(c, header: trainer.header)
        _ = try trainer.run()
        let trained = trainer.evaluate(method: .bt)
        let run = try folder.openForEvaluation()
        XCTAssertEqual(run.trainedMethod, .bt)
        XCTAssertEqual(try run.evaluate(method: .bt).metric, trained.metric)
        XCTAssertEqual(try run.evaluate(method: .bt).loss, trained.loss, accuracy: 1e-6)
        // The model alone, without data: the same weights.
        let alone = try folder.open()
        XCTAssertEqual(alone.definition.id, "vgg6")
        XCTAssertEqual(alone.model.title, "VGG-6(\(run.config.k))")
        XCTAssertEqual(alone.model.params.map(\.name), run.model.params.map(\.name))
        for (p, q) in zip(alone.model.params, run.model.params) { XCTAssertEqual(Array(p.value.buffer), Array(q.value.buffer), p.name) }
    }
}
