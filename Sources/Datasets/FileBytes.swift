import BTCore
import Foundation

func fileExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
}

/// "<what> <path>: <strerror(errno)>".
func fileError(_ path: String, _ what: String) -> BTError { RegularFile.error(path, what) }
