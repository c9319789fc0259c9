import CCrypto

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
