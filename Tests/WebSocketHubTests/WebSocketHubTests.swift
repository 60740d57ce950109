import Foundation
import NIOCore
import Testing

@testable import WebSocketHub

@Suite("WebSocketHub: handshake, auth, fan-out, slow and malformed subscribers")
struct WebSocketHubTests {
    // MARK: Auth and HTTP answers

    @Test func bearerHeaderAndQueryTokenAreAccepted() async throws {
        let hub = try await startHub(tokens: ["secret-token", "second token"])
        let (viaHeader, inboxA) = try await connectClient(hub)
        let (viaQuery, inboxB) = try await connectClient(hub, token: nil, target: "/warnings?x=1&token=second%20token")
        try await waitUntil("two subscribers") { hub.subscriberCount == 2 }
        hub.broadcast(text: "hello")
        try await waitUntil("both receive") { inboxA.count == 1 && inboxB.count == 1 }
        // The hub counts a frame after handing it to the socket, so the receipt can come first.
        try await waitUntil("both counted as sent") { hub.statistics.messagesSent >= 2 }
        #expect(inboxA.texts == ["hello"])
        #expect(inboxB.texts == ["hello"])
        let stats = hub.statistics
        #expect(stats.subscribersAccepted == 2)
        #expect(stats.messagesSent == 2)
        #expect(stats.broadcasts == 1)
        #expect(stats.authFailures == 0)
        await viaHeader.close()
        await viaQuery.close()
        await hub.shutdown()
    }

    @Test func wrongOrMissingTokenGets401BeforeUpgrade() async throws {
        let hub = try await startHub()
        for token in ["wrong-token", "secret-toke", "secret-token2", ""] as [String?] + [nil] {
            do {
                _ = try await connectClient(hub, token: token)
                Issue.record("token \(String(describing: token)) was accepted")
            } catch let error as WebSocketClientError {
                guard case .handshakeRejected(let status, _, _) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(status == 401)
            }
        }
        // Also a raw request: no 101, a 401 status line, and the connection is closed.
        let response = try await rawExchange(port: hub.port, request: Self.upgradeRequest(path: "/warnings?token=nope"))
        #expect(response.hasPrefix("HTTP/1.1 401"))
        #expect(!response.contains("101"))
        #expect(hub.statistics.authFailures == 6)
        #expect(hub.subscriberCount == 0)
        await hub.shutdown()
    }

    @Test func wrongPathMethodAndPlainGetAreRefused() async throws {
        let hub = try await startHub()
        let wrongPath = try await rawExchange(port: hub.port, request: Self.upgradeRequest(path: "/other?token=secret-token"))
        #expect(wrongPath.hasPrefix("HTTP/1.1 404"))
        let plain = try await rawExchange(
            port: hub.port, request: "GET /warnings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret-token\r\n\r\n"
        )
        #expect(plain.hasPrefix("HTTP/1.1 426"))
        #expect(plain.lowercased().contains("upgrade: websocket"))
        let post = try await rawExchange(
            port: hub.port, request: "POST /warnings HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        )
        #expect(post.hasPrefix("HTTP/1.1 405"))
        let badVersion = try await rawExchange(
            port: hub.port,
            request: Self.upgradeRequest(path: "/warnings?token=secret-token").replacingOccurrences(
                of: "Sec-WebSocket-Version: 13", with: "Sec-WebSocket-Version: 8")
        )
        #expect(badVersion.hasPrefix("HTTP/1.1 400"))
        do {
            _ = try await connectClient(hub, target: "/nowhere")
            Issue.record("wrong path accepted")
        } catch let error as WebSocketClientError {
            #expect(error == .handshakeRejected(status: 404, reason: "Not Found", body: "not found: subscribe at /warnings"))
        }
        #expect(hub.statistics.requestsRejected == 5)
        #expect(hub.statistics.authFailures == 0)
        await hub.shutdown()
    }

    @Test func handshakeTimeoutClosesSilentConnections() async throws {
        let hub = try await startHub { $0.handshakeTimeoutSeconds = 0.2 }
        let (response, closedByServer) = try await rawExchangeDetailed(port: hub.port, request: "", within: 20)
        #expect(response.isEmpty)
        #expect(closedByServer, "the hub closed the silent connection itself")
        try await waitUntil("counted") { hub.statistics.requestsRejected == 1 }
        await hub.shutdown()
    }

    @Test func fullHubAnswers503() async throws {
        let hub = try await startHub { $0.maxSubscribers = 1 }
        let (first, _) = try await connectClient(hub)
        try await waitUntil("one subscriber") { hub.subscriberCount == 1 }
        do {
            _ = try await connectClient(hub)
            Issue.record("second subscriber accepted over the limit")
        } catch let error as WebSocketClientError {
            guard case .handshakeRejected(let status, _, _) = error else { throw error }
            #expect(status == 503)
        }
        await first.close()
        await hub.shutdown()
    }

    // MARK: Fan-out and order

    @Test func everySubscriberReceivesEveryMessageInTheSameOrder() async throws {
        let hub = try await startHub()
        var clients: [(WebSocketClient, Inbox)] = []
        for _ in 0..<6 { clients.append(try await connectClient(hub)) }
        try await waitUntil("six subscribers") { hub.subscriberCount == 6 }
        // Four concurrent broadcasters: the global order is whatever the calls produced, but it
        // must be the same for every subscriber, and each broadcaster's own order is kept.
        let perTask = 150
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for index in 0..<perTask { hub.broadcast(text: "t\(task)-\(index) \(String(repeating: "x", count: index * 7))") }
                }
            }
        }
        try await waitUntil("all delivered") { clients.allSatisfy { $0.1.count == 4 * perTask } }
        // The hub counts frames after handing them to the sockets, so receipts can come first.
        try await waitUntil("all counted as sent") { hub.statistics.messagesSent >= 6 * 4 * perTask }
        let reference = clients[0].1.texts
        for (_, inbox) in clients { #expect(inbox.texts == reference) }
        for task in 0..<4 {
            let own = reference.filter { $0.hasPrefix("t\(task)-") }.map { $0.split(separator: " ")[0] }
            #expect(own == (0..<perTask).map { Substring("t\(task)-\($0)") })
        }
        #expect(hub.statistics.messagesSent == 6 * 4 * perTask)
        // Large frames (16-bit and 64-bit length headers) arrive intact.
        let big = String(repeating: "Z", count: 70_000)
        hub.broadcast(text: big)
        hub.broadcast(text: String(repeating: "y", count: 126))
        try await waitUntil("large frames") { clients.allSatisfy { $0.1.count == 4 * perTask + 2 } }
        for (_, inbox) in clients {
            #expect(inbox.texts[4 * perTask] == big)
            #expect(inbox.texts[4 * perTask + 1].count == 126)
        }
        for (client, _) in clients { await client.close() }
        try await waitUntil("all gone") { hub.subscriberCount == 0 }
        await hub.shutdown()
    }

    @Test func slowSubscriberIsDroppedWhileOthersKeepReceiving() async throws {
        let cap = 64 * 1024
        let hub = try await startHub {
            $0.maxQueuedBytesPerSubscriber = cap
            $0.socketSendBufferBytes = 8 * 1024
        }
        let (slow, slowInbox) = try await connectClient(hub, receiveBufferBytes: 4 * 1024)
        var fast: [(WebSocketClient, Inbox)] = []
        for _ in 0..<3 { fast.append(try await connectClient(hub)) }
        try await waitUntil("four subscribers") { hub.subscriberCount == 4 }
        await slow.pauseReading()
        let payload = String(repeating: "w", count: 16 * 1024)
        var sent = 0
        // Paced on the fast subscribers, so only the paused one can fall behind.
        while hub.statistics.slowSubscribersDropped == 0 && sent < 2000 {
            hub.broadcast(text: "\(sent) " + payload)
            sent += 1
            let expected = sent
            try await waitUntil("fast subscribers got \(expected)") { fast.allSatisfy { $0.1.count == expected } }
        }
        #expect(hub.statistics.slowSubscribersDropped == 1)
        #expect(sent < 2000)
        // The hub counts the drop just before it unregisters the subscriber (same event-loop
        // turn), so the count can be read in between: wait for it.
        try await waitUntil("the slow subscriber unregistered") { hub.subscriberCount == 3 }
        #expect(hub.subscriberCount == 3)
        // The others keep receiving after the drop, in order, with nothing missing.
        for index in sent..<(sent + 20) { hub.broadcast(text: "\(index) after") }
        try await waitUntil("fast subscribers after the drop") { fast.allSatisfy { $0.1.count == sent + 20 } }
        for (_, inbox) in fast {
            #expect(inbox.texts.map { Int($0.split(separator: " ")[0]) } == (0..<(sent + 20)).map { $0 })
        }
        // The slow one is disconnected (after draining what the kernel held, possibly a 1008 close).
        await slow.resumeReading()
        try await waitUntil("slow subscriber closed") { slowInbox.closed }
        // It got at most what was broadcast before the drop (the kernel buffers held those), nothing after.
        #expect(slowInbox.count <= sent)
        #expect(!slowInbox.texts.contains { $0.hasSuffix(" after") })
        if let code = slowInbox.closeCode { #expect(code == WebSocketCloseCode.policyViolation) }
        for (client, _) in fast { await client.close() }
        await hub.shutdown()
    }

    // MARK: Malformed input, close, keep-alive

    @Test(arguments: [
        ("unmasked text frame", [0x81, 0x02, 0x68, 0x69], WebSocketCloseCode.protocolError),
        ("frame over the size limit", [0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4], WebSocketCloseCode.messageTooBig),
        ("reserved opcode 3", [0x83, 0x80, 1, 2, 3, 4], WebSocketCloseCode.protocolError),
        ("RSV1 without extension", [0xC1, 0x80, 1, 2, 3, 4], WebSocketCloseCode.protocolError),
        ("fragmented ping", [0x09, 0x80, 1, 2, 3, 4], WebSocketCloseCode.protocolError),
        ("ping longer than 125 bytes", [0x89, 0xFE, 0x00, 0x80, 1, 2, 3, 4] + [UInt8](repeating: 0, count: 128), WebSocketCloseCode.protocolError),
    ] as [(String, [UInt8], UInt16)])
    func malformedFrameClosesOnlyThatSubscriber(name: String, bytes: [UInt8], code: UInt16) async throws {
        let hub = try await startHub()
        let (bad, badInbox) = try await connectClient(hub)
        let (good, goodInbox) = try await connectClient(hub)
        try await waitUntil("two subscribers") { hub.subscriberCount == 2 }
        bad.sendRaw(bytes)
        try await waitUntil("\(name): bad client closed") { badInbox.closed }
        #expect(badInbox.closeCode == code, "\(name)")
        #expect(hub.statistics.protocolErrors == 1, "\(name)")
        try await waitUntil("one subscriber left") { hub.subscriberCount == 1 }
        hub.broadcast(text: "still serving")
        try await waitUntil("good client receives") { goodInbox.count == 1 }
        // The hub still accepts new subscribers.
        let (late, lateInbox) = try await connectClient(hub)
        try await waitUntil("late subscriber") { hub.subscriberCount == 2 }
        hub.broadcast(text: "again")
        try await waitUntil("late receives") { lateInbox.count == 1 && goodInbox.count == 2 }
        await good.close()
        await late.close()
        await hub.shutdown()
    }

    @Test func clientDataFramesAndPingsAreHandledWithoutClosing() async throws {
        let hub = try await startHub()
        let (client, inbox) = try await connectClient(hub)
        try await waitUntil("subscriber") { hub.subscriberCount == 1 }
        client.send(text: "hello hub, ignore me")
        client.ping([1, 2, 3])
        hub.broadcast(text: "one")
        try await waitUntil("delivered") { inbox.count == 1 }
        #expect(!inbox.closed)
        #expect(hub.statistics.protocolErrors == 0)
        await client.close(code: WebSocketCloseCode.normal)
        #expect(inbox.closeCode == WebSocketCloseCode.normal, "the hub echoes the close code")
        try await waitUntil("unregistered") { hub.subscriberCount == 0 }
        await hub.shutdown()
    }

    @Test func idleSubscriberIsClosedResponsiveOneStays() async throws {
        let hub = try await startHub {
            // Generous against scheduling stalls when other suites load the 2 cores.
            $0.pingIntervalSeconds = 0.1
            $0.idleTimeoutSeconds = 2
        }
        let (responsive, responsiveInbox) = try await connectClient(hub)
        let (silent, _) = try await connectClient(hub)
        try await waitUntil("two subscribers") { hub.subscriberCount == 2 }
        await silent.pauseReading()  // it no longer sees pings, so it sends no pongs
        try await waitUntil("idle close", within: 10) { hub.statistics.idleClosed == 1 }
        // The hub counts the idle close just before it unregisters the subscriber (same
        // event-loop turn), so the count can be read in between: wait for it.
        try await waitUntil("the idle subscriber unregistered") { hub.subscriberCount == 1 }
        #expect(hub.subscriberCount == 1)
        hub.broadcast(text: "alive")
        try await waitUntil("responsive receives") { responsiveInbox.count == 1 }
        #expect(!responsiveInbox.closed)
        await responsive.close()
        await silent.abort()
        await hub.shutdown()
    }

    @Test func shutdownSendsGoingAway() async throws {
        let hub = try await startHub()
        var inboxes: [Inbox] = []
        for _ in 0..<3 { inboxes.append(try await connectClient(hub).1) }
        try await waitUntil("three") { hub.subscriberCount == 3 }
        await hub.shutdown()
        try await waitUntil("all closed") { inboxes.allSatisfy(\.closed) }
        #expect(inboxes.allSatisfy { $0.closeCode == WebSocketCloseCode.goingAway })
        #expect(hub.subscriberCount == 0)
    }

    @Test func invalidConfigurationIsRejected() async throws {
        await #expect(throws: WebSocketHubError.self) { try await startHub { $0.path = "warnings" } }
        await #expect(throws: WebSocketHubError.self) { try await startHub { $0.maxQueuedBytesPerSubscriber = 10 } }
        await #expect(throws: WebSocketHubError.self) { try await startHub(tokens: [""]) }
        await #expect(throws: WebSocketHubError.self) { try await startHub { $0.handshakeTimeoutSeconds = .nan } }
    }

    static func upgradeRequest(path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }
}
