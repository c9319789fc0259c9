import BTCore
import Foundation

/// Whole-file reads with POSIX calls, so an error names the file and the OS reason on one line.
func readFileBytes(path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw fileError(path, "cannot read") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw fileError(path, "cannot read") }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw BTError("cannot read \(path): is a directory") }
    var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
    var off = 0
    try bytes.withUnsafeMutableBytes { buf in
        while off < buf.count {
            let n = read(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 { if errno == EINTR { continue }; throw fileError(path, "cannot read") }
            if n == 0 { break }  // file shrank while reading
            off += n
        }
    }
    if off < bytes.count { bytes.removeLast(bytes.count - off) }
    return bytes
}

func fileExists(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
}

/// "<what> <path>: <strerror(errno)>".
func fileError(_ path: String, _ what: String) -> BTError {
    BTError("\(what) \(path): \(String(cString: strerror(errno)))")
}
