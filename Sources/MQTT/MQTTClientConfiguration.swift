/// Settings of an ``MQTTClient``. All durations are `Duration`s; the keep-alive is sent to the
/// broker rounded up to whole seconds (the CONNECT field is in seconds, §3.1.2.10).
public struct MQTTClientConfiguration: Sendable {
    /// Broker host name or address.
    public var host: String
    /// Broker TCP port (1883 is the IANA port for plain MQTT).
    public var port: Int
    /// Client identifier (§3.1.3.1). Must be unique per broker; may be empty only with
    /// `cleanSession == true` (the broker then assigns one).
    public var clientID: String
    public var username: String?
    /// Password bytes (binary in MQTT 3.1.1); requires ``username``.
    public var password: [UInt8]?
    /// Clean Session flag (§3.1.2.4). With `false` the broker keeps subscriptions and queued
    /// QoS 1 messages across disconnects (if it persists sessions).
    public var cleanSession: Bool
    /// Interval between PINGREQs; `.zero` switches keep-alive off. Sent as whole seconds,
    /// rounded up, capped at 65,535 s.
    public var keepAlive: Duration
    /// How long to wait for PINGRESP after a PINGREQ before the connection is considered dead
    /// and closed (then the client reconnects). Capped at ``keepAlive``.
    public var pingTimeout: Duration
    /// Bound on TCP connect plus CONNACK.
    public var connectTimeout: Duration
    /// Maximum number of QoS 1 PUBLISHes sent and not yet acknowledged (1…65,000); further
    /// ``MQTTClient/publish(topic:payload:qos:retain:)`` calls wait for a PUBACK.
    public var maxInFlight: Int
    /// Delay before reconnect attempt *n* (n = 0, 1, …) is `min(initial · multiplier^n, maximum)`;
    /// it restarts from `initial` after a connection that reached CONNACK.
    public var reconnectInitialDelay: Duration
    public var reconnectMaximumDelay: Duration
    public var reconnectMultiplier: Double
    /// Largest packet accepted from the broker, in bytes (fixed header included).
    public var maximumPacketSize: Int
    /// Will message the broker publishes if this client disappears without DISCONNECT.
    public var will: MQTTWill?

    public init(
        host: String,
        port: Int,
        clientID: String,
        username: String? = nil,
        password: [UInt8]? = nil,
        cleanSession: Bool = true,
        keepAlive: Duration = .seconds(30),
        pingTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(5),
        maxInFlight: Int = 32,
        reconnectInitialDelay: Duration = .milliseconds(100),
        reconnectMaximumDelay: Duration = .seconds(10),
        reconnectMultiplier: Double = 2,
        maximumPacketSize: Int = MQTTPacketDecoder.defaultMaximumPacketSize,
        will: MQTTWill? = nil
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.pingTimeout = pingTimeout
        self.connectTimeout = connectTimeout
        self.maxInFlight = maxInFlight
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaximumDelay = reconnectMaximumDelay
        self.reconnectMultiplier = reconnectMultiplier
        self.maximumPacketSize = maximumPacketSize
        self.will = will
    }

    /// Convenience for a UTF-8 password.
    public init(host: String, port: Int, clientID: String, username: String, password: String) {
        self.init(host: host, port: port, clientID: clientID, username: username, password: Array(password.utf8))
    }

    /// The Keep Alive field of CONNECT: seconds, rounded up, 0…65,535.
    public var keepAliveSeconds: UInt16 {
        if keepAlive <= .zero { return 0 }
        let (seconds, attoseconds) = keepAlive.components
        let rounded = seconds + (attoseconds > 0 ? 1 : 0)
        return UInt16(clamping: rounded)
    }

    /// The wait before reconnect attempt `attempt` (0-based), capped exponential backoff.
    public func reconnectDelay(attempt: Int) -> Duration {
        let cap = max(Self.seconds(reconnectMaximumDelay), 0)
        var delay = max(Self.seconds(reconnectInitialDelay), 0)
        var step = 0
        while step < attempt && delay < cap {
            delay *= max(reconnectMultiplier, 1)
            step += 1
        }
        return .nanoseconds(Int64((min(delay, cap) * 1e9).rounded()))
    }

    /// Throws ``MQTTError/Code/invalidConfiguration`` for values out of range.
    public func validate() throws(MQTTError) {
        func fail(_ reason: String) -> MQTTError { MQTTError(.invalidConfiguration, reason: reason) }
        if !(1...65_535).contains(port) { throw fail("port \(port) is not in 1…65535") }
        if !(1...65_000).contains(maxInFlight) { throw fail("maxInFlight \(maxInFlight) is not in 1…65000") }
        if keepAlive < .zero { throw fail("keepAlive \(keepAlive) is negative") }
        if keepAlive > .zero && pingTimeout <= .zero { throw fail("pingTimeout \(pingTimeout) must be positive") }
        if connectTimeout <= .zero { throw fail("connectTimeout \(connectTimeout) must be positive") }
        if reconnectInitialDelay < .zero || reconnectMaximumDelay < reconnectInitialDelay {
            throw fail("reconnect delays \(reconnectInitialDelay)…\(reconnectMaximumDelay) are not ordered and non-negative")
        }
        if !(reconnectMultiplier >= 1 && reconnectMultiplier.isFinite) {
            throw fail("reconnectMultiplier \(reconnectMultiplier) must be finite and ≥ 1")
        }
        if password != nil && username == nil { throw fail("a password requires a user name in MQTT 3.1.1") }
        if clientID.isEmpty && !cleanSession { throw fail("an empty client identifier requires cleanSession") }
        // The CONNECT itself must be encodable (string lengths, will topic).
        let connect = MQTTPacket.connect(
            MQTTConnect(
                clientID: clientID, cleanSession: cleanSession, keepAliveSeconds: keepAliveSeconds,
                username: username, password: password, will: will
            )
        )
        _ = try connect.validatedRemainingLength()
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
