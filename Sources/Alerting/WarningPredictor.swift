public import SeismicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source solution from the event builder (the input to a warning).
public struct EarthquakeSolution: Sendable, Equatable {
    /// Stable event identifier (characters A–Z a–z 0–9 . _ -), e.g. `qw20261129T004902`.
    public var eventID: String
    public var originTime: Timestamp
    public var epicenter: GeoPoint
    public var depthKilometers: Double
    public var magnitude: Double
    /// One standard deviation of the magnitude.
    public var magnitudeUncertainty: Double
    public var magnitudeType: String
    public var numberOfStations: Int

    public init(eventID: String, originTime: Timestamp, epicenter: GeoPoint, depthKilometers: Double,
                magnitude: Double, magnitudeUncertainty: Double, magnitudeType: String, numberOfStations: Int) {
        self.eventID = eventID
        self.originTime = originTime
        self.epicenter = epicenter
        self.depthKilometers = depthKilometers
        self.magnitude = magnitude
        self.magnitudeUncertainty = magnitudeUncertainty
        self.magnitudeType = magnitudeType
        self.numberOfStations = numberOfStations
    }
}

/// A solution that cannot be turned into a warning.
public enum WarningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event id is empty or has characters outside A–Z a–z 0–9 . _ - (it becomes part of the
    /// CAP identifier, which forbids spaces, commas, `<` and `&`).
    case invalidEventID(String)
    /// A source parameter is not finite or out of its physical range.
    case invalidSolution(field: String, value: Double)
    /// `cancel` or `update` for an event that was never alerted.
    case unknownEvent(String)

    public var description: String {
        switch self {
        case .invalidEventID(let id): "event id '\(id)' must be 1–64 characters A–Z a–z 0–9 . _ -"
        case .invalidSolution(let field, let value): "solution field \(field) = \(value) is not valid"
        case .unknownEvent(let id): "no alert was issued for event '\(id)'"
        }
    }
}

/// Predicted intensity, S-wave arrival and countdown for every configured target.
///
/// For a target at epicentral distance Δ (haversine, ``Geodesy``) from a source at depth h:
/// - intensity: ``IntensityAttenuation`` (GB 18306-2015, `I = A + B·M + C·lg(Δ + R0)`), one decimal;
/// - S-wave arrival: `t_S = t0 + sqrt(Δ² + h²)/Vs` (straight ray, constant Vs; algorithms.md §7),
///   rounded to the millisecond;
/// - countdown: `max(0, t_S − now)` in seconds at the message's creation time, rounded to 0.1 s;
/// - level: ``WarningLevelThresholds/level(forIntensity:)`` of the rounded intensity.
public struct WarningPredictor: Sendable {
    public var alerting: AlertingConfiguration
    public var targets: [WarningTarget] {
        didSet { targetGeometry = targets.map(TargetGeometry.init) }
    }
    /// Per-target constants of the haversine distance, in target order (kept in step with
    /// ``targets``).
    private var targetGeometry: [TargetGeometry]

    public init(alerting: AlertingConfiguration, targets: [WarningTarget]) {
        self.alerting = alerting
        self.targets = targets
        self.targetGeometry = targets.map(TargetGeometry.init)
    }

    /// The target's latitude in radians and its cosine: the terms of
    /// ``Geodesy/distanceKilometers(from:to:)`` that do not depend on the source.
    struct TargetGeometry: Sendable {
        var position: GeoPoint
        var phi: Double
        var cosPhi: Double

        init(_ target: WarningTarget) {
            position = target.position
            phi = Geodesy.radians(position.latitudeDegrees)
            cosPhi = cos(phi)
        }
    }

    /// ``Geodesy/distanceKilometers(from:to:)`` from the source (`phi1` = its latitude in
    /// radians, `cosPhi1` its cosine) to a target: the same operations in the same order, with the
    /// cosines computed once per message and per target instead of once per pair, so the same
    /// bits (`Tests/AlertingTests/WarningPredictorFastPathTests`).
    @inline(__always)
    static func distanceKilometers(source p: GeoPoint, phi1: Double, cosPhi1: Double, to q: TargetGeometry) -> Double {
        let dPhi = q.phi - phi1
        let dLambda = Geodesy.radians(q.position.longitudeDegrees - p.longitudeDegrees)
        let s1 = sin(dPhi / 2), s2 = sin(dLambda / 2)
        let a = s1 * s1 + cosPhi1 * q.cosPhi * s2 * s2
        return 2 * Geodesy.earthRadiusKilometers * asin(min(1, a.squareRoot()))
    }

    public init(configuration: QuakeWarnConfiguration) {
        self.init(alerting: configuration.alerting, targets: configuration.targets)
    }

    /// True when the magnitude reaches ``AlertingConfiguration/minimumMagnitude``.
    public func shouldAlert(_ solution: EarthquakeSolution) -> Bool {
        solution.magnitude >= alerting.minimumMagnitude
    }

    /// S-wave travel time in seconds over the hypocentral distance `sqrt(Δ² + h²)`.
    public func sWaveTravelTimeSeconds(epicentralDistanceKilometers: Double, depthKilometers: Double) -> Double {
        Geodesy.hypocentralDistanceKilometers(epicentralKilometers: epicentralDistanceKilometers,
                                              depthKilometers: depthKilometers)
            / alerting.sWaveVelocityKilometersPerSecond
    }

    /// The prediction for one target, with the countdown measured from `now`.
    public func predict(_ solution: EarthquakeSolution, for target: WarningTarget, now: Timestamp) -> TargetPrediction {
        predict(solution, for: target, distance: Geodesy.distanceKilometers(from: solution.epicenter, to: target.position),
                now: now)
    }

    /// ``predict(_:for:now:)`` with the epicentral distance already computed.
    @inline(__always)
    private func predict(_ solution: EarthquakeSolution, for target: WarningTarget, distance: Double,
                         now: Timestamp) -> TargetPrediction {
        let attenuation = alerting.attenuation
        let intensity = attenuation.intensity(magnitude: solution.magnitude, epicentralDistanceKilometers: distance)
        let travel = sWaveTravelTimeSeconds(epicentralDistanceKilometers: distance,
                                            depthKilometers: solution.depthKilometers)
        // Clamp so that a hand-built configuration (Vs ≤ 0, not validated) cannot trap the conversion.
        let travelMilliseconds = travel.isFinite ? Int64(min(max(travel * 1000, 0), 1e12).rounded()) : 1_000_000_000_000
        let arrival = solution.originTime.adding(nanoseconds: travelMilliseconds * 1_000_000)
        let countdown = max(0, arrival.seconds(since: now))
        return TargetPrediction(
            name: target.name, kind: target.kind,
            epicentralDistanceKilometers: (distance * 10).rounded() / 10,
            predictedIntensity: intensity, predictedIntensitySigma: attenuation.sigma,
            sWaveArrivalTime: arrival, countdownSeconds: (countdown * 10).rounded() / 10,
            warningLevel: alerting.warningLevels.level(forIntensity: intensity))
    }

    /// Radius in km of the alert zone around the epicentre: the distance out to which the
    /// predicted intensity reaches the lowest warning level (blue), rounded up to 0.1 km and
    /// capped at ``AlertingConfiguration/maximumAlertRadiusKilometers``.
    public func alertZoneRadiusKilometers(magnitude: Double) -> Double {
        let r = alerting.attenuation.radiusKilometers(magnitude: magnitude,
                                                      intensity: alerting.warningLevels.blueMinimumIntensity)
        let cap = alerting.maximumAlertRadiusKilometers
        return r.isFinite ? min((r * 10).rounded(.up) / 10, cap) : cap
    }

    /// A complete Alert or Update message for `solution` created at `now`.
    /// - Throws: ``WarningError`` when the id or a source parameter is invalid.
    public func message(for solution: EarthquakeSolution, msgType: WarningMessageType, updateNumber: Int,
                        status: WarningStatus, now: Timestamp) throws(WarningError) -> WarningMessage {
        try Self.validate(solution)
        var predictions: [TargetPrediction] = []
        if msgType != .cancel {
            predictions.reserveCapacity(targets.count)
            let phi1 = Geodesy.radians(solution.epicenter.latitudeDegrees)
            let cosPhi1 = cos(phi1)
            for (target, geometry) in zip(targets, targetGeometry) {
                let distance = Self.distanceKilometers(source: solution.epicenter, phi1: phi1, cosPhi1: cosPhi1,
                                                       to: geometry)
                predictions.append(predict(solution, for: target, distance: distance, now: now))
            }
        }
        return WarningMessage(
            id: solution.eventID, updateNumber: updateNumber, status: status, msgType: msgType,
            originTime: solution.originTime, epicenter: solution.epicenter, depthKilometers: solution.depthKilometers,
            magnitude: solution.magnitude, magnitudeUncertainty: solution.magnitudeUncertainty,
            magnitudeType: solution.magnitudeType, numberOfStations: solution.numberOfStations,
            targets: predictions, createdTime: now)
    }

    static func validate(_ s: EarthquakeSolution) throws(WarningError) {
        let allowed = s.eventID.utf8.allSatisfy { b in
            (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) || b == 45 || b == 46 || b == 95
        }
        guard !s.eventID.isEmpty, s.eventID.utf8.count <= 64, allowed else { throw .invalidEventID(s.eventID) }
        let checks: [(String, Double, ClosedRange<Double>)] = [
            ("epicenter.latitudeDegrees", s.epicenter.latitudeDegrees, -90...90),
            ("epicenter.longitudeDegrees", s.epicenter.longitudeDegrees, -180...180),
            ("depthKilometers", s.depthKilometers, 0...800),
            ("magnitude", s.magnitude, -2...10),
            ("magnitudeUncertainty", s.magnitudeUncertainty, 0...10),
            ("numberOfStations", Double(s.numberOfStations), 0...1_000_000),
        ]
        for (field, value, range) in checks where !(value.isFinite && range.contains(value)) {
            throw .invalidSolution(field: field, value: value)
        }
    }
}

/// Per-event message sequencing: the first warning of an event is an Alert with update number 0,
/// later solutions are Updates 1, 2, …, and a Cancel takes the next number. Keeps the messages
/// already issued so CAP `references` can list them.
///
/// Events below ``AlertingConfiguration/minimumMagnitude`` are not alerted; once an event was
/// alerted, later solutions are always issued as Updates (also if the magnitude drops, so that
/// terminals see the lowered levels) until it is cancelled.
public struct WarningIssuer: Sendable {
    public var predictor: WarningPredictor
    public var status: WarningStatus
    /// Messages issued so far, per event id, in order.
    public private(set) var history: [String: [WarningMessage]] = [:]

    public init(predictor: WarningPredictor, status: WarningStatus) {
        self.predictor = predictor
        self.status = status
    }

    /// The next message for a new or revised solution, or nil when the event is below the
    /// alert threshold and was never alerted (or was already cancelled).
    public mutating func issue(_ solution: EarthquakeSolution, now: Timestamp) throws(WarningError) -> WarningMessage? {
        // Count and last type only: holding the array itself while appending would copy the
        // whole history of the event at every update.
        let count: Int
        let lastType: WarningMessageType?
        if let previous = history[solution.eventID] {
            count = previous.count
            lastType = previous.last?.msgType
        } else {
            count = 0
            lastType = nil
        }
        if lastType == .cancel { return nil }
        if count == 0 && !predictor.shouldAlert(solution) { return nil }
        let message = try predictor.message(for: solution, msgType: count == 0 ? .alert : .update,
                                            updateNumber: count, status: status, now: now)
        history[solution.eventID, default: []].append(message)
        return message
    }

    /// A Cancel for an alerted event (source parameters of the last message, no targets).
    public mutating func cancel(eventID: String, now: Timestamp) throws(WarningError) -> WarningMessage {
        let found = history[eventID].flatMap { previous in previous.last.map { ($0, previous.count) } }
        guard let (last, count) = found, last.msgType != .cancel else { throw .unknownEvent(eventID) }
        var message = last
        message.msgType = .cancel
        message.updateNumber = count
        message.targets = []
        message.createdTime = now
        message.sentTime = nil
        history[eventID, default: []].append(message)
        return message
    }

    /// Drops the history of every event whose last message was created before `cutoff`, so a
    /// daemon that runs for months keeps a bounded history. A later solution for a forgotten event
    /// id starts again with an Alert.
    public mutating func forgetEvents(lastCreatedBefore cutoff: Timestamp) {
        history = history.filter { _, messages in (messages.last?.createdTime ?? cutoff) >= cutoff }
    }

    /// The messages issued for `eventID` before `message` (what its CAP `references` lists).
    public func earlierMessages(before message: WarningMessage) -> [WarningMessage] {
        (history[message.id] ?? []).filter { $0.updateNumber < message.updateNumber }
    }
}
