import Kernels

/// What a model's inference computes, written as operations for an exporter to spell in its format (ONNX's
/// `ONNXExport` is one): the model says what it computes, in NCHW, naming its tensors by their btviz names; the
/// exporter says how each operation is written and where each tensor goes. A model that writes itself here is
/// exported without the exporter knowing it.
public protocol InferenceWriter {
    associatedtype Value
    /// A graph input; nil dimensions are symbolic (the batch, a whole image's side).
    mutating func input(_ name: String, shape: [Int?]) -> Value
    /// The pixels as btviz reads them (0...1) standardized per channel with the run's normalizer.
    mutating func normalized(_ x: Value) -> Value
    /// A 3x3 convolution with padding 1.
    mutating func conv3x3(_ x: Value, weight: Param, bias: Param?, stride: Int) throws -> Value
    /// Batch norm in eval mode, with the running statistics.
    mutating func batchNorm(_ x: Value, _ bn: BatchNorm) throws -> Value
    mutating func relu(_ x: Value) -> Value
    mutating func maxPool2x2(_ x: Value) -> Value
    mutating func add(_ a: Value, _ b: Value) -> Value
    mutating func subtract(_ a: Value, _ b: Value) -> Value
    /// Option A's shortcut: every second pixel of every second row, with `padChannels` zero channels on each side.
    mutating func subsampledZeroPadded(_ x: Value, padChannels: Int) -> Value
    /// The mean of each channel's map, [N, C, 1, 1].
    mutating func globalAveragePool(_ x: Value) -> Value
    /// [N, C, H, W] to [N, C·H·W] in CHW order.
    mutating func flatten(_ x: Value) -> Value
    /// y = x Wᵀ + b, the weight [out, in].
    mutating func linear(_ x: Value, weight: Param, bias: Param?) throws -> Value
    /// Pixel shuffle: [N, C·r², H, W] to [N, C, rH, rW] in PyTorch's PixelShuffle order.
    mutating func depthToSpace(_ x: Value, blockSize: Int) -> Value
    /// btviz's bicubic upscaling (MATLAB's imresize) of a one-channel image by `scale`.
    mutating func bicubicUpscaled(_ x: Value, scale: Int) -> Value
    /// Names `x` a graph output.
    mutating func output(_ x: Value, name: String, shape: [Int?])
}
