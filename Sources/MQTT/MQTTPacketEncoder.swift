public import NIOCore

/// The largest Remaining Length a 4-byte varint can carry: 268,435,455 (§2.2.3, Table 2.4).
public let mqttMaximumRemainingLength = 268_435_455

extension MQTTPacket {
    /// Writes the packet (fixed header, variable header, payload) at the writer index of `buffer`.
    ///
    /// Validates what the spec requires of a sender before writing anything, so on a throw the
    /// buffer is unchanged: string lengths ≤ 65,535 bytes without U+0000, topic names without
    /// wildcards, valid topic filters, non-zero packet identifiers where required, no DUP on
    /// QoS 0, password only with a user name, non-empty SUBSCRIBE/UNSUBSCRIBE/SUBACK lists and
    /// a Remaining Length ≤ 268,435,455.
    /// - Complexity: O(packet size); one reservation of the exact packet size.
    public func encode(into buffer: inout ByteBuffer) throws(MQTTError) {
        let remainingLength = try validatedRemainingLength()
        let firstByte = (type.rawValue << 4) | fixedHeaderFlags
        buffer.reserveCapacity(minimumWritableBytes: 1 + MQTTVarint.encodedLength(remainingLength) + remainingLength)
        buffer.writeInteger(firstByte)
        MQTTVarint.write(remainingLength, into: &buffer)

        switch self {
        case .connect(let connect):
            buffer.writeMQTTString("MQTT")
            buffer.writeInteger(UInt8(4))
            buffer.writeInteger(connect.connectFlags)
            buffer.writeInteger(connect.keepAliveSeconds)
            buffer.writeMQTTString(connect.clientID)
            if let will = connect.will {
                buffer.writeMQTTString(will.topic)
                buffer.writeInteger(UInt16(will.payload.readableBytes))
                buffer.writeImmutableBuffer(will.payload)
            }
            if let username = connect.username { buffer.writeMQTTString(username) }
            if let password = connect.password {
                buffer.writeInteger(UInt16(password.count))
                buffer.writeBytes(password)
            }
        case .connack(let connack):
            buffer.writeInteger(UInt8(connack.sessionPresent ? 1 : 0))
            buffer.writeInteger(connack.returnCode.rawValue)
        case .publish(let publish):
            buffer.writeMQTTString(publish.topic)
            if publish.qos != .atMostOnce, let packetID = publish.packetID { buffer.writeInteger(packetID) }
            buffer.writeImmutableBuffer(publish.payload)
        case .puback(let packetID), .pubrec(let packetID), .pubrel(let packetID), .pubcomp(let packetID),
            .unsuback(let packetID):
            buffer.writeInteger(packetID)
        case .subscribe(let subscribe):
            buffer.writeInteger(subscribe.packetID)
            for subscription in subscribe.subscriptions {
                buffer.writeMQTTString(subscription.topicFilter)
                buffer.writeInteger(subscription.qos.rawValue)
            }
        case .suback(let suback):
            buffer.writeInteger(suback.packetID)
            for code in suback.returnCodes { buffer.writeInteger(code.rawValue) }
        case .unsubscribe(let unsubscribe):
            buffer.writeInteger(unsubscribe.packetID)
            for filter in unsubscribe.topicFilters { buffer.writeMQTTString(filter) }
        case .pingreq, .pingresp, .disconnect:
            break
        }
    }

    /// The low nibble of the fixed header (§2.2.2).
    var fixedHeaderFlags: UInt8 {
        if case .publish(let publish) = self {
            return (publish.dup ? 0b1000 : 0) | (publish.qos.rawValue << 1) | (publish.retain ? 1 : 0)
        }
        return type.requiredFlags ?? 0
    }

    /// Checks the packet against the sender rules and returns its Remaining Length.
    func validatedRemainingLength() throws(MQTTError) -> Int {
        let type = self.type
        func fail(_ code: MQTTError.Code, _ reason: String) -> MQTTError {
            MQTTError(code, packetType: type, reason: reason)
        }
        func stringLength(_ text: String, field: String) throws(MQTTError) -> Int {
            let count = text.utf8.count
            if count > 65_535 { throw fail(.stringTooLong, "\(field) is \(count) bytes, more than 65535") }
            if text.utf8.contains(0) { throw fail(.invalidUTF8String, "\(field) contains U+0000 ([MQTT-1.5.3-2])") }
            return 2 + count
        }
        func binaryLength(_ count: Int, field: String) throws(MQTTError) -> Int {
            if count > 65_535 { throw fail(.stringTooLong, "\(field) is \(count) bytes, more than 65535") }
            return 2 + count
        }
        func checkID(_ packetID: UInt16) throws(MQTTError) {
            if packetID == 0 { throw fail(.invalidPacketIdentifier, "packet identifier must be non-zero (§2.3.1)") }
        }

        var length: Int
        switch self {
        case .connect(let connect):
            length = 10  // protocol name (6), level (1), flags (1), keep alive (2)
            length += try stringLength(connect.clientID, field: "client identifier")
            if connect.clientID.isEmpty && !connect.cleanSession {
                throw fail(.malformedPacket, "an empty client identifier requires clean session ([MQTT-3.1.3-7])")
            }
            if let will = connect.will {
                if let violation = MQTTTopic.topicNameViolation(will.topic) { throw fail(.invalidTopic, "will " + violation) }
                length += try stringLength(will.topic, field: "will topic")
                length += try binaryLength(will.payload.readableBytes, field: "will message")
            }
            if let username = connect.username { length += try stringLength(username, field: "user name") }
            if let password = connect.password {
                if connect.username == nil {
                    throw fail(.malformedPacket, "a password requires a user name in MQTT 3.1.1 ([MQTT-3.1.2-22])")
                }
                length += try binaryLength(password.count, field: "password")
            }
        case .connack(let connack):
            if connack.sessionPresent && connack.returnCode != .accepted {
                throw fail(.malformedPacket, "session present must be 0 with return code \(connack.returnCode) ([MQTT-3.2.2-4])")
            }
            length = 2
        case .publish(let publish):
            if let violation = MQTTTopic.topicNameViolation(publish.topic) { throw fail(.invalidTopic, violation) }
            length = try stringLength(publish.topic, field: "topic name")
            switch publish.qos {
            case .atMostOnce:
                if publish.dup { throw fail(.invalidQoS, "DUP must be 0 for QoS 0 ([MQTT-3.3.1-2])") }
                if publish.packetID != nil { throw fail(.invalidPacketIdentifier, "QoS 0 PUBLISH has no packet identifier") }
            case .atLeastOnce, .exactlyOnce:
                guard let packetID = publish.packetID else {
                    throw fail(.invalidPacketIdentifier, "QoS \(publish.qos.rawValue) PUBLISH needs a packet identifier")
                }
                try checkID(packetID)
                length += 2
            }
            length += publish.payload.readableBytes
        case .puback(let packetID), .pubrec(let packetID), .pubrel(let packetID), .pubcomp(let packetID),
            .unsuback(let packetID):
            try checkID(packetID)
            length = 2
        case .subscribe(let subscribe):
            try checkID(subscribe.packetID)
            if subscribe.subscriptions.isEmpty { throw fail(.malformedPacket, "SUBSCRIBE needs at least one topic filter ([MQTT-3.8.3-3])") }
            length = 2
            for subscription in subscribe.subscriptions {
                if let violation = MQTTTopic.topicFilterViolation(subscription.topicFilter) { throw fail(.invalidTopic, violation) }
                length += try stringLength(subscription.topicFilter, field: "topic filter") + 1
            }
        case .suback(let suback):
            try checkID(suback.packetID)
            if suback.returnCodes.isEmpty { throw fail(.malformedPacket, "SUBACK needs at least one return code") }
            length = 2 + suback.returnCodes.count
        case .unsubscribe(let unsubscribe):
            try checkID(unsubscribe.packetID)
            if unsubscribe.topicFilters.isEmpty { throw fail(.malformedPacket, "UNSUBSCRIBE needs at least one topic filter ([MQTT-3.10.3-2])") }
            length = 2
            for filter in unsubscribe.topicFilters {
                if let violation = MQTTTopic.topicFilterViolation(filter) { throw fail(.invalidTopic, violation) }
                length += try stringLength(filter, field: "topic filter")
            }
        case .pingreq, .pingresp, .disconnect:
            length = 0
        }
        if length > mqttMaximumRemainingLength {
            throw fail(.packetTooLarge, "remaining length \(length) exceeds \(mqttMaximumRemainingLength) (§2.2.3)")
        }
        return length
    }
}

extension MQTTConnect {
    /// Connect Flags byte (§3.1.2.3): bit 7 user name, 6 password, 5 will retain, 4–3 will QoS,
    /// 2 will flag, 1 clean session, 0 reserved (0).
    var connectFlags: UInt8 {
        var flags: UInt8 = 0
        if username != nil { flags |= 0x80 }
        if password != nil { flags |= 0x40 }
        if let will {
            flags |= 0x04
            flags |= will.qos.rawValue << 3
            if will.retain { flags |= 0x20 }
        }
        if cleanSession { flags |= 0x02 }
        return flags
    }
}

/// The Remaining Length variable-length integer (§2.2.3): 7 bits per byte, least significant
/// group first, bit 7 = "more bytes follow", at most 4 bytes.
enum MQTTVarint {
    /// Number of bytes the encoding of `value` (0…268,435,455) takes.
    static func encodedLength(_ value: Int) -> Int {
        switch value {
        case ..<128: 1
        case ..<16_384: 2
        case ..<2_097_152: 3
        default: 4
        }
    }

    /// Writes `value` (0…268,435,455, checked by the caller) in the minimal encoding.
    static func write(_ value: Int, into buffer: inout ByteBuffer) {
        var remaining = value
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while remaining > 0
    }
}

extension ByteBuffer {
    /// Writes a length-prefixed UTF-8 string (§1.5.3); the caller has checked the length.
    mutating func writeMQTTString(_ text: String) {
        let lengthIndex = writerIndex
        writeInteger(UInt16(0))
        let written = writeString(text)
        setInteger(UInt16(truncatingIfNeeded: written), at: lengthIndex)
    }
}

/// A NIO outbound handler that encodes ``MQTTPacket``s (for pipelines; the encoding itself is
/// ``MQTTPacket/encode(into:)``). Stateless, so `Sendable`.
public struct MQTTPacketEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = MQTTPacket

    public init() {}

    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        try data.encode(into: &out)
    }
}
