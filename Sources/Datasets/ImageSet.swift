/// A block of images with their labels, stored flat so batches are copied with plain pointer loops
/// (no per-image arrays). Pixels are NHWC, in [0,1] as loaded (normalization rewrites them in place).
public struct ImageSet: Sendable {
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    public var pixels: [Float]
    public var labels: [Int32]

    public init(count: Int, height: Int, width: Int, channels: Int, pixels: [Float], labels: [Int32]) {
        precondition(pixels.count == count * height * width * channels, "pixel count does not match shape")
        precondition(labels.count == count, "label count does not match image count")
        self.count = count; self.height = height; self.width = width; self.channels = channels
        self.pixels = pixels; self.labels = labels
    }

    /// Floats per image.
    public var imageSize: Int { height * width * channels }
}

/// A named train/test pair: everything a training run needs to know about its data.
public struct Dataset: Sendable {
    public var name: String
    public var train: ImageSet
    public var test: ImageSet
    public var classes: Int
    public var classNames: [String]

    public init(name: String, train: ImageSet, test: ImageSet, classes: Int, classNames: [String]) {
        self.name = name; self.train = train; self.test = test
        self.classes = classes; self.classNames = classNames
    }

    /// [channels, height, width]: the layout the network's first layer is built for.
    public var inputShape: [Int] { [train.channels, train.height, train.width] }
}
