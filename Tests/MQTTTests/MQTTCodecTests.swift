import MQTT
import NIOCore
import NIOEmbedded
import Testing

/// One packet of every type (and variants), used by the round-trip and chunking tests.
let samplePackets: [MQTTPacket] = [
    .connect(MQTTConnect(clientID: "quakewarn-1", cleanSession: true, keepAliveSeconds: 30)),
    .connect(
        MQTTConnect(
            clientID: "relay", cleanSession: false, keepAliveSeconds: 65_535, username: "user",
            password: [0, 1, 2, 255], will: MQTTWill(topic: "status/relay", payload: buffer("offline"), qos: .atLeastOnce, retain: true)
        )
    ),
    .connect(MQTTConnect(clientID: "", cleanSession: true, keepAliveSeconds: 0, username: "only-user")),
    .connack(MQTTConnAck(sessionPresent: false, returnCode: .accepted)),
    .connack(MQTTConnAck(sessionPresent: true, returnCode: .accepted)),
    .connack(MQTTConnAck(sessionPresent: false, returnCode: .badUsernameOrPassword)),
    .publish(MQTTPublish(topic: "eew/warning", payload: buffer("{\"id\":1}"))),
    .publish(MQTTPublish(topic: "a/b", payload: ByteBuffer(), qos: .atLeastOnce, retain: true, dup: true, packetID: 65_535)),
    .publish(MQTTPublish(topic: "地震/预警", payload: buffer([0, 0xFF, 0x80]), qos: .exactlyOnce, packetID: 7)),
    .publish(MQTTPublish(topic: "/", payload: buffer("x"), qos: .atMostOnce, retain: true)),
    .puback(packetID: 1),
    .pubrec(packetID: 2),
    .pubrel(packetID: 3),
    .pubcomp(packetID: 4),
    .subscribe(
        MQTTSubscribe(
            packetID: 10,
            subscriptions: [
                MQTTSubscription(topicFilter: "eew/#", qos: .atLeastOnce),
                MQTTSubscription(topicFilter: "+/status/+", qos: .atMostOnce),
                MQTTSubscription(topicFilter: "#", qos: .exactlyOnce),
            ]
        )
    ),
    .suback(MQTTSubAck(packetID: 10, returnCodes: [.granted(.atLeastOnce), .granted(.atMostOnce), .failure, .granted(.exactlyOnce)])),
    .unsubscribe(MQTTUnsubscribe(packetID: 11, topicFilters: ["eew/#", "a/+/c"])),
    .unsuback(packetID: 11),
    .pingreq,
    .pingresp,
    .disconnect,
]

@Suite("MQTT packet codec")
struct MQTTCodecTests {
    @Test("every sample packet survives encode → decode", arguments: samplePackets)
    func roundTrip(_ packet: MQTTPacket) throws {
        let bytes = try encode(packet)
        let decoded = try #require(try decodeOne(bytes))
        #expect(decoded == packet)
        #expect(bytes.first.map { $0 >> 4 } == packet.type.rawValue)
    }

    @Test("every packet type is covered by the samples")
    func coverage() {
        let types = Set(samplePackets.map(\.type))
        #expect(types == Set(MQTTPacketType.allCases))
    }

    /// Remaining lengths at each varint size boundary (§2.2.3, Table 2.4). The expected header
    /// bytes are the table's values, written out by hand.
    @Test(
        "remaining length boundaries",
        arguments: [
            (0, [0x00] as [UInt8]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]),
            (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]),
        ]
    )
    func remainingLengthBoundaries(remainingLength: Int, varint: [UInt8]) throws {
        let packet: MQTTPacket
        if remainingLength == 0 {
            packet = .pingreq
        } else {
            // QoS 0 PUBLISH: topic "t" takes 3 bytes, the payload the rest.
            let payload = ByteBuffer(repeating: 0xA5, count: remainingLength - 3)
            packet = .publish(MQTTPublish(topic: "t", payload: payload))
        }
        let bytes = try encode(packet)
        #expect(bytes.count == 1 + varint.count + remainingLength)
        #expect(Array(bytes[1..<(1 + varint.count)]) == varint)
        let decoded = try decodeOne(bytes, maximumPacketSize: 3 << 20)
        #expect(decoded == packet)
        // One byte short: the decoder must ask for more data, not fail.
        #expect(try decodeOne(Array(bytes.dropLast()), maximumPacketSize: 3 << 20) == nil)
    }

    @Test("largest remaining length 268,435,455 is parsed from the header without buffering the body")
    func largestRemainingLength() throws {
        let header: [UInt8] = [0x30, 0xFF, 0xFF, 0xFF, 0x7F]
        // Within the limit: need more data (nil), no allocation of the body.
        #expect(try decodeOne(header, maximumPacketSize: Int.max) == nil)
        // Above the limit: rejected from the 5 header bytes alone.
        let error = try #require(decodeError(header, maximumPacketSize: 1 << 20))
        #expect(error.code == .packetTooLarge)
        #expect(error.packetType == .publish)
    }

    // MARK: Known byte vectors, written by hand from the spec (not produced by the encoder)

    static let vectors: [(String, [UInt8], MQTTPacket)] = [
        (
            "CONNECT user+password, clean session, keep alive 60",
            [
                0x10, 0x14, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0xC2, 0x00, 0x3C,
                0x00, 0x02, 0x71, 0x77, 0x00, 0x01, 0x75, 0x00, 0x01, 0x70,
            ],
            .connect(MQTTConnect(clientID: "qw", cleanSession: true, keepAliveSeconds: 60, username: "u", password: Array("p".utf8)))
        ),
        (
            "CONNECT will QoS 1 retained, keep alive 10 (flags 0x2E)",
            [
                0x10, 0x13, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x2E, 0x00, 0x0A,
                0x00, 0x01, 0x61, 0x00, 0x01, 0x77, 0x00, 0x01, 0x78,
            ],
            .connect(
                MQTTConnect(
                    clientID: "a", cleanSession: true, keepAliveSeconds: 10,
                    will: MQTTWill(topic: "w", payload: buffer("x"), qos: .atLeastOnce, retain: true)
                )
            )
        ),
        ("CONNACK accepted", [0x20, 0x02, 0x00, 0x00], .connack(MQTTConnAck(sessionPresent: false, returnCode: .accepted))),
        ("CONNACK session present", [0x20, 0x02, 0x01, 0x00], .connack(MQTTConnAck(sessionPresent: true, returnCode: .accepted))),
        ("CONNACK not authorized", [0x20, 0x02, 0x00, 0x05], .connack(MQTTConnAck(sessionPresent: false, returnCode: .notAuthorized))),
        (
            "PUBLISH QoS 1 topic a/b id 10 payload hi (§3.3.2.3 example)",
            [0x32, 0x09, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x0A, 0x68, 0x69],
            .publish(MQTTPublish(topic: "a/b", payload: buffer("hi"), qos: .atLeastOnce, packetID: 10))
        ),
        (
            "PUBLISH QoS 1 DUP RETAIN",
            [0x3B, 0x07, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x12, 0x34],
            .publish(MQTTPublish(topic: "a/b", payload: ByteBuffer(), qos: .atLeastOnce, retain: true, dup: true, packetID: 0x1234))
        ),
        (
            "PUBLISH QoS 0 empty payload",
            [0x30, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x62],
            .publish(MQTTPublish(topic: "a/b", payload: ByteBuffer()))
        ),
        ("PUBACK id 10", [0x40, 0x02, 0x00, 0x0A], .puback(packetID: 10)),
        (
            "SUBSCRIBE a/b QoS 1, c/d QoS 2, id 10 (§3.8.3 example)",
            [0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x01, 0x00, 0x03, 0x63, 0x2F, 0x64, 0x02],
            .subscribe(
                MQTTSubscribe(
                    packetID: 10,
                    subscriptions: [MQTTSubscription(topicFilter: "a/b", qos: .atLeastOnce), MQTTSubscription(topicFilter: "c/d", qos: .exactlyOnce)]
                )
            )
        ),
        (
            "SUBACK 0, 1, 2, 0x80 (§3.9.3 example)",
            [0x90, 0x06, 0x00, 0x0A, 0x00, 0x01, 0x02, 0x80],
            .suback(MQTTSubAck(packetID: 10, returnCodes: [.granted(.atMostOnce), .granted(.atLeastOnce), .granted(.exactlyOnce), .failure]))
        ),
        (
            "UNSUBSCRIBE a/b id 11",
            [0xA2, 0x07, 0x00, 0x0B, 0x00, 0x03, 0x61, 0x2F, 0x62],
            .unsubscribe(MQTTUnsubscribe(packetID: 11, topicFilters: ["a/b"]))
        ),
        ("UNSUBACK id 11", [0xB0, 0x02, 0x00, 0x0B], .unsuback(packetID: 11)),
        ("PINGREQ", [0xC0, 0x00], .pingreq),
        ("PINGRESP", [0xD0, 0x00], .pingresp),
        ("DISCONNECT", [0xE0, 0x00], .disconnect),
    ]

    @Test("hand-written spec vectors decode to the expected packets and the encoder reproduces them")
    func knownVectors() throws {
        for (name, bytes, packet) in Self.vectors {
            let decoded = try decodeOne(bytes)
            #expect(decoded == packet, "decode: \(name)")
            #expect(try encode(packet) == bytes, "encode: \(name)")
        }
    }

    // MARK: Streaming

    /// Feeds the concatenation of all sample packets through a `ByteToMessageHandler` in an
    /// `EmbeddedChannel` one byte at a time, like NIO's `ByteToMessageDecoderVerifier`.
    @Test("byte-at-a-time decoding through EmbeddedChannel")
    func byteAtATime() throws {
        var stream = ByteBuffer()
        for packet in samplePackets { try packet.encode(into: &stream) }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        var decoded: [MQTTPacket] = []
        var packetsCompletedAt: [Int] = []
        var offset = 0
        while let byte = stream.readInteger(as: UInt8.self) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            offset += 1
            while let packet = try channel.readInbound(as: MQTTPacket.self) {
                decoded.append(packet)
                packetsCompletedAt.append(offset)
            }
        }
        #expect(decoded == samplePackets)
        // Each packet is emitted exactly when its last byte arrives.
        var expectedEnds: [Int] = []
        var end = 0
        for packet in samplePackets {
            end += try encode(packet).count
            expectedEnds.append(end)
        }
        #expect(packetsCompletedAt == expectedEnds)
        #expect(try channel.finish().isClean)
    }

    @Test("random chunking gives the same packets", arguments: [UInt64(1), 2, 3, 42, 815])
    func randomChunks(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var stream = ByteBuffer()
        for packet in samplePackets { try packet.encode(into: &stream) }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        var decoded: [MQTTPacket] = []
        while stream.readableBytes > 0 {
            let size = Int.random(in: 1...min(40, stream.readableBytes), using: &generator)
            let chunk = stream.readSlice(length: size)
            try channel.writeInbound(try #require(chunk))
            while let packet = try channel.readInbound(as: MQTTPacket.self) { decoded.append(packet) }
        }
        #expect(decoded == samplePackets)
        #expect(try channel.finish().isClean)
    }

    @Test("stream offsets count consumed bytes")
    func streamOffset() throws {
        var decoder = MQTTPacketDecoder()
        var input = ByteBuffer(bytes: [0xC0, 0x00, 0x40, 0x02, 0x00, 0x01, 0x41, 0x02, 0x00, 0x01])
        #expect(try decoder.decodePacket(from: &input) == .pingreq)
        #expect(try decoder.decodePacket(from: &input) == .puback(packetID: 1))
        #expect(decoder.streamOffset == 6)
        do {
            _ = try decoder.decodePacket(from: &input)
            Issue.record("bad PUBACK flags accepted")
        } catch {
            #expect(error.code == .invalidFixedHeaderFlags)
            #expect(error.streamOffset == 6)
            #expect(error.byteOffset == 0)
            #expect(error.packetType == .puback)
        }
    }

    @Test("EOF in the middle of a packet is reported as truncated")
    func eofMidPacket() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: [0x32, 0x09, 0x00, 0x03, 0x61]))
        #expect(try channel.readInbound(as: MQTTPacket.self) == nil)
        #expect {
            _ = try channel.finish()
        } throws: { error in
            (error as? MQTTError)?.code == .truncatedPacket
        }
    }

    @Test("EOF inside the remaining-length varint is reported as truncated")
    func eofMidVarint() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: [0xC0, 0x00, 0x30, 0x80, 0x80]))
        #expect(try channel.readInbound(as: MQTTPacket.self) == .pingreq)
        #expect(try channel.readInbound(as: MQTTPacket.self) == nil)
        #expect {
            _ = try channel.finish()
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.code == .truncatedPacket && error.packetType == .publish && error.streamOffset == 2
        }
    }

    @Test("a malformed packet through the pipeline surfaces as MQTTError")
    func malformedThroughPipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MQTTPacketDecoder()))
        #expect {
            try channel.writeInbound(ByteBuffer(bytes: [0xC0, 0x00, 0xF0, 0x00]))
        } throws: { error in
            guard let error = error as? MQTTError else { return false }
            return error.code == .reservedPacketType && error.streamOffset == 2
        }
        #expect(try channel.readInbound(as: MQTTPacket.self) == .pingreq)
        _ = try? channel.finish()
    }
}
