import BTCore
import Foundation

/// Images streamed from .npz parts that together are too large to hold: ImageNet 64x64's ten training parts are
/// 1.28 M images, 15.7 GB as bytes and four times that as floats. Each part holds `data` (N x C*H*W uint8, planar,
/// channel-major) and `labels` (N integers, 1-based).
///
/// Memory: a pass holds at most `shuffleBuffer` images (16,384 x 12,288 bytes = 201 MB at 64x64) plus a read-ahead
/// queue of `queueImages` (1,024, 12.6 MB), zip buffers of 2 MB and the labels of every part (4 bytes an image,
/// 5 MB for ImageNet): about 220 MB whatever the parts add up to. Passes in stored order (evaluation) need no
/// shuffle buffer.
///
/// Shuffling: a shuffled pass visits the parts in a random order and draws each image uniformly from the buffer,
/// refilling the freed slot with the next image read (tf.data's shuffle buffer). So images from different parts
/// never mix beyond the buffer's reach: an image leaves at most a few buffer lengths from where it is stored. The
/// official parts are already in random class order, which is what makes this enough.
///
/// Determinism: one reader thread reads the parts in order and the buffer's draws come from the pass's RNG, so
/// the same RNG gives the same images in the same order; a resumed run skips to its step and continues exactly.
public final class NpzImageStream: ImageSource {
    struct Part { let path: String; let labels: [Int32] }

    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public var normalizationSample: Int { min(count, 20_000) }
    let parts: [Part]
    let shuffleBuffer: Int
    static let queueImages = 1024

    /// Opens every part, reads its labels (1...classes) and checks that its `data` header matches them, so a
    /// damaged part fails before training starts rather than hours into it.
    public init(paths: [String], channels: Int, height: Int, width: Int, classes: Int, shuffleBuffer: Int = 16_384) throws {
        precondition(!paths.isEmpty && shuffleBuffer >= 1)
        self.channels = channels; self.height = height; self.width = width; self.shuffleBuffer = shuffleBuffer
        var parts: [Part] = []
        for path in paths {
            let npz = try NpzFile(path: path)
            let (lshape, values) = try npz.integers("labels")
            guard lshape.filter({ $0 != 1 }).count <= 1 else {
                throw BTError("bad .npz file \(path): labels have shape \(lshape), expected one label per image")
            }
            if let i = values.firstIndex(where: { $0 < 1 || $0 > classes }) {
                throw BTError("bad .npz file \(path): label \(values[i]) at \(i) is outside 1-\(classes)")
            }
            let h = try npz.header("data")
            try Self.check(h, path: path, images: values.count, channels: channels, height: height, width: width)
            parts.append(Part(path: path, labels: values.map { Int32($0 - 1) }))
        }
        self.parts = parts
        count = parts.reduce(0) { $0 + $1.labels.count }
    }

    private init(_ other: NpzImageStream, count: Int) {
        parts = other.parts; channels = other.channels; height = other.height; width = other.width
        shuffleBuffer = other.shuffleBuffer; self.count = count
    }

    static func check(_ h: NpyHeader, path: String, images: Int, channels: Int, height: Int, width: Int) throws {
        let size = channels * height * width
        guard h.descr == "|u1" || h.descr == "<u1" else {
            throw BTError("bad .npz file \(path): data has dtype '\(h.descr)', expected uint8")
        }
        let rowShapes = [[size], [channels, height, width]]
        guard let rows = h.shape.first, rowShapes.contains(Array(h.shape.dropFirst())) else {
            throw BTError("bad .npz file \(path): data has shape \(h.shape), expected (\(images), \(size)) for \(images) labels")
        }
        guard rows == images else {
            throw BTError("bad .npz file \(path): data has shape \(h.shape) (\(rows) images) for \(images) labels; they must match")
        }
        guard !h.fortranOrder || images <= 1 else {
            throw BTError("bad .npz file \(path): data has shape \(h.shape) in Fortran (column-major) order; expected C order (save it with numpy.ascontiguousarray)")
        }
    }

    public func prefix(_ n: Int) -> ImageSource {
        n <= 0 || n >= count ? self : NpzImageStream(self, count: n)
    }

    public func pass(_ order: PassOrder) throws -> ImageReader {
        let (pieces, rng) = plan(order)
        return NpzPass(self, pieces: pieces, rng: rng)
    }

    /// The same pass (the same images in the same order) reading only the images asked for, by position in their
    /// files; nil when the parts are compressed (`NpzRows`).
    public func sharePass(_ order: PassOrder) -> ImageReader? {
        guard let rows = rowAccess else { return nil }
        let (pieces, rng) = plan(order)
        return NpzRowsPass(self, rows: rows, pieces: pieces, rng: rng)
    }

    /// Opened on the first share pass and kept: every epoch reads the same files.
    private lazy var rowAccess: NpzRows? = NpzRows(self)

    /// Rows read by share passes so far.
    public var rowsReadByPosition: Int { rowAccess?.rowsRead ?? 0 }

    /// A pass's plan: the first `count` images in stored order as (part, rows) pieces, the pieces shuffled for a
    /// shuffled pass, and the RNG the shuffle buffer then draws from.
    private func plan(_ order: PassOrder) -> (pieces: [(part: Int, rows: Range<Int>)], rng: RNG?) {
        var pieces: [(part: Int, rows: Range<Int>)] = [], left = count
        for (i, p) in parts.enumerated() where left > 0 {
            let n = min(left, p.labels.count)
            pieces.append((i, 0..<n)); left -= n
        }
        switch order {
        case .stored:
            return (pieces, nil)
        case .shuffled(var rng):
            for i in stride(from: pieces.count - 1, to: 0, by: -1) { pieces.swapAt(i, rng.below(i + 1)) }
            return (pieces, rng)
        }
    }
}

/// A pass by position: `NpzPass`'s order, followed with image positions instead of bytes (its shuffle buffer
/// holds (part, row) pairs), so it hands out the same images in the same order while reading only those asked for.
final class NpzRowsPass: ImageReader {
    private let rows: NpzRows
    private let labels: [[Int32]]
    private let pieces: [(part: Int, rows: Range<Int>)]
    private var rng: RNG?
    private let shuffleBuffer: Int, count: Int, channels: Int, planeSize: Int
    private var piece = 0, row = 0  // the stored sequence's next image
    private var bufferPart: [Int32] = [], bufferRow: [Int32] = [], filled = 0, primed = false
    private var scratch: [UInt8]

    init(_ source: NpzImageStream, rows: NpzRows, pieces: [(part: Int, rows: Range<Int>)], rng: RNG?) {
        self.rows = rows; self.pieces = pieces; self.rng = rng
        labels = source.parts.map(\.labels)
        shuffleBuffer = source.shuffleBuffer; count = source.count
        channels = source.channels; planeSize = source.height * source.width
        scratch = [UInt8](repeating: 0, count: rows.imageBytes)
        row = pieces.first?.rows.lowerBound ?? 0
    }

    func read(_ n: Int, into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int {
        try read(n, only: 0..<n, into: out, labels: labels)
    }

    func read(_ n: Int, only: Range<Int>, into out: UnsafeMutablePointer<Float>, labels out_labels: UnsafeMutablePointer<Int32>) throws -> Int {
        var written = 0
        while written < n, let (p, r) = next() {
            out_labels[written] = labels[p][r]
            if only.contains(written) {
                try scratch.withUnsafeMutableBytes { try rows.read(part: p, row: r, into: $0.baseAddress!) }
                scratch.withUnsafeBufferPointer { planarToNHWC($0.baseAddress!, out + written * rows.imageBytes, channels: channels, plane: planeSize) }
            }
            written += 1
        }
        return written
    }

    func skip(_ n: Int) throws {
        for _ in 0..<max(0, n) { guard next() != nil else { return } }
    }

    /// The stored sequence's next image position, as NpzPass's reader thread would queue it.
    private func following() -> (Int, Int)? {
        while piece < pieces.count && row >= pieces[piece].rows.upperBound {
            piece += 1
            if piece < pieces.count { row = pieces[piece].rows.lowerBound }
        }
        guard piece < pieces.count else { return nil }
        defer { row += 1 }
        return (pieces[piece].part, row)
    }

    /// The pass's next image position: NpzPass.nextImage's draws over positions.
    private func next() -> (Int, Int)? {
        guard var r = rng else { return following() }
        defer { rng = r }
        if !primed {
            let cap = min(shuffleBuffer, count)
            bufferPart = [Int32](repeating: 0, count: cap); bufferRow = bufferPart
            while filled < cap, let (p, q) = following() { bufferPart[filled] = Int32(p); bufferRow[filled] = Int32(q); filled += 1 }
            primed = true
        }
        guard filled > 0 else { return nil }
        let j = r.below(filled)
        let out = (Int(bufferPart[j]), Int(bufferRow[j]))
        if let (p, q) = following() {
            bufferPart[j] = Int32(p); bufferRow[j] = Int32(q)
        } else {
            filled -= 1
            bufferPart[j] = bufferPart[filled]; bufferRow[j] = bufferRow[filled]
        }
        return out
    }
}

/// Planar (C, H, W) bytes to NHWC floats in [0, 1].
func planarToNHWC(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Float>, channels c: Int, plane hw: Int) {
    for p in 0..<hw { for k in 0..<c { dst[p * c + k] = Float(src[k * hw + p]) * (1 / 255) } }
}

/// One pass: a reader thread fills a bounded queue; `read` takes images from it, through the shuffle buffer.
final class NpzPass: ImageReader {
    private let source: NpzImageStream
    private let queue: ImageQueue
    private var rng: RNG?
    private let imageBytes: Int
    // The shuffle buffer (shuffled passes only).
    private var buffer: [UInt8] = [], bufferLabels: [Int32] = [], filled = 0, primed = false
    private var scratch: [UInt8]
    /// The image taken from the queue into a freed slot of the buffer. Not `scratch`: that holds the image drawn
    /// (the caller's), and taking the next one into it handed out the stored sequence's pixels with the drawn labels.
    private var incoming: [UInt8]
    private let done = DispatchSemaphore(value: 0)

    init(_ source: NpzImageStream, pieces: [(part: Int, rows: Range<Int>)], rng: RNG?) {
        self.source = source
        self.rng = rng
        imageBytes = source.channels * source.height * source.width
        queue = ImageQueue(capacity: NpzImageStream.queueImages, imageBytes: imageBytes)
        scratch = [UInt8](repeating: 0, count: imageBytes)
        incoming = scratch
        let queue = queue, imageBytes = imageBytes, done = done
        let parts = source.parts, shape = (source.channels, source.height, source.width)
        let thread = Thread {
            defer { queue.finish(); done.signal() }
            do {
                for piece in pieces {
                    let part = parts[piece.part]
                    let npz = try NpzFile(path: part.path)
                    var row = 0, partial = [UInt8]()
                    try npz.stream("data", onHeader: { h in
                        try NpzImageStream.check(h, path: part.path, images: part.labels.count,
                                                 channels: shape.0, height: shape.1, width: shape.2)
                        return true
                    }, chunk: { bytes in
                        var at = 0
                        if !partial.isEmpty {  // finish the image split across chunks
                            let take = min(imageBytes - partial.count, bytes.count)
                            partial.append(contentsOf: bytes[0..<take]); at = take
                            if partial.count == imageBytes {
                                guard partial.withUnsafeBytes({ queue.put($0.baseAddress!, label: part.labels[row]) }) else { return false }
                                row += 1; partial = []
                            }
                        }
                        while row < piece.rows.upperBound && bytes.count - at >= imageBytes {
                            guard queue.put(bytes.baseAddress! + at, label: part.labels[row]) else { return false }
                            row += 1; at += imageBytes
                        }
                        if row < piece.rows.upperBound && at < bytes.count { partial.append(contentsOf: bytes[at...]) }
                        guard row < part.labels.count || at == bytes.count else {
                            throw BTError("bad .npz file \(part.path): data holds more bytes than its \(part.labels.count) images")
                        }
                        // A whole part is read to its end, so ZIPFoundation checks its CRC; a prefix stops early.
                        return row < piece.rows.upperBound || piece.rows.upperBound == part.labels.count
                    })
                    guard !queue.isCancelled else { return }
                    guard row >= piece.rows.upperBound else {
                        throw BTError("bad .npz file \(part.path): data ends after \(row) of \(part.labels.count) images")
                    }
                }
            } catch {
                queue.fail(error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        queue.cancel()
        done.wait()
    }

    func read(_ n: Int, into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int {
        try read(n, only: 0..<n, into: out, labels: labels)
    }

    /// Every image is taken from the stream (the order depends on it); only `only`'s are converted.
    func read(_ n: Int, only: Range<Int>, into out: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) throws -> Int {
        var written = 0
        while written < n {
            guard let label = try nextImage(into: &scratch) else { break }
            labels[written] = label
            if only.contains(written) {
                scratch.withUnsafeBufferPointer {
                    planarToNHWC($0.baseAddress!, out + written * imageBytes, channels: source.channels, plane: source.height * source.width)
                }
            }
            written += 1
        }
        return written
    }

    func skip(_ n: Int) throws {
        for _ in 0..<max(0, n) { guard try nextImage(into: &scratch) != nil else { return } }
    }

    /// The pass's next image (raw bytes into `dst`) and label; nil at the end.
    private func nextImage(into dst: inout [UInt8]) throws -> Int32? {
        guard var r = rng else { return try queue.take(into: &dst) }
        defer { rng = r }
        if !primed {
            let cap = min(source.shuffleBuffer, source.count)
            buffer = [UInt8](repeating: 0, count: cap * imageBytes)
            bufferLabels = [Int32](repeating: 0, count: cap)
            while filled < cap, let label = try takeInto(slot: filled) { bufferLabels[filled] = label; filled += 1 }
            primed = true
        }
        guard filled > 0 else { return nil }
        let j = r.below(filled)
        let label = bufferLabels[j]
        buffer.withUnsafeBufferPointer { b in dst.withUnsafeMutableBufferPointer { d in
            d.baseAddress!.update(from: b.baseAddress! + j * imageBytes, count: imageBytes)
        } }
        if let next = try takeInto(slot: j) {
            bufferLabels[j] = next
        } else {  // the stream is drained: the last slot fills the hole
            filled -= 1
            if j != filled {
                buffer.withUnsafeMutableBufferPointer { b in
                    (b.baseAddress! + j * imageBytes).update(from: b.baseAddress! + filled * imageBytes, count: imageBytes)
                }
                bufferLabels[j] = bufferLabels[filled]
            }
        }
        return label
    }

    private func takeInto(slot: Int) throws -> Int32? {
        try queue.take(into: &incoming).map { label in
            buffer.withUnsafeMutableBufferPointer { b in incoming.withUnsafeBufferPointer { s in
                (b.baseAddress! + slot * imageBytes).update(from: s.baseAddress!, count: imageBytes)
            } }
            return label
        }
    }

}

/// A bounded FIFO of images between the reader thread and the pass. `put` blocks while it is full (so reading
/// never runs more than `capacity` images ahead) and returns false once the pass is cancelled.
final class ImageQueue: @unchecked Sendable {
    private let cond = NSCondition()
    private var slots: [UInt8], labels: [Int32]
    private let capacity: Int, imageBytes: Int
    private var head = 0, size = 0
    private var finished = false, cancelled = false, error: Error?

    init(capacity: Int, imageBytes: Int) {
        self.capacity = capacity; self.imageBytes = imageBytes
        slots = [UInt8](repeating: 0, count: capacity * imageBytes)
        labels = [Int32](repeating: 0, count: capacity)
    }

    var isCancelled: Bool { cond.lock(); defer { cond.unlock() }; return cancelled }

    func put(_ image: UnsafeRawPointer, label: Int32) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while size == capacity && !cancelled { cond.wait() }
        guard !cancelled else { return false }
        let slot = (head + size) % capacity
        slots.withUnsafeMutableBytes { ($0.baseAddress! + slot * imageBytes).copyMemory(from: image, byteCount: imageBytes) }
        labels[slot] = label
        size += 1
        cond.broadcast()
        return true
    }

    /// The next image into `dst`, or nil when the reader has finished and the queue is empty. Rethrows the
    /// reader's error.
    func take(into dst: inout [UInt8]) throws -> Int32? {
        cond.lock(); defer { cond.unlock() }
        while size == 0 && !finished { cond.wait() }
        if size == 0 {
            if let error { throw error }
            return nil
        }
        slots.withUnsafeBytes { s in dst.withUnsafeMutableBytes { d in
            d.baseAddress!.copyMemory(from: s.baseAddress! + head * imageBytes, byteCount: imageBytes)
        } }
        let label = labels[head]
        head = (head + 1) % capacity; size -= 1
        cond.broadcast()
        return label
    }

    func finish() { cond.lock(); finished = true; cond.broadcast(); cond.unlock() }
    func fail(_ e: Error) { cond.lock(); error = e; finished = true; cond.broadcast(); cond.unlock() }
    func cancel() { cond.lock(); cancelled = true; cond.broadcast(); cond.unlock() }
}
