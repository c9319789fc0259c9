import Sweeps
import XCTest

/// Student's t and Welch's test against closed forms: with 1 degree of freedom T is Cauchy, P(|T| >= t) =
/// 1 - (2/π) atan t; with 2, P(|T| >= t) = 1 - t / sqrt(2 + t²).
final class SignificanceTests: XCTestCase {
    func testTailsMatchTheClosedForms() {
        for t in [0.1, 0.5, 1, 2, 4.3, 12.7, 100] {
            XCTAssertEqual(Significance.twoSidedTailP(t: t, df: 1), 1 - 2 / Double.pi * atan(t), accuracy: 1e-12, "t \(t)")
            XCTAssertEqual(Significance.twoSidedTailP(t: t, df: 2), 1 - t / (2 + t * t).squareRoot(), accuracy: 1e-12, "t \(t)")
        }
        XCTAssertEqual(Significance.twoSidedTailP(t: 0, df: 3), 1, accuracy: 1e-12)
        // The 97.5th percentiles every table of t prints: 12.706 (1 df), 4.303 (2), 2.776 (4), 1.960 (large).
        XCTAssertEqual(Significance.tQuantile(twoSidedLevel: 0.95, df: 1), tan(0.475 * Double.pi), accuracy: 1e-9)
        XCTAssertEqual(Significance.tQuantile(twoSidedLevel: 0.95, df: 2), 4.302652729911275, accuracy: 1e-9)
        XCTAssertEqual(Significance.tQuantile(twoSidedLevel: 0.95, df: 4), 2.776, accuracy: 5e-4)
        XCTAssertEqual(Significance.tQuantile(twoSidedLevel: 0.95, df: 1e6), 1.960, accuracy: 5e-4)
    }

    /// {1, 3} against {5, 7}: each variance of the mean 1, t = 4 / sqrt 2, Welch's df exactly 2.
    func testWelchByHand() throws {
        let a = try XCTUnwrap(MeanSD.of([1, 3])), b = try XCTUnwrap(MeanSD.of([5, 7]))
        let t = 4 / 2.0.squareRoot()
        XCTAssertEqual(try XCTUnwrap(Significance.welchP(a, b)), 1 - t / (2 + t * t).squareRoot(), accuracy: 1e-12)
        // One run says nothing about a spread; no spread at all decides by the means.
        XCTAssertNil(Significance.welchP(try XCTUnwrap(MeanSD.of([5])), b))
        XCTAssertEqual(Significance.welchP(try XCTUnwrap(MeanSD.of([2, 2])), try XCTUnwrap(MeanSD.of([3, 3]))), 0)
        XCTAssertEqual(Significance.welchP(try XCTUnwrap(MeanSD.of([2, 2])), try XCTUnwrap(MeanSD.of([2, 2]))), 1)
    }

    func testSpreads() throws {
        let s = try XCTUnwrap(MeanSD.of([1, 3]))  // sd sqrt 2, n 2
        XCTAssertEqual(try XCTUnwrap(SpreadRule.sd.value(s)), 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(SpreadRule.se.value(s)), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(SpreadRule.ci95.value(s)), tan(0.475 * Double.pi), accuracy: 1e-9)
        XCTAssertNil(SpreadRule.ci95.value(try XCTUnwrap(MeanSD.of([4]))))
    }
}
