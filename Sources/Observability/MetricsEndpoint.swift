// Observability: the HTTP endpoint both daemons (ingest, relay) expose for operators.
//
//   GET /metrics  → Prometheus text exposition format 0.0.4 of a PrometheusCollectorRegistry
//   GET /health   → one JSON object {"status":"ok"|"degraded", ...} (200 when healthy, 503 otherwise)
//   anything else → 404 / 405
//
// The metrics are created on an explicit registry passed around by the daemon (never the global
// MetricsSystem), so tests and several services in one process do not interfere.

public import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import SeismicCore
public import Prometheus

/// A health report served at `/health`.
public struct HealthReport: Sendable, Equatable {
    /// `true` when the service does what it should (e.g. connected upstream, outbox draining).
    public var healthy: Bool
    /// Extra fields, rendered as JSON string values in key order.
    public var details: [(String, String)]

    public init(healthy: Bool, details: [(String, String)] = []) {
        self.healthy = healthy
        self.details = details
    }

    public static func == (a: HealthReport, b: HealthReport) -> Bool {
        a.healthy == b.healthy && a.details.elementsEqual(b.details, by: { $0 == $1 })
    }

    /// `{"status":"ok","k":"v",...}` with JSON string escaping.
    public var json: String {
        var out = "{\"status\":\"" + (healthy ? "ok" : "degraded") + "\""
        for (key, value) in details {
            out += "," + JSONText.quoted(key) + ":" + JSONText.quoted(value)
        }
        return out + "}"
    }

}

/// A small HTTP/1.1 server for `/metrics` and `/health`.
///
/// Binds to 127.0.0.1 by default: expose it further only behind the operator's own proxy.
/// Start with ``start(host:port:registry:health:group:)``, stop with ``shutdown()``.
public final class MetricsEndpoint: Sendable {
    /// The bound port (useful with port 0, which picks a free one).
    public let port: Int
    public let host: String
    private let channel: any Channel

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Binds and starts serving.
    /// - Parameters:
    ///   - host: address to bind (default loopback only).
    ///   - port: TCP port; 0 picks a free one (see ``port``).
    ///   - registry: the metrics to render at `/metrics`.
    ///   - health: called for every `/health` request, on a NIO event loop: keep it cheap and
    ///     non-blocking (read a few atomics/locked values).
    ///   - group: the event loop group (default: NIO's shared singleton group).
    /// - Throws: the bind error (e.g. address in use), naming host and port.
    public static func start(
        host: String = "127.0.0.1",
        port: Int,
        registry: PrometheusCollectorRegistry,
        health: @escaping @Sendable () -> HealthReport = { HealthReport(healthy: true) },
        group: (any EventLoopGroup)? = nil
    ) async throws -> MetricsEndpoint {
        let bootstrap = ServerBootstrap(group: group ?? MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry, health: health))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw MetricsEndpointError.bindFailed(host: host, port: port, reason: "\(error)")
        }
        let bound = channel.localAddress?.port ?? port
        return MetricsEndpoint(channel: channel, host: host, port: bound)
    }

    /// Closes the listening socket (open connections finish their current response).
    public func shutdown() async {
        try? await channel.close()
    }
}

public enum MetricsEndpointError: Error, CustomStringConvertible, Sendable {
    case bindFailed(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case let .bindFailed(host, port, reason):
            "metrics endpoint: cannot listen on \(host):\(port): \(reason)"
        }
    }
}

private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let health: @Sendable () -> HealthReport
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, health: @escaping @Sendable () -> HealthReport) {
        self.registry = registry
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            request = head
        case .body:
            break  // bodies are ignored (GET only)
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    /// A malformed request: NIO's protocol error handler has answered 400; close the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        let contentType: String
        var body = context.channel.allocator.buffer(capacity: 256)
        switch (head.method, path) {
        case (.GET, "/metrics"):
            status = .ok
            contentType = "text/plain; version=0.0.4; charset=utf-8"
            body.writeBytes(registry.emitToBuffer())
        case (.GET, "/health"):
            let report = health()
            status = report.healthy ? .ok : .serviceUnavailable
            contentType = "application/json"
            body.writeString(report.json + "\n")
        case (_, "/metrics"), (_, "/health"):
            status = .methodNotAllowed
            contentType = "text/plain; charset=utf-8"
            body.writeString("method not allowed\n")
        default:
            status = .notFound
            contentType = "text/plain; charset=utf-8"
            body.writeString("not found: /metrics and /health are served\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
