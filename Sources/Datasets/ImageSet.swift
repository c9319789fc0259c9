import Records
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
    public var inputShape: [Int] { train.shape }
}

/// What a run trains and tests on: the two splits as sources (in memory or streamed), the classes, and the
/// augmentation the catalog allows for this data. Loaders may leave `notes` for the user (skipped files).
public struct TrainingData {
    public var name: String
    public var train: ImageSource
    public var test: ImageSource
    public var classes: Int
    public var classNames: [String]
    public var augmentation: Augmentation
    public var notes: [String]
    /// What was read (counts, file checksums), set by `loadTrainingData`; nil for data made in code.
    public var identity: DataIdentity?

    /// `augmentation` defaults to the recipe's for the image size, without flips (a catalog entry sets its own).
    public init(name: String, train: ImageSource, test: ImageSource, classes: Int, classNames: [String],
                augmentation: Augmentation? = nil, notes: [String] = []) {
        self.name = name; self.train = train; self.test = test; self.classes = classes
        self.classNames = classNames; self.notes = notes
        self.augmentation = augmentation ?? .standard(height: train.height, width: train.width, flip: false)
    }

    /// A dataset in memory with the recipe's augmentation for its image size and no flips.
    public init(_ d: Dataset) {
        self.init(name: d.name, train: d.train, test: d.test, classes: d.classes, classNames: d.classNames)
    }

    public var inputShape: [Int] { train.shape }
}
