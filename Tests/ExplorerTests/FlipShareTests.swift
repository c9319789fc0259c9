import Explorer
import Foundation
import Quantizers
import Records
import XCTest

/// The run's flip share (Records' `FlipShare`), worked by hand, and the board reading it as defined.
final class FlipShareTests: XCTestCase {
    /// A step record of two quantized layers of different size and one full-precision layer.
    static func step(_ s: Int, epoch: Int = 0, small: Float, large: Float, method: QuantMethod = .bt) -> StepRecord {
        var r = Fixture.step(s, method: method)
        r.epoch = epoch
        var conv1 = Fixture.layer("conv1", method: method, flip: small)
        conv1.shape = [16, 1, 3, 3]      // 144 weights
        var conv2 = Fixture.layer("conv2", method: method, flip: large)
        conv2.shape = [32, 16, 3, 3]     // 4,608 weights
        var fc = Fixture.layer("fc1", method: .full, flip: 0.9)
        fc.shape = [128, 512]            // no levels: full precision, never counted
        r.layers = [conv1, conv2, fc]
        return r
    }

    /// 144 weights flipping 10% and 4,608 flipping 40%: (14.4 + 1,843.2) / 4,752 = 0.390909..., not the layers'
    /// mean 0.25; the full-precision layer's 0.9 does not count.
    func testTheShareIsOverWeightsNotLayers() {
        let r = Self.step(10, small: 0.1, large: 0.4)
        XCTAssertEqual(FlipShare.of(r) ?? -1, 1857.6 / 4752, accuracy: 1e-6)
        XCTAssertEqual(FlipShare(records: [.step(r)]).value ?? -1, 1857.6 / 4752, accuracy: 1e-6)
        // Full precision alone: nothing to flip.
        XCTAssertNil(FlipShare.of(layers: [r.layers[2]]))
    }

    /// The run's figure is its last step record's; step 0's record (before any training) never counts; with
    /// withinEpochs N, the last record of the first N epochs.
    func testTheRunsFigureIsItsLastTrainedStepRecord() {
        let records: [RunRecord] = [
            .event(EventRecord(step: 0, epoch: 0, kind: .start, message: "")),
            .step(Self.step(0, small: 0.5, large: 0.5)),
            .step(Self.step(10, epoch: 0, small: 0.1, large: 0.1)),
            .step(Self.step(20, epoch: 1, small: 0.2, large: 0.2)),
            .step(Self.step(30, epoch: 2, small: 0.1, large: 0.4)),
        ]
        XCTAssertNil(FlipShare(records: Array(records.prefix(2))).value, "step 0's record alone: no flip share yet")
        let run = FlipShare(records: records)
        XCTAssertEqual(run.value ?? -1, 1857.6 / 4752, accuracy: 1e-6)
        XCTAssertEqual(run.step, 30)
        let early = FlipShare(records: records, withinEpochs: 2)
        XCTAssertEqual(early.value ?? -1, 0.2, accuracy: 1e-6)
        XCTAssertEqual(early.step, 20)
        XCTAssertNil(FlipShare(records: Array(records.prefix(2)), withinEpochs: 1).value)
        // A run that switched to full precision at its end has no flip share, not an older record's.
        var full = Self.step(40, small: 0, large: 0, method: .full)
        full.layers = full.layers.map { var l = $0; l.levels = []; l.levelCounts = []; return l }
        XCTAssertNil(FlipShare(records: records + [.step(full)]).value)
    }

    /// The board's figure is the same fold: the digest's flip share, and its sparkline starts after step 0.
    func testTheBoardShowsTheDefinedFigure() {
        let records: [RunRecord] = [.step(Self.step(0, small: 0.5, large: 0.5)), .step(Self.step(10, small: 0.1, large: 0.4))]
        let d = RunDigest(records: records)
        XCTAssertEqual(d.flipShare ?? -1, FlipShare(records: records).value ?? 0)
        XCTAssertEqual(d.flipShares.count, 1)
        let board = SweepBoard(name: "s", varying: ["method"], rows: [SweepRunRow(name: "method=bt", values: ["bt"], state: .done, digest: d)])
        let text = SweepRenderer.renderBoard(board, view: SweepViewState(), width: 120, height: 24, options: ExplorerOptions(ascii: false, noColor: false)).text
        XCTAssertTrue(text.contains("flip share"), "\n" + text)
        XCTAssertTrue(text.contains("39%"), text)   // Fmt.pct of 0.3909
    }
}
