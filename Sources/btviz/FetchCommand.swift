import ArgumentParser
import BTCore
import Datasets
import Foundation

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a dataset's four official IDX files, checking each md5 (written atomically).")

    @Argument(help: "fashion or mnist.") var name: String
    @Option(help: "Destination folder (default: ~/.cache/btviz/<name>).") var dir: String?
    @Option(help: "Mirror to download from instead of the official address (http://, https:// or file://).")
    var baseUrl: String?

    func run() async throws {
        guard ["fashion", "mnist"].contains(name) else {
            throw BTError("unknown dataset '\(name)' (fetch knows fashion and mnist)")
        }
        let dest = dir ?? defaultCacheDir(name: name)
        var base: URL?
        if let baseUrl {
            guard let u = URL(string: baseUrl.hasSuffix("/") ? baseUrl : baseUrl + "/"), u.scheme != nil else {
                throw BTError("--base-url is not a URL: \(baseUrl)")
            }
            base = u
        }
        if dir == nil, base == nil, let source = DatasetSource.official(name), let system = source.systemDir,
           hasOfficialContents(source, in: system) {
            print("\(name): the system package's copy in \(system) has the official contents (md5 of each decompressed file); btviz reads it from there, nothing to fetch")
            return
        }
        try await fetchDataset(name: name, into: dest, baseURL: base, log: { print($0) })
        print("\(name) is in \(dest)")
    }
}
