import BTCore
import Foundation
import Records

extension RunFolder {
    /// On --resume from a checkpoint at `step`: cuts off the records metrics.jsonl holds for steps after it. A run
    /// killed between two checkpoints logged steps its checkpoint never saw; resumed, it trains and logs those
    /// steps again (the same numbers: resume is exact), so without the cut every one would be in the file twice.
    /// Returns how many records were dropped.
    ///
    /// Records are appended in step order, so the walk goes backwards from the end and stops at the first record at
    /// or before `step`: only the dropped lines are read and decoded, however long the run.
    public func dropRecords(after step: Int) throws -> Int {
        let path = metricsPath
        // O_NOFOLLOW and O_NONBLOCK: a planted symlink is not followed and a FIFO cannot block; only a regular
        // file is cut.
        let fd = Foundation.open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return 0 }
        guard fd >= 0 else { throw BTError("cannot resume: cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw BTError("cannot resume: \(path) is not a regular file")
        }
        let size = Int(st.st_size)
        var pos = size            // `tail` holds the file's bytes pos..<size
        var tail: [UInt8] = []
        var lineEnd = size        // the line examined next ends here (exclusive)
        var cut = size, dropped = 0
        let chunk = 1 << 16, readLimit = 256 << 20
        walk: while lineEnd > 0 {
            // The start of the line that ends at lineEnd: just after the newline before it.
            var start: Int?
            while start == nil {
                let searchEnd = lineEnd - 1 - pos  // the line's own newline is not its start
                if searchEnd > 0, let nl = tail[0..<searchEnd].lastIndex(of: UInt8(ascii: "\n")) {
                    start = pos + nl + 1
                } else if pos == 0 {
                    start = 0
                } else {
                    // Read further back. A line longer than the limit is no record btviz wrote: stop, cut nothing more.
                    guard size - pos < readLimit else { break walk }
                    let n = min(chunk, pos)
                    var bytes = [UInt8](repeating: 0, count: n)
                    guard pread(fd, &bytes, n, off_t(pos - n)) == n else {
                        throw BTError("cannot resume: cannot read \(path): \(String(cString: strerror(errno)))")
                    }
                    tail = bytes + tail
                    pos -= n
                }
            }
            let s = start!
            let line = String(decoding: tail[(s - pos)..<(lineEnd - pos)], as: UTF8.self)
            if let recorded = Self.recordStep(line) {
                if recorded <= step { break }
                cut = s
                dropped += 1
            }
            lineEnd = s
        }
        if cut < size, ftruncate(fd, off_t(cut)) != 0 {
            throw BTError("cannot resume: cannot cut \(path) back to step \(step): \(String(cString: strerror(errno)))")
        }
        return dropped
    }

    /// The step a metrics.jsonl line records, or nil for a blank or damaged line.
    static func recordStep(_ line: String) -> Int? {
        switch RunRecordCoding.decode(line.trimmingCharacters(in: .whitespacesAndNewlines)[...]) {
        case .step(let r)?: return r.step
        case .epoch(let r)?: return r.step
        case .event(let r)?: return r.step
        case nil: return nil
        }
    }
}
