import BTCore

/// Where a split's images come from, for training, evaluation and calibration alike: an `ImageSet` in memory,
/// or a stream over files too large to hold (`NpzStream`). A source only hands out raw images (pixels in [0, 1],
/// NHWC) with their labels; normalization and augmentation happen on the batch, so every source is treated alike.
public protocol ImageSource {
    var count: Int { get }
    var channels: Int { get }
    var height: Int { get }
    var width: Int { get }
    /// How many images, from the start in stored order, the per-channel normalizer is fitted on: all of them for a
    /// set in memory, a sample for a stream (reading 15 GB before the first step would only move the 3rd digit).
    var normalizationSample: Int { get }

    /// A pass over the images. A set in memory goes through `order`'s permutation exactly; a stream can only
    /// approximate it (see `NpzStream`). Either way the same order and source give the same images.
    func pass(_ order: PassOrder) throws -> ImageReader

    /// The same pass read by position, only the images asked for (a rank's share of each batch), where the storage
    /// allows it; nil where `pass`'s reader is the way (a set in memory copies only its share anyway).
    func sharePass(_ order: PassOrder) -> ImageReader?

    /// The first `n` images in stored order (all of them when n is 0 or at least `count`).
    func prefix(_ n: Int) -> ImageSource
}

/// How a pass visits the images: in stored order, or shuffled by a random stream.
public enum PassOrder {
    case stored
    case shuffled(RNG)
}

/// One pass, read a batch at a time. `read` returns how many images it wrote (fewer at the end, 0 after it).
public protocol ImageReader: AnyObject {
    func read(_ n: Int, into pixels: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int
    /// The next `n` images' labels, and the pixels of those at positions `only` (a rank's share of a batch; the
    /// others' slots are left as they were). Returns how many images the pass moved past.
    func read(_ n: Int, only: Range<Int>, into pixels: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int
    /// Moves past `n` images without writing them (a resumed run skips its epoch's finished steps).
    func skip(_ n: Int) throws
}

extension ImageSource {
    /// Floats per image.
    public var imageSize: Int { height * width * channels }
    /// [channels, height, width]: the layout the network's first layer is built for.
    public var shape: [Int] { [channels, height, width] }
}

extension ImageSet: ImageSource {
    public var normalizationSample: Int { count }

    public func pass(_ order: PassOrder) throws -> ImageReader {
        switch order {
        case .stored: return ImageSetReader(self, order: nil)
        case .shuffled(var rng): return ImageSetReader(self, order: rng.permutation(count))
        }
    }

    public func prefix(_ n: Int) -> ImageSource { first(n) }

    public func sharePass(_ order: PassOrder) -> ImageReader? { nil }

    /// The first `limit` images (all of them when limit is 0).
    public func first(_ limit: Int) -> ImageSet {
        guard limit > 0, limit < count else { return self }
        return ImageSet(count: limit, height: height, width: width, channels: channels,
                        pixels: Array(pixels[0..<limit * imageSize]), labels: Array(labels[0..<limit]))
    }
}

/// A pass over a set in memory: a cursor into a permutation (or stored order).
final class ImageSetReader: ImageReader {
    private let set: ImageSet
    private let order: [Int]?
    private var next = 0

    init(_ set: ImageSet, order: [Int]?) { self.set = set; self.order = order }

    func read(_ n: Int, into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int {
        try read(n, only: 0..<n, into: out, labels: labels)
    }

    func read(_ n: Int, only: Range<Int>, into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int {
        let m = max(0, min(n, set.count - next)), size = set.imageSize
        set.pixels.withUnsafeBufferPointer { pix in
            for b in 0..<m {
                let idx = order?[next + b] ?? next + b
                if only.contains(b) { (out + b * size).update(from: pix.baseAddress! + idx * size, count: size) }
                labels[b] = set.labels[idx]
            }
        }
        next += m
        return m
    }

    func skip(_ n: Int) throws { next = min(set.count, next + max(0, n)) }
}
