import ArgumentParser
import BTCore
import Datasets
import Foundation

struct ListDatasets: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List the datasets btviz knows: where each was found, or how to get it.")

    @Option(help: "Look in this folder too (as --data-dir would).", completion: .directory) var dataDir: String?

    func run() throws {
        var rows = [["name", "classes", "images", "found", ""]]
        for e in DatasetCatalog.entries {
            let shape = e.imageShape.map { $0.map(String.init).joined(separator: "x") } ?? "--image-size"
            let classes = e.classNames.isEmpty ? "folders" : "\(e.classNames.count)"
            var found: String?
            if e.userFolder {
                found = dataDir.flatMap { e.locate(($0 as NSString).expandingTildeInPath) }
            } else {
                let dirs = (dataDir.map { [($0 as NSString).expandingTildeInPath] } ?? []) + candidateDataDirs(name: e.name)
                found = dirs.lazy.compactMap { e.locate($0) }.first
                // Fashion-MNIST and MNIST share file names: a folder of one is not the other.
                if found != nil, let dir = dirs.first(where: { e.locate($0) != nil }), let owner = e.officialOwner(ofFilesIn: dir) {
                    found = "not found (\(dir) holds \(owner)'s official files)"
                }
            }
            var how = e.howToGet
            if !e.files.isEmpty {
                let size = e.requiredFiles.compactMap(\.size).reduce(0, +)
                let fetch = "btviz fetch \(e.name)" + (size > 0 ? String(format: " (%.0f MB)", Double(size) / 1e6) : "")
                how = how.isEmpty ? fetch : how
            }
            rows.append([e.name, classes, shape, found ?? "not found", found == nil ? how : ""])
        }
        // Left-aligned columns (paths read better that way), the counts right-aligned.
        let widths = (0..<rows[0].count).map { i in rows.map { $0[i].count }.max() ?? 0 }
        for r in rows {
            let cells = r.enumerated().map { i, c in
                i == 1 ? String(repeating: " ", count: widths[i] - c.count) + c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        print("")
        for e in DatasetCatalog.entries { print("\(e.name): \(e.title)") }
    }
}
