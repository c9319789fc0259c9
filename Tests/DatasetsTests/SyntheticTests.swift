import BTCore
import Datasets
import Foundation
import XCTest

final class SyntheticTests: XCTestCase {
    func testDeterministicBalancedAndShaped() {
        let a = makeSynthetic(seed: 7, trainCount: 600, testCount: 200)
        let b = makeSynthetic(seed: 7, trainCount: 600, testCount: 200)
        let c = makeSynthetic(seed: 8, trainCount: 600, testCount: 200)
        XCTAssertEqual(a.train.pixels, b.train.pixels)
        XCTAssertEqual(a.test.pixels, b.test.pixels)
        XCTAssertNotEqual(a.train.pixels, c.train.pixels)
        XCTAssertEqual(a.classes, 10)
        XCTAssertEqual(a.classNames.count, 10)
        XCTAssertEqual(Set(a.classNames).count, 10)
        XCTAssertEqual(a.inputShape, [1, 28, 28])
        XCTAssertEqual(a.train.count, 600); XCTAssertEqual(a.test.count, 200)
        XCTAssertEqual(a.train.pixels.count, 600 * 784)
        XCTAssertTrue(a.train.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        for s in [a.train, a.test] {
            let hist = s.labels.reduce(into: [Int](repeating: 0, count: 10)) { $0[Int($1)] += 1 }
            XCTAssertEqual(Set(hist).count, 1, "classes not balanced: \(hist)")
        }
        // Train and test come from different streams: no test image equals the train image at its index.
        for i in 0..<200 {
            XCTAssertNotEqual(a.train.pixels[i * 784..<(i + 1) * 784], a.test.pixels[i * 784..<(i + 1) * 784])
        }
        // A prefix of a larger set is the smaller set (image i depends only on seed and i).
        let big = makeSynthetic(seed: 7, trainCount: 1000, testCount: 10)
        XCTAssertEqual(Array(big.train.pixels[0..<(600 * 784)]), a.train.pixels)
    }

    func testClassesDifferAndImagesVary() {
        let d = makeSynthetic(seed: 3, trainCount: 2000, testCount: 10)
        var means = [[Float]](repeating: [Float](repeating: 0, count: 784), count: 10)
        var perClassStd = [Float](repeating: 0, count: 10)
        for i in 0..<d.train.count {
            let k = Int(d.train.labels[i])
            let img = d.train.pixels[i * 784..<(i + 1) * 784]
            for (j, v) in img.enumerated() { means[k][j] += v / 200 }
            let m = img.reduce(0, +) / 784
            perClassStd[k] += (img.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 784).squareRoot() / 200
        }
        // Mean images differ between every pair of classes.
        for p in 0..<10 {
            for q in (p + 1)..<10 {
                let dist = zip(means[p], means[q]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                XCTAssertGreaterThan(dist, 0.05, "classes \(d.classNames[p]) and \(d.classNames[q]) look alike on average")
            }
        }
        // Every class has structure (not flat), and no two images are identical.
        for k in 0..<10 { XCTAssertGreaterThan(perClassStd[k], 0.05, d.classNames[k]) }
        var seen = Set<[Float]>()
        for i in 0..<200 { XCTAssertTrue(seen.insert(Array(d.train.pixels[i * 784..<(i + 1) * 784])).inserted) }
    }

    func testNearestMeanClassifierIsAboveChanceButNotPerfect() {
        // A crude sanity check of difficulty: class means alone beat chance (10%) but are far from
        // perfect, because pose, polarity and texture vary. The CNN target (85-95%) is measured
        // by the training tests, not here.
        let d = makeSynthetic(seed: 11, trainCount: 3000, testCount: 1000)
        var means = [[Float]](repeating: [Float](repeating: 0, count: 784), count: 10)
        for i in 0..<d.train.count {
            let k = Int(d.train.labels[i])
            for j in 0..<784 { means[k][j] += d.train.pixels[i * 784 + j] / 300 }
        }
        var correct = 0
        for i in 0..<d.test.count {
            let img = d.test.pixels[i * 784..<(i + 1) * 784]
            let m = img.reduce(0, +) / 784
            var best = 0, bestD = Float.infinity
            for k in 0..<10 {
                let mk = means[k].reduce(0, +) / 784
                var dist: Float = 0
                for (j, v) in img.enumerated() { let e = (v - m) - (means[k][j] - mk); dist += e * e }
                if dist < bestD { bestD = dist; best = k }
            }
            if best == Int(d.test.labels[i]) { correct += 1 }
        }
        let acc = Float(correct) / Float(d.test.count)
        print("nearest-mean accuracy on synthetic: \(acc)")
        XCTAssertGreaterThan(acc, 0.15)
        XCTAssertLessThan(acc, 0.8)
    }

    func testFast() {
        // Best of two, so one scheduling hiccup on a shared machine does not fail the test.
        var dt = Double.infinity
        for _ in 0..<2 {
            let t0 = Date()
            let d = makeSynthetic(seed: 5)
            dt = min(dt, Date().timeIntervalSince(t0))
            XCTAssertEqual(d.train.count + d.test.count, 8000)
        }
        XCTAssertLessThan(dt, 1.0, "generating 8,000 images took \(dt) s")
    }
}
