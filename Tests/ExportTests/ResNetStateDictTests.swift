import BTCore
import Export
import Foundation
import Kernels
import Models
import XCTest

/// A ResNet's tensors through a safetensors state_dict and back: every parameter and running statistic exactly,
/// under akamaster's names (conv weights transposed to PyTorch's [out, in, 3, 3] and back).
final class ResNetStateDictTests: XCTestCase {
    func testResNetRoundTripsThroughItsStateDict() throws {
        let a = ResNet(depth: 20, inputShape: [3, 32, 32], classes: 10, maxBatch: 1)
        a.initialize(seed: 4, scheme: .pytorch)
        var rng = RNG(seed: 5)
        for bn in a.batchNorms {
            rng.fillUniform(bn.gamma.value.buffer, bound: 2)
            rng.fillUniform(bn.runningMean.buffer, bound: 1)
        }
        let tensors = try StateDictFile.tensors(model: a, fits: [], stateDictOnly: true)
        XCTAssertEqual(tensors.first?.name, "conv1.weight")
        XCTAssertEqual(tensors.last?.name, "linear.bias")
        XCTAssertTrue(tensors.contains { $0.name == "layer3.2.bn2.running_var" })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resnet-\(UUID().uuidString).safetensors").path
        try Safetensors.encode(tensors, metadata: [:]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let b = ResNet(depth: 20, inputShape: [3, 32, 32], classes: 10, maxBatch: 1)
        try StateDictFile.load(try Safetensors.Reader(path: path), into: b)
        for (x, y) in zip(a.allTensors, b.allTensors) {
            XCTAssertEqual(x.name, y.name)
            XCTAssertEqual(Array(x.buffer.buffer), Array(y.buffer.buffer), x.name)
        }
        // A ResNet-32's file does not load into a ResNet-20: one line naming the first tensor it lacks.
        let c = ResNet(depth: 32, inputShape: [3, 32, 32], classes: 10, maxBatch: 1)
        let deeper = FileManager.default.temporaryDirectory.appendingPathComponent("resnet32-\(UUID().uuidString).safetensors").path
        try Safetensors.encode(try StateDictFile.tensors(model: c, fits: [], stateDictOnly: true), metadata: [:])
            .write(to: URL(fileURLWithPath: deeper))
        defer { try? FileManager.default.removeItem(atPath: deeper) }
        XCTAssertThrowsError(try StateDictFile.load(try Safetensors.Reader(path: deeper), into: b)) {
            XCTAssertTrue("\($0)".contains("is not in ResNet-20's state_dict"), "\($0)")
        }
    }
}
