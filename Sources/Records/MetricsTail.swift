import BTCore
import Foundation

/// Reads a metrics.jsonl incrementally: complete new lines since the last call. A live run may be
/// mid-append, so a trailing partial line waits for the next poll.
public struct MetricsTail {
    public let path: String
    public private(set) var offset: UInt64 = 0
    /// Set when the file shrank (rewritten from scratch): the caller rebuilds its model.
    public private(set) var restarted = false
    /// Non-blank lines that did not decode to a plausible record (damaged or hand-edited), skipped.
    public private(set) var skipped = 0
    private var inGarbage = false
    /// True while the file holds bytes not read yet: the caller polls again at once instead of in a second.
    public private(set) var behind = false
    /// How much one poll reads: a big file loads a chunk per frame, so the screen draws and keys work meanwhile.
    public let chunk: Int

    public init(path: String, chunk: Int = 1 << 20) { self.path = path; self.chunk = chunk }

    public mutating func poll() throws -> [RunRecord] {
        restarted = false
        // A regular file only: a FIFO in its place would block the open for ever.
        let file = try RegularFile(path)
        let size = UInt64(file.size)
        if size < offset { offset = 0; restarted = true }
        behind = false
        guard size > offset else { return [] }
        let want = Int(min(size - offset, UInt64(chunk)))
        var bytes = [UInt8](repeating: 0, count: want)
        let got = pread(file.fd, &bytes, want, off_t(offset))
        guard got > 0 else { return [] }
        let data = Data(bytes[0..<got])
        behind = offset + UInt64(data.count) < size
        guard let lastNL = data.lastIndex(of: UInt8(ascii: "\n")) else {
            // No newline in a whole chunk, or NUL bytes (never in JSON; a preallocated or damaged tail): skip it
            // once rather than re-reading it every second. A short partial line is a record being written.
            if data.count == chunk || data.contains(0) {
                offset += UInt64(data.count)
                if !inGarbage { skipped += 1 }
                inGarbage = true
            }
            return []
        }
        inGarbage = false
        let complete = data[data.startIndex...lastNL]
        offset += UInt64(complete.count)
        let (records, bad) = RunRecordCoding.decodeLines(String(decoding: complete, as: UTF8.self))
        skipped += bad
        return records
    }
}
