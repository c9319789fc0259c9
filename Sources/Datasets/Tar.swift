import BTCore
import Foundation

/// Members of a tar archive read in one forward pass (CIFAR-10 ships as cifar-10-binary.tar.gz, read without
/// extracting it). Tar is simple enough to read by hand: 512-byte headers (name, octal size, type, checksum),
/// each member's bytes padded to 512, two zero blocks at the end. Handled: ustar and old-style headers, GNU long
/// names ('L'), pax headers ('x', 'g') skipped. Every header's checksum is verified, so a damaged or non-tar
/// stream is an error, not garbage.
final class TarReader {
    struct Member { var name: String; var size: Int; var isFile: Bool }

    private let source: GzipFileReader
    private let path: String
    private var pending = 0        // bytes of the current member not yet consumed, padding included
    private var finished = false

    init(gzipPath path: String) throws {
        self.path = path
        source = try GzipFileReader(path: path)
    }

    /// The next member's header, or nil at the end of the archive. Skips what is left of the previous member.
    func next() throws -> Member? {
        try discard(pending); pending = 0
        guard !finished else { return nil }
        var longName: String?
        while true {
            var h = [UInt8](repeating: 0, count: 512)
            let got = try readFully(&h, 512)
            if got == 0 { throw bad("ends without the end-of-archive blocks") }
            guard got == 512 else { throw bad("ends inside a header") }
            if h.allSatisfy({ $0 == 0 }) { finished = true; return nil }
            guard let stored = octal(h, 148, 8) else { throw bad("not a tar archive (unreadable header checksum)") }
            let sum = h.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
            guard sum == stored else { throw bad("header checksum mismatch (damaged or not a tar archive)") }
            guard let size = octal(h, 124, 12) else { throw bad("unreadable member size") }
            let padded = (size + 511) / 512 * 512
            let type = h[156]
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next member's long name is this member's data
                var name = [UInt8](repeating: 0, count: padded)
                guard try readFully(&name, padded) == padded else { throw bad("ends inside a long name") }
                longName = String(decoding: name.prefix(size).prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):  // pax extended headers: not needed here
                try discard(padded)
                continue
            default:
                var name = longName ?? cString(h, 0, 100)
                if longName == nil, Array(h[257..<262]) == Array("ustar".utf8) {
                    let prefix = cString(h, 345, 155)
                    if !prefix.isEmpty { name = prefix + "/" + name }
                }
                pending = padded
                return Member(name: name, size: size, isFile: type == 0 || type == UInt8(ascii: "0"))
            }
        }
    }

    /// The current member's bytes (call once, after `next`).
    func readMember(_ m: Member) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: m.size)
        guard try readFully(&bytes, m.size) == m.size else { throw bad("ends inside \(m.name)") }
        pending -= m.size
        return bytes
    }

    private func bad(_ why: String) -> BTError { BTError("bad tar archive \(path): \(why)") }

    private func readFully(_ buf: inout [UInt8], _ n: Int) throws -> Int {
        var got = 0
        try buf.withUnsafeMutableBytes { raw in
            while got < n {
                let r = try source.read(into: raw.baseAddress! + got, count: n - got)
                if r == 0 { break }
                got += r
            }
        }
        return got
    }

    private func discard(_ n: Int) throws {
        var left = n
        var scratch = [UInt8](repeating: 0, count: min(max(n, 1), 1 << 16))
        while left > 0 {
            let k = try readFully(&scratch, min(left, scratch.count))
            guard k > 0 else { throw bad("ends inside a member") }
            left -= k
        }
    }

    private func cString(_ h: [UInt8], _ at: Int, _ len: Int) -> String {
        String(decoding: h[at..<at + len].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (NUL- or space-terminated), or GNU's base-256 form for large sizes.
    private func octal(_ h: [UInt8], _ at: Int, _ len: Int) -> Int? {
        if h[at] & 0x80 != 0 {
            return h[(at + 1)..<(at + len)].reduce(0) { $0 << 8 | Int($1) }
        }
        let digits = h[at..<at + len].drop { $0 == 32 }.prefix { $0 != 0 && $0 != 32 }
        guard !digits.isEmpty else { return nil }
        var v = 0
        for d in digits {
            guard (48...55).contains(d) else { return nil }
            v = v * 8 + Int(d - 48)
        }
        return v
    }
}
