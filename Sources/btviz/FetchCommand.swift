import ArgumentParser
import BTCore
import Datasets
import Foundation

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a dataset's official files, checking each checksum; resumes a broken download.",
        discussion: """
        Each file goes to <file>.part and is renamed into place only when its md5 (sha256 for ImageNet 64x64, \
        whose publisher lists none) is right; a download that breaks off is resumed by the next fetch. Files \
        already there with the right checksum are kept. ImageNet 64x64's zips are unpacked after they check out. \
        A progress bar is drawn when the output is a terminal.
        """)

    @Argument(help: ArgumentHelp("The dataset: \(DatasetCatalog.entries.filter { !$0.files.isEmpty }.map(\.name).joined(separator: ", ")).",
                                 valueName: "name"), completion: .list(DatasetCatalog.entries.filter { !$0.files.isEmpty }.map(\.name))) var name: String
    @Option(help: "Destination folder (default: ~/.cache/btviz/<name>).", completion: .directory) var dir: String?
    @Option(help: "Mirror to download from instead of the official addresses (http://, https:// or file://).")
    var baseUrl: String?
    @Flag(help: "Also fetch the optional files (SVHN's extra split, 1.3 GB).") var all = false

    func run() async throws {
        let entry = try DatasetCatalog.named(name)
        let dest = dir.map { ($0 as NSString).expandingTildeInPath } ?? defaultCacheDir(name: name)
        var base: URL?
        if let baseUrl {
            guard let u = URL(string: baseUrl.hasSuffix("/") ? baseUrl : baseUrl + "/"), u.scheme != nil else {
                throw BTError("--base-url is not a URL: \(baseUrl)")
            }
            base = u
        }
        if dir == nil, base == nil, let system = entry.systemDirs.first(where: { hasOfficialContents(entry, in: $0) }) {
            print("\(name): the system package's copy in \(system) has the official contents (md5 of each decompressed file); btviz reads it from there, nothing to fetch")
            return
        }
        let bar = ProgressBar(enabled: isatty(STDOUT_FILENO) == 1)
        let progress = FetchProgress(log: { bar.line($0) }, bytes: { bar.show($0, $1, $2) })
        do {
            try await fetchDataset(entry, into: dest, baseURL: base, optional: all, progress: progress)
        } catch {
            bar.clear()
            throw error
        }
        print("\(name) is in \(dest)")
    }
}

/// One line redrawn in place on a terminal: name, bar, percentage, megabytes and rate. Off the terminal it
/// draws nothing (the log lines say what happened).
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var last = Date.distantPast, start = Date(), current = "", drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ file: String, _ done: Int64, _ total: Int64?) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if file != current { current = file; start = Date() }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 || done == total else { return }
        last = now
        let rate = Double(done) / max(now.timeIntervalSince(start), 1e-3)
        var text = "\(file)  "
        if let total, total > 0 {
            let f = min(1, Double(done) / Double(total)), width = 30, full = Int(f * Double(width))
            text += "[" + String(repeating: "#", count: full) + String(repeating: ".", count: width - full) + "] "
            text += String(format: "%3.0f%%  ", 100 * f) + Self.bytes(Double(done)) + "/" + Self.bytes(Double(total))
        } else {
            text += Self.bytes(Double(done))
        }
        text += "  " + Self.bytes(rate) + "/s"
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + text).utf8))
        drawn = true
    }

    static func bytes(_ b: Double) -> String {
        b >= 1e9 ? String(format: "%.2f GB", b / 1e9) : b >= 1e6 ? String(format: "%.1f MB", b / 1e6) : String(format: "%.0f KB", b / 1e3)
    }

    /// A log line, below the bar's last state.
    func line(_ s: String) {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardOutput.write(Data("\n".utf8)); drawn = false }
        print(s)
    }

    func clear() {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardOutput.write(Data("\n".utf8)); drawn = false }
    }
}
