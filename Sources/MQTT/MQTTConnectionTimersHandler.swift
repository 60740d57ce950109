internal import NIOCore

/// The timers of one client connection, on its event loop:
/// - **CONNACK timeout**: from channel activation until a CONNACK arrives;
/// - **keep-alive** (§3.1.2.10, §3.12, §3.13): after an accepted CONNACK, a PINGREQ every
///   `keepAlive`; if no PINGRESP follows within `pingTimeout` the connection is considered
///   dead ([MQTT-3.1.2-24] describes the broker side of the same rule).
///
/// On expiry it fires an ``MQTTError`` (``MQTTError/Code/connectTimeout`` or
/// ``MQTTError/Code/keepAliveTimeout``) down the pipeline and closes the channel. Packets pass
/// through unchanged. Running on the event loop (not in Swift concurrency) means a saturated
/// cooperative thread pool delays neither the PINGREQs nor the recognition of PINGRESPs.
final class MQTTConnectionTimersHandler: ChannelDuplexHandler {
    typealias InboundIn = MQTTPacket
    typealias InboundOut = MQTTPacket
    typealias OutboundIn = MQTTPacket
    typealias OutboundOut = MQTTPacket

    private let connectTimeout: TimeAmount
    private let keepAlive: TimeAmount?
    private let pingTimeout: TimeAmount
    private var connAckTimer: Scheduled<Void>?
    private var pingTimer: Scheduled<Void>?
    private var responseTimer: Scheduled<Void>?
    private var connected = false
    private var finished = false

    /// - Parameters:
    ///   - connectTimeout: longest wait for CONNACK after the TCP connection is up.
    ///   - keepAlive: PINGREQ interval; nil switches keep-alive off.
    ///   - pingTimeout: longest wait for PINGRESP after a PINGREQ.
    init(connectTimeout: TimeAmount, keepAlive: TimeAmount?, pingTimeout: TimeAmount) {
        self.connectTimeout = connectTimeout
        self.keepAlive = keepAlive
        self.pingTimeout = pingTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armConnAckTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func channelActive(context: ChannelHandlerContext) {
        armConnAckTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .connack(let connack) where !connected:
            connAckTimer?.cancel()
            connAckTimer = nil
            if connack.returnCode == .accepted {
                connected = true
                schedulePing(context: context)
            }
        case .pingresp:
            responseTimer?.cancel()
            responseTimer = nil
        default:
            break
        }
        context.fireChannelRead(data)
    }

    private func armConnAckTimer(context: ChannelHandlerContext) {
        guard connAckTimer == nil, !connected, !finished else { return }
        let timeout = connectTimeout
        connAckTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.expire(
                context: context,
                MQTTError(.connectTimeout, packetType: .connack, reason: "no CONNACK within \(timeout)")
            )
        }
    }

    private func schedulePing(context: ChannelHandlerContext) {
        guard let keepAlive, !finished else { return }
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: keepAlive) {
            self.sendPing(context: context)
        }
    }

    private func sendPing(context: ChannelHandlerContext) {
        guard !finished else { return }
        context.writeAndFlush(wrapOutboundOut(.pingreq), promise: nil)
        if responseTimer == nil {
            let timeout = pingTimeout
            responseTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                self.expire(
                    context: context,
                    MQTTError(.keepAliveTimeout, packetType: .pingresp, reason: "no PINGRESP within \(timeout)")
                )
            }
        }
        schedulePing(context: context)
    }

    private func expire(context: ChannelHandlerContext, _ error: MQTTError) {
        guard !finished else { return }
        cancelTimers()
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func cancelTimers() {
        finished = true
        connAckTimer?.cancel()
        pingTimer?.cancel()
        responseTimer?.cancel()
        connAckTimer = nil
        pingTimer = nil
        responseTimer = nil
    }
}

@available(*, unavailable)
extension MQTTConnectionTimersHandler: Sendable {}

extension TimeAmount {
    /// Converts a Swift `Duration` (clamped to ≥ 0) to NIO's nanosecond `TimeAmount`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if duration <= .zero {
            self = .zero
        } else if nanoseconds.overflow {
            self = .nanoseconds(Int64.max)
        } else {
            let total = nanoseconds.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000)
            self = .nanoseconds(total.overflow ? Int64.max : total.partialValue)
        }
    }
}
