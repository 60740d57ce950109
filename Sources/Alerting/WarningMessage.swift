public import SeismicCore
public import Foundation

/// Status of a warning (the CAP 1.2 `status` values this system sends).
public enum WarningStatus: String, Sendable, Codable, CaseIterable {
    /// A real event: act on it.
    case actual = "Actual"
    /// A drill: terminals show and sound it as a drill.
    case exercise = "Exercise"
    /// A technical test: terminals must not alarm the public.
    case test = "Test"
}

/// Kind of a warning message (CAP 1.2 `msgType`).
public enum WarningMessageType: String, Sendable, Codable, CaseIterable {
    /// The first warning of an event (update number 0).
    case alert = "Alert"
    /// A revised solution of the same event (update number ≥ 1).
    case update = "Update"
    /// The event is withdrawn (false alarm); targets are empty.
    case cancel = "Cancel"
}

/// The prediction for one target in a warning.
public struct TargetPrediction: Sendable, Equatable, Codable {
    public var name: String
    public var kind: TargetKind
    /// Epicentral distance in km, rounded to 0.1 km.
    public var epicentralDistanceKilometers: Double
    /// Predicted China-scale intensity (GB 18306-2015 attenuation), one decimal.
    public var predictedIntensity: Double
    /// σ of the attenuation relation in intensity units.
    public var predictedIntensitySigma: Double
    /// Predicted S-wave arrival `t0 + sqrt(Δ² + h²)/Vs`, rounded to the millisecond.
    public var sWaveArrivalTime: Timestamp
    /// `max(0, sWaveArrivalTime − createdTime)` in seconds, rounded to 0.1 s.
    public var countdownSeconds: Double
    public var warningLevel: WarningLevel

    public init(name: String, kind: TargetKind, epicentralDistanceKilometers: Double, predictedIntensity: Double,
                predictedIntensitySigma: Double, sWaveArrivalTime: Timestamp, countdownSeconds: Double,
                warningLevel: WarningLevel) {
        self.name = name
        self.kind = kind
        self.epicentralDistanceKilometers = epicentralDistanceKilometers
        self.predictedIntensity = predictedIntensity
        self.predictedIntensitySigma = predictedIntensitySigma
        self.sWaveArrivalTime = sWaveArrivalTime
        self.countdownSeconds = countdownSeconds
        self.warningLevel = warningLevel
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, epicentralDistanceKilometers, predictedIntensity, predictedIntensitySigma, sWaveArrivalTime,
             countdownSeconds, warningLevel
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(TargetKind.self, forKey: .kind)
        epicentralDistanceKilometers = try c.decode(Double.self, forKey: .epicentralDistanceKilometers)
        predictedIntensity = try c.decode(Double.self, forKey: .predictedIntensity)
        predictedIntensitySigma = try c.decode(Double.self, forKey: .predictedIntensitySigma)
        sWaveArrivalTime = try decodeTimestamp(c, .sWaveArrivalTime)
        countdownSeconds = try c.decode(Double.self, forKey: .countdownSeconds)
        warningLevel = try c.decode(WarningLevel.self, forKey: .warningLevel)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .kind)
        try c.encode(epicentralDistanceKilometers, forKey: .epicentralDistanceKilometers)
        try c.encode(predictedIntensity, forKey: .predictedIntensity)
        try c.encode(predictedIntensitySigma, forKey: .predictedIntensitySigma)
        try c.encode(sWaveArrivalTime.iso8601, forKey: .sWaveArrivalTime)
        try c.encode(countdownSeconds, forKey: .countdownSeconds)
        try c.encode(warningLevel, forKey: .warningLevel)
    }
}

/// An earthquake early warning (design.md, "Warning message").
///
/// Times are encoded as ISO-8601 UTC strings (``Timestamp/iso8601``). The canonical encoding
/// (``canonicalJSON()``) is compact JSON with keys sorted by code point, so identical messages give
/// byte-identical bytes: the bytes that are signed (``SignedEnvelope``) and replayed.
///
/// Latency accounting: ``createdTime`` is the "now" the countdowns are computed against (the data
/// time of the packet that produced the solution in replay, the wall clock live); ``sentTime`` is
/// set by the forwarder just before signing and sending (``sent(at:)``).
public struct WarningMessage: Sendable, Equatable, Codable {
    /// Event identifier, stable over all updates of one event (characters A–Z a–z 0–9 . _ -).
    public var id: String
    /// 0 for the first alert, then 1, 2, … for each update; a cancel takes the next number.
    public var updateNumber: Int
    public var status: WarningStatus
    public var msgType: WarningMessageType
    public var originTime: Timestamp
    public var epicenter: GeoPoint
    public var depthKilometers: Double
    public var magnitude: Double
    /// One standard deviation of the magnitude.
    public var magnitudeUncertainty: Double
    /// Magnitude type, e.g. `Mpd` (from Pd), `Mtc` (from τc), `Mw`.
    public var magnitudeType: String
    /// Stations that contributed to the solution.
    public var numberOfStations: Int
    /// One prediction per configured target, in configuration order.
    public var targets: [TargetPrediction]
    public var createdTime: Timestamp
    public var sentTime: Timestamp?

    public init(id: String, updateNumber: Int, status: WarningStatus, msgType: WarningMessageType,
                originTime: Timestamp, epicenter: GeoPoint, depthKilometers: Double, magnitude: Double,
                magnitudeUncertainty: Double, magnitudeType: String, numberOfStations: Int,
                targets: [TargetPrediction], createdTime: Timestamp, sentTime: Timestamp? = nil) {
        self.id = id
        self.updateNumber = updateNumber
        self.status = status
        self.msgType = msgType
        self.originTime = originTime
        self.epicenter = epicenter
        self.depthKilometers = depthKilometers
        self.magnitude = magnitude
        self.magnitudeUncertainty = magnitudeUncertainty
        self.magnitudeType = magnitudeType
        self.numberOfStations = numberOfStations
        self.targets = targets
        self.createdTime = createdTime
        self.sentTime = sentTime
    }

    /// The highest warning level over all targets (``WarningLevel/none`` when there are none).
    public var highestWarningLevel: WarningLevel { targets.map(\.warningLevel).max() ?? .none }

    /// The same message with ``sentTime`` set.
    public func sent(at time: Timestamp) -> WarningMessage {
        var copy = self
        copy.sentTime = time
        return copy
    }

    /// Compact JSON with sorted keys; byte-identical for equal messages.
    ///
    /// The bytes are those of Foundation's `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
    /// over this type's `Encodable` conformance (``encodedWithJSONEncoder()``), written directly by
    /// `CanonicalJSONWriter` (one byte buffer, no value tree or key sort); a string with a control character falls
    /// back to the encoder. A non-finite number throws `EncodingError.invalidValue` either way.
    public func canonicalJSON() throws -> Data {
        if let bytes = try CanonicalJSONWriter.encode(self) { return Data(bytes) }
        return try encodedWithJSONEncoder()
    }

    /// The definition of ``canonicalJSON()``: Foundation's `JSONEncoder` with sorted keys and
    /// unescaped slashes.
    func encodedWithJSONEncoder() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Decodes a message from JSON (any key order).
    public static func decode(json: Data) throws -> WarningMessage {
        try JSONDecoder().decode(WarningMessage.self, from: json)
    }

    enum CodingKeys: String, CodingKey {
        case id, updateNumber, status, msgType, originTime, epicenter, depthKilometers, magnitude,
             magnitudeUncertainty, magnitudeType, numberOfStations, targets, createdTime, sentTime
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        updateNumber = try c.decode(Int.self, forKey: .updateNumber)
        status = try c.decode(WarningStatus.self, forKey: .status)
        msgType = try c.decode(WarningMessageType.self, forKey: .msgType)
        originTime = try decodeTimestamp(c, .originTime)
        epicenter = try c.decode(GeoPoint.self, forKey: .epicenter)
        depthKilometers = try c.decode(Double.self, forKey: .depthKilometers)
        magnitude = try c.decode(Double.self, forKey: .magnitude)
        magnitudeUncertainty = try c.decode(Double.self, forKey: .magnitudeUncertainty)
        magnitudeType = try c.decode(String.self, forKey: .magnitudeType)
        numberOfStations = try c.decode(Int.self, forKey: .numberOfStations)
        targets = try c.decode([TargetPrediction].self, forKey: .targets)
        createdTime = try decodeTimestamp(c, .createdTime)
        if c.contains(.sentTime), try !c.decodeNil(forKey: .sentTime) {
            sentTime = try decodeTimestamp(c, .sentTime)
        } else {
            sentTime = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(updateNumber, forKey: .updateNumber)
        try c.encode(status, forKey: .status)
        try c.encode(msgType, forKey: .msgType)
        try c.encode(originTime.iso8601, forKey: .originTime)
        try c.encode(epicenter, forKey: .epicenter)
        try c.encode(depthKilometers, forKey: .depthKilometers)
        try c.encode(magnitude, forKey: .magnitude)
        try c.encode(magnitudeUncertainty, forKey: .magnitudeUncertainty)
        try c.encode(magnitudeType, forKey: .magnitudeType)
        try c.encode(numberOfStations, forKey: .numberOfStations)
        try c.encode(targets, forKey: .targets)
        try c.encode(createdTime.iso8601, forKey: .createdTime)
        try c.encodeIfPresent(sentTime?.iso8601, forKey: .sentTime)
    }
}

/// Decodes an ISO-8601 UTC string into a ``Timestamp`` or throws `DecodingError.dataCorrupted`.
private func decodeTimestamp<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Timestamp {
    let text = try c.decode(String.self, forKey: key)
    guard let time = Timestamp(iso8601: text) else {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not an ISO-8601 UTC time")
    }
    return time
}

extension WarningMessage {
    /// A synthetic warning for start-up warm-ups (Ingest's `DaemonWarmUp`, Relay's intake
    /// warm-up): status Test, an Alert (update 0) or an Update, Mw 5.5 at 10 km depth, origin
    /// 2000-01-01T00:00:00Z, every target 30 km away with intensity 6 and 4 s of countdown. It
    /// exercises signing and encoding like a real warning of that shape; it is never sent.
    /// - Parameter targets: one prediction per target (names and kinds as given).
    public static func warmUpSample(id: String, updateNumber: Int = 0, epicenter: GeoPoint,
                                    targets: [(name: String, kind: TargetKind)]) -> WarningMessage {
        let origin = Timestamp(nanosecondsSinceEpoch: 946_684_800_000_000_000)
        let predictions = targets.map { t in
            TargetPrediction(name: t.name, kind: t.kind, epicentralDistanceKilometers: 30, predictedIntensity: 6,
                             predictedIntensitySigma: 0.6, sWaveArrivalTime: origin.adding(nanoseconds: 9_000_000_000),
                             countdownSeconds: 4, warningLevel: .yellow)
        }
        return WarningMessage(id: id, updateNumber: updateNumber, status: .test, msgType: updateNumber == 0 ? .alert : .update,
                              originTime: origin, epicenter: epicenter, depthKilometers: 10, magnitude: 5.5,
                              magnitudeUncertainty: 0.3, magnitudeType: "Mpd", numberOfStations: 1, targets: predictions,
                              createdTime: origin.adding(nanoseconds: 5_000_000_000))
    }
}
