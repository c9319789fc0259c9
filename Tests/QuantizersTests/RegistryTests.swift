import Foundation
import Quantizers
import XCTest

/// The registry is the one place a method is known: ids, order, options, coding.
final class RegistryTests: XCTestCase {
    func testOrderAndIdsRoundTrip() {
        XCTAssertEqual(Array(QuantizerRegistry.ids.prefix(6)), ["full", "bwn", "twn", "ttq", "lq", "bt"])
        XCTAssertEqual(QuantMethod.allCases.map(\.rawValue), QuantizerRegistry.ids)
        for m in QuantMethod.allCases { XCTAssertEqual(QuantMethod(rawValue: m.rawValue), m) }
        XCTAssertNil(QuantMethod(rawValue: "nope"))
        XCTAssertFalse(QuantMethod.full.definition.hasTransitions)
        XCTAssertEqual(Set(QuantizerRegistry.ids).count, QuantizerRegistry.ids.count)
    }

    /// A spec codes as before: {"method": "bt", "delta_ratio": ...}; a spec from before a key existed reads the default.
    func testSpecCodingKeepsTheOldShape() throws {
        var s = QuantSpec(method: .ttq, ttqT: 0.1, lqBits: 3)
        s.btScale = .leastSquares
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(s)) as! [String: Any]
        XCTAssertEqual(json["method"] as? String, "ttq")
        XCTAssertEqual(json["ttq_t"] as? Double ?? 0, 0.1, accuracy: 1e-6)
        XCTAssertEqual(json["lq_bits"] as? Int, 3)
        XCTAssertEqual(json["bt_scale"] as? String, "lsq")
        XCTAssertEqual(try JSONDecoder().decode(QuantSpec.self, from: JSONEncoder().encode(s)), s)
        let old = try JSONDecoder().decode(QuantSpec.self, from: Data(#"{"method":"bt","delta_ratio":0.5}"#.utf8))
        XCTAssertEqual(old.deltaRatio, 0.5)
        XCTAssertEqual(old.ttqT, 0.05)
        XCTAssertEqual(old.btScale, .paper)
        XCTAssertThrowsError(try JSONDecoder().decode(QuantSpec.self, from: Data(#"{"method":"xyz"}"#.utf8)))
    }

    /// Problems name the option's key; the command line turns it into its flag.
    func testProblemsNameTheKey() {
        XCTAssertNil(QuantSpec(method: .bt).problem)
        let p = QuantSpec(method: .ttq, ttqT: 1.5).problem
        XCTAssertEqual(p?.key, "ttq_t")
        XCTAssertEqual(p?.description, "ttq_t must be in (0, 1) (got 1.5)")
        XCTAssertEqual(QuantSpec(method: .lq, lqBits: 5).problem?.message(naming: "--lq-bits"), "--lq-bits must be in 1...4 (got 5)")
    }

    /// Every fit describes itself: transition names and headline scales that exist in its scales.
    func testFitsDescribeThemselves() {
        let w: [Float] = (0..<64).map { Float(sin(Double($0) * 1.7)) * 0.1 }
        for m in QuantMethod.allCases {
            let f = w.withUnsafeBufferPointer { QuantSpec(method: m).fitStandalone($0, shape: [4, 16]) }
            let d = f.fitDescription
            for k in d.scales { XCTAssertNotNil(f.scales[k], "\(m): \(k)") }
            if let t = d.threshold { XCTAssertNotNil(f.thresholds[t], "\(m): \(t)") }
            if let l = d.levels { XCTAssertEqual(l.count, f.levelCount, "\(m)") }
            XCTAssertEqual(f.isIdentity, !m.definition.hasTransitions, "\(m)")
        }
    }
}
