import MQTT
import NIOCore
import Testing
import TestSupport

/// Client behaviour against the scriptable in-process `FakeBroker` (loopback): the exact
/// packets on the wire, re-sends, window, keep-alive, refusals. No external broker needed.
@Suite("MQTT client against a scripted broker")
struct MQTTClientTests {
    func configuration(port: Int, _ edit: (inout MQTTClientConfiguration) -> Void = { _ in }) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(
            host: "127.0.0.1", port: port, clientID: "unit-client", username: "alice", password: "s3cret"
        )
        configuration.keepAlive = .zero
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaximumDelay = .milliseconds(50)
        configuration.connectTimeout = .seconds(30)
        edit(&configuration)
        return configuration
    }

    /// Starts `client.run()` in a task; the returned task finishes when `run` does.
    func start(_ client: MQTTClient) -> Task<Void, any Error> {
        Task { try await client.run() }
    }

    @Test("CONNECT carries the configured fields")
    func connectFields() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port) { $0.keepAlive = .milliseconds(1500); $0.cleanSession = false })
        let runner = start(client)
        let (_, connect) = try await broker.acceptClient()
        #expect(connect.clientID == "unit-client")
        #expect(connect.username == "alice")
        #expect(connect.password == Array("s3cret".utf8))
        #expect(connect.cleanSession == false)
        #expect(connect.keepAliveSeconds == 2)  // 1.5 s rounded up
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        await client.disconnect()
        let (_, last) = try await broker.expectPacket(within: 30, "DISCONNECT")
        #expect(last == .disconnect)
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("an unacknowledged QoS 1 message is re-sent after reconnect with DUP = 1 and the same id")
    func resendWithDup() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let (first, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }

        let publisher = Task { try await client.publish(topic: "eew/warning", payload: ByteBuffer(string: "m1")) }
        let (_, sent) = try await broker.expectPacket(within: 30, "first PUBLISH")
        guard case .publish(let original) = sent else { throw UnexpectedEvent(event: .packet(connection: first.id, sent), expected: "PUBLISH") }
        #expect(original.dup == false)
        #expect(original.qos == .atLeastOnce)
        let packetID = try #require(original.packetID)

        // Drop the connection without PUBACK: the message must come again on the next one.
        first.close()
        let (second, _) = try await broker.acceptClient()
        let (_, again) = try await broker.expectPacket(within: 30, "re-sent PUBLISH")
        guard case .publish(let resent) = again else { throw UnexpectedEvent(event: .packet(connection: second.id, again), expected: "PUBLISH") }
        #expect(resent.dup == true)
        #expect(resent.packetID == packetID)
        #expect(resent.topic == "eew/warning")
        #expect(resent.payload == ByteBuffer(string: "m1"))
        #expect(await client.inFlightCount == 1)

        second.send(.puback(packetID: packetID))
        try await value(of: publisher, within: 30, "publish returns after PUBACK")
        #expect(await client.inFlightCount == 0)
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("messages published while disconnected go out after CONNACK, in order, without DUP")
    func queuedWhileDisconnected() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let publishers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask { try await client.publish(topic: "q", payload: ByteBuffer(string: "\(index)")) }
                    // Fix the order of the calls: the next one starts after this one is queued
                    // (woken by the client when the message enters its in-flight list).
                    try await withDeadline(30, "publish \(index) queued") { try await client.waitUntilInFlight(atLeast: index + 1) }
                }
                try await group.waitForAll()
            }
        }
        try await withDeadline(30, "3 queued") { try await client.waitUntilInFlight(atLeast: 3) }
        #expect(await client.inFlightCount == 3)
        let runner = start(client)
        let (connection, _) = try await broker.acceptClient()
        var payloads: [String] = []
        for _ in 0..<3 {
            let (_, packet) = try await broker.expectPacket(within: 30, "queued PUBLISH")
            guard case .publish(let message) = packet, let packetID = message.packetID else {
                throw UnexpectedEvent(event: .packet(connection: connection.id, packet), expected: "PUBLISH")
            }
            #expect(message.dup == false)
            payloads.append(String(buffer: message.payload))
            connection.send(.puback(packetID: packetID))
        }
        #expect(payloads == ["0", "1", "2"])
        try await value(of: publishers, within: 30, "publishers finish")
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("the in-flight window holds back publishes until PUBACKs arrive")
    func inFlightWindow() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port) { $0.maxInFlight = 3 })
        let runner = start(client)
        let (connection, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }

        let publishers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<5 {
                    group.addTask { try await client.publish(topic: "w", payload: ByteBuffer(string: "\(index)")) }
                }
                try await group.waitForAll()
            }
        }
        var ids: [UInt16] = []
        for _ in 0..<3 {
            let (_, packet) = try await broker.expectPacket(within: 30, "PUBLISH within the window")
            if case .publish(let message) = packet, let id = message.packetID { ids.append(id) }
        }
        #expect(ids.count == 3)
        // A fourth PUBLISH must not come while 3 are unacknowledged.
        let extra = await broker.events.next(timeout: .milliseconds(300))
        #expect(extra == nil, "a 4th PUBLISH was sent with a window of 3")
        #expect(await client.inFlightCount == 3)

        connection.send(.puback(packetID: ids[0]))
        let (_, fourth) = try await broker.expectPacket(within: 30, "4th PUBLISH after one PUBACK")
        guard case .publish(let message4) = fourth, let id4 = message4.packetID else {
            throw UnexpectedEvent(event: .packet(connection: connection.id, fourth), expected: "PUBLISH")
        }
        #expect(await broker.events.next(timeout: .milliseconds(200)) == nil)
        for id in ids.dropFirst() + [id4] { connection.send(.puback(packetID: id)) }
        let (_, fifth) = try await broker.expectPacket(within: 30, "5th PUBLISH")
        guard case .publish(let message5) = fifth, let id5 = message5.packetID else {
            throw UnexpectedEvent(event: .packet(connection: connection.id, fifth), expected: "PUBLISH")
        }
        connection.send(.puback(packetID: id5))
        try await value(of: publishers, within: 30, "all publishes return")
        #expect(Set(ids + [id4, id5]).count == 5, "packet identifiers in flight together must differ")
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("PINGREQ at the keep-alive interval; a missing PINGRESP closes the connection and the client reconnects")
    func keepAlive() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(
            configuration: configuration(port: broker.port) {
                $0.keepAlive = .milliseconds(300)
                $0.pingTimeout = .milliseconds(200)
            }
        )
        let runner = start(client)
        let (connection, _) = try await broker.acceptClient()
        let (_, ping1) = try await broker.expectPacket(within: 30, "first PINGREQ")
        #expect(ping1 == .pingreq)
        // Timed on the broker's event loop: CONNECT arrival → first PINGREQ arrival. The client
        // starts its timer at CONNACK, which is later than the CONNECT, so this is ≥ 300 ms.
        let connectAt = try #require(broker.arrivals.times(connection: connection.id, type: .connect).first)
        let pingAt = try #require(broker.arrivals.times(connection: connection.id, type: .pingreq).first)
        #expect(pingAt - connectAt >= .milliseconds(300), "\(pingAt - connectAt)")
        connection.send(.pingresp)
        let (_, ping2) = try await broker.expectPacket(within: 30, "second PINGREQ")
        #expect(ping2 == .pingreq)
        // No PINGRESP this time: the client must give up on this connection and reconnect.
        _ = try await broker.acceptClient(within: 30)
        try await withDeadline(30, "first connection closed") { try await connection.channel.closeFuture.get() }
        #expect(!connection.channel.isActive)
        let pings = broker.arrivals.times(connection: connection.id, type: .pingreq)
        #expect(pings.count == 2, "PINGREQs on the first connection: \(pings.count)")
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("a refused CONNACK ends run() with a typed error and fails waiting publishes", arguments: [MQTTConnectReturnCode.badUsernameOrPassword, .notAuthorized, .identifierRejected])
    func refused(code: MQTTConnectReturnCode) async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let publisher = Task { try await client.publish(topic: "t", payload: ByteBuffer(string: "x")) }
        let runner = start(client)
        let connection = try await broker.expectAccepted()
        _ = try await broker.expectPacket(within: 30, "CONNECT")
        connection.send(.connack(MQTTConnAck(sessionPresent: false, returnCode: code)))
        let runError = await thrownMQTTError(runner)
        #expect(runError?.code == .connectionRefused)
        #expect(runError?.connectReturnCode == code)
        let publishError = await thrownMQTTError(publisher)
        #expect(publishError?.code == .connectionRefused)
        await broker.stop()
    }

    @Test("server unavailable (code 3) is retried")
    func serverUnavailableIsRetried() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let connection = try await broker.expectAccepted()
        _ = try await broker.expectPacket(within: 30, "CONNECT")
        connection.send(.connack(MQTTConnAck(sessionPresent: false, returnCode: .serverUnavailable)))
        _ = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("incoming QoS 1 PUBLISH is delivered on `messages` and acknowledged; SUBSCRIBE/UNSUBSCRIBE round trip")
    func incomingPublish() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let (connection, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }

        let subscriber = Task { try await client.subscribe([MQTTSubscription(topicFilter: "eew/#", qos: .atLeastOnce)]) }
        let (_, subscribe) = try await broker.expectPacket(within: 30, "SUBSCRIBE")
        guard case .subscribe(let request) = subscribe else { throw UnexpectedEvent(event: .packet(connection: connection.id, subscribe), expected: "SUBSCRIBE") }
        #expect(request.subscriptions == [MQTTSubscription(topicFilter: "eew/#", qos: .atLeastOnce)])
        connection.send(.suback(MQTTSubAck(packetID: request.packetID, returnCodes: [.granted(.atLeastOnce)])))
        let codes = try await value(of: subscriber, within: 30, "SUBACK")
        #expect(codes == [.granted(.atLeastOnce)])

        connection.send(.publish(MQTTPublish(topic: "eew/a", payload: ByteBuffer(string: "hello"), qos: .atLeastOnce, packetID: 77)))
        let (_, ack) = try await broker.expectPacket(within: 30, "PUBACK from the client")
        #expect(ack == .puback(packetID: 77))
        let received = try await withDeadline(30, "message on the stream") { () -> MQTTPublish? in
            var iterator = client.messages.makeAsyncIterator()
            return await iterator.next()
        }
        #expect(received?.topic == "eew/a")
        #expect(received?.payload == ByteBuffer(string: "hello"))

        let unsubscriber = Task { try await client.unsubscribe(["eew/#"]) }
        let (_, unsubscribe) = try await broker.expectPacket(within: 30, "UNSUBSCRIBE")
        guard case .unsubscribe(let unrequest) = unsubscribe else { throw UnexpectedEvent(event: .packet(connection: connection.id, unsubscribe), expected: "UNSUBSCRIBE") }
        #expect(unrequest.topicFilters == ["eew/#"])
        connection.send(.unsuback(packetID: unrequest.packetID))
        try await value(of: unsubscriber, within: 30, "UNSUBACK")

        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("subscriptions are renewed after a reconnect without session, not with one")
    func resubscribe() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let (first, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        let subscriber = Task { try await client.subscribe([MQTTSubscription(topicFilter: "a/+", qos: .atLeastOnce)]) }
        let (_, subscribe) = try await broker.expectPacket(within: 30, "SUBSCRIBE")
        guard case .subscribe(let request) = subscribe else { throw UnexpectedEvent(event: .packet(connection: first.id, subscribe), expected: "SUBSCRIBE") }
        first.send(.suback(MQTTSubAck(packetID: request.packetID, returnCodes: [.granted(.atLeastOnce)])))
        _ = try await value(of: subscriber, within: 30, "SUBACK")

        // Reconnect 1: the broker has no session → the client subscribes again by itself.
        first.close()
        let (second, _) = try await broker.acceptClient()
        let (_, renewal) = try await broker.expectPacket(within: 30, "renewed SUBSCRIBE")
        guard case .subscribe(let renewed) = renewal else { throw UnexpectedEvent(event: .packet(connection: second.id, renewal), expected: "SUBSCRIBE") }
        #expect(renewed.subscriptions == request.subscriptions)
        second.send(.suback(MQTTSubAck(packetID: renewed.packetID, returnCodes: [.granted(.atLeastOnce)])))

        // Reconnect 2: session present → nothing to renew.
        second.close()
        let third = try await broker.expectAccepted()
        _ = try await broker.expectPacket(within: 30, "CONNECT")
        third.send(.connack(MQTTConnAck(sessionPresent: true, returnCode: .accepted)))
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        #expect(await broker.events.next(timeout: .milliseconds(200)) == nil, "SUBSCRIBE sent although the session was present")

        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("malformed bytes from the broker close the connection; the client reconnects and re-sends")
    func malformedFromBroker() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let (first, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        let publisher = Task { try await client.publish(topic: "t", payload: ByteBuffer(string: "p")) }
        let (_, packet) = try await broker.expectPacket(within: 30, "PUBLISH")
        guard case .publish(let message) = packet, let packetID = message.packetID else {
            throw UnexpectedEvent(event: .packet(connection: first.id, packet), expected: "PUBLISH")
        }
        first.sendRaw([0x40, 0x02, 0x00, 0x00])  // PUBACK with packet id 0: malformed
        let (second, _) = try await broker.acceptClient()  // the client closed the first one
        #expect(second.id != first.id)
        let (_, again) = try await broker.expectPacket(within: 30, "re-sent PUBLISH")
        guard case .publish(let resent) = again else { throw UnexpectedEvent(event: .packet(connection: second.id, again), expected: "PUBLISH") }
        #expect(resent.dup && resent.packetID == packetID)
        second.send(.puback(packetID: packetID))
        try await value(of: publisher, within: 30, "publish returns")
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }

    @Test("disconnect() fails unacknowledged publishes with clientShutDown")
    func shutdownFailsPending() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        _ = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        let publisher = Task { try await client.publish(topic: "t", payload: ByteBuffer(string: "never acked")) }
        _ = try await broker.expectPacket(within: 30, "PUBLISH")
        await client.disconnect()
        let error = await thrownMQTTError(publisher)
        #expect(error?.code == .clientShutDown)
        try await value(of: runner, within: 30, "run() returns")
        await #expect(throws: MQTTError.self) { try await client.publish(topic: "t", payload: ByteBuffer()) }
        await broker.stop()
    }

    @Test("cancelling the task that runs run() stops the client")
    func cancelRun() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = start(client)
        let (connection, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        let publisher = Task { try await client.publish(topic: "t", payload: ByteBuffer(string: "x")) }
        _ = try await broker.expectPacket(within: 30, "PUBLISH")
        runner.cancel()
        try await value(of: runner, within: 30, "run() returns after cancellation")
        let error = await thrownMQTTError(publisher)
        #expect(error?.code == .clientShutDown)
        #expect(await client.isConnected == false)
        try await withDeadline(30, "connection closed") { try await connection.channel.closeFuture.get() }
        #expect(!connection.channel.isActive)
        await broker.stop()
    }

    @Test("QoS 0 without a connection throws notConnected; invalid topics are rejected before queueing")
    func publishPreconditions() async throws {
        let client = MQTTClient(configuration: configuration(port: 1))
        await #expect {
            try await client.publish(topic: "t", payload: ByteBuffer(), qos: .atMostOnce)
        } throws: { ($0 as? MQTTError)?.code == .notConnected }
        await #expect {
            try await client.publish(topic: "t/#", payload: ByteBuffer())
        } throws: { ($0 as? MQTTError)?.code == .invalidTopic }
        #expect(await client.inFlightCount == 0)
        await client.disconnect()
    }

    @Test("reconnect delays grow exponentially up to the cap")
    func backoff() {
        var configuration = MQTTClientConfiguration(host: "h", port: 1, clientID: "c")
        configuration.reconnectInitialDelay = .milliseconds(100)
        configuration.reconnectMaximumDelay = .seconds(1)
        configuration.reconnectMultiplier = 2
        let delays = (0..<7).map { configuration.reconnectDelay(attempt: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
    }

    @Test("a client that cannot reach any broker keeps retrying until disconnect()")
    func unreachable() async throws {
        // Port 1 on loopback: connection refused at once.
        let client = MQTTClient(configuration: configuration(port: 1))
        let runner = start(client)
        let counter = Task {
            var failures = 0
            for await event in client.events {
                if case .disconnected = event { failures += 1 }
                if failures == 3 { break }
            }
            return failures
        }
        let failures = try await value(of: counter, within: 30, "three failed attempts")
        #expect(failures == 3)
        #expect(await client.isConnected == false)
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
    }
}

/// Waits at most 30 s for `task` and returns the `MQTTError` it threw (nil if none or another error).
func thrownMQTTError(_ task: Task<Void, any Error>) async -> MQTTError? {
    do {
        try await value(of: task, within: 30, "expected error")
        return nil
    } catch {
        return error as? MQTTError
    }
}
