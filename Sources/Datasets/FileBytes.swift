import BTCore
import Foundation

/// A whole file, as bytes: regular files only, refused before allocating when it is larger than `limit`
/// (`what` names the limit: "a CIFAR-10 batch") or than this process may allocate (the rule in BTCore/ReadLimits).
func readFileBytes(path: String, limit: Int = Int.max, what: String = "a data file") throws -> [UInt8] {
    try RegularFile(path).readAll(limit: limit, what: what)
}

func fileExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
}

/// "<what> <path>: <strerror(errno)>".
func fileError(_ path: String, _ what: String) -> BTError { RegularFile.error(path, what) }
