import Foundation
import XCTest

/// The bash completion script does what docs/cli.md says: subcommands, `--dataset` names, folders for run and
/// data folders, files for files. Driven in a real bash the way readline calls it (COMP_WORDS, COMP_CWORD).
final class CompletionTests: XCTestCase {
    /// What bash would offer for `line` (completing its last word) in `cwd`, with the generated script loaded.
    func complete(_ line: String, in cwd: String, script: String) throws -> [String] {
        let driver = """
            source "$1"
            line="$2"
            COMP_LINE="$line"; COMP_POINT=${#line}
            read -ra COMP_WORDS <<< "$line"
            [[ "$line" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
            fn=$(complete -p btviz | sed -E 's/.*-F ([^ ]+).*/\\1/')
            "$fn" btviz "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = (btvizPath as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        let o = try runProgram("/bin/bash", ["-c", driver, "driver", script, line], environment: env, currentDirectory: cwd)
        XCTAssertEqual(o.status, 0, o.stderr)
        return o.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.sorted()
    }

    func testBashCompletesDatasetsFoldersAndFiles() throws {
        let o = try btviz(["--generate-completion-script", "bash"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let dir = temporaryDirectory()
        let script = dir + "/btviz.bash"
        try o.stdout.write(toFile: script, atomically: true, encoding: .utf8)
        let fm = FileManager.default
        for d in ["runs/a", "runs/b"] { try fm.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true) }
        for f in ["runs/notes.txt", "runs/w.safetensors"] { try "x".write(toFile: dir + "/" + f, atomically: true, encoding: .utf8) }

        XCTAssertEqual(try complete("btviz tr", in: dir, script: script), ["train"])
        XCTAssertEqual(try complete("btviz train --dataset fa", in: dir, script: script), ["fashion"])
        XCTAssertTrue(try complete("btviz train --dataset ", in: dir, script: script).contains("cifar10"))
        XCTAssertEqual(try complete("btviz eval --weights runs/w.safetensors --dataset sv", in: dir, script: script), ["svhn"])
        // Folders only where a folder is asked for; files where a file is.
        XCTAssertEqual(try complete("btviz train --data-dir runs/", in: dir, script: script), ["runs/a", "runs/b"])
        XCTAssertEqual(try complete("btviz compare runs/", in: dir, script: script), ["runs/a", "runs/b"])
        XCTAssertEqual(try complete("btviz sweep table runs/", in: dir, script: script), ["runs/a", "runs/b"])
        XCTAssertEqual(try complete("btviz train --init-from runs/", in: dir, script: script).filter { $0.contains(".") }, ["runs/w.safetensors"])
        XCTAssertTrue(try complete("btviz plot runs/a --out runs/n", in: dir, script: script).contains("runs/notes.txt"))
    }

    func testZshAndFishScriptsListTheDatasets() throws {
        for shell in ["zsh", "fish"] {
            let o = try btviz(["--generate-completion-script", shell])
            XCTAssertEqual(o.status, 0, o.stderr)
            XCTAssertTrue(o.stdout.contains("fashion") && o.stdout.contains("cifar10"), "\(shell): no dataset names")
        }
    }
}
