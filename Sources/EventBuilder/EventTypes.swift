// Inputs, outputs and the decision log of the event builder.

public import SeismicCore
public import Picking
public import Magnitude

/// A P pick as the event builder sees it.
public struct StationPick: Sendable, Equatable {
    /// Station code `NET.STA`.
    public var station: String
    public var streamID: StreamID
    public var time: Timestamp
    public var snr: Double
    /// Re-picker quality grade ("A"…).
    public var grade: String
    /// Number of glitches the picker repaired in the pick window (0 for a clean pick).
    public var repairedGlitchCount: Int

    public init(station: String, streamID: StreamID, time: Timestamp, snr: Double, grade: String,
                repairedGlitchCount: Int = 0) {
        self.station = station
        self.streamID = streamID
        self.time = time
        self.snr = snr
        self.grade = grade
        self.repairedGlitchCount = repairedGlitchCount
    }

    /// From a ``GlitchRejectingPicker/Pick``.
    public init(_ pick: GlitchRejectingPicker.Pick) {
        self.init(station: pick.streamID.stationCode, streamID: pick.streamID, time: pick.time, snr: pick.snr,
                  grade: pick.grade.rawValue, repairedGlitchCount: pick.repairedGlitches.count)
    }
}

/// A trigger the picker rejected (evidence about the station's state).
public struct StationRejection: Sendable, Equatable {
    public var station: String
    public var time: Timestamp
    /// True when the picker explained the trigger by glitches.
    public var isGlitch: Bool
    public var reason: String

    public init(station: String, time: Timestamp, isGlitch: Bool, reason: String) {
        self.station = station
        self.time = time
        self.isGlitch = isGlitch
        self.reason = reason
    }

    /// From a ``GlitchRejectingPicker/RejectedTrigger``.
    public init(_ r: GlitchRejectingPicker.RejectedTrigger) {
        let glitch: Bool
        let reason: String
        switch r.reason {
        case .glitch(let kinds):
            glitch = true
            reason = "glitch: " + kinds.map { "\($0)" }.joined(separator: ", ")
        case .repick(let rejection):
            glitch = false
            reason = "re-pick rejected: \(rejection)"
        case .discardedAtReset:
            glitch = false
            reason = "discarded at a stream reset"
        }
        self.init(station: r.streamID.stationCode, time: r.triggerTime, isGlitch: glitch, reason: reason)
    }
}

/// One station-parameter snapshot (a P window of 0.5, 1.0, … s after a pick), with the optional
/// onsite back-azimuth and envelope distance computed from the same pick.
public struct StationSnapshot: Sendable, Equatable {
    public var station: String
    /// The pick the window starts at (must match a pick given to the builder within
    /// ``EventBuilder/Configuration/pickMatchToleranceSeconds``).
    public var pickTime: Timestamp
    /// Data time at which the snapshot became available (end of its window).
    public var time: Timestamp
    public var parameters: StationParameters
    public var backAzimuth: BackAzimuthEstimate?
    public var distance: EpicentralDistanceEstimate?

    public init(station: String, pickTime: Timestamp, time: Timestamp, parameters: StationParameters,
                backAzimuth: BackAzimuthEstimate? = nil, distance: EpicentralDistanceEstimate? = nil) {
        self.station = station
        self.pickTime = pickTime
        self.time = time
        self.parameters = parameters
        self.backAzimuth = backAzimuth
        self.distance = distance
    }
}

/// An S onset found on a station's horizontals after one of its P picks (``SPhaseDetector``).
public struct StationSPhase: Sendable, Equatable {
    public var station: String
    /// The P pick the search started from (matched like a snapshot's).
    public var pickTime: Timestamp
    /// The S onset.
    public var sTime: Timestamp
    /// Horizontal variance after / before the onset.
    public var energyRatio: Double
    /// Change of the horizontal/vertical variance ratio across the onset.
    public var horizontalToVerticalChange: Double
    /// Data time at which the onset was found (the evaluation's window end).
    public var time: Timestamp

    public init(station: String, pickTime: Timestamp, sTime: Timestamp, energyRatio: Double,
                horizontalToVerticalChange: Double, time: Timestamp) {
        self.station = station
        self.pickTime = pickTime
        self.sTime = sTime
        self.energyRatio = energyRatio
        self.horizontalToVerticalChange = horizontalToVerticalChange
        self.time = time
    }

    /// `t_S − t_P`, s.
    public var sMinusPSeconds: Double { sTime.seconds(since: pickTime) }
}

/// What the event builder ingests.
public enum EventBuilderInput: Sendable, Equatable {
    case pick(StationPick)
    case rejection(StationRejection)
    case snapshot(StationSnapshot)
    case sPhase(StationSPhase)

    /// The data time of the input.
    public var time: Timestamp {
        switch self {
        case .pick(let p): return p.time
        case .rejection(let r): return r.time
        case .snapshot(let s): return s.time
        case .sPhase(let s): return s.time
        }
    }
}

/// An event message: the first alert, an update, or a cancel.
public struct EventUpdate: Sendable, Equatable {
    public enum MessageType: String, Sendable, Equatable {
        case alert = "Alert"
        case update = "Update"
        case cancel = "Cancel"
    }

    /// How the epicentre was obtained.
    public enum LocationKind: String, Sendable, Equatable {
        /// No location: only the first station's position is known (no back-azimuth/distance).
        case stationOnly
        case onsite
        case twoStation
    }

    /// Stable id, `qw-YYYYMMDDThhmmss.sss-STA` from the first pick (UTC, milliseconds truncated).
    public var id: String
    /// 0 for the alert, +1 for each following message (the cancel included).
    public var updateNumber: Int
    public var messageType: MessageType
    /// Data time of the decision.
    public var time: Timestamp
    public var originTime: Timestamp
    public var originTimeSigmaSeconds: Double?
    /// Epicentre (for `.stationOnly`: the first station's position).
    public var epicenter: GeoPoint
    public var depthKilometers: Double
    public var horizontalSigmaKilometers: Double?
    public var locationKind: LocationKind
    public var magnitude: MagnitudeEstimate?
    /// True when any station's window is saturated: the magnitude is a lower bound.
    public var magnitudeIsLowerBound: Bool
    /// Stations contributing (`NET.STA`, in pick order).
    public var stations: [String]
    /// Why (for updates: what changed; for cancels: the rule).
    public var reason: String

    public var stationCount: Int { stations.count }
}

/// One entry of the decision log: what was decided, when (data time), why, with the numbers.
public struct Decision: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case eventCreated
        case pickAssociated
        case pickNotAssociated
        case inputIgnored
        case alertHeld
        case alert
        case update
        case confirmed
        case glitchEvidence
        /// An S onset gave a station an S−P distance.
        case sPhase
        /// An S onset was not used (inconsistent with the station's other distance).
        case sPhaseRejected
        case teleseism
        case cancel
        case discarded
        case keptUnconfirmed
        case closed
    }

    public struct Value: Sendable, Equatable {
        public var name: String
        public var value: Double
        public init(_ name: String, _ value: Double) {
            self.name = name
            self.value = value
        }
    }

    public var time: Timestamp
    public var kind: Kind
    public var eventID: String?
    public var station: String?
    public var reason: String
    public var values: [Value]

    public init(time: Timestamp, kind: Kind, eventID: String?, station: String?, reason: String, values: [Value] = []) {
        self.time = time
        self.kind = kind
        self.eventID = eventID
        self.station = station
        self.reason = reason
        self.values = values
    }

    /// One line: `time kind event station: reason [name=value …]`.
    public var description: String {
        var s = "\(time.iso8601) \(kind.rawValue)"
        if let eventID { s += " \(eventID)" }
        if let station { s += " \(station)" }
        s += ": \(reason)"
        if !values.isEmpty { s += " [" + values.map { "\($0.name)=\($0.value)" }.joined(separator: " ") + "]" }
        return s
    }
}
