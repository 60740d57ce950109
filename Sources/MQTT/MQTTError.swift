/// The one error type of the MQTT module.
///
/// Decoding errors carry the control packet type (when the first byte named a valid one), the
/// byte offset of the offending field counted from the first byte of the packet (the fixed
/// header), the offset of that packet's first byte in the connection's byte stream, and a reason
/// with the offending values. A peer sending malformed bytes never makes the decoder trap; the
/// client closes such a connection, as the spec requires (§4.8).
///
/// Match on ``code`` (`error.code == .packetTooLarge`); the other fields are context.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    /// What went wrong. A struct around a private enum so that codes can be added without
    /// breaking exhaustive `switch`es in callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedPacket
            case reservedPacketType
            case invalidFixedHeaderFlags
            case malformedRemainingLength
            case packetTooLarge
            case invalidUTF8String
            case stringTooLong
            case invalidTopic
            case invalidQoS
            case invalidPacketIdentifier
            case unsupportedProtocol
            case truncatedPacket
            case protocolViolation
            case connectionRefused
            case connectTimeout
            case keepAliveTimeout
            case connectionClosed
            case notConnected
            case clientShutDown
            case invalidConfiguration
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A field has a value the spec forbids (generic malformed packet, §4.8).
        public static let malformedPacket = Code(.malformedPacket)
        /// The fixed header names packet type 0 or 15, both reserved (§2.2.1).
        public static let reservedPacketType = Code(.reservedPacketType)
        /// The low nibble of the fixed header is not the value the packet type requires (§2.2.2).
        public static let invalidFixedHeaderFlags = Code(.invalidFixedHeaderFlags)
        /// The Remaining Length varint is longer than 4 bytes or not minimally encoded (§2.2.3).
        public static let malformedRemainingLength = Code(.malformedRemainingLength)
        /// The packet (fixed header + remaining length) exceeds the configured maximum.
        public static let packetTooLarge = Code(.packetTooLarge)
        /// A UTF-8 string field is ill-formed or contains U+0000 (§1.5.3, [MQTT-1.5.3-1/2]).
        public static let invalidUTF8String = Code(.invalidUTF8String)
        /// A string or binary field is longer than 65,535 bytes (§1.5.3); raised by the encoder.
        public static let stringTooLong = Code(.stringTooLong)
        /// A topic name or topic filter breaks the rules of §4.7.
        public static let invalidTopic = Code(.invalidTopic)
        /// A QoS field holds 3 (reserved), or QoS 0 came with DUP = 1 ([MQTT-3.3.1-2/4]).
        public static let invalidQoS = Code(.invalidQoS)
        /// Packet identifier 0 where a non-zero one is required (§2.3.1).
        public static let invalidPacketIdentifier = Code(.invalidPacketIdentifier)
        /// CONNECT with a protocol name other than "MQTT" or a level other than 4 (§3.1.2.1-2).
        public static let unsupportedProtocol = Code(.unsupportedProtocol)
        /// A field runs past the end of the packet's remaining length, or the body has bytes
        /// left over that no field accounts for.
        public static let truncatedPacket = Code(.truncatedPacket)
        /// A well-formed packet arrived when the protocol does not allow it (e.g. a second CONNACK).
        public static let protocolViolation = Code(.protocolViolation)
        /// The broker answered CONNECT with a non-zero return code (see ``MQTTError/connectReturnCode``).
        public static let connectionRefused = Code(.connectionRefused)
        /// No CONNACK arrived within the connect timeout.
        public static let connectTimeout = Code(.connectTimeout)
        /// No PINGRESP arrived within the keep-alive response timeout ([MQTT-3.1.2-24] spirit).
        public static let keepAliveTimeout = Code(.keepAliveTimeout)
        /// The connection closed (EOF or I/O error) while an operation needed it.
        public static let connectionClosed = Code(.connectionClosed)
        /// The operation needs a live connection and there is none.
        public static let notConnected = Code(.notConnected)
        /// The client was shut down before the operation finished.
        public static let clientShutDown = Code(.clientShutDown)
        /// A configuration value is out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The control packet type concerned, if known.
    public var packetType: MQTTPacketType?
    /// Offset of the offending byte, counted from the first byte of the packet (0 = the
    /// fixed header's type/flags byte), if the error concerns received bytes.
    public var byteOffset: Int?
    /// Offset of the packet's first byte in the connection's inbound byte stream, if known.
    public var streamOffset: Int?
    /// The broker's CONNACK return code, for ``Code/connectionRefused``.
    public var connectReturnCode: MQTTConnectReturnCode?
    /// Human-readable reason with the offending values.
    public var reason: String

    public init(
        _ code: Code,
        packetType: MQTTPacketType? = nil,
        byteOffset: Int? = nil,
        streamOffset: Int? = nil,
        connectReturnCode: MQTTConnectReturnCode? = nil,
        reason: String
    ) {
        self.code = code
        self.packetType = packetType
        self.byteOffset = byteOffset
        self.streamOffset = streamOffset
        self.connectReturnCode = connectReturnCode
        self.reason = reason
    }

    public var description: String {
        var parts = ["MQTTError.\(code)"]
        if let packetType { parts.append("packet \(packetType)") }
        if let byteOffset { parts.append("byte \(byteOffset)") }
        if let streamOffset { parts.append("stream offset \(streamOffset)") }
        if let connectReturnCode { parts.append("return code \(connectReturnCode)") }
        return parts.joined(separator: ", ") + ": " + reason
    }
}
