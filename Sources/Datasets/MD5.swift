import BTCore
import CCrypto
import Foundation

/// MD5 as lowercase hex: the checksum the dataset publishers list for their files.
public func md5Hex(_ bytes: [UInt8]) -> String {
    var digest = [UInt8](repeating: 0, count: 16)
    let ok = bytes.withUnsafeBytes { raw in
        digest.withUnsafeMutableBufferPointer { btviz_md5(raw.baseAddress, raw.count, $0.baseAddress) }
    }
    precondition(ok == 1, "OpenSSL MD5 failed")
    let hex = Array("0123456789abcdef".utf8)
    var out = [UInt8](); out.reserveCapacity(32)
    for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

/// A checksum computed over bytes fed a chunk at a time (downloads of several GB are never held whole).
final class StreamingDigest {
    private let ctx: OpaquePointer
    init(_ algorithm: Checksum) {
        ctx = EVP_MD_CTX_new()!
        let md: OpaquePointer
        switch algorithm { case .md5: md = EVP_md5(); case .sha256: md = EVP_sha256() }
        precondition(EVP_DigestInit_ex(ctx, md, nil) == 1, "OpenSSL digest init failed")
    }
    deinit { EVP_MD_CTX_free(ctx) }

    func update(_ p: UnsafeRawPointer, _ n: Int) { precondition(EVP_DigestUpdate(ctx, p, n) == 1) }
    func update(_ d: Data) { d.withUnsafeBytes { if $0.count > 0 { update($0.baseAddress!, $0.count) } } }

    /// Lowercase hex; the digest cannot be fed after this.
    func finish() -> String {
        var out = [UInt8](repeating: 0, count: 64), n: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ctx, &out, &n) == 1)
        return out.prefix(Int(n)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The checksum of a file as stored, read in 4 MB chunks.
func fileDigest(path: String, _ algorithm: Checksum) throws -> String {
    try digest(algorithm, read: RegularFile(path).read)
}

/// The checksum of what `read` yields (a chunk at a time, 0 at the end).
func digest(_ algorithm: Checksum, read: (UnsafeMutableRawPointer, Int) throws -> Int) throws -> String {
    let d = StreamingDigest(algorithm)
    var chunk = [UInt8](repeating: 0, count: 4 << 20)
    try chunk.withUnsafeMutableBytes { c in
        while case let n = try read(c.baseAddress!, c.count), n > 0 { d.update(c.baseAddress!, n) }
    }
    return d.finish()
}
