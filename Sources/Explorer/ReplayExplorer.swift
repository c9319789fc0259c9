import BTCore
import Foundation
import Training

/// Reads a metrics.jsonl incrementally: complete new lines since the last call. A live run may be
/// mid-append, so a trailing partial line waits for the next poll.
public struct MetricsTail {
    public let path: String
    private(set) var offset: UInt64 = 0
    /// Set when the file shrank (rewritten from scratch): the caller rebuilds its model.
    private(set) var restarted = false
    /// Non-blank lines that did not decode to a plausible record (damaged or hand-edited), skipped.
    public private(set) var skipped = 0
    private var inGarbage = false
    /// True while the file holds bytes not read yet: the caller polls again at once instead of in a second.
    public private(set) var behind = false
    /// How much one poll reads: a big file loads a chunk per frame, so the screen draws and keys work meanwhile.
    let chunk: Int

    public init(path: String, chunk: Int = 1 << 20) { self.path = path; self.chunk = chunk }

    public mutating func poll() throws -> [RunRecord] {
        restarted = false
        guard let fh = FileHandle(forReadingAtPath: path) else { throw BTError("cannot read \(path)") }
        defer { try? fh.close() }
        let size = try fh.seekToEnd()
        if size < offset { offset = 0; restarted = true }
        behind = false
        guard size > offset else { return [] }
        try fh.seek(toOffset: offset)
        let want = Int(min(size - offset, UInt64(chunk)))
        guard let data = try fh.read(upToCount: want), !data.isEmpty else { return [] }
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


/// The replay loop: the live screen over recorded steps, with a time cursor instead of training keys.
struct ReplayExplorer {
    var tail: MetricsTail
    let header: RunHeader
    let options: ExplorerOptions
    var model: RunModel
    /// The run compared with (replay A B), read the same way.
    var secondTail: MetricsTail?
    var secondModel: RunModel?
    let names: [String]
    var view = ExplorerViewState(mode: .replay)
    var noticeUntil = ContinuousClock.now
    /// Left by Ctrl-C rather than q or Esc: `sweep watch`, which opened it, leaves too.
    private(set) var quitByCtrlC = false

    init(header: RunHeader, tail: MetricsTail, options: ExplorerOptions, second: (RunHeader, MetricsTail)? = nil,
         names: [String] = []) {
        self.header = header; self.tail = tail; self.options = options; self.names = names
        model = RunModel(header: header, records: [])
        if let (h, t) = second { secondTail = t; secondModel = RunModel(header: h, records: []) }
    }

    /// The other run's records since the last poll (a rewritten file starts it over).
    private mutating func pollSecond() -> Bool {
        guard var t = secondTail, var m = secondModel, let new = try? t.poll() else { return false }
        if t.restarted { m = RunModel(header: m.header, records: []) }
        m.ingest(new)
        secondTail = t; secondModel = m
        return !new.isEmpty
    }

    mutating func run(_ screen: CursesScreen) {
        let options = ExplorerOptions(ascii: self.options.ascii, noColor: !screen.usesColor)
        var lastPoll = ContinuousClock.now - .seconds(2)   // first poll right after the "loading" frame
        let frame = Duration.milliseconds(100)
        var lastDraw = ContinuousClock.now - frame
        var dirty = true
        while true {
            if screen.interrupted { return }
            // Redraw on change, at most 10 times a second (held arrow keys repeat faster).
            if dirty && ContinuousClock.now - lastDraw >= frame {
                let (w, h) = screen.size
                view.screen = ScreenSize(width: w, height: h)
                screen.draw(ExplorerRenderer.render(model: model, view: view, width: w, height: h, options: options,
                                                    compare: secondModel.map { ComparedRun(model: $0, names: names) }))
                dirty = false
                lastDraw = ContinuousClock.now
                // Fault injection for the test that a trap leaves the terminal usable.
                if ProcessInfo.processInfo.environment["BTVIZ_FAULT"] == "trap-after-draw" { fatalError("injected trap") }
            }
            let now = ContinuousClock.now
            if now - lastPoll >= .seconds(1) || tail.behind || (secondTail?.behind ?? false) {
                lastPoll = now
                if pollSecond() { dirty = true }
                if let new = try? tail.poll() {
                    if tail.restarted { model = RunModel(header: header, records: []); view.cursor = nil }
                    if !new.isEmpty { model.ingest(new); dirty = true }
                }
            }
            if view.notice != nil && now >= noticeUntil { view.notice = nil; dirty = true }
            // Playing: about 20 s for the whole run, one frame at a time; it stops at the last record.
            if view.playing && now - lastDraw >= frame {
                let n = model.steps.count
                let next = (view.cursor ?? n - 1) + max(1, n / 200)
                if next >= n - 1 { view.cursor = max(0, n - 1); view.playing = false } else { view.cursor = next }
                dirty = true
            }
            let wait = tail.behind || (secondTail?.behind ?? false) || view.playing ? 1 : dirty ? max(1, milliseconds(frame - (ContinuousClock.now - lastDraw))) : 100
            guard let key = screen.readKey(timeoutMs: wait) else { continue }
            dirty = true
            if view.showHelp && ExplorerController.handleHelp(key, view: &view) { continue }
            guard let action = KeyMap.action(for: key, mode: .replay) else { continue }
            if action == .quit { quitByCtrlC = key == .ctrlC; return }
            let before = view.notice
            _ = ExplorerController.handle(action, view: &view, model: model)
            if view.notice != before { noticeUntil = ContinuousClock.now + .seconds(3) }
        }
    }
}
