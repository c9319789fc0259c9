/// The paper's published Tables 1-4 (Ozkan & Akar), transcribed from ../shared/docs/paper-tables.md as printed:
/// classification top-1 accuracy (%), super-resolution and denoising PSNR (dB) on Y. `sweep table --paper`
/// prints them beside a sweep's cells. Each row: the table's coordinates, then one figure per method column.
/// Generated once from that file; Tests/CLITests/SweepTableTests.swift checks cells against it.
public enum PaperTables {
    public struct Table: Sendable {
        public var id: String
        public var title: String
        /// The coordinates of a row, as train options: dataset and k; scale and val_set; sigma and val_set.
        public var keys: [String]
        /// btviz's method ids, in the order of `rows`' figures (the paper's LQ is lq).
        public var methods: [String]
        /// Each row's coordinates and figures; bicubic and noisy are the baselines' columns.
        public var rows: [(coordinates: [String], figures: [Double?])]
        /// How the paper trained the table's runs, where the transcription records it (nil: not transcribed).
        public var setup: PaperSetup?
    }

    public static let all: [Table] = [
        Table(id: "table1", title: "Table 1: baselines (no regularizer)", keys: ["dataset", "k"], methods: ["full", "bwn", "twn", "ttq", "lq", "bt"], rows: [
            (["imagenet64", "64"], [42.81, 35.30, 38.25, 37.76, 39.01, 40.21]),
            (["imagenet64", "128"], [44.13, 40.08, 42.59, 41.18, 42.65, 42.80]),
            (["fashion", "16"], [93.48, 92.51, 93.20, 93.32, 93.34, 93.41]),
            (["fashion", "32"], [94.16, 93.28, 93.97, 93.91, 94.04, 94.03]),
            (["fashion", "64"], [94.56, 94.16, 94.30, 94.18, 94.29, 94.55]),
            (["fashion", "128"], [94.58, 94.39, 94.32, 94.34, 94.45, 94.51]),
            (["cifar10", "16"], [87.62, 78.70, 82.94, 83.83, 84.67, 84.61]),
            (["cifar10", "32"], [90.64, 86.45, 88.37, 88.53, 88.93, 89.49]),
            (["cifar10", "64"], [92.89, 90.35, 91.67, 91.02, 91.90, 92.01]),
            (["cifar10", "128"], [93.58, 92.06, 92.39, 92.23, 92.85, 92.92]),
            (["svhn", "16"], [94.14, 93.15, 93.44, 93.32, 94.04, 94.09]),
            (["svhn", "32"], [94.93, 94.32, 94.84, 94.69, 94.83, 94.88]),
            (["svhn", "64"], [95.43, 95.10, 95.22, 95.29, 95.31, 95.37]),
            (["svhn", "128"], [95.76, 95.17, 95.28, 95.65, 95.84, 95.74]),
        ], setup: .classification(lambda: 0, methods: ["bwn", "twn", "ttq", "lq", "bt"], says: "Table 1: no regularizer")),
        Table(id: "table2", title: "Table 2: with the transition regularizer (λ = 0.1)", keys: ["dataset", "k"], methods: ["full", "bwn", "twn", "bt"], rows: [
            (["imagenet64", "64"], [42.81, 40.29, 38.45, 40.97]),
            (["imagenet64", "128"], [44.13, 35.60, 42.82, 43.22]),
            (["fashion", "16"], [93.48, 93.11, 93.36, 93.45]),
            (["fashion", "32"], [94.16, 93.76, 94.08, 94.12]),
            (["fashion", "64"], [94.56, 94.34, 94.42, 94.55]),
            (["fashion", "128"], [94.58, 94.45, 94.50, 94.55]),
            (["cifar10", "16"], [87.62, 79.42, 83.42, 85.03]),
            (["cifar10", "32"], [90.64, 86.78, 88.52, 90.12]),
            (["cifar10", "64"], [92.89, 90.57, 91.92, 92.12]),
            (["cifar10", "128"], [93.58, 92.26, 92.57, 92.99]),
            (["svhn", "16"], [94.14, 93.67, 93.82, 94.12]),
            (["svhn", "32"], [94.93, 94.52, 94.90, 94.88]),
            (["svhn", "64"], [95.43, 95.28, 95.34, 95.40]),
            (["svhn", "128"], [95.76, 95.48, 95.54, 95.72]),
        ], setup: .classification(lambda: 0.1, methods: ["bwn", "twn", "bt"], says: "Table 2: λ = 0.1")),
        Table(id: "table3", title: "Table 3: super-resolution, PSNR on Y (trained on COCO val2017)", keys: ["scale", "val_set"], methods: ["full", "bicubic", "bwn", "twn", "bt"], rows: [
            (["2", "set5"], [36.61, 33.68, 36.00, 36.03, 36.63]),
            (["2", "set14"], [32.58, 30.24, 32.14, 32.13, 32.42]),
            (["2", "urban100"], [29.51, 26.61, 28.91, 28.83, 29.31]),
            (["2", "bsd100"], [31.48, 29.48, 31.08, 31.13, 31.28]),
            (["3", "set5"], [33.11, 30.43, 32.61, 32.67, 32.95]),
            (["3", "set14"], [29.46, 27.54, 29.13, 29.12, 29.32]),
            (["3", "bsd100"], [28.38, 27.14, 28.21, 28.25, 28.34]),
            (["4", "set5"], [30.82, 28.45, 30.35, 30.41, 30.72]),
            (["4", "set14"], [27.70, 26.01, 27.38, 27.43, 27.66]),
            (["4", "urban100"], [24.81, 23.12, 24.38, 24.49, 26.69]),
            (["4", "bsd100"], [27.01, 25.91, 26.73, 26.81, 26.97]),
        ]),
        Table(id: "table4", title: "Table 4: denoising, PSNR on Y", keys: ["sigma", "val_set"], methods: ["noisy", "full", "bwn", "twn", "bt"], rows: [
            (["0.05", "set5"], [26.20, 33.58, 33.06, 33.03, 33.59]),
            (["0.05", "set14"], [26.14, 32.41, 31.62, 31.64, 32.37]),
            (["0.1", "set5"], [20.26, 29.73, 29.63, 29.42, 29.71]),
            (["0.1", "set14"], [20.17, 28.89, 28.01, 28.07, 28.91]),
            (["0.2", "set5"], [14.65, 26.41, 26.05, 25.53, 26.55]),
            (["0.2", "set14"], [14.37, 25.19, 24.60, 24.29, 25.04]),
        ]),
    ]

    public static func table(_ id: String) -> Table? { all.first { $0.id == id } }
}

/// How the paper trained, as far as the project's transcription records it (../shared/docs/paper-tables.md: the
/// tables' λ; ../shared/docs/ENGINEERING.md: VGG-6(K), Adam, batch 128, cosine decay, crop and cutout, R the L1 norm
/// (a sum) of Q(W) − Q(W̃) with noise 0.1 × the first scale, threshold ratio 0.66, BT's scale a_opt; the full
/// datasets). The one place `sweep table --paper` compares each run's config.json with. What is not recorded here
/// (the epochs, the learning rate, the initialization) is stated in the caption, never compared.
public struct PaperSetup: Sendable {
    /// One way a run was trained differently: the setting, this run's value, the paper's, and the run's method
    /// (empty for a setting that is not per method, the data).
    public struct Difference: Equatable, Sendable {
        public var setting: String, ours: String, paper: String, method: String
        public var text: String { "\(setting) \(ours), paper: \(paper)" }
    }

    /// λ of the quantized methods' runs, and the methods it applies to (full precision has nothing to regularize).
    public var lambda: Double
    public var lambdaMethods: Set<String>
    /// What the paper says of its λ, for the caption.
    public var lambdaSays: String
    /// Options of config.json as the paper had them: key, value, and the methods they apply to (nil: every method). `withRegularizer`: only compared when the run's λ is not 0 (else they change nothing).
    public var options: [(key: String, value: String, methods: Set<String>?, withRegularizer: Bool)]
    /// Epochs: nil, the transcription does not give them.
    public var epochs: Int?
    /// Where the setup comes from, for the caption.
    public var source: String

    /// The settings in the caption's order.
    public var settingOrder: [String] { ["λ", "data"] + options.map { $0.key } + ["epochs"] }

    /// Tables 1 and 2: VGG-6(K) on the full datasets, with the paper's λ for `methods`.
    static func classification(lambda: Double, methods: Set<String>, says: String) -> PaperSetup {
        PaperSetup(lambda: lambda, lambdaMethods: methods, lambdaSays: says, options: [
            ("reg_reduction", "sum", nil, true),
            ("noise_ratio", "0.1", nil, true),
            ("delta_ratio", "0.66", ["twn", "bt"], false),
            ("bt_scale", "paper", ["bt"], false),
            ("batch_size", "128", nil, false),
            ("crop", "true", nil, false),
            ("cutout", "true", nil, false),
        ], epochs: nil, source: says + "; the full official datasets, batch 128, R summed, noise 0.1, ratio 0.66, BT's a_opt")
    }

    /// How one run differs from this setup (nothing for a run without a readable config.json).
    public func differences(_ run: SweepTable.RunResult) -> [Difference] {
        guard let trained = run.trained else { return [] }
        let method = (trained["method"] ?? run.options["method"] ?? "").lowercased()
        var out: [Difference] = []
        let runLambda = trained["lambda"].flatMap(Double.init)
        if lambdaMethods.contains(method), let l = runLambda, !Self.same(l, lambda) {
            out.append(Difference(setting: "λ", ours: trained["lambda"]!, paper: Self.text(lambda) + " (" + lambdaSays + ")", method: method))
        }
        // The data: the paper's is each dataset's full official release.
        if let d = run.data, let label = SweepTable.dataLabel(run) {
            let limited = ["train_limit", "test_limit"].contains { (trained[$0].flatMap { Int($0) } ?? 0) > 0 }
            if d.official != true || limited {
                out.append(Difference(setting: "data", ours: label, paper: "the full official release", method: ""))
            }
        }
        for o in options where o.methods.map({ $0.contains(method) }) ?? true {
            // Full precision has no regularizer, whatever λ its config.json holds.
            if o.withRegularizer && ((runLambda ?? 0) == 0 || method == "full") { continue }
            guard let v = trained[o.key], !Self.same(v, o.value) else { continue }
            out.append(Difference(setting: o.key, ours: v, paper: o.value, method: method))
        }
        if let e = epochs, let v = trained["epochs"], Int(v) != e {
            out.append(Difference(setting: "epochs", ours: v, paper: "\(e)", method: ""))
        }
        return out
    }

    /// Numbers compare as numbers (config.json's 0.66 is a Float: 0.6600000262), anything else as text.
    static func same(_ a: String, _ b: String) -> Bool {
        if let x = Double(a), let y = Double(b) { return same(x, y) }
        return a == b
    }
    static func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(abs(a), abs(b)) }
    static func text(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : "\(v)" }
}
