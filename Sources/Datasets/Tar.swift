import BTCore
import Foundation

/// Members of a tar archive read in one forward pass (CIFAR-10 ships as cifar-10-binary.tar.gz, read without
/// extracting it). Tar is simple enough to read by hand: 512-byte headers (name, octal size, type, checksum),
/// each member's bytes padded to 512, two zero blocks at the end. Handled: ustar and old-style headers, GNU long
/// names ('L'), pax headers ('x', 'g') skipped. Every header's checksum is verified, so a damaged or non-tar
/// stream is an error, not garbage. Sizes come from a header and are not trusted: a member is only allocated by
/// `readMember`, whose caller bounds it first; skipped members are streamed past. The archive is read to its end
/// (zero padding only), so the gzip CRC and trailer are checked too.
final class TarReader {
    struct Member { var name: String; var size: Int; var isFile: Bool }

    private let source: FileStream
    private let path: String
    private var pending = 0        // bytes of the current member not yet consumed, padding included
    private var finished = false

    init(gzipPath path: String) throws {
        self.path = path
        source = try FileStream(path: path)
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
            if h.allSatisfy({ $0 == 0 }) { try finish(); return nil }
            guard let stored = octal(h, 148, 8) else { throw bad("not a tar archive (unreadable header checksum)") }
            let sum = h.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
            guard sum == stored else { throw bad("header checksum mismatch (damaged or not a tar archive)") }
            // 2^50 bytes is far beyond any real member and keeps the padding arithmetic from overflowing.
            guard let size = octal(h, 124, 12), size <= 1 << 50 else {
                throw bad("member size field is not a size (negative, too large or not octal)")
            }
            let padded = (size + 511) / 512 * 512
            let type = h[156]
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next member's long name is this member's data
                guard size <= TarReader.maxLongName else {
                    throw bad("a long name of \(size) bytes (at most \(TarReader.maxLongName))")
                }
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

    static let maxLongName = 1 << 16
    /// Zero padding allowed after the end-of-archive block (tar pads to its record size, 10 KB by default).
    static let maxEndPadding = 1 << 20

    /// The current member's bytes (call once, after `next`, with `m.size` bounded by the caller).
    func readMember(_ m: Member) throws -> [UInt8] {
        try MemoryBudget.check(m.size, for: "reading \(path) member \(m.name)")
        let bytes = try source.bytes(m.size)
        guard bytes.count == m.size else { throw bad("ends inside \(m.name)") }
        pending -= m.size
        return bytes
    }

    /// After the first zero block: the rest must be zeros (the second block and the record padding), read to the
    /// end so the gzip stream's CRC and length are checked.
    private func finish() throws {
        finished = true
        var scratch = [UInt8](repeating: 0, count: 1 << 16), seen = 0
        while true {
            let k = try readFully(&scratch, scratch.count)
            if k == 0 { return }
            guard scratch[0..<k].allSatisfy({ $0 == 0 }) else { throw bad("data after the end-of-archive block") }
            seen += k
            guard seen <= TarReader.maxEndPadding else {
                throw bad("more than \(MemoryBudget.describe(TarReader.maxEndPadding)) of padding after the end-of-archive block")
            }
        }
    }

    private func bad(_ why: String) -> BTError { BTError("bad tar archive \(path): \(why)") }

    private func readFully(_ buf: inout [UInt8], _ n: Int) throws -> Int {
        try buf.withUnsafeMutableBytes { try source.readFully(into: $0.baseAddress!, count: n) }
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

    /// An octal field (NUL- or space-terminated), or GNU's base-256 form for large sizes (big-endian two's
    /// complement after the 0x80 flag bit): nil when negative or beyond Int.
    private func octal(_ h: [UInt8], _ at: Int, _ len: Int) -> Int? {
        if h[at] & 0x80 != 0 {
            guard h[at] & 0x40 == 0 else { return nil }  // negative
            var v = Int(h[at] & 0x3f)
            for b in h[(at + 1)..<(at + len)] {
                guard v <= Int.max >> 8 else { return nil }
                v = v << 8 | Int(b)
            }
            return v
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
