/// What a run actually read, as opposed to what it was told to read: the dataset's name says which loader ran,
/// this says which data. Runs are comparable only when their data identities are equal (`compare` groups by the
/// fingerprint, never by a folder's name), and a dataset name given for another dataset's files is caught here.
public struct DataIdentity: Codable, Sendable, Equatable {
    /// Images in the splits as loaded (before --train-limit / --test-limit, which are options of the run).
    public var train: Int
    public var test: Int
    /// Each file read, by name, with the md5 of its bytes as stored; an image folder lists its images' sizes
    /// instead ("size:1234"), since hashing thousands of images would cost more than the training's first epoch.
    public var files: [String: String]
    /// Whether the files are the catalog's official release: nil where the catalog lists no checksums (synthetic,
    /// image folders) or not every file read has one.
    public var official: Bool?
    /// md5 over the counts and the sorted (name, checksum) pairs: equal fingerprints, the same data.
    public var fingerprint: String

    /// `fingerprint` as `init(train:test:files:official:)` (in Datasets, which has md5) computes it.
    public init(train: Int, test: Int, files: [String: String], official: Bool?, fingerprint: String) {
        self.train = train; self.test = test; self.files = files; self.official = official
        self.fingerprint = fingerprint
    }

    /// "60000/10000 official", "2557/4443", for tables.
    public var summary: String { "\(train)/\(test)" + (official == true ? " official" : "") }

    /// The data as a run read it, the one spelling `sweep table` and `compare` print: "fashion (2,557/4,443, not the
    /// official release)"; with --train-limit 200 and --test-limit 300 (the first images of each split) "fashion
    /// (200/300 of 2,557/4,443, not the official release)".
    public func label(dataset: String, trainLimit: Int, testLimit: Int) -> String {
        func used(_ n: Int, _ limit: Int) -> Int { limit > 0 ? min(limit, n) : n }
        let (usedTrain, usedTest) = (used(train, trainLimit), used(test, testLimit))
        var text = Self.grouped(usedTrain) + "/" + Self.grouped(usedTest)
        if (usedTrain, usedTest) != (train, test) { text += " of " + Self.grouped(train) + "/" + Self.grouped(test) }
        switch official {
        case true?: text += ", the official release"
        case false?: text += ", not the official release"
        case nil: break
        }
        return "\(dataset) (\(text))"
    }

    /// 2557 as "2,557", whatever the locale.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }
}

