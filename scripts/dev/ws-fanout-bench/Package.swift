// swift-tools-version: 6.1
//
// WebSocket fan-out latency measurement for docs/websocket.md (a dev tool, not part of CI).
// A separate package so a release build compiles only WebSocketHub and SwiftNIO:
//
//   swift run -c release --package-path scripts/dev/ws-fanout-bench ws-fanout-bench [SUBSCRIBERS] [WARNINGS] [BYTES]
import PackageDescription

let package = Package(
    name: "ws-fanout-bench",
    dependencies: [.package(name: "QuakeWarn", path: "../../..")],
    targets: [
        .executableTarget(
            name: "ws-fanout-bench",
            dependencies: [.product(name: "WebSocketHub", package: "QuakeWarn")]
        )
    ],
    swiftLanguageModes: [.v6]
)
