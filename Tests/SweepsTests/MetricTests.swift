import Foundation
import Records
import Sweeps
import XCTest

/// The one `Metric` every printer formats through: each figure by hand, and a name this build does not know.
final class MetricTests: XCTestCase {
    func testEachMetricReadsOneWay() {
        XCTAssertEqual(Metric.accuracy.format(Float(0.852)), "85.20%")
        XCTAssertEqual(Metric.accuracy.format(0.852, decimals: 1), "85.2%")
        XCTAssertEqual(Metric.accuracy.number(0.852), "85.20")
        XCTAssertEqual(Metric.psnr.format(33.654), "33.65 dB")
        XCTAssertEqual(Metric.psnr.number(33.654), "33.65")
        XCTAssertEqual(Metric.loss.format(0.43216), "0.4322")
        // A mean with its unit, the spread on the same scale.
        XCTAssertEqual(Metric.accuracy.format(mean: 0.852, sd: 0.0031), "85.20% ± 0.31")
        XCTAssertEqual(Metric.psnr.format(mean: 33.65, sd: 0.12), "33.65 dB ± 0.12")
        XCTAssertEqual(Metric.psnr.format(mean: 33.65, sd: nil), "33.65 dB")
        XCTAssertEqual([Metric.accuracy, .psnr, .loss].map(\.titleWithUnit), ["accuracy (%)", "PSNR (dB)", "loss"])
        XCTAssertEqual([Metric.accuracy, .psnr].map(\.label), ["acc", "PSNR"])
        XCTAssertEqual(Metric.loss.direction, .lowerIsBetter)
        XCTAssertEqual(Metric.psnr.direction, .higherIsBetter)
    }

    func testNamesFromRecordsAndUnknownOnes() {
        XCTAssertEqual(Metric(named: "accuracy"), .accuracy)
        XCTAssertEqual(Metric(named: "psnr"), .psnr)
        XCTAssertNil(Metric(named: "top5"))
        XCTAssertNil(Metric(named: "loss"), "a loss is no metric a model reports")
        // Printed as a plain number under its own name: nothing scaled, no unit guessed.
        let unknown = Metric.printing("top5")
        XCTAssertEqual(unknown.format(0.5), "0.5000")
        XCTAssertEqual(unknown.title, "top5")
        XCTAssertEqual(unknown.unit, .none)
    }

    /// A record's figure must be a plausible value of its metric: an accuracy above 1 is damage and the line is
    /// skipped; a metric this build does not know is kept (a newer btviz's) if finite and bounded.
    func testDecodedRecordsAreCheckedByTheirMetric() {
        func epoch(_ metric: String, _ test: String) -> RunRecord? {
            RunRecordCoding.decode(#"{"type":"epoch","epoch":0,"step":10,"method":"bt","metric":"\#(metric)","train_metric":0.5,"train_loss":1,"test_metric":\#(test),"test_loss":0.7,"seconds":1}"#[...])
        }
        XCTAssertNotNil(epoch("accuracy", "0.85"))
        XCTAssertNil(epoch("accuracy", "1.5"))
        XCTAssertNotNil(epoch("psnr", "33.6"))
        XCTAssertNil(epoch("psnr", "1e7"))
        XCTAssertNotNil(epoch("top5", "7"))
        XCTAssertTrue(Metric.accuracy.isPlausible(1.0 as Double))
        XCTAssertFalse(Metric.accuracy.isPlausible(Float.nan))
    }

    /// The run's progress names its metric as the type, and a sweep's `metric:` takes every reported metric's
    /// names (as records and TensorBoard spell them) and refuses a goal against its direction.
    func testSweepNamesComeFromTheMetrics() throws {
        var p = RunProgress()
        XCTAssertNil(p.reportedMetric)
        p.metric = "psnr"
        XCTAssertEqual(p.reportedMetric, .psnr)
        p.metric = "top5"
        XCTAssertNil(p.reportedMetric)
        for name in ["psnr", "test_psnr", "test/psnr", "accuracy", "test/accuracy", "test_metric"] {
            XCTAssertEqual(try SweepMetric.parse(name: name, goal: nil), SweepMetric(name: name, goal: .maximize, figure: .testMetric))
        }
        XCTAssertEqual(try SweepMetric.parse(name: "test/loss", goal: nil).goal, .minimize)
        XCTAssertThrowsError(try SweepMetric.parse(name: "psnr", goal: "minimize"))
        XCTAssertThrowsError(try SweepMetric.parse(name: "top5", goal: nil))
    }
}
