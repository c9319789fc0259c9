import Explorer
import Foundation
import Quantizers
import Records

/// Synthetic runs: Gaussian-shaped weight histograms with the quantizers' real transition formulas,
/// so panels can be rendered and read back without a trainer.
enum Fixture {
    static let header = RunHeader(dataset: "fashion-mnist", k: 16, inputShape: [1, 28, 28], totalSteps: 1000,
                                  epochs: 5, batchSize: 128)

    static func gaussian(lo: Float, hi: Float, bins: Int, sigma: Float, total: Int = 10_000) -> Histogram {
        let w = (hi - lo) / Float(bins)
        let edges = (0...bins).map { lo + Float($0) * w }
        let raw = (0..<bins).map { i -> Float in let x = lo + (Float(i) + 0.5) * w; return expf(-x * x / (2 * sigma * sigma)) }
        let sum = raw.reduce(0, +)
        return Histogram(edges: edges, counts: raw.map { Int($0 / sum * Float(total)) })
    }

    /// `spread` scales the histogram's range: the latent weights widen as the run goes (±0.2 at its last record).
    static func layer(_ name: String, method: QuantMethod, a1: Float = 0.05, flip: Float = 0.031, spread: Float = 1,
                      shape: [Int] = [16, 16, 3, 3]) -> LayerRecord {
        let hist = gaussian(lo: -0.2 * spread, hi: 0.2 * spread, bins: 64, sigma: 0.06 * spread)
        let dist = gaussian(lo: 0, hi: 2, bins: 32, sigma: 0.8)
        var scales: [String: Float] = [:], thresholds: [String: Float] = [:]
        var transitions: [Float] = [], levels: [Float] = [], counts: [Int] = []
        switch method {
        case .full: break
        case .bwn:
            scales = ["a": a1]; transitions = [0]; levels = [-a1, a1]; counts = [5000, 5000]
        case .twn:
            let d = 0.66 * a1
            scales = ["a": a1 * 1.4]; thresholds = ["delta": d]; transitions = [-d, d]
            levels = [-a1 * 1.4, 0, a1 * 1.4]; counts = [2600, 4800, 2600]
        case .bt:
            let a2: Float = 0.4 * a1, d1 = 0.66 * a2, aopt = 0.75 * a1 - 0.25 * a2
            scales = ["a1": a1, "a2": a2, "a_opt": aopt]; thresholds = ["d1": d1]
            transitions = [-(a1 + d1), -(a1 - d1), a1 - d1, a1 + d1]
            levels = [-2, -1, 0, 1, 2].map { $0 * aopt }; counts = [310, 2050, 5280, 2050, 310]
        case .ttq:
            let d: Float = 0.4 * a1
            scales = ["wp": 1.3 * a1, "wn": 1.1 * a1]; thresholds = ["delta": d]; transitions = [-d, d]
            levels = [-1.1 * a1, 0, 1.3 * a1]; counts = [3100, 3600, 3300]
        case .lq:
            let v1: Float = 0.5 * a1, v2: Float = 1.1 * a1
            scales = ["v1": v1, "v2": v2]
            levels = [-v1 - v2, v1 - v2, v2 - v1, v1 + v2]
            transitions = [-v2, 0, v2]; counts = [1500, 3500, 3500, 1500]
        default: break
        }
        return LayerRecord(name: name, shape: shape, scales: scales, thresholds: thresholds,
                           transitions: transitions, levels: levels, levelCounts: counts, flipFraction: flip,
                           flipRatio: 0.0042, meanTransitionDistance: 0.41, quantError: 0.49, reg: 0.012,
                           histogram: hist, distanceHistogram: dist,
                           whatIf: [WhatIfFit(method: "twn", transitions: [-0.033, 0.033], levels: [-0.07, 0, 0.07],
                                              levelCounts: [3000, 4000, 3000], quantError: 0.44)])
    }

    static let layerNames = ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6"]
    static let vgg6Layers = layerNames.map { (name: $0, shape: [16, 16, 3, 3]) }

    /// A CIFAR ResNet-(6n+2)'s quantized 3x3 convs as torchvision-style CIFAR ResNets name them: 3 stages of n
    /// basic blocks (`layer3.8.conv2`) at 16, 32 and 64 channels; with `ends`, the first conv and the FC too
    /// (`conv1`, `linear`), else those are the run's full-precision layers.
    static func resnetLayers(depth: Int, ends: Bool = false) -> [(name: String, shape: [Int])] {
        var out: [(name: String, shape: [Int])] = ends ? [("conv1", [16, 3, 3, 3])] : []
        for stage in 1...3 {
            let c = 16 << (stage - 1)
            for b in 0..<(depth - 2) / 6 {
                out.append(("layer\(stage).\(b).conv1", [c, b == 0 && stage > 1 ? c / 2 : c, 3, 3]))
                out.append(("layer\(stage).\(b).conv2", [c, c, 3, 3]))
            }
        }
        return out + (ends ? [("linear", [10, 64])] : [])
    }

    static func resnetHeader(depth: Int, ends: Bool = false) -> RunHeader {
        var h = RunHeader(dataset: "cifar10", model: "ResNet-\(depth)", k: 16, inputShape: [3, 32, 32], totalSteps: 1000,
                          epochs: 5, batchSize: 128)
        h.fullPrecisionLayers = ends ? [] : [.init(name: "conv1", shape: [16, 3, 3, 3]), .init(name: "linear", shape: [10, 64])]
        return h
    }

    /// `model(...)` of a ResNet run.
    static func resnet(depth: Int, ends: Bool = false, method: QuantMethod = .bt, count: Int = 50) -> RunModel {
        model(method: method, count: count, layers: resnetLayers(depth: depth, ends: ends), header: resnetHeader(depth: depth, ends: ends))
    }

    static func step(_ s: Int, method: QuantMethod = .bt, lambda: Float = 0.1, a1: Float = 0.05,
                     layers named: [(name: String, shape: [Int])] = vgg6Layers) -> StepRecord {
        let layers = named.enumerated().map { i, n in
            layer(n.name, method: method, a1: a1, flip: 0.031 + Float(i) * 0.001 + Float(s % 7) * 0.0005,
                  spread: 0.8 + 0.2 * Float(min(s, 490)) / 490, shape: n.shape)
        }
        return StepRecord(step: s, epoch: s / 200, totalSteps: 1000, method: method.rawValue, lambda: lambda,
                          loss: 1 - lambda * 0.07, taskLoss: 2.3 / Float(1 + s / 50), regLoss: 0.07, batchMetric: min(0.95, 0.1 + Float(s) / 400),
                          lr: 0.001, samplesPerS: 2100, etaS: Float(1000 - s) * 0.06, layers: layers)
    }

    /// 50 logged steps; BT from step 200 (a method event) and λ 0.05 from step 300.
    static func model(method: QuantMethod = .bt, count: Int = 50, a1: Float = 0.05,
                      layers: [(name: String, shape: [Int])] = vgg6Layers, header: RunHeader = Fixture.header) -> RunModel {
        var recs: [RunRecord] = [.event(EventRecord(step: 0, epoch: 1, kind: .start, message: "start"))]
        for i in 0..<count {
            let s = i * 10
            let m: QuantMethod = s >= 200 ? method : (method == .bt ? .twn : method)
            let l: Float = s >= 300 ? 0.05 : 0.1
            if s == 200 && m != (method == .bt ? .twn : method) {
                recs.append(.event(EventRecord(step: s, epoch: 2, kind: .method, from: "twn", to: m.rawValue, message: "")))
            }
            if s == 300 { recs.append(.event(EventRecord(step: s, epoch: 2, kind: .lambda, from: "0.1", to: "0.05", message: ""))) }
            recs.append(.step(step(s, method: m, lambda: l, a1: a1, layers: layers)))
            if s > 0 && s % 200 == 0 {
                recs.append(.epoch(EpochRecord(epoch: s / 200, step: s, method: m.rawValue, trainMetric: 0.8, trainLoss: 0.5,
                                               testMetric: 0.78 + Float(s) / 10_000, testLoss: 0.6, seconds: 12)))
            }
        }
        return RunModel(header: header, records: recs)
    }

    static let unicode = ExplorerOptions(ascii: false, noColor: false)
    static let ascii = ExplorerOptions(ascii: true, noColor: false)

    static func render(_ m: RunModel, _ w: Int, _ h: Int, view: ExplorerViewState = ExplorerViewState(mode: .live),
                       options: ExplorerOptions = unicode) -> Canvas {
        ExplorerRenderer.render(model: m, view: view, width: w, height: h, options: options)
    }
}

