internal import Logging
internal import NIOCore
internal import NIOHTTP1
internal import NIOWebSocket
internal import Synchronization

/// Answers every request that was not upgraded (the upgrader passes refused requests on to
/// this handler) with a short text response and closes the connection; enforces the handshake
/// timeout; removes itself once the connection is upgraded.
final class HubHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: HubCore
    private var request: HTTPRequestHead?
    private var responded = false
    private var handshakeTimer: Scheduled<Void>?

    init(core: HubCore) {
        self.core = core
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let core = self.core
        handshakeTimer = context.eventLoop.scheduleTask(in: core.configuration.handshakeTimeoutSeconds.timeAmount) {
            core.counters.requestsRejected.add(1, ordering: .relaxed)
            core.counters.changed()
            core.logger.notice("websocket handshake timeout", metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case HTTPServerUpgradeEvents.upgradeComplete = event {
            handshakeTimer?.cancel()
            handshakeTimer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request, !responded else { return }
            responded = true
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The upgrader reports a refused upgrade as an error and then passes the request on to
        // channelRead; that is not a failure of the connection.
        if error is NIOWebSocketUpgradeError { return }
        core.logger.debug("websocket hub: HTTP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let remote = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        let status: HTTPResponseStatus
        let text: String
        var extraHeaders: [(String, String)] = []
        switch core.admission(for: head) {
        case .notFound:
            status = .notFound
            text = "not found: subscribe at \(core.configuration.path)"
        case .methodNotAllowed:
            status = .methodNotAllowed
            text = "method not allowed: use GET with Upgrade: websocket"
            extraHeaders.append(("Allow", "GET"))
        case .unauthorized:
            status = .unauthorized
            text = "unauthorized: send Authorization: Bearer <token> or ?token=<token>"
            extraHeaders.append(("WWW-Authenticate", "Bearer"))
            core.counters.authFailures.add(1, ordering: .relaxed)
            core.counters.changed()
            core.logger.warning("websocket subscriber rejected: missing or wrong token", metadata: ["remote": "\(remote)"])
        case .full:
            status = .serviceUnavailable
            text = "too many subscribers (limit \(core.configuration.maxSubscribers))"
            core.logger.warning("websocket subscriber rejected: hub full", metadata: ["remote": "\(remote)"])
        case .accept:
            // Path, method and token are fine, so the upgrade itself was missing or malformed.
            if head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
                status = .badRequest
                text = "bad websocket handshake (need Sec-WebSocket-Key and Sec-WebSocket-Version: 13)"
            } else {
                status = .upgradeRequired
                text = "this endpoint speaks WebSocket only (Upgrade: websocket)"
                extraHeaders.append(("Upgrade", "websocket"))
            }
        }
        if status != .unauthorized {
            core.counters.requestsRejected.add(1, ordering: .relaxed)
            core.counters.changed()
        }
        var body = context.channel.allocator.buffer(capacity: text.utf8.count + 1)
        body.writeString(text + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
