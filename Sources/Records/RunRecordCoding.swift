import BTCore
import Foundation

/// metrics.jsonl encoding: one JSON object per line, keys sorted, non-finite floats as null.
public enum RunRecordCoding {
    public static func encode(_ record: RunRecord) -> String {
        let data: Data?
        switch record {
        case .step(let r): data = try? JSONOutput.data(r)
        case .epoch(let r): data = try? JSONOutput.data(r)
        case .event(let r): data = try? JSONOutput.data(r)
        }
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    /// Decodes one line; nil for a blank, torn, unknown or implausible line (a live run may be mid-append; a
    /// damaged file may hold anything).
    public static func decode(_ line: Substring) -> RunRecord? {
        decodeUnchecked(line).flatMap { RecordChecks.plausible($0) ? $0 : nil }
    }

    private static func decodeUnchecked(_ line: Substring) -> RunRecord? {
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

    /// Every record of a metrics.jsonl file, in order, and how many non-blank lines were skipped as malformed.
    public static func read(path: String) throws -> (records: [RunRecord], skipped: Int) {
        // A regular file only (a FIFO in its place would block the read for ever), within the memory budget.
        let bytes = try RegularFile(path).readAll(limit: Int.max, what: "a metrics.jsonl")
        return decodeLines(String(decoding: bytes, as: UTF8.self))
    }

    /// The records of whole lines of text, and how many non-blank lines were skipped as malformed.
    public static func decodeLines(_ text: String) -> (records: [RunRecord], skipped: Int) {
        var records: [RunRecord] = [], skipped = 0
        for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            if let r = decode(line) { records.append(r) } else { skipped += 1 }
        }
        return (records, skipped)
    }
}

