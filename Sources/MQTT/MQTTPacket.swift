public import NIOCore

/// MQTT control packet types, the high nibble of the fixed header's first byte (§2.2.1).
/// Values 0 and 15 are reserved and have no case.
public enum MQTTPacketType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case connect = 1
    case connack = 2
    case publish = 3
    case puback = 4
    case pubrec = 5
    case pubrel = 6
    case pubcomp = 7
    case subscribe = 8
    case suback = 9
    case unsubscribe = 10
    case unsuback = 11
    case pingreq = 12
    case pingresp = 13
    case disconnect = 14

    /// The low nibble every packet type except PUBLISH must carry (Table 2.2, §2.2.2):
    /// `0b0010` for PUBREL, SUBSCRIBE and UNSUBSCRIBE, `0` for the others. PUBLISH returns nil
    /// (its nibble holds DUP, QoS and RETAIN).
    public var requiredFlags: UInt8? {
        switch self {
        case .publish: return nil
        case .pubrel, .subscribe, .unsubscribe: return 0b0010
        default: return 0
        }
    }

    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        }
    }
}

/// Quality of service levels (§4.3). The wire value 3 is reserved and rejected.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable, CaseIterable {
    /// At most once: fire and forget.
    case atMostOnce = 0
    /// At least once: the receiver answers PUBACK; the sender re-sends with DUP = 1 until then.
    case atLeastOnce = 1
    /// Exactly once (PUBREC/PUBREL/PUBCOMP). The codec understands it; the client does not use it.
    case exactlyOnce = 2

    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// CONNACK return code (§3.2.2.3, Table 3.1). A struct so that the reserved values 6…255 can
/// still be reported (the decoder rejects them, but a caller may meet them in logs).
public struct MQTTConnectReturnCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 0x00 Connection accepted.
    public static let accepted = MQTTConnectReturnCode(rawValue: 0)
    /// 0x01 The server does not support the level of the MQTT protocol requested.
    public static let unacceptableProtocolVersion = MQTTConnectReturnCode(rawValue: 1)
    /// 0x02 The client identifier is correct UTF-8 but not allowed by the server.
    public static let identifierRejected = MQTTConnectReturnCode(rawValue: 2)
    /// 0x03 The network connection has been made but the MQTT service is unavailable.
    public static let serverUnavailable = MQTTConnectReturnCode(rawValue: 3)
    /// 0x04 The data in the user name or password is malformed (in practice: wrong credentials).
    public static let badUsernameOrPassword = MQTTConnectReturnCode(rawValue: 4)
    /// 0x05 The client is not authorized to connect.
    public static let notAuthorized = MQTTConnectReturnCode(rawValue: 5)

    /// Whether retrying with the same CONNECT can succeed later (only 0x03 "server unavailable").
    public var isTransient: Bool { self == .serverUnavailable }

    public var description: String {
        switch rawValue {
        case 0: "0 (accepted)"
        case 1: "1 (unacceptable protocol version)"
        case 2: "2 (identifier rejected)"
        case 3: "3 (server unavailable)"
        case 4: "4 (bad user name or password)"
        case 5: "5 (not authorized)"
        default: "\(rawValue) (reserved)"
        }
    }
}

/// The Will message of a CONNECT (§3.1.2.5…3.1.2.7, §3.1.3.2–3).
public struct MQTTWill: Sendable, Hashable {
    /// Topic name (no wildcards).
    public var topic: String
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool

    public init(topic: String, payload: ByteBuffer, qos: MQTTQoS = .atMostOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// CONNECT (§3.1). The protocol name is always "MQTT" and the level 4 (3.1.1).
public struct MQTTConnect: Sendable, Hashable {
    /// Client identifier; may be empty only with `cleanSession == true` ([MQTT-3.1.3-7]).
    public var clientID: String
    /// Clean Session flag (§3.1.2.4).
    public var cleanSession: Bool
    /// Keep Alive in seconds; 0 switches the mechanism off (§3.1.2.10).
    public var keepAliveSeconds: UInt16
    public var username: String?
    /// Password: binary data up to 65,535 bytes (§3.1.3.5). Requires a user name in 3.1.1
    /// ([MQTT-3.1.2-22]).
    public var password: [UInt8]?
    public var will: MQTTWill?

    public init(
        clientID: String,
        cleanSession: Bool = true,
        keepAliveSeconds: UInt16 = 60,
        username: String? = nil,
        password: [UInt8]? = nil,
        will: MQTTWill? = nil
    ) {
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAliveSeconds = keepAliveSeconds
        self.username = username
        self.password = password
        self.will = will
    }
}

/// CONNACK (§3.2).
public struct MQTTConnAck: Sendable, Hashable {
    /// Session Present flag (§3.2.2.2). Always false when the return code is non-zero.
    public var sessionPresent: Bool
    public var returnCode: MQTTConnectReturnCode

    public init(sessionPresent: Bool, returnCode: MQTTConnectReturnCode) {
        self.sessionPresent = sessionPresent
        self.returnCode = returnCode
    }
}

/// PUBLISH (§3.3).
public struct MQTTPublish: Sendable, Hashable {
    /// Topic name: at least one character, no '+' or '#' ([MQTT-3.3.2-2]).
    public var topic: String
    /// Application message; zero length is allowed.
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    /// RETAIN flag (§3.3.1.3).
    public var retain: Bool
    /// DUP flag: this is a re-delivery of an earlier attempt (§3.3.1.1). Must be false for QoS 0.
    public var dup: Bool
    /// Packet identifier; present (non-zero) exactly when `qos > .atMostOnce` (§2.3.1).
    public var packetID: UInt16?

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        dup: Bool = false,
        packetID: UInt16? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
    }
}

/// One topic filter of a SUBSCRIBE with its requested maximum QoS (§3.8.3).
public struct MQTTSubscription: Sendable, Hashable {
    public var topicFilter: String
    public var qos: MQTTQoS

    public init(topicFilter: String, qos: MQTTQoS) {
        self.topicFilter = topicFilter
        self.qos = qos
    }
}

/// SUBSCRIBE (§3.8). At least one subscription ([MQTT-3.8.3-3]).
public struct MQTTSubscribe: Sendable, Hashable {
    public var packetID: UInt16
    public var subscriptions: [MQTTSubscription]

    public init(packetID: UInt16, subscriptions: [MQTTSubscription]) {
        self.packetID = packetID
        self.subscriptions = subscriptions
    }
}

/// SUBACK return code per subscription (§3.9.3): the granted QoS or 0x80 failure.
public enum MQTTSubAckReturnCode: Sendable, Hashable {
    case granted(MQTTQoS)
    case failure

    /// Wire value: 0x00, 0x01, 0x02 or 0x80.
    public var rawValue: UInt8 {
        switch self {
        case .granted(let qos): qos.rawValue
        case .failure: 0x80
        }
    }

    /// nil for the reserved values (everything except 0x00, 0x01, 0x02, 0x80).
    public init?(rawValue: UInt8) {
        switch rawValue {
        case 0x80: self = .failure
        default:
            guard let qos = MQTTQoS(rawValue: rawValue) else { return nil }
            self = .granted(qos)
        }
    }
}

/// SUBACK (§3.9).
public struct MQTTSubAck: Sendable, Hashable {
    public var packetID: UInt16
    public var returnCodes: [MQTTSubAckReturnCode]

    public init(packetID: UInt16, returnCodes: [MQTTSubAckReturnCode]) {
        self.packetID = packetID
        self.returnCodes = returnCodes
    }
}

/// UNSUBSCRIBE (§3.10). At least one topic filter ([MQTT-3.10.3-2]).
public struct MQTTUnsubscribe: Sendable, Hashable {
    public var packetID: UInt16
    public var topicFilters: [String]

    public init(packetID: UInt16, topicFilters: [String]) {
        self.packetID = packetID
        self.topicFilters = topicFilters
    }
}

/// One MQTT 3.1.1 control packet.
///
/// The model admits values the spec forbids (say a PUBLISH topic with '#'); the encoder rejects
/// those with an ``MQTTError`` rather than writing them, and the decoder never produces them.
public enum MQTTPacket: Sendable, Hashable {
    case connect(MQTTConnect)
    case connack(MQTTConnAck)
    case publish(MQTTPublish)
    case puback(packetID: UInt16)
    case pubrec(packetID: UInt16)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(MQTTSubscribe)
    case suback(MQTTSubAck)
    case unsubscribe(MQTTUnsubscribe)
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect

    /// The control packet type of this packet.
    public var type: MQTTPacketType {
        switch self {
        case .connect: .connect
        case .connack: .connack
        case .publish: .publish
        case .puback: .puback
        case .pubrec: .pubrec
        case .pubrel: .pubrel
        case .pubcomp: .pubcomp
        case .subscribe: .subscribe
        case .suback: .suback
        case .unsubscribe: .unsubscribe
        case .unsuback: .unsuback
        case .pingreq: .pingreq
        case .pingresp: .pingresp
        case .disconnect: .disconnect
        }
    }
}
