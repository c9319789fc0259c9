import BTCore
import CCrypto
import Foundation
import Records

/// RUN/eval.json: a finished run's evaluation of record, written by `btviz sweep eval`. The test figure with
/// batch-norm statistics re-estimated under the run's own method on a fixed draw of training images (what
/// `btviz eval RUN` prints for that method), and beside it the figure with the checkpoint's stored statistics.
/// It is keyed to what was evaluated: the SHA-256 of checkpoint.bin's bytes and the calibration (how many images,
/// which draw). A run resumed or retrained has another checkpoint, so its cache no longer matches and is redone.
public struct RunEvaluation: Codable, Equatable, Sendable {
    public static let fileName = "eval.json"
    /// Ours are about 600 bytes; anything much larger was not written by btviz and is not read.
    public static let maxBytes = 64 << 10
    /// The one layout this version writes and reads.
    public static let currentFormat = 1
    /// The draw of calibration images `btviz eval` makes: changes with the calibration code, and then every cache
    /// is redone.
    public static let calibrationDraw = "train split shuffled by the run's seed (calibration stream), no augmentation"

    public var format: Int
    /// Lowercase hex SHA-256 of checkpoint.bin as evaluated.
    public var checkpointSHA256: String
    /// The checkpoint's step.
    public var step: Int
    /// The method the run trained with, the one evaluated.
    public var method: String
    /// Calibration images asked for (the key) and used (fewer for a small training split).
    public var calibrationImages: Int
    public var calibrationUsed: Int
    public var calibrationDraw: String
    /// The metric's name, as the run's epoch records name it (`Metric(named:)`; only accuracy is re-estimated).
    public var metric: String
    public var testImages: Int
    /// Re-estimated statistics: the figure of record.
    public var testMetric: Double
    public var testLoss: Double
    /// The checkpoint's stored statistics.
    public var storedTestMetric: Double
    public var storedTestLoss: Double
    public var evaluatedAt: String

    enum CodingKeys: String, CodingKey {
        case format, step, method, metric
        case checkpointSHA256 = "checkpoint_sha256", calibrationImages = "calibration_images"
        case calibrationUsed = "calibration_used", calibrationDraw = "calibration_draw", testImages = "test_images"
        case testMetric = "test_metric", testLoss = "test_loss", storedTestMetric = "stored_test_metric"
        case storedTestLoss = "stored_test_loss", evaluatedAt = "evaluated_at"
    }

    public init(checkpointSHA256: String, step: Int, method: String, calibrationImages: Int, calibrationUsed: Int,
                metric: String, testImages: Int, testMetric: Double, testLoss: Double, storedTestMetric: Double,
                storedTestLoss: Double, evaluatedAt: String) {
        format = Self.currentFormat; calibrationDraw = Self.calibrationDraw
        self.checkpointSHA256 = checkpointSHA256; self.step = step; self.method = method
        self.calibrationImages = calibrationImages; self.calibrationUsed = calibrationUsed; self.metric = metric
        self.testImages = testImages; self.testMetric = testMetric; self.testLoss = testLoss
        self.storedTestMetric = storedTestMetric; self.storedTestLoss = storedTestLoss; self.evaluatedAt = evaluatedAt
    }

    /// What a reader of the file found.
    public enum Lookup: Equatable, Sendable {
        case missing
        /// There, but not a cache btviz can use (not a regular file, too large, not ours, implausible): the reason.
        case unusable(String)
        case found(RunEvaluation)
    }

    /// RUN/eval.json, read without following a link or blocking on a FIFO, at most `maxBytes`, and checked field
    /// by field: whatever is there, the answer is one of the three cases.
    public static func read(runDir: String) -> Lookup {
        let path = runDir + "/" + fileName
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return .missing }
            if errno == ELOOP { return .unusable("it is a symbolic link") }
            return .unusable(String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .unusable(String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else { return .unusable("it is \(SweepFolder.describe(st.st_mode & S_IFMT)), not a file") }
        guard Int(st.st_size) <= maxBytes else { return .unusable("it is \(MemoryBudget.describe(Int(st.st_size))), more than an eval.json holds") }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return .unusable(String(cString: strerror(errno))) }
            if n == 0 { break }
            count += n
        }
        guard count <= maxBytes else { return .unusable("it grew past \(MemoryBudget.describe(maxBytes)) while read") }
        guard let e = try? JSONDecoder().decode(RunEvaluation.self, from: Data(bytes[0..<count])) else {
            return .unusable("it is not an evaluation btviz wrote")
        }
        if let problem = e.problem { return .unusable(problem) }
        return .found(e)
    }

    /// What makes a decoded file implausible, or nil.
    var problem: String? {
        guard format == Self.currentFormat else { return "format \(format), not \(Self.currentFormat)" }
        guard checkpointSHA256.count == 64, checkpointSHA256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return "its checkpoint_sha256 is not a SHA-256"
        }
        guard step >= 0, calibrationImages >= 2, (0...calibrationImages).contains(calibrationUsed), testImages >= 0 else {
            return "a count is out of range"
        }
        guard [testMetric, testLoss, storedTestMetric, storedTestLoss].allSatisfy(\.isFinite) else { return "a figure is not finite" }
        guard method.count <= 64, metric.count <= 64, evaluatedAt.count <= 64 else { return "a field is too long" }
        guard let m = Metric(named: metric) else { return "its metric '\(metric)' is not one btviz reports" }
        if ![testMetric, storedTestMetric].allSatisfy(m.isPlausible) {
            let range = String(format: "%g...%g", Double(m.plausible.lowerBound), Double(m.plausible.upperBound))
            return "\(m == .accuracy ? "an" : "a") \(m.title) is outside \(range)"
        }
        return nil
    }

    /// Writes RUN/eval.json atomically; a link, FIFO or folder in its place is refused, never replaced.
    public func write(runDir: String) throws {
        try AtomicFile.write(JSONOutput.data(self, .pretty) + Data("\n".utf8), to: runDir + "/" + Self.fileName)
    }

    /// The SHA-256 of a file's bytes as lowercase hex, read in 4 MB chunks (a regular file only).
    public static func sha256(path: String) throws -> String {
        let file = try RegularFile(path)
        guard let ctx = EVP_MD_CTX_new() else { throw BTError("cannot hash \(path): OpenSSL failed") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { throw BTError("cannot hash \(path): OpenSSL failed") }
        var chunk = [UInt8](repeating: 0, count: 4 << 20)
        try chunk.withUnsafeMutableBytes { c in
            while case let n = try file.read(into: c.baseAddress!, count: c.count), n > 0 {
                guard EVP_DigestUpdate(ctx, c.baseAddress!, n) == 1 else { throw BTError("cannot hash \(path): OpenSSL failed") }
            }
        }
        var out = [UInt8](repeating: 0, count: 64), n: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &out, &n) == 1 else { throw BTError("cannot hash \(path): OpenSSL failed") }
        return out.prefix(Int(n)).map { String(format: "%02x", $0) }.joined()
    }

    /// The calibration `btviz eval` and `sweep eval` use unless told otherwise.
    public static let defaultCalibrationImages = 512

    /// A run's evaluation of record if RUN/eval.json is there and matches its checkpoint.bin now; otherwise why
    /// not, in words a table prints.
    /// nil `calibrationImages` accepts any calibration (a table counts what `sweep eval` was asked for).
    public static func current(runDir: String, calibrationImages: Int?) -> (RunEvaluation?, why: String) {
        switch read(runDir: runDir) {
        case .missing: return (nil, "not evaluated")
        case .unusable(let why): return (nil, "its eval.json is unusable (\(why))")
        case .found(let e):
            guard let digest = try? sha256(path: runDir + "/" + RunFiles.checkpoint) else { return (nil, "its checkpoint cannot be read") }
            guard e.checkpointSHA256 == digest else { return (nil, "evaluated for another checkpoint (resumed or retrained since)") }
            guard e.calibrationDraw == calibrationDraw else { return (nil, "evaluated on another draw of calibration images") }
            if let c = calibrationImages, c != e.calibrationImages {
                return (nil, "evaluated with \(e.calibrationImages) calibration images, not \(c)")
            }
            return (e, "")
        }
    }
}
