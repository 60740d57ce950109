// swift-tools-version: 6.1
//
// QuakeWarn — earthquake early-warning signal processor.
//
// One module per concern; the C libraries sit behind thin internal shim targets (`CFFTW`,
// `CMiniSEED`) that are imported with `internal import` and never appear in a public API.
// The benchmark suite is a sibling package in `Benchmarks/` so that ordo-one/benchmark does not
// slow down the main build and test cycle.
import PackageDescription

/// Settings every Swift target shares.
let strictSettings: [SwiftSetting] = [
    // SE-0409: `internal import` keeps the C shims out of every public interface.
    .enableUpcomingFeature("InternalImportsByDefault"),
    // SE-0444: a file sees only the modules it imports itself.
    .enableUpcomingFeature("MemberImportVisibility"),
    // SE-0335: existential types are spelled `any P`.
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "QuakeWarn",
    products: [
        .executable(name: "quakewarn", targets: ["QuakeWarnCLI"]),
        .library(name: "SeismicCore", targets: ["SeismicCore"]),
        .library(name: "SignalProcessing", targets: ["SignalProcessing"]),
        .library(name: "MiniSEED", targets: ["MiniSEED"]),
        .library(name: "Picking", targets: ["Picking"]),
        .library(name: "GroundMotion", targets: ["GroundMotion"]),
        .library(name: "Magnitude", targets: ["Magnitude"]),
        .library(name: "SeedLink", targets: ["SeedLink"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "Alerting", targets: ["Alerting"]),
        .library(name: "EventBuilder", targets: ["EventBuilder"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Observability", targets: ["Observability"]),
        .library(name: "WebSocketHub", targets: ["WebSocketHub"]),
        .library(name: "Relay", targets: ["Relay"]),
        .library(name: "Ingest", targets: ["Ingest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // SeedLink client/server and the MQTT 3.1.1 client run on SwiftNIO.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Ed25519 signatures on warnings (Curve25519.Signing).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // The operator's configuration file (stations, targets, thresholds) is YAML.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Daemons (ingest, relay): structured logs, Prometheus metrics, graceful shutdown.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The relay's durable outbox: SQLite in WAL mode.
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // Latency percentiles (p50/p99/p99.9/max) in the relay and end-to-end latency harnesses.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // MARK: - C shims (implementation details, no stable API)
        .systemLibrary(
            name: "CFFTW",
            path: "Sources/CFFTW",
            pkgConfig: "fftw3",
            providers: [.apt(["libfftw3-dev"])]
        ),
        .systemLibrary(
            name: "CMiniSEED",
            path: "Sources/CMiniSEED",
            providers: [.apt(["libmseed-dev"])]
        ),

        // MARK: - Public modules
        .target(name: "SeismicCore", swiftSettings: strictSettings),
        .target(name: "SignalProcessing", dependencies: ["SeismicCore", "CFFTW"], swiftSettings: strictSettings),
        .target(name: "MiniSEED", dependencies: ["SeismicCore", "CMiniSEED"], swiftSettings: strictSettings),
        .target(name: "Picking", dependencies: ["SeismicCore", "SignalProcessing"], swiftSettings: strictSettings),
        .target(name: "GroundMotion", dependencies: ["SeismicCore", "SignalProcessing"], swiftSettings: strictSettings),
        .target(
            name: "Magnitude",
            dependencies: ["SeismicCore", "SignalProcessing", "GroundMotion"],
            swiftSettings: strictSettings
        ),

        .target(
            name: "SeedLink",
            dependencies: [
                "SeismicCore", "MiniSEED",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "MQTT",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        .target(
            name: "Simulation",
            dependencies: ["SeismicCore", "SignalProcessing", "MiniSEED"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Alerting",
            dependencies: [
                "SeismicCore", "GroundMotion",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),

        .target(
            name: "EventBuilder",
            dependencies: ["SeismicCore", "SignalProcessing", "Picking", "Magnitude"],
            swiftSettings: strictSettings
        ),

        .target(
            name: "Pipeline",
            dependencies: ["SeismicCore", "SignalProcessing", "MiniSEED", "Picking", "Magnitude", "EventBuilder", "Alerting"],
            swiftSettings: strictSettings
        ),

        // MARK: - Daemons: ingest (SeedLink → pipeline → warnings) and relay (warnings → MQTT/WebSocket)
        .target(
            name: "Observability",
            dependencies: [
                "SeismicCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "WebSocketHub",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Relay",
            dependencies: [
                "SeismicCore", "Alerting", "MQTT", "Observability", "WebSocketHub",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The outbox insert binds its values through the SQLite C API (RelayOutbox.appendBatch).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "SeismicCore", "MiniSEED", "SeedLink", "Picking", "Pipeline", "Alerting", "Observability", "Relay",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: - Command-line tool
        .executableTarget(
            name: "QuakeWarnCLI",
            dependencies: [
                "SeismicCore", "SignalProcessing", "MiniSEED", "Picking", "GroundMotion", "Magnitude", "SeedLink", "Simulation", "Alerting", "EventBuilder", "Pipeline",
                "Observability", "WebSocketHub", "Relay", "Ingest", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The ingest daemon's processing loop, shared with its in-process relay.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["SeismicCore"], path: "Tests/TestSupport", swiftSettings: strictSettings),
        // Test-only: counts the calling thread's mallocs by defining malloc & co. in the test
        // executable (forwarding to glibc), so tests can prove hot paths allocate nothing.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(
            name: "HotPathAllocationTests",
            dependencies: ["CAllocationCounter", "SeismicCore", "SignalProcessing", "Picking", "Magnitude", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "SeismicCoreTests", dependencies: ["SeismicCore", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "SignalProcessingTests",
            dependencies: ["SignalProcessing", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MiniSEEDTests",
            dependencies: ["MiniSEED", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PickingTests",
            dependencies: ["Picking", "MiniSEED", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GroundMotionTests",
            dependencies: ["GroundMotion", "MiniSEED", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MagnitudeTests",
            dependencies: ["Magnitude", "Picking", "MiniSEED", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SeedLinkTests",
            dependencies: [
                "SeedLink", "MiniSEED", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MQTTTests",
            dependencies: [
                "MQTT", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "MiniSEED", "SignalProcessing", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AlertingTests",
            dependencies: ["Alerting", "SeismicCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EventBuilderTests",
            dependencies: ["EventBuilder", "Picking", "Magnitude", "MiniSEED", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Alerting", "EventBuilder", "Picking", "SeismicCore", "MiniSEED", "Simulation", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "Observability", "TestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WebSocketHubTests",
            dependencies: [
                "WebSocketHub", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RelayTests",
            dependencies: [
                "Relay", "Alerting", "MQTT", "WebSocketHub", "SeismicCore", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "MQTT", "SeedLink", "Pipeline", "MiniSEED", "Alerting", "Relay", "SeismicCore", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "QuakeWarnCLITests",
            dependencies: ["QuakeWarnCLI", "MiniSEED", "WebSocketHub", "TestSupport"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
