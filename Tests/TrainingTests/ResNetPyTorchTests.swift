import Datasets
import Foundation
import Kernels
import Layers
import Models
import Quantizers
import Training
import XCTest

/// btviz's ResNet against PyTorch's (Samples/pytorch/resnet.py, akamaster's layout) on identical weights and a batch
/// of real CIFAR-10 images: training-mode logits, loss, every gradient and the batch norms' running statistics, for
/// full precision and BT. ResNet-8 has one block per stage, so the identity block, both downsampling blocks (the
/// stride-2 conv and option A's shortcut), the pool and the FC are all covered. The fixtures are committed
/// (Tests/Fixtures/pytorch-resnet), so this needs no torch.
final class ResNetPyTorchTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pytorch-resnet")
    let batch = 16

    func fixture(_ path: String) throws -> [Float] {
        try readNpy(path: Self.root.appendingPathComponent(path + ".npy").path).values
    }

    func assertClose(_ actual: UnsafeBufferPointer<Float>, _ expected: [Float], tol: Float, _ what: String) {
        XCTAssertEqual(actual.count, expected.count, what)
        let scale = max(expected.map(abs).max() ?? 0, 1e-12)
        var worst: Float = 0
        for (a, e) in zip(actual, expected) { worst = max(worst, abs(a - e)) }
        XCTAssert(worst <= tol * scale, "\(what): max error \(worst) against max |value| \(scale)")
    }

    func matches(_ method: QuantMethod) throws {
        let model = ResNet(depth: 8, inputShape: [3, 32, 32], classes: 10, maxBatch: batch)
        for t in model.allTensors {
            let values = try fixture("init/" + t.name)
            XCTAssertEqual(values.count, t.buffer.count, t.name)
            values.withUnsafeBufferPointer { t.buffer.ptr.update(from: $0.baseAddress!, count: t.buffer.count) }
        }
        let xs = try fixture("batch/x"), labels = try fixture("batch/labels").map { Int32($0) }
        let x = FloatBuffer(count: xs.count)
        xs.withUnsafeBufferPointer { x.ptr.update(from: $0.baseAddress!, count: xs.count) }
        StepEngine(model: model, spec: QuantSpec(method: method), seed: 0).quantize(method)
        let logits = model.forward(x.ptr, n: batch, training: true)
        let loss = labels.withUnsafeBufferPointer { model.classification.loss.evaluate(logits: logits, labels: $0.baseAddress!, n: batch) }
        model.backward(model.classification.loss.grad.ptr, n: batch)
        let name = method.rawValue
        assertClose(UnsafeBufferPointer(start: logits, count: batch * 10), try fixture("\(name)/logits"), tol: 1e-4, "\(name) logits")
        XCTAssertEqual(loss.loss, try fixture("\(name)/loss")[0], accuracy: 1e-5, "\(name) loss")
        for p in model.params {
            assertClose(UnsafeBufferPointer(p.grad.buffer), try fixture("\(name)/grad/" + p.name), tol: 2e-4, "\(name) gradient of \(p.name)")
        }
        for t in model.stateTensors {
            assertClose(UnsafeBufferPointer(t.buffer.buffer), try fixture("\(name)/after/" + t.name), tol: 1e-5, "\(name) \(t.name)")
        }
    }

    func testFullPrecisionMatchesPyTorch() throws { try matches(.full) }
    func testBTMatchesPyTorch() throws { try matches(.bt) }
}
