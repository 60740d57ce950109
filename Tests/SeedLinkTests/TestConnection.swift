import Foundation
import NIOCore
import NIOPosix
import SeedLink
import Synchronization
import TestSupport

/// Collects every byte a connection receives; `changes` is notified on every read and at close.
final class ByteCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let bytes = Mutex<[UInt8]>([])
    let isClosed = Atomic<Bool>(false)
    let changes = ChangeSignal()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let chunk = buffer.readBytes(length: buffer.readableBytes) ?? []
        bytes.withLock { $0 += chunk }
        changes.notify()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed.store(true, ordering: .relaxed)
        changes.notify()
        context.fireChannelInactive()
    }
}

/// A raw TCP connection to a SeedLink server for protocol tests (127.0.0.1 only).
final class TestConnection: @unchecked Sendable {
    // `consumed` is only touched by the test task that owns the connection.
    let channel: any Channel
    let collector: ByteCollector
    private var consumed = 0

    init(channel: any Channel, collector: ByteCollector) {
        self.channel = channel
        self.collector = collector
    }

    static func open(port: Int, autoRead: Bool = true, receiveBuffer: Int? = nil) async throws -> TestConnection {
        let collector = ByteCollector()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .channelOption(.autoRead, value: autoRead)
        if let receiveBuffer { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer)) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestConnection(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    var received: [UInt8] { collector.bytes.withLock { $0 } }

    /// Waits until `condition` holds for the bytes after the handshake replies consumed so far;
    /// re-checked whenever bytes arrive or the connection closes (no polling). The deadline is
    /// wall-clock and generous (30 s by default): a parallel run can starve the cooperative
    /// thread pool, and a wait that succeeds returns as soon as the bytes are there anyway.
    @discardableResult
    func wait(_ what: String, timeout: Double = 30, _ condition: ([UInt8]) -> Bool) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await collector.changes.wait(timeout, what) {
            bytes = Array(received.dropFirst(consumed))
            return condition(bytes)
        }
        return bytes
    }

    /// Sends a command and returns its one-line reply (without `\r\n`).
    func command(_ line: String) async throws -> String {
        try await send(line + "\r")
        let bytes = try await wait("reply to \(line)") { $0.contains(0x0A) }
        let end = bytes.firstIndex(of: 0x0A) ?? 0
        consumed += end + 1
        return String(decoding: bytes[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sends HELLO and consumes its two-line reply.
    func hello() async throws -> [String] {
        try await send("HELLO\r")
        let bytes = try await wait("HELLO reply") { $0.filter { $0 == 0x0A }.count >= 2 }
        var lines: [String] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A && lines.count < 2 {
            lines.append(String(decoding: bytes[start..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            start = i + 1
        }
        consumed += start
        return lines
    }

    /// Frames received after the handshake so far.
    func frames() -> [SeedLinkFrameDecoder.Frame] {
        var decoder = SeedLinkFrameDecoder()
        decoder.append(received.dropFirst(consumed))
        var out: [SeedLinkFrameDecoder.Frame] = []
        while let f = decoder.next() { out.append(f) }
        return out
    }

    func packets() -> [(sequence: Int, record: [UInt8])] {
        frames().compactMap { if case .packet(let s, let r) = $0 { return (s, r) } else { return nil } }
    }

    /// Waits until `count` data packets (or END) have arrived.
    func waitForPackets(_ count: Int, timeout: Double = 30) async throws -> [(sequence: Int, record: [UInt8])] {
        try await wait("\(count) packets", timeout: timeout) { _ in self.packets().count >= count }
        return packets()
    }

    func waitForEnd(timeout: Double = 30) async throws {
        try await wait("END", timeout: timeout) { _ in self.frames().contains(.end) }
    }

    func close() async {
        try? await channel.close()
    }
}
