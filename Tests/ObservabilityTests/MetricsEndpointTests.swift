import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Observability
import Prometheus

/// Sends one raw HTTP/1.0 request to 127.0.0.1:port and returns the whole response.
private func httpGet(port: Int, request: String) async throws -> String {
    let collector = ResponseCollector()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in channel.pipeline.addHandler(collector) }
        .connect(host: "127.0.0.1", port: port).get()
    var buffer = channel.allocator.buffer(capacity: request.utf8.count)
    buffer.writeString(request)
    try await channel.writeAndFlush(buffer)
    try await channel.closeFuture.get()
    return collector.text
}

private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private(set) var text = ""  // touched only on the channel's event loop, read after close
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        text += buffer.readString(length: buffer.readableBytes) ?? ""
    }
}

@Suite("Metrics endpoint")
struct MetricsEndpointTests {
    @Test("GET /metrics renders the registry in Prometheus text format")
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "quakewarn", subsystem: "test", metricName: "records", unitName: "total", helpText: "Records seen"),
            labels: [("station", "NANT")])
        counter.increment(by: Int64(41))
        counter.increment()
        let endpoint = try await MetricsEndpoint.start(port: 0, registry: registry)
        defer { Task { await endpoint.shutdown() } }
        #expect(endpoint.port > 0)
        let response = try await httpGet(port: endpoint.port, request: "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.0 200 OK"))
        #expect(response.contains("# TYPE quakewarn_test_records_total counter"))
        #expect(response.contains("quakewarn_test_records_total{station=\"NANT\"} 42"))
        await endpoint.shutdown()
    }

    @Test("GET /health answers 200 when healthy and 503 with details when not")
    func health() async throws {
        let registry = PrometheusCollectorRegistry()
        let state = HealthState()
        let endpoint = try await MetricsEndpoint.start(port: 0, registry: registry, health: { state.report })
        let ok = try await httpGet(port: endpoint.port, request: "GET /health HTTP/1.0\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.0 200 OK"))
        #expect(ok.contains("{\"status\":\"ok\"}"))
        state.report = HealthReport(healthy: false, details: [("broker", "disconnected \"x\"")])
        let bad = try await httpGet(port: endpoint.port, request: "GET /health HTTP/1.0\r\n\r\n")
        #expect(bad.hasPrefix("HTTP/1.0 503 Service Unavailable"))
        #expect(bad.contains("{\"status\":\"degraded\",\"broker\":\"disconnected \\\"x\\\"\"}"))
        await endpoint.shutdown()
    }

    @Test("Unknown paths get 404, other methods 405, garbage gets 400, and the server keeps serving")
    func badRequests() async throws {
        let registry = PrometheusCollectorRegistry()
        let endpoint = try await MetricsEndpoint.start(port: 0, registry: registry)
        let notFound = try await httpGet(port: endpoint.port, request: "GET /nope HTTP/1.0\r\n\r\n")
        #expect(notFound.hasPrefix("HTTP/1.0 404 Not Found"))
        let post = try await httpGet(port: endpoint.port, request: "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.0 405 Method Not Allowed"))
        let garbage = try await httpGet(port: endpoint.port, request: "\u{01}\u{02} not http at all\r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request"))
        let after = try await httpGet(port: endpoint.port, request: "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(after.hasPrefix("HTTP/1.0 200 OK"))
        await endpoint.shutdown()
    }

    @Test("A port already in use gives a bind error naming host and port")
    func bindError() async throws {
        let registry = PrometheusCollectorRegistry()
        let first = try await MetricsEndpoint.start(port: 0, registry: registry)
        await #expect(throws: MetricsEndpointError.self) {
            _ = try await MetricsEndpoint.start(port: first.port, registry: registry)
        }
        do {
            _ = try await MetricsEndpoint.start(port: first.port, registry: registry)
        } catch {
            #expect("\(error)".contains("127.0.0.1:\(first.port)"))
        }
        await first.shutdown()
    }

    @Test("Health JSON escapes quotes, backslashes and control characters")
    func jsonEscaping() {
        let report = HealthReport(healthy: true, details: [("a\"b", "c\\d\n\u{01}")])
        #expect(report.json == "{\"status\":\"ok\",\"a\\\"b\":\"c\\\\d\\n\\u0001\"}")
    }
}

private final class HealthState: @unchecked Sendable {
    private let lock = NIOLock()
    private var _report = HealthReport(healthy: true)
    var report: HealthReport {
        get { lock.withLock { _report } }
        set { lock.withLock { _report = newValue } }
    }
}
