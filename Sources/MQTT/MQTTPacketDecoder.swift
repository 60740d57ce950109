public import NIOCore

/// Decodes MQTT 3.1.1 control packets from a byte stream.
///
/// A `NIOSingleStepByteToMessageDecoder`: `decode(buffer:)` returns nil ("need more data")
/// until a whole packet is buffered, then consumes exactly that packet. It never traps on
/// input: every malformed packet becomes an ``MQTTError`` naming the packet type, the byte
/// offset within the packet, the packet's offset in the stream and the reason. Checks, in
/// order of arrival of the bytes:
/// 1. the first byte: reserved types 0/15, the fixed flags of Table 2.2, QoS 3 and DUP on QoS 0
///    for PUBLISH — reported as soon as that byte arrives;
/// 2. the Remaining Length: at most 4 bytes, minimally encoded, and the whole packet no larger
///    than ``maximumPacketSize`` — checked before waiting for the body, so a peer cannot make
///    us buffer up to 256 MB;
/// 3. the body: field lengths against the remaining length, UTF-8 strings well-formed and free
///    of U+0000, topic names without wildcards, topic filters well-formed, packet identifiers
///    non-zero, reserved bits zero, fixed body sizes, no bytes left over.
///
/// Use it in a pipeline with `ByteToMessageHandler(MQTTPacketDecoder())`, or directly.
/// Payloads are slices of the input buffer (no copy).
public struct MQTTPacketDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = MQTTPacket

    /// Largest accepted packet, fixed header included, in bytes.
    public let maximumPacketSize: Int

    /// Bytes consumed so far (offset of the next packet in the stream).
    public private(set) var streamOffset: Int = 0

    /// Default maximum packet size: 1 MiB, far above any warning message.
    public static let defaultMaximumPacketSize = 1 << 20

    /// - Parameter maximumPacketSize: largest accepted packet in bytes (fixed header
    ///   included), clamped to 2…268,435,460 (the largest packet MQTT 3.1.1 can express).
    public init(maximumPacketSize: Int = MQTTPacketDecoder.defaultMaximumPacketSize) {
        self.maximumPacketSize = min(max(maximumPacketSize, 2), 1 + 4 + mqttMaximumRemainingLength)
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> MQTTPacket? {
        try decodePacket(from: &buffer)
    }

    /// Same as `decode`; at EOF, bytes of an incomplete packet are reported as
    /// ``MQTTError/Code/truncatedPacket``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MQTTPacket? {
        if let packet = try decodePacket(from: &buffer) { return packet }
        if seenEOF && buffer.readableBytes > 0 {
            let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) ?? 0
            throw MQTTError(
                .truncatedPacket,
                packetType: MQTTPacketType(rawValue: first >> 4),
                byteOffset: buffer.readableBytes,
                streamOffset: streamOffset,
                reason: "connection closed after \(buffer.readableBytes) bytes of an incomplete packet"
            )
        }
        return nil
    }

    /// Typed-throws core of ``decode(buffer:)``.
    public mutating func decodePacket(from buffer: inout ByteBuffer) throws(MQTTError) -> MQTTPacket? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        let header = try FixedHeader.parse(firstByte: first, streamOffset: streamOffset)

        // Remaining Length (§2.2.3).
        var remainingLength = 0
        var varintLength = 0
        for index in 0..<4 {
            guard let byte = buffer.getInteger(at: start + 1 + index, as: UInt8.self) else { return nil }
            remainingLength |= Int(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 {
                if index > 0 && byte == 0 {
                    throw MQTTError(
                        .malformedRemainingLength, packetType: header.type, byteOffset: 1 + index,
                        streamOffset: streamOffset,
                        reason: "remaining length is not minimally encoded (last of \(index + 1) bytes is 0x00)"
                    )
                }
                varintLength = index + 1
                break
            }
        }
        if varintLength == 0 {
            throw MQTTError(
                .malformedRemainingLength, packetType: header.type, byteOffset: 4, streamOffset: streamOffset,
                reason: "remaining length has more than 4 bytes (byte 4 still has the continuation bit)"
            )
        }
        let headerLength = 1 + varintLength
        let packetLength = headerLength + remainingLength
        if packetLength > maximumPacketSize {
            throw MQTTError(
                .packetTooLarge, packetType: header.type, byteOffset: 1, streamOffset: streamOffset,
                reason: "packet of \(packetLength) bytes exceeds the maximum of \(maximumPacketSize)"
            )
        }
        guard buffer.readableBytes >= packetLength,
            let body = buffer.getSlice(at: start + headerLength, length: remainingLength)
        else { return nil }

        var reader = BodyReader(body: body, headerLength: headerLength, type: header.type, streamOffset: streamOffset)
        let packet = try reader.parse(header)
        buffer.moveReaderIndex(forwardBy: packetLength)
        streamOffset += packetLength
        return packet
    }
}

/// The first byte of the fixed header, checked (§2.2.1, §2.2.2, §3.3.1).
struct FixedHeader {
    var type: MQTTPacketType
    var flags: UInt8

    static func parse(firstByte: UInt8, streamOffset: Int) throws(MQTTError) -> FixedHeader {
        let code = firstByte >> 4
        let flags = firstByte & 0x0F
        guard let type = MQTTPacketType(rawValue: code) else {
            throw MQTTError(
                .reservedPacketType, byteOffset: 0, streamOffset: streamOffset,
                reason: "packet type \(code) is reserved (first byte 0x\(hex(firstByte)))"
            )
        }
        if let required = type.requiredFlags {
            if flags != required {
                throw MQTTError(
                    .invalidFixedHeaderFlags, packetType: type, byteOffset: 0, streamOffset: streamOffset,
                    reason: "\(type) needs flags 0x\(hex(required)), got 0x\(hex(flags)) ([MQTT-2.2.2-1/2])"
                )
            }
        } else {
            let qos = (flags >> 1) & 0b11
            if qos == 3 {
                throw MQTTError(
                    .invalidQoS, packetType: type, byteOffset: 0, streamOffset: streamOffset,
                    reason: "PUBLISH with QoS 3 (reserved, [MQTT-3.3.1-4])"
                )
            }
            if qos == 0 && flags & 0b1000 != 0 {
                throw MQTTError(
                    .invalidQoS, packetType: type, byteOffset: 0, streamOffset: streamOffset,
                    reason: "PUBLISH with QoS 0 and DUP = 1 ([MQTT-3.3.1-2])"
                )
            }
        }
        return FixedHeader(type: type, flags: flags)
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

/// Reads the fields of one packet body; every error names the offset within the packet.
struct BodyReader {
    var body: ByteBuffer
    let headerLength: Int
    let type: MQTTPacketType
    let streamOffset: Int

    init(body: ByteBuffer, headerLength: Int, type: MQTTPacketType, streamOffset: Int) {
        self.body = body
        self.headerLength = headerLength
        self.type = type
        self.streamOffset = streamOffset
    }

    /// Offset of the next unread byte, counted from the first byte of the packet.
    var offset: Int { headerLength + body.readerIndex }

    func error(_ code: MQTTError.Code, at byteOffset: Int? = nil, _ reason: String) -> MQTTError {
        MQTTError(code, packetType: type, byteOffset: byteOffset ?? offset, streamOffset: streamOffset, reason: reason)
    }

    mutating func readUInt8(_ field: String) throws(MQTTError) -> UInt8 {
        guard let value = body.readInteger(as: UInt8.self) else {
            throw error(.truncatedPacket, "\(field): 1 byte needed, the packet ends here")
        }
        return value
    }

    mutating func readUInt16(_ field: String) throws(MQTTError) -> UInt16 {
        guard let value = body.readInteger(as: UInt16.self) else {
            throw error(.truncatedPacket, "\(field): 2 bytes needed, \(body.readableBytes) left in the packet")
        }
        return value
    }

    mutating func readPacketID() throws(MQTTError) -> UInt16 {
        let at = offset
        let id = try readUInt16("packet identifier")
        if id == 0 { throw error(.invalidPacketIdentifier, at: at, "packet identifier 0 (must be non-zero, §2.3.1)") }
        return id
    }

    /// Length-prefixed binary data (§1.5.3 layout without the UTF-8 rules).
    mutating func readBinary(_ field: String) throws(MQTTError) -> ByteBuffer {
        let at = offset
        let length = Int(try readUInt16("\(field) length"))
        guard let slice = body.readSlice(length: length) else {
            throw error(
                .truncatedPacket, at: at,
                "\(field) length \(length) runs past the end of the packet (\(body.readableBytes) bytes left)"
            )
        }
        return slice
    }

    /// UTF-8 encoded string (§1.5.3): well-formed, no surrogates, no U+0000.
    mutating func readString(_ field: String) throws(MQTTError) -> String {
        let at = offset
        let bytes = try readBinary(field)
        if let zero = bytes.readableBytesView.firstIndex(of: 0) {
            throw error(
                .invalidUTF8String, at: at + 2 + (zero - bytes.readerIndex),
                "\(field) contains U+0000 ([MQTT-1.5.3-2])"
            )
        }
        guard let text = String(validating: bytes.readableBytesView, as: UTF8.self) else {
            throw error(.invalidUTF8String, at: at + 2, "\(field) is not well-formed UTF-8 ([MQTT-1.5.3-1])")
        }
        return text
    }

    mutating func readTopicName(_ field: String) throws(MQTTError) -> String {
        let at = offset
        let topic = try readString(field)
        if let violation = MQTTTopic.topicNameViolation(topic) { throw error(.invalidTopic, at: at, violation) }
        return topic
    }

    mutating func readTopicFilter() throws(MQTTError) -> String {
        let at = offset
        let filter = try readString("topic filter")
        if let violation = MQTTTopic.topicFilterViolation(filter) { throw error(.invalidTopic, at: at, violation) }
        return filter
    }

    func requireEnd() throws(MQTTError) {
        if body.readableBytes > 0 {
            throw error(.malformedPacket, "\(body.readableBytes) unexpected bytes after the last field of \(type)")
        }
    }

    func requireRemainingLength(_ expected: Int) throws(MQTTError) {
        if body.readableBytes != expected {
            throw error(
                .malformedPacket, at: 1,
                "\(type) must have remaining length \(expected), got \(body.readableBytes)"
            )
        }
    }

    mutating func parse(_ header: FixedHeader) throws(MQTTError) -> MQTTPacket {
        switch header.type {
        case .connect:
            return .connect(try parseConnect())
        case .connack:
            try requireRemainingLength(2)
            let flags = try readUInt8("connect acknowledge flags")
            if flags & 0xFE != 0 {
                throw error(.malformedPacket, at: offset - 1, "connect acknowledge flags 0x\(hex(flags)): bits 7-1 are reserved")
            }
            let rawCode = try readUInt8("connect return code")
            let code = MQTTConnectReturnCode(rawValue: rawCode)
            if rawCode > 5 {
                throw error(.malformedPacket, at: offset - 1, "connect return code \(rawCode) is reserved")
            }
            if flags == 1 && code != .accepted {
                throw error(.malformedPacket, at: offset - 2, "session present with return code \(code) ([MQTT-3.2.2-4])")
            }
            return .connack(MQTTConnAck(sessionPresent: flags == 1, returnCode: code))
        case .publish:
            let qos = MQTTQoS(rawValue: (header.flags >> 1) & 0b11) ?? .atMostOnce  // 3 rejected in FixedHeader
            let topic = try readTopicName("topic name")
            let packetID: UInt16? = qos == .atMostOnce ? nil : try readPacketID()
            let payload = body.readSlice(length: body.readableBytes) ?? ByteBuffer()
            return .publish(
                MQTTPublish(
                    topic: topic, payload: payload, qos: qos, retain: header.flags & 1 != 0,
                    dup: header.flags & 0b1000 != 0, packetID: packetID
                )
            )
        case .puback, .pubrec, .pubrel, .pubcomp, .unsuback:
            try requireRemainingLength(2)
            let id = try readPacketID()
            switch header.type {
            case .puback: return .puback(packetID: id)
            case .pubrec: return .pubrec(packetID: id)
            case .pubrel: return .pubrel(packetID: id)
            case .pubcomp: return .pubcomp(packetID: id)
            default: return .unsuback(packetID: id)
            }
        case .subscribe:
            let id = try readPacketID()
            var subscriptions: [MQTTSubscription] = []
            while body.readableBytes > 0 {
                let filter = try readTopicFilter()
                let at = offset
                let requested = try readUInt8("requested QoS")
                if requested & 0xFC != 0 {
                    throw error(.malformedPacket, at: at, "requested QoS byte 0x\(hex(requested)): bits 7-2 are reserved ([MQTT-3.8.3-4])")
                }
                guard let qos = MQTTQoS(rawValue: requested) else {
                    throw error(.invalidQoS, at: at, "requested QoS 3 is reserved")
                }
                subscriptions.append(MQTTSubscription(topicFilter: filter, qos: qos))
            }
            if subscriptions.isEmpty { throw error(.malformedPacket, "SUBSCRIBE without topic filters ([MQTT-3.8.3-3])") }
            return .subscribe(MQTTSubscribe(packetID: id, subscriptions: subscriptions))
        case .suback:
            let id = try readPacketID()
            var codes: [MQTTSubAckReturnCode] = []
            while body.readableBytes > 0 {
                let raw = try readUInt8("SUBACK return code")
                guard let code = MQTTSubAckReturnCode(rawValue: raw) else {
                    throw error(.malformedPacket, at: offset - 1, "SUBACK return code 0x\(hex(raw)) is reserved ([MQTT-3.9.3-2])")
                }
                codes.append(code)
            }
            if codes.isEmpty { throw error(.malformedPacket, "SUBACK without return codes") }
            return .suback(MQTTSubAck(packetID: id, returnCodes: codes))
        case .unsubscribe:
            let id = try readPacketID()
            var filters: [String] = []
            while body.readableBytes > 0 { filters.append(try readTopicFilter()) }
            if filters.isEmpty { throw error(.malformedPacket, "UNSUBSCRIBE without topic filters ([MQTT-3.10.3-2])") }
            return .unsubscribe(MQTTUnsubscribe(packetID: id, topicFilters: filters))
        case .pingreq:
            try requireRemainingLength(0)
            return .pingreq
        case .pingresp:
            try requireRemainingLength(0)
            return .pingresp
        case .disconnect:
            try requireRemainingLength(0)
            return .disconnect
        }
    }

    mutating func parseConnect() throws(MQTTError) -> MQTTConnect {
        let nameOffset = offset
        let name = try readString("protocol name")
        if name != "MQTT" {
            throw error(.unsupportedProtocol, at: nameOffset, "protocol name \"\(name)\", expected \"MQTT\" ([MQTT-3.1.2-1])")
        }
        let level = try readUInt8("protocol level")
        if level != 4 {
            throw error(.unsupportedProtocol, at: offset - 1, "protocol level \(level), expected 4 (3.1.1)")
        }
        let flagsOffset = offset
        let flags = try readUInt8("connect flags")
        func flagError(_ reason: String) -> MQTTError {
            error(.malformedPacket, at: flagsOffset, "connect flags 0x\(hex(flags)): \(reason)")
        }
        if flags & 0x01 != 0 { throw flagError("reserved bit 0 is set ([MQTT-3.1.2-3])") }
        let hasUsername = flags & 0x80 != 0
        let hasPassword = flags & 0x40 != 0
        let willRetain = flags & 0x20 != 0
        let willQoSRaw = (flags >> 3) & 0b11
        let hasWill = flags & 0x04 != 0
        if !hasWill && (willRetain || willQoSRaw != 0) {
            throw flagError("will QoS/retain set without the will flag ([MQTT-3.1.2-11/13/15])")
        }
        guard let willQoS = MQTTQoS(rawValue: willQoSRaw) else {
            throw MQTTError(
                .invalidQoS, packetType: .connect, byteOffset: flagsOffset, streamOffset: streamOffset,
                reason: "will QoS 3 is reserved ([MQTT-3.1.2-14])"
            )
        }
        if hasPassword && !hasUsername { throw flagError("password flag without user name flag ([MQTT-3.1.2-22])") }
        let keepAlive = try readUInt16("keep alive")
        let clientIDOffset = offset
        let clientID = try readString("client identifier")
        let cleanSession = flags & 0x02 != 0
        if clientID.isEmpty && !cleanSession {
            throw error(.malformedPacket, at: clientIDOffset, "empty client identifier requires clean session ([MQTT-3.1.3-7])")
        }
        var will: MQTTWill?
        if hasWill {
            let topic = try readTopicName("will topic")
            let message = try readBinary("will message")
            will = MQTTWill(topic: topic, payload: message, qos: willQoS, retain: willRetain)
        }
        let username = hasUsername ? try readString("user name") : nil
        var password: [UInt8]?
        if hasPassword {
            let bytes = try readBinary("password")
            password = Array(bytes.readableBytesView)
        }
        try requireEnd()
        return MQTTConnect(
            clientID: clientID, cleanSession: cleanSession, keepAliveSeconds: keepAlive,
            username: username, password: password, will: will
        )
    }
}
