import Alerting
import Foundation
import Relay
import Synchronization
import Testing
import TestSupport

/// The QWRI/1 input of a running ``RelayService``. The broker address is unreachable here
/// (port 1): the input, verification and outbox work without a broker, entries stay pending.
@Suite("Relay input protocol (QWRI/1)")
struct RelayInputProtocolTests {
    struct Running {
        var service: RelayService
        var task: Task<Void, any Error>
        var port: Int
        var broadcaster: FakeBroadcaster

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    static func start(_ fixture: RelayFixture, maxMessageBytes: Int = 65_536) async throws -> Running {
        let broadcaster = FakeBroadcaster()
        let service = RelayService(configuration: try fixture.configuration(maxMessageBytes: maxMessageBytes),
                                   broadcaster: broadcaster)
        let task = Task { try await service.run() }
        let ports = try await withDeadline(30, "relay listening") { try await service.waitUntilListening() }
        return Running(service: service, task: task, port: ports.input, broadcaster: broadcaster)
    }

    @Test("a wrong or missing token gets {\"error\":\"unauthorized\"} and the connection is closed")
    func unauthorized() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let relay = try await Self.start(fixture)
        await #expect(throws: RelayInputClientError.unauthorized) {
            _ = try await RelayInputClient.connect(host: "127.0.0.1", port: relay.port, token: "wrong")
        }
        for hello in ["{\"hello\":\"QWRI/1\"}", "{\"hello\":\"QWRI/2\",\"token\":\"\(fixture.token)\"}",
                      try String(decoding: fixture.sign(sampleWarning(id: "sneaky")).encoded(), as: UTF8.self)] {
            let socket = try RawLineSocket(port: relay.port)
            try socket.send(hello + "\n")
            #expect(try socket.readLine() == "{\"error\":\"unauthorized\"}")
            #expect(try socket.readLine() == nil, "connection must be closed")
        }
        #expect(relay.service.metrics.exposition().contains("quakewarn_relay_unauthorized_total 4"))
        #expect(relay.broadcaster.texts.withLock { $0.isEmpty })
        await relay.stop()
        #expect(try RelayOutbox(path: fixture.outboxPath).all().isEmpty, "nothing stored without a token")
    }

    @Test("accepted warnings are acknowledged after the commit; a re-send is acknowledged as duplicate")
    func ackAfterCommit() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let relay = try await Self.start(fixture)
        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: relay.port, token: fixture.token)
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        let envelope = try fixture.sign(sampleWarning(id: "ev-ack", update: 1))
        let ack = try await client.send(envelope)
        #expect(ack == RelayAck(id: "ev-ack", update: 1, duplicate: false))
        // The ack came after the commit: a second connection to the database sees the row.
        let stored = try #require(try outbox.entry(eventId: "ev-ack", updateNumber: 1))
        #expect(stored.envelope == (try envelope.encoded()) && stored.mqttAckedAt == nil)
        #expect(try await client.send(envelope) == RelayAck(id: "ev-ack", update: 1, duplicate: true))
        #expect(relay.broadcaster.texts.withLock { $0 } == [String(decoding: try envelope.encoded(), as: UTF8.self)],
                "broadcast once, not for the duplicate")
        // Same key, different bytes (a forged or re-signed variant): refused.
        var changed = sampleWarning(id: "ev-ack", update: 1)
        changed.magnitude = 7.9
        await #expect {
            _ = try await client.send(try fixture.sign(changed))
        } throws: { error in
            if case .rejected(let code, let line, _) = error as? RelayInputClientError {
                return code == RelayRejection.conflictingDuplicate && line == 4
            }
            return false
        }
        // A CAP envelope of the same warning is its own key.
        let cap = try fixture.sign(payload: RelayVerifierTests.capXML(sampleWarning(id: "ev-ack", update: 1)),
                                   type: SignedEnvelope.capXMLType)
        #expect(try await client.send(cap) == RelayAck(id: "ev-ack", update: 1, duplicate: false, kind: .cap))
        await client.close()
        await relay.stop()
        #expect(try outbox.all().map(\.kind) == [.warning, .cap])
    }

    @Test("bad lines are rejected with their reason and line number, and the connection keeps serving")
    func rejectAndContinue() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let relay = try await Self.start(fixture, maxMessageBytes: 4096)
        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: relay.port, token: fixture.token)
        let good1 = try fixture.sign(sampleWarning(id: "ev-good", update: 0))
        var altered = Array(try fixture.sign(sampleWarning(id: "ev-forged", update: 0)).encoded())
        // Flip one character of the base64 payload (position 100 lies inside it).
        altered[100] = altered[100] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let oversized = Data(("{\"pad\":\"" + String(repeating: "x", count: 10_000) + "\"}").utf8)
        let good2 = try fixture.sign(sampleWarning(id: "ev-good", update: 1))

        #expect(try await client.sendLine(good1.encoded()) == .ack(RelayAck(id: "ev-good", update: 0, duplicate: false)))
        #expect(try await client.sendLine(Data(altered)) == .reject(code: RelayRejection.badSignature, line: 3,
                                                                    detail: "signature does not match the payload (altered or forged)"))
        guard case .reject(RelayRejection.oversized, 4, _) = try await client.sendLine(oversized) else {
            Issue.record("oversized not rejected"); return
        }
        guard case .reject(RelayRejection.malformedJSON, 5, _) = try await client.sendLine(Data("{\"oops\": ".utf8)) else {
            Issue.record("malformed not rejected"); return
        }
        guard case .reject(RelayRejection.unsigned, 6, _) = try await client.sendLine(try sampleWarning(id: "ev-u").canonicalJSON()) else {
            Issue.record("unsigned not rejected"); return
        }
        #expect(try await client.sendLine(good2.encoded()) == .ack(RelayAck(id: "ev-good", update: 1, duplicate: false)))
        await client.close()

        let text = relay.service.metrics.exposition()
        #expect(text.contains("quakewarn_relay_rejected_total{reason=\"bad-signature\"} 1"))
        #expect(text.contains("quakewarn_relay_rejected_total{reason=\"oversized\"} 1"))
        #expect(text.contains("quakewarn_relay_accepted_total 2"))
        #expect(relay.broadcaster.texts.withLock { $0.count } == 2, "only the two good warnings are fanned out")
        await relay.stop()
        let stored = try RelayOutbox(path: fixture.outboxPath).all()
        #expect(stored.map(\.eventId) == ["ev-good", "ev-good"], "the forged warning was never stored or forwarded")
    }

    @Test("/health is degraded (503) without a broker, and /metrics shows the queue")
    func healthAndMetricsEndpoint() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.metrics = .init(host: "127.0.0.1", port: 0, maxUnacknowledgedAgeSeconds: 10)
        let service = RelayService(configuration: configuration)
        let task = Task { try await service.run() }
        let ports = try await withDeadline(30, "listening") { try await service.waitUntilListening() }
        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: ports.input, token: fixture.token)
        _ = try await client.send(try fixture.sign(sampleWarning(id: "ev-health")))
        await client.close()
        func get(_ path: String) throws -> String {
            let socket = try RawLineSocket(port: try #require(ports.metrics))
            try socket.send("GET \(path) HTTP/1.0\r\n\r\n")
            var lines: [String] = []
            while let line = try socket.readLine() { lines.append(line) }
            return lines.joined(separator: "\n")
        }
        let health = try get("/health")
        #expect(health.hasPrefix("HTTP/1.0 503"), "\(health)")
        #expect(health.contains("\"broker\":\"disconnected") && health.contains("\"queueDepth\":\"1\""), "\(health)")
        try await waitUntil(10, "gauge refresh") { service.metrics.exposition().contains("quakewarn_relay_queue_depth 1") }
        let metrics = try get("/metrics")
        #expect(metrics.contains("quakewarn_relay_accepted_total 1") && metrics.contains("quakewarn_relay_queue_depth 1"))
        task.cancel()
        _ = try? await task.value
    }

    @Test("lines arrive byte by byte, several per write, or with CRLF: the framing is the same")
    func framing() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let relay = try await Self.start(fixture, maxMessageBytes: 4096)
        let socket = try RawLineSocket(port: relay.port)
        for byte in Array("{\"hello\":\"QWRI/1\",\"token\":\"\(fixture.token)\"}\r\n".utf8) { try socket.send([byte]) }
        #expect(try socket.readLine() == "{\"welcome\":\"QWRI/1\"}")
        let lines = try (0..<3).map { try fixture.sign(sampleWarning(id: "ev-frame", update: $0)).encoded() }
        for byte in lines[0] + [UInt8(ascii: "\n")] { try socket.send([byte]) }
        try socket.send(Array(lines[1] + [UInt8(ascii: "\n")] + lines[2] + [UInt8(ascii: "\n")]))
        for update in 0..<3 {
            #expect(try socket.readLine() == "{\"ack\":\"ev-frame\",\"update\":\(update),\"duplicate\":false}")
        }
        // An oversized line sent in pieces (no newline for a long time) is discarded once.
        try socket.send(String(repeating: "y", count: 3000))
        try socket.send(String(repeating: "y", count: 3000))
        try socket.send(String(repeating: "y", count: 3000) + "\n")
        let reply = try #require(try socket.readLine())
        #expect(reply.hasPrefix("{\"reject\":\"oversized\",\"line\":5,"), "\(reply)")
        try socket.send(Array(lines[0] + [UInt8(ascii: "\n")]))
        #expect(try socket.readLine() == "{\"ack\":\"ev-frame\",\"update\":0,\"duplicate\":true}")
        await relay.stop()
    }
}
