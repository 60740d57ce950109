import MQTT
import NIOCore
import NIOPosix
import Synchronization
import TestSupport

/// A FIFO of events with a bounded wait: `next(timeout:)` returns nil after the timeout.
final class EventQueue<Element: Sendable>: Sendable {
    private struct Waiter {
        var token: Int
        var continuation: CheckedContinuation<Element?, Never>
    }

    private struct State {
        var buffer: [Element] = []
        var waiter: Waiter?
        var nextToken = 0
    }

    private let state = Mutex(State())

    func push(_ element: Element) {
        let waiter = state.withLock { state -> Waiter? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(element)
            return nil
        }
        waiter?.continuation.resume(returning: element)
    }

    /// The next element, or nil if none arrives within `timeout`. One waiter at a time.
    func next(timeout: Duration) async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let (token, immediate) = state.withLock { state -> (Int, Element?) in
                if !state.buffer.isEmpty { return (0, state.buffer.removeFirst()) }
                state.nextToken += 1
                state.waiter = Waiter(token: state.nextToken, continuation: continuation)
                return (state.nextToken, nil)
            }
            if let immediate {
                continuation.resume(returning: immediate)
                return
            }
            Task {
                // The timeout of this one wait (a deadline: the waiter is resumed by `push`
                // as soon as an event arrives), not a poll.
                try? await Task.sleep(for: timeout)
                let expired = state.withLock { state -> Waiter? in
                    guard let waiter = state.waiter, waiter.token == token else { return nil }
                    state.waiter = nil
                    return waiter
                }
                expired?.continuation.resume(returning: nil)
            }
        }
    }
}

/// What the fake broker writes: a packet, or raw bytes (to send malformed data).
enum FakeOutbound: Sendable {
    case packet(MQTTPacket)
    case raw([UInt8])
}

struct FakeOutboundEncoder: MessageToByteEncoder, Sendable {
    typealias OutboundIn = FakeOutbound
    func encode(data: FakeOutbound, out: inout ByteBuffer) throws {
        switch data {
        case .packet(let packet): try packet.encode(into: &out)
        case .raw(let bytes): out.writeBytes(bytes)
        }
    }
}

/// One accepted client connection of the fake broker.
struct FakeConnection: Sendable {
    var id: Int
    var channel: any Channel

    func send(_ packet: MQTTPacket) { channel.writeAndFlush(FakeOutbound.packet(packet), promise: nil) }
    func sendRaw(_ bytes: [UInt8]) { channel.writeAndFlush(FakeOutbound.raw(bytes), promise: nil) }
    func close() { channel.close(promise: nil) }
}

enum FakeBrokerEvent: Sendable {
    case accepted(FakeConnection)
    case packet(connection: Int, MQTTPacket)
    case closed(connection: Int)
}

/// A scriptable in-process MQTT "broker" on 127.0.0.1 for client tests: it reports every
/// connection and decoded packet, and answers only what the test tells it to.
final class FakeBroker: Sendable {
    let port: Int
    let events: EventQueue<FakeBrokerEvent>
    /// Arrival time of every packet (taken on the event loop), for timing checks that must not
    /// depend on how quickly the test task gets scheduled.
    let arrivals: ArrivalLog
    private let serverChannel: Mutex<(any Channel)?>

    private init(port: Int, serverChannel: any Channel, events: EventQueue<FakeBrokerEvent>, arrivals: ArrivalLog) {
        self.port = port
        self.serverChannel = Mutex(serverChannel)
        self.events = events
        self.arrivals = arrivals
    }

    static func start() async throws -> FakeBroker {
        let events = EventQueue<FakeBrokerEvent>()
        let arrivals = ArrivalLog()
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = counter.increment()
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MQTTPacketDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FakeOutboundEncoder()))
                    try channel.pipeline.syncOperations.addHandler(FakeBrokerHandler(id: id, events: events, arrivals: arrivals))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FakeBroker(port: channel.localAddress?.port ?? 0, serverChannel: channel, events: events, arrivals: arrivals)
    }

    func stop() async {
        let channel = serverChannel.withLock { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }

    /// Next event, or a `TestTimeout` error.
    func next(within seconds: Double = 30, _ what: String) async throws -> FakeBrokerEvent {
        guard let event = await events.next(timeout: .milliseconds(Int(seconds * 1000))) else {
            throw TestTimeout(seconds: seconds, what: what)
        }
        return event
    }

    /// The next accepted connection. `.closed` events of earlier connections are skipped: a
    /// close and the next accept happen on different event loops, in either order.
    func expectAccepted(within seconds: Double = 30) async throws -> FakeConnection {
        while true {
            let event = try await next(within: seconds, "connection")
            switch event {
            case .accepted(let connection): return connection
            case .closed: continue
            case .packet: throw UnexpectedEvent(event: event, expected: "accepted")
            }
        }
    }

    /// The next packet from any connection; `.closed` events are skipped (see `expectAccepted`).
    func expectPacket(within seconds: Double = 30, _ what: String = "packet") async throws -> (Int, MQTTPacket) {
        while true {
            let event = try await next(within: seconds, what)
            switch event {
            case .packet(let connection, let packet): return (connection, packet)
            case .closed: continue
            case .accepted: throw UnexpectedEvent(event: event, expected: what)
            }
        }
    }

    /// Accepts a connection, reads its CONNECT, answers CONNACK accepted.
    func acceptClient(within seconds: Double = 30) async throws -> (FakeConnection, MQTTConnect) {
        let connection = try await expectAccepted(within: seconds)
        let (_, packet) = try await expectPacket(within: seconds, "CONNECT")
        guard case .connect(let connect) = packet else { throw UnexpectedEvent(event: .packet(connection: connection.id, packet), expected: "CONNECT") }
        connection.send(.connack(MQTTConnAck(sessionPresent: false, returnCode: .accepted)))
        return (connection, connect)
    }
}

struct UnexpectedEvent: Error, CustomStringConvertible {
    var event: FakeBrokerEvent
    var expected: String
    var description: String { "expected \(expected), got \(event)" }
}

/// Packet arrival times per connection.
final class ArrivalLog: Sendable {
    private let entries = Mutex<[(connection: Int, type: MQTTPacketType, at: ContinuousClock.Instant)]>([])

    func record(connection: Int, type: MQTTPacketType) {
        let now = ContinuousClock.now
        entries.withLock { $0.append((connection, type, now)) }
    }

    /// Arrival times of packets of `type` on `connection`, in order.
    func times(connection: Int, type: MQTTPacketType) -> [ContinuousClock.Instant] {
        entries.withLock { $0.filter { $0.connection == connection && $0.type == type }.map(\.at) }
    }
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}

final class FakeBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket

    let id: Int
    let events: EventQueue<FakeBrokerEvent>
    let arrivals: ArrivalLog

    init(id: Int, events: EventQueue<FakeBrokerEvent>, arrivals: ArrivalLog) {
        self.id = id
        self.events = events
        self.arrivals = arrivals
    }

    func channelActive(context: ChannelHandlerContext) {
        events.push(.accepted(FakeConnection(id: id, channel: context.channel)))
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        arrivals.record(connection: id, type: packet.type)
        events.push(.packet(connection: id, packet))
    }

    func channelInactive(context: ChannelHandlerContext) {
        events.push(.closed(connection: id))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FakeBrokerHandler: Sendable {}
