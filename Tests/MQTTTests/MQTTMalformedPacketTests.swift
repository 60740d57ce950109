import MQTT
import NIOCore
import Testing

/// One malformed input: the bytes, the error code, packet type and byte offset we expect.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var code: MQTTError.Code
    var packetType: MQTTPacketType?
    var byteOffset: Int
    var maximumPacketSize = MQTTPacketDecoder.defaultMaximumPacketSize

    var testDescription: String { name }
}

let malformedCases: [MalformedCase] = [
    // Fixed header (§2.2)
    MalformedCase(name: "reserved type 0", bytes: [0x00, 0x00], code: .reservedPacketType, packetType: nil, byteOffset: 0),
    MalformedCase(name: "reserved type 15", bytes: [0xF0, 0x00], code: .reservedPacketType, packetType: nil, byteOffset: 0),
    MalformedCase(name: "PUBACK with flag bit 0", bytes: [0x41, 0x02, 0x00, 0x01], code: .invalidFixedHeaderFlags, packetType: .puback, byteOffset: 0),
    MalformedCase(name: "SUBSCRIBE with flags 0", bytes: [0x80, 0x08, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x01], code: .invalidFixedHeaderFlags, packetType: .subscribe, byteOffset: 0),
    MalformedCase(name: "CONNECT with flags 0b0010", bytes: [0x12, 0x00], code: .invalidFixedHeaderFlags, packetType: .connect, byteOffset: 0),
    MalformedCase(name: "PINGREQ with flags 0xF", bytes: [0xCF, 0x00], code: .invalidFixedHeaderFlags, packetType: .pingreq, byteOffset: 0),
    MalformedCase(name: "PUBLISH QoS 3", bytes: [0x36, 0x07, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x01], code: .invalidQoS, packetType: .publish, byteOffset: 0),
    MalformedCase(name: "PUBLISH QoS 0 with DUP", bytes: [0x38, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x62], code: .invalidQoS, packetType: .publish, byteOffset: 0),
    // Remaining Length (§2.2.3)
    MalformedCase(name: "varint of 5 bytes", bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], code: .malformedRemainingLength, packetType: .publish, byteOffset: 4),
    MalformedCase(name: "varint non-minimal 0x80 0x00", bytes: [0xC0, 0x80, 0x00], code: .malformedRemainingLength, packetType: .pingreq, byteOffset: 2),
    MalformedCase(name: "varint non-minimal 0xFF 0x80 0x00", bytes: [0x30, 0xFF, 0x80, 0x00], code: .malformedRemainingLength, packetType: .publish, byteOffset: 3),
    MalformedCase(name: "oversize packet (header only)", bytes: [0x30, 0xFF, 0xFF, 0x7F], code: .packetTooLarge, packetType: .publish, byteOffset: 1, maximumPacketSize: 1024),
    MalformedCase(name: "1 byte over the limit", bytes: [0x30, 0x7F], code: .packetTooLarge, packetType: .publish, byteOffset: 1, maximumPacketSize: 128),
    // Strings and lengths (§1.5.3)
    MalformedCase(name: "topic length past the end", bytes: [0x30, 0x05, 0x00, 0x09, 0x61, 0x2F, 0x62], code: .truncatedPacket, packetType: .publish, byteOffset: 2),
    MalformedCase(name: "topic length field cut", bytes: [0x30, 0x01, 0x00], code: .truncatedPacket, packetType: .publish, byteOffset: 2),
    MalformedCase(name: "invalid UTF-8 (C3 28)", bytes: [0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], code: .invalidUTF8String, packetType: .publish, byteOffset: 4),
    MalformedCase(name: "UTF-16 surrogate encoded (ED A0 80)", bytes: [0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80], code: .invalidUTF8String, packetType: .publish, byteOffset: 4),
    MalformedCase(name: "overlong '/' (C0 AF)", bytes: [0x30, 0x04, 0x00, 0x02, 0xC0, 0xAF], code: .invalidUTF8String, packetType: .publish, byteOffset: 4),
    MalformedCase(name: "U+0000 in topic", bytes: [0x30, 0x05, 0x00, 0x03, 0x61, 0x00, 0x62], code: .invalidUTF8String, packetType: .publish, byteOffset: 5),
    // Topics (§4.7)
    MalformedCase(name: "PUBLISH topic with '#'", bytes: [0x30, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x23], code: .invalidTopic, packetType: .publish, byteOffset: 2),
    MalformedCase(name: "PUBLISH topic with '+'", bytes: [0x30, 0x03, 0x00, 0x01, 0x2B], code: .invalidTopic, packetType: .publish, byteOffset: 2),
    MalformedCase(name: "PUBLISH empty topic", bytes: [0x30, 0x02, 0x00, 0x00], code: .invalidTopic, packetType: .publish, byteOffset: 2),
    MalformedCase(name: "SUBSCRIBE 'a/#/b'", bytes: [0x82, 0x0A, 0x00, 0x01, 0x00, 0x05, 0x61, 0x2F, 0x23, 0x2F, 0x62, 0x00], code: .invalidTopic, packetType: .subscribe, byteOffset: 4),
    MalformedCase(name: "SUBSCRIBE 'a+'", bytes: [0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 0x61, 0x2B, 0x00], code: .invalidTopic, packetType: .subscribe, byteOffset: 4),
    // Packet identifiers (§2.3.1)
    MalformedCase(name: "QoS 1 PUBLISH with packet id 0", bytes: [0x32, 0x07, 0x00, 0x03, 0x61, 0x2F, 0x62, 0x00, 0x00], code: .invalidPacketIdentifier, packetType: .publish, byteOffset: 7),
    MalformedCase(name: "PUBACK with packet id 0", bytes: [0x40, 0x02, 0x00, 0x00], code: .invalidPacketIdentifier, packetType: .puback, byteOffset: 2),
    MalformedCase(name: "QoS 1 PUBLISH cut before the packet id", bytes: [0x32, 0x05, 0x00, 0x03, 0x61, 0x2F, 0x62], code: .truncatedPacket, packetType: .publish, byteOffset: 7),
    // Fixed-size bodies
    MalformedCase(name: "PUBACK with remaining length 3", bytes: [0x40, 0x03, 0x00, 0x01, 0x00], code: .malformedPacket, packetType: .puback, byteOffset: 1),
    MalformedCase(name: "PINGRESP with a body byte", bytes: [0xD0, 0x01, 0x00], code: .malformedPacket, packetType: .pingresp, byteOffset: 1),
    MalformedCase(name: "CONNACK reserved flag bits", bytes: [0x20, 0x02, 0x02, 0x00], code: .malformedPacket, packetType: .connack, byteOffset: 2),
    MalformedCase(name: "CONNACK reserved return code 6", bytes: [0x20, 0x02, 0x00, 0x06], code: .malformedPacket, packetType: .connack, byteOffset: 3),
    MalformedCase(name: "CONNACK session present with refusal", bytes: [0x20, 0x02, 0x01, 0x04], code: .malformedPacket, packetType: .connack, byteOffset: 2),
    // SUBSCRIBE / SUBACK / UNSUBSCRIBE payloads
    MalformedCase(name: "SUBSCRIBE without filters", bytes: [0x82, 0x02, 0x00, 0x01], code: .malformedPacket, packetType: .subscribe, byteOffset: 4),
    MalformedCase(name: "SUBSCRIBE requested QoS 3", bytes: [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x03], code: .invalidQoS, packetType: .subscribe, byteOffset: 7),
    MalformedCase(name: "SUBSCRIBE reserved QoS bits", bytes: [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x41], code: .malformedPacket, packetType: .subscribe, byteOffset: 7),
    MalformedCase(name: "SUBSCRIBE filter without QoS byte", bytes: [0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61], code: .truncatedPacket, packetType: .subscribe, byteOffset: 7),
    MalformedCase(name: "SUBACK return code 0x03", bytes: [0x90, 0x03, 0x00, 0x01, 0x03], code: .malformedPacket, packetType: .suback, byteOffset: 4),
    MalformedCase(name: "UNSUBSCRIBE without filters", bytes: [0xA2, 0x02, 0x00, 0x01], code: .malformedPacket, packetType: .unsubscribe, byteOffset: 4),
    // CONNECT (§3.1)
    MalformedCase(
        name: "CONNECT protocol name MQIsdp",
        bytes: [0x10, 0x0E, 0x00, 0x06, 0x4D, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0x02, 0x00, 0x3C, 0x00, 0x00],
        code: .unsupportedProtocol, packetType: .connect, byteOffset: 2
    ),
    MalformedCase(
        name: "CONNECT protocol level 5",
        bytes: [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3C, 0x00, 0x00],
        code: .unsupportedProtocol, packetType: .connect, byteOffset: 8
    ),
    MalformedCase(
        name: "CONNECT reserved flag bit 0",
        bytes: [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x03, 0x00, 0x3C, 0x00, 0x00],
        code: .malformedPacket, packetType: .connect, byteOffset: 9
    ),
    MalformedCase(
        name: "CONNECT password without user name",
        bytes: [0x10, 0x0F, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x42, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x01, 0x70],
        code: .malformedPacket, packetType: .connect, byteOffset: 9
    ),
    MalformedCase(
        name: "CONNECT will QoS 3",
        bytes: [0x10, 0x12, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x1E, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x01, 0x77, 0x00, 0x01, 0x78],
        code: .invalidQoS, packetType: .connect, byteOffset: 9
    ),
    MalformedCase(
        name: "CONNECT will retain without will flag",
        bytes: [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x22, 0x00, 0x3C, 0x00, 0x00],
        code: .malformedPacket, packetType: .connect, byteOffset: 9
    ),
    MalformedCase(
        name: "CONNECT empty client id without clean session",
        bytes: [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x3C, 0x00, 0x00],
        code: .malformedPacket, packetType: .connect, byteOffset: 12
    ),
    MalformedCase(
        name: "CONNECT trailing byte",
        bytes: [0x10, 0x0D, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x00, 0xAA],
        code: .malformedPacket, packetType: .connect, byteOffset: 14
    ),
    MalformedCase(
        name: "CONNECT user name flag but no user name",
        bytes: [0x10, 0x0C, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x82, 0x00, 0x3C, 0x00, 0x00],
        code: .truncatedPacket, packetType: .connect, byteOffset: 14
    ),
]

@Suite("MQTT malformed packets")
struct MQTTMalformedPacketTests {
    @Test("malformed input gives a typed error with packet type and byte offset", arguments: malformedCases)
    func malformed(_ testCase: MalformedCase) throws {
        let error = try #require(decodeError(testCase.bytes, maximumPacketSize: testCase.maximumPacketSize))
        #expect(error.code == testCase.code, "\(error)")
        #expect(error.packetType == testCase.packetType, "\(error)")
        #expect(error.byteOffset == testCase.byteOffset, "\(error)")
        #expect(error.streamOffset == 0)
        #expect(!error.reason.isEmpty)
    }

    /// The errors that can be known from a prefix are raised from that prefix; the others wait
    /// for the whole packet. Either way no prefix of a malformed packet is accepted as a packet.
    @Test("no prefix of a malformed packet decodes to a packet", arguments: malformedCases)
    func prefixes(_ testCase: MalformedCase) {
        for length in 0..<testCase.bytes.count {
            var decoder = MQTTPacketDecoder(maximumPacketSize: testCase.maximumPacketSize)
            var input = ByteBuffer(bytes: testCase.bytes.prefix(length))
            do {
                let packet = try decoder.decodePacket(from: &input)
                #expect(packet == nil, "prefix of \(length) bytes of \(testCase.name) decoded")
            } catch {
                #expect(error.code == testCase.code, "prefix of \(length) bytes: \(error)")
            }
        }
    }

    /// Seeded random byte strings and random single-byte corruptions of valid packets: the
    /// decoder returns packets, asks for more data, or throws `MQTTError` — it never traps,
    /// and whatever it returns re-encodes (so it is a packet the encoder accepts).
    @Test("random and corrupted inputs never trap", arguments: [UInt64(7), 8, 9])
    func fuzz(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var valid: [[UInt8]] = []
        for packet in samplePackets { valid.append(try encode(packet)) }
        var outcomes = (packets: 0, needMore: 0, errors: 0)
        for round in 0..<4_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                let count = Int.random(in: 0...64, using: &generator)
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = valid[Int.random(in: 0..<valid.count, using: &generator)]
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            var decoder = MQTTPacketDecoder(maximumPacketSize: 4096)
            var input = ByteBuffer(bytes: bytes)
            do {
                while let packet = try decoder.decodePacket(from: &input) {
                    outcomes.packets += 1
                    _ = try encode(packet)
                }
                outcomes.needMore += 1
            } catch {
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 0 && outcomes.needMore > 0 && outcomes.packets > 0)
    }

    @Test("encoder rejects packets a sender must not send")
    func encoderValidation() {
        func code(_ packet: MQTTPacket) -> MQTTError.Code? {
            var out = ByteBuffer()
            do {
                try packet.encode(into: &out)
                return nil
            } catch {
                #expect(out.readableBytes == 0, "buffer written before the error")
                return error.code
            }
        }
        #expect(code(.publish(MQTTPublish(topic: "a/#", payload: ByteBuffer()))) == .invalidTopic)
        #expect(code(.publish(MQTTPublish(topic: "", payload: ByteBuffer()))) == .invalidTopic)
        #expect(code(.publish(MQTTPublish(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce))) == .invalidPacketIdentifier)
        #expect(code(.publish(MQTTPublish(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce, packetID: 0))) == .invalidPacketIdentifier)
        #expect(code(.publish(MQTTPublish(topic: "a", payload: ByteBuffer(), dup: true))) == .invalidQoS)
        #expect(code(.publish(MQTTPublish(topic: String(repeating: "x", count: 65_536), payload: ByteBuffer()))) == .invalidTopic)
        #expect(code(.connect(MQTTConnect(clientID: String(repeating: "x", count: 65_536)))) == .stringTooLong)
        #expect(code(.connect(MQTTConnect(clientID: "a\u{0}b"))) == .invalidUTF8String)
        #expect(code(.connect(MQTTConnect(clientID: "c", password: [1]))) == .malformedPacket)
        #expect(code(.connect(MQTTConnect(clientID: "", cleanSession: false))) == .malformedPacket)
        #expect(code(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: []))) == .malformedPacket)
        #expect(code(.subscribe(MQTTSubscribe(packetID: 1, subscriptions: [MQTTSubscription(topicFilter: "a#", qos: .atMostOnce)]))) == .invalidTopic)
        #expect(code(.unsubscribe(MQTTUnsubscribe(packetID: 1, topicFilters: []))) == .malformedPacket)
        #expect(code(.puback(packetID: 0)) == .invalidPacketIdentifier)
        #expect(code(.connack(MQTTConnAck(sessionPresent: true, returnCode: .notAuthorized))) == .malformedPacket)
    }
}
