internal import Logging
internal import NIOCore
internal import NIOWebSocket
internal import Synchronization

/// One upgraded subscriber connection. Lives on its channel's event loop only.
///
/// Inbound: NIO's `WebSocketFrameDecoder` (max frame size from the configuration) delivers
/// frames; we answer pings, note pongs, complete the close handshake and ignore data frames.
/// Protocol violations (RFC 6455 §5.1 unmasked client frame, §5.2 reserved bits or opcodes,
/// §5.5 oversized/fragmented control frames) close this connection with 1002 (1009 when too big).
///
/// Outbound: pre-encoded frames as `ByteBuffer`s (the hub's shared broadcast frame, or control
/// frames built here), written through ``RawFrameWriter``, which sits in front of NIO's frame
/// encoder so the bytes go to the socket unchanged.
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    enum SendResult { case sent, overCap, notOpen }

    private enum State { case open, closing, closed }

    private let core: HubCore
    private let remote: String
    private let writer: RawFrameWriter
    private var state = State.open
    private var context: ChannelHandlerContext?
    private var registry: LoopSubscribers?
    private var lastInbound = NIODeadline.now()
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?

    init(core: HubCore, remote: String, writer: RawFrameWriter) {
        self.core = core
        self.remote = remote
        self.writer = writer
    }

    private var key: ObjectIdentifier { ObjectIdentifier(self) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let registry = core.registry(for: context.eventLoop)
        registry.handlers[key] = self
        self.registry = registry
        core.counters.subscribers.add(1, ordering: .relaxed)
        core.counters.subscribersAccepted.add(1, ordering: .relaxed)
        core.counters.changed()
        core.logger.info("websocket subscriber connected", metadata: ["remote": "\(remote)"])
        lastInbound = .now()
        let configuration = core.configuration
        if configuration.pingIntervalSeconds > 0 {
            let interval = configuration.pingIntervalSeconds.timeAmount
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                loopBound.value.keepAliveTick()
            }
        }
        if !context.channel.isActive {
            // Closed between the upgrade and now: channelInactive will not come again.
            unregister()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unregister()
        pingTask?.cancel()
        closeTimer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        unregister()
        pingTask?.cancel()
        closeTimer?.cancel()
        context.fireChannelInactive()
    }

    /// Removes this subscriber from the broadcast set (once).
    private func unregister() {
        guard let registry else { return }
        registry.handlers.removeValue(forKey: key)
        self.registry = nil
        core.counters.subscribers.add(-1, ordering: .relaxed)
        core.counters.changed()
    }

    // MARK: Outbound

    /// Writes one pre-encoded warning frame (called by the loop's registry).
    func send(_ frame: ByteBuffer) -> SendResult {
        guard state == .open, let context else { return .notOpen }
        writer.writeAndFlush(frame)
        // Not writable = more than maxQueuedBytesPerSubscriber pending in NIO (high-water mark).
        return context.channel.isWritable ? .sent : .overCap
    }

    func dropAsTooSlow() {
        guard state == .open else { return }
        core.counters.slowSubscribersDropped.add(1, ordering: .relaxed)
        core.counters.changed()
        core.logger.warning(
            "websocket subscriber dropped: too slow",
            metadata: ["remote": "\(remote)", "capBytes": "\(core.configuration.maxQueuedBytesPerSubscriber)"]
        )
        initiateClose(code: WebSocketCloseCode.policyViolation, reason: "too slow: unsent data over the cap")
    }

    /// Sends a close frame, stops sending warnings, and closes the TCP connection when the peer
    /// answers or after the close timeout.
    func initiateClose(code: UInt16, reason: String) {
        guard state == .open, let context else { return }
        state = .closing
        unregister()
        pingTask?.cancel()
        let frame = WebSocketWire.serverFrame(
            opcode: WireOpcode.close, payload: WebSocketWire.closePayload(code: code, reason: reason),
            allocator: context.channel.allocator
        )
        writer.writeAndFlush(frame)
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: core.configuration.closeTimeoutSeconds.timeAmount) {
            channel.close(promise: nil)
        }
    }

    private func keepAliveTick() {
        guard state == .open, let context else { return }
        let idle = core.configuration.idleTimeoutSeconds
        if idle > 0, NIODeadline.now() - lastInbound > idle.timeAmount {
            core.counters.idleClosed.add(1, ordering: .relaxed)
            core.counters.changed()
            core.logger.notice("websocket subscriber idle, closing", metadata: ["remote": "\(remote)"])
            initiateClose(code: WebSocketCloseCode.goingAway, reason: "idle: no pong")
            return
        }
        let ping = WebSocketWire.serverFrame(opcode: WireOpcode.ping, payload: [UInt8](), allocator: context.channel.allocator)
        writer.writeAndFlush(ping)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastInbound = .now()
        guard frame.maskKey != nil else {
            protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "client frames must be masked")
            return
        }
        guard frame.reservedBits.isEmpty else {
            protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "reserved bits set without an extension")
            return
        }
        switch frame.opcode {
        case .connectionClose:
            if state == .open {
                // Peer-initiated close: echo its status code (RFC 6455 §5.5.1), then close TCP.
                state = .closing
                unregister()
                pingTask?.cancel()
                let (code, _) = WebSocketWire.parseClosePayload(frame.unmaskedData)
                let payload = code.map { WebSocketWire.closePayload(code: $0, reason: "") } ?? []
                let reply = WebSocketWire.serverFrame(opcode: WireOpcode.close, payload: payload, allocator: context.channel.allocator)
                writer.writeAndFlush(reply, closeAfterwards: true)
            } else {
                // Answer to our close: done.
                context.close(promise: nil)
            }
        case .ping:
            guard state == .open else { return }
            let pong = WebSocketWire.serverFrame(
                opcode: WireOpcode.pong, payload: frame.unmaskedData.readableBytesView, allocator: context.channel.allocator
            )
            writer.writeAndFlush(pong)
        case .pong, .text, .binary, .continuation:
            break  // liveness only; subscribers have nothing to say
        default:
            protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "unknown opcode \(frame.opcode)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            switch error {
            case .invalidFrameLength:
                protocolError(context: context, code: WebSocketCloseCode.messageTooBig,
                              reason: "frame larger than \(core.configuration.maxClientFrameBytes) bytes")
            case .fragmentedControlFrame:
                protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "fragmented control frame")
            case .multiByteControlFrameLength:
                protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "control frame longer than 125 bytes")
            }
            return
        }
        if error is ByteToMessageDecoderError {
            protocolError(context: context, code: WebSocketCloseCode.protocolError, reason: "undecodable input")
            return
        }
        core.logger.debug("websocket subscriber connection error", metadata: ["remote": "\(remote)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func protocolError(context: ChannelHandlerContext, code: UInt16, reason: String) {
        guard state != .closed else { return }
        core.counters.protocolErrors.add(1, ordering: .relaxed)
        core.counters.changed()
        core.logger.notice("websocket subscriber protocol error, closing", metadata: ["remote": "\(remote)", "reason": "\(reason)"])
        if state == .open {
            state = .closing
            unregister()
            pingTask?.cancel()
            let frame = WebSocketWire.serverFrame(
                opcode: WireOpcode.close, payload: WebSocketWire.closePayload(code: code, reason: reason),
                allocator: context.channel.allocator
            )
            // The input stream is no longer trustworthy: send the close frame, then close at once.
            writer.writeAndFlush(frame, closeAfterwards: true)
        } else {
            context.close(promise: nil)
        }
    }
}

/// A pass-through outbound handler placed before NIO's `WebSocketFrameEncoder`: writes issued
/// from its context skip the encoder, so pre-encoded frames (one shared buffer per broadcast)
/// reach the socket as they are.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes and flushes `buffer`; with `closeAfterwards`, closes the channel once it is written.
    func writeAndFlush(_ buffer: ByteBuffer, closeAfterwards: Bool = false) {
        guard let context else { return }
        if closeAfterwards {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
