import BTCore
import Foundation

/// metrics.jsonl encoding: one JSON object per line, keys sorted, non-finite floats as null.
public enum RunRecordCoding {
    public static func encode(_ record: RunRecord) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data: Data?
        switch record {
        case .step(let r): data = try? encoder.encode(r)
        case .epoch(let r): data = try? encoder.encode(r)
        case .event(let r): data = try? encoder.encode(r)
        }
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    /// Decodes one line; nil for a blank, torn or unknown line (a live run may be mid-append).
    public static func decode(_ line: Substring) -> RunRecord? {
        let data = Data(line.utf8)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        struct Kind: Decodable { let type: String }
        guard let kind = try? decoder.decode(Kind.self, from: data) else { return nil }
        switch kind.type {
        case "step": return (try? decoder.decode(StepRecord.self, from: data)).map(RunRecord.step)
        case "epoch": return (try? decoder.decode(EpochRecord.self, from: data)).map(RunRecord.epoch)
        case "event": return (try? decoder.decode(EventRecord.self, from: data)).map(RunRecord.event)
        default: return nil
        }
    }

    /// Every record of a metrics.jsonl file, in order.
    public static func read(path: String) throws -> [RunRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BTError("cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").compactMap(decode)
    }
}

