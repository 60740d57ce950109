// swift-tools-version: 6.1
//
// QuakeWarn benchmark suite (ordo-one/benchmark), a sibling package of the main one so that the
// benchmark framework never slows the main build and test cycle. Run from this directory:
//   swift package benchmark
// See README.md for what each benchmark measures and the latest figures.
import PackageDescription

let package = Package(
    name: "QuakeWarnBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "QuakeWarn", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MiniSEEDBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MiniSEED", package: "QuakeWarn"),
                .product(name: "SeismicCore", package: "QuakeWarn"),
            ],
            path: "Benchmarks/MiniSEEDBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SignalProcessingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SignalProcessing", package: "QuakeWarn"),
            ],
            path: "Benchmarks/SignalProcessingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PickingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Picking", package: "QuakeWarn"),
                .product(name: "SeismicCore", package: "QuakeWarn"),
            ],
            path: "Benchmarks/PickingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "EventBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Alerting", package: "QuakeWarn"),
                .product(name: "EventBuilder", package: "QuakeWarn"),
                .product(name: "Magnitude", package: "QuakeWarn"),
                .product(name: "SeismicCore", package: "QuakeWarn"),
            ],
            path: "Benchmarks/EventBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SeedLinkBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MiniSEED", package: "QuakeWarn"),
                .product(name: "SeedLink", package: "QuakeWarn"),
                .product(name: "SeismicCore", package: "QuakeWarn"),
            ],
            path: "Benchmarks/SeedLinkBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "STALTAComparison",
            dependencies: [
                .product(name: "Picking", package: "QuakeWarn"),
                .product(name: "SeismicCore", package: "QuakeWarn"),
            ],
            path: "Tools/STALTAComparison"
        ),
    ],
    swiftLanguageModes: [.v6]
)
