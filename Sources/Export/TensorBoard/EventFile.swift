import BTCore
import Foundation
import SwiftProtobuf

/// A TensorBoard event file: TFRecord framing (UInt64 length, masked CRC32C of the length, the data, masked CRC32C of
/// the data, all little-endian) around serialized `Event` protos, the first of them the file version. TensorBoard
/// reads every file named `*tfevents*` in a folder; records are appended and flushed as they come, so a live run
/// shows up while it trains.
public final class EventFileWriter {
    public let path: String
    private let fd: Int32

    /// A new file in `folder` (made if needed), named as TensorFlow's writer names them. The name is predictable,
    /// so the file is created exclusively: anything already there by that name (a planted link) is refused.
    /// `startTime` is the first event's wall time, from which TensorBoard counts a run's relative time: now for a
    /// live run, the first record's time for an export.
    public init(folder: String, startTime: Double = Date().timeIntervalSince1970) throws {
        try OutputFolder.create(folder, what: "the TensorBoard folder")
        let now = Date().timeIntervalSince1970
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        path = folder + "/events.out.tfevents.\(Int(now)).\(host).\(getpid())"
        fd = try OutputFile.openAppending(path, exclusive: true)
        var version = Tensorboard_Event()
        version.wallTime = startTime
        version.fileVersion = "brain.Event:2"
        try write(version)
    }

    deinit { close(fd) }

    public func write(_ event: Tensorboard_Event) throws {
        let data = try event.serializedData()
        var record = Data(capacity: data.count + 16)
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { record.append(contentsOf: $0) }
        let lengthCRC = CRC32C.masked(record)
        withUnsafeBytes(of: lengthCRC.littleEndian) { record.append(contentsOf: $0) }
        record.append(data)
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { record.append(contentsOf: $0) }
        try OutputFile.writeAll(record, to: fd, what: path)
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, and TFRecord's masking of it.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum<D: DataProtocol>(_ bytes: D) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TFRecord stores the CRC rotated right by 15 bits plus a constant, so a CRC of CRCs is not a CRC.
    public static func masked<D: DataProtocol>(_ bytes: D) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
