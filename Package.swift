// swift-tools-version:6.0
import PackageDescription

// Release builds compile for this CPU: without it SIMD FMAs become per-lane library calls.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native", "-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "btviz",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "btviz", targets: ["btviz"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries, each through a system-library target.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNCurses", providers: [.apt(["libncurses-dev"])]),
        // zlib as CLibz: ZIPFoundation brings a module of its own named CZlib.
        .systemLibrary(name: "CLibz", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMatio", pkgConfig: "matio", providers: [.apt(["libmatio-dev"])]),
        .systemLibrary(name: "CPng", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // Open MPI through dlopen: no build-time MPI; a launch by mpirun without it says what is missing.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl")]),

        // Layers, bottom to top: core -> records -> kernels -> layers/quantizers -> models -> training -> explorer -> CLI.
        .target(name: "BTCore", swiftSettings: fast),
        // What a run reports (records, their coding and checks, the one status fold, the live mailbox): no math, no I/O
        // libraries, so the explorer, figures and sweeps can read runs without the training stack.
        .target(name: "Records", dependencies: ["BTCore"], swiftSettings: fast),
        .target(name: "Kernels", dependencies: ["BTCore", "CBLAS"], swiftSettings: fast),
        .target(name: "Quantizers", dependencies: ["BTCore", "Kernels", "Records"], swiftSettings: fast),
        .target(name: "Layers", dependencies: ["BTCore", "Kernels"], swiftSettings: fast),
        .target(name: "Models", dependencies: ["BTCore", "Records", "Kernels", "Layers"], swiftSettings: fast),
        .target(name: "Datasets", dependencies: ["BTCore", "Records", "CLibz", "CCrypto", "CMatio", "CPng", "CJpeg",
                                                .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: fast),
        .target(name: "Training", dependencies: ["BTCore", "Records", "Kernels", "Layers", "Models", "Quantizers", "Datasets", "Restoration"],
                swiftSettings: fast),
        .target(name: "Explorer", dependencies: ["BTCore", "Records", "Quantizers", "Sweeps", "CNCurses"], swiftSettings: fast),
        // Sweeps: spec, sweep folder, run status, launchers, tables. Reads run records, never trains.
        .target(name: "Sweeps", dependencies: ["BTCore", "Records", "CCrypto", .product(name: "Yams", package: "Yams")]),
        // The ranks of one run: the launch, Open MPI, and the one order of a batch's sums on any rank count.
        .target(name: "Ranks", dependencies: ["BTCore", "CMPI"], swiftSettings: fast),
        .target(name: "Restoration", dependencies: ["BTCore", "Kernels", "Datasets", "CPng"], swiftSettings: fast),
        // ONNX, safetensors and TensorBoard writers (and the safetensors reader); the protobuf code in it is generated
        // once by scripts/gen-protos and committed.
        .target(name: "Export", dependencies: ["BTCore", "Records", "Kernels", "Layers", "Models", "Quantizers",
                                               .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                                               .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: fast),
        .executableTarget(
            name: "btviz",
            dependencies: ["BTCore", "Records", "Kernels", "Layers", "Models", "Quantizers", "Datasets", "Training", "Explorer", "Restoration", "Sweeps", "Export", "Ranks",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: fast),

        .testTarget(name: "BTCoreTests", dependencies: ["BTCore"], swiftSettings: fast),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "BTCore"], swiftSettings: fast),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Models", "Kernels", "Quantizers", "BTCore"], swiftSettings: fast),
        .testTarget(name: "QuantizersTests", dependencies: ["Quantizers", "Records", "Kernels", "BTCore"], swiftSettings: fast),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "BTCore"], swiftSettings: fast),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Records", "Layers", "Models", "Kernels", "Datasets", "Quantizers", "BTCore"], swiftSettings: fast),
        .testTarget(name: "ExplorerTests", dependencies: ["Explorer", "Records", "Quantizers", "Sweeps", "BTCore"], swiftSettings: fast),
        .testTarget(name: "RestorationTests", dependencies: ["Restoration", "Datasets", "Kernels", "BTCore"], swiftSettings: fast),
        .testTarget(name: "CLITests", dependencies: ["btviz", "Explorer", "Records"], swiftSettings: fast),
        .testTarget(name: "RanksTests", dependencies: ["Ranks", "BTCore"], swiftSettings: fast),
        .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Records", "BTCore", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Records", "Training", "Models", "Quantizers", "Kernels", "BTCore"], swiftSettings: fast),
    ],
    swiftLanguageModes: [.v5]
)
