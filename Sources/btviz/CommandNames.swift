import ArgumentParser
import BTCore

/// A misspelt command names the nearest real one ("did you mean 'train'?") before ArgumentParser reads the
/// line: with `train` the default subcommand, `btviz trian` would otherwise be read as train with a stray
/// argument, and `btviz help trian` would print the top-level help and exit 0.
enum CommandNames {
    /// Walks the leading words of `arguments` (after the program name) down the command tree and throws one line
    /// for the first word that stands where a command must be and names none. `help WORDS` is walked the same way.
    /// Only commands whose default subcommand takes no positional argument (train) can be checked like this.
    static func check(_ arguments: [String], root: ParsableCommand.Type = BTViz.self) throws {
        var words = arguments[...]
        if words.first == "help" { words = words.dropFirst() }
        var command = root, path = [root._commandName]
        for word in words {
            let subcommands = command.configuration.subcommands
            guard !word.hasPrefix("-"), !subcommands.isEmpty else { return }
            if let next = subcommands.first(where: { names($0).contains(word) }) {
                command = next
                path.append(word)
                continue
            }
            if word == "help" { return }  // ArgumentParser's own
            let shown = subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
            // The word is printed back: escaped, as anything a terminal would otherwise interpret.
            let what = "'\(TerminalText.escape(word))' is not a \(path.joined(separator: " ")) command"
            if let near = nearest(word, among: shown) {
                throw ValidationError("\(what); did you mean '\(near)'?")
            }
            throw ValidationError("\(what) (\(path.joined(separator: " ")) --help lists them: \(shown.joined(separator: ", ")))")
        }
    }

    static func names(_ command: ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }

    /// The one name closest to `word`: within two edits (a swap of neighbours counts as one), or the only name
    /// `word` begins. Nil when none is close or two are equally close.
    static func nearest(_ word: String, among names: [String]) -> String? {
        let scored = names.map { ($0, distance(word.lowercased(), $0)) }
        guard let best = scored.map(\.1).min(), best <= min(2, max(1, word.count / 2)) else {
            let prefixed = names.filter { $0.hasPrefix(word.lowercased()) }
            return word.count >= 2 && prefixed.count == 1 ? prefixed[0] : nil
        }
        let ties = scored.filter { $0.1 == best }
        return ties.count == 1 ? ties[0].0 : nil
    }

    /// Edits (insert, delete, replace, swap two neighbours) between two strings: the optimal string alignment distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
