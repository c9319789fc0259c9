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
        ]),
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
        ]),
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
