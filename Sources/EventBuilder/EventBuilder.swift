// EventBuilder: onsite (one-station) and two-station event declaration, location, magnitude,
// updates and cancels, driven by data time only.

public import SeismicCore
public import Magnitude

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Declares, updates and cancels events from picks, picker rejections and station-parameter
/// snapshots of one or two (or more) stations.
///
/// **Streaming, deterministic.** Feed inputs in data-time order per station with
/// ``ingest(_:)``; call ``advance(to:)`` as data time progresses (e.g. at the end of every
/// record) so timeouts fire. The builder never reads the wall clock, iterates no hash-ordered
/// collection to produce output, and its only state is this value: the same inputs in the same
/// order give identical ``EventUpdate``s and ``decisions``. Its clock is the largest data time seen
/// (inputs and `advance`).
///
/// **Association.** A pick from station B joins an open event that has no pick from B if, for
/// some station A of the event, `|t_B − t_A| ≤ d(A, B) / v_assoc + tolerance` (d great-circle
/// station separation; `v_assoc` = ``Configuration/associationVelocityKilometersPerSecond``, 5 km/s by
/// default, slower than any crustal P so the window is conservative; tolerance 0.5 s for pick
/// errors). Otherwise the pick starts a new event (the rejected association is logged with its
/// numbers).
///
/// **Solution** (recomputed at every pick and snapshot of the event):
/// - per station, a single-station distance (``stationDistance(_:keepingLast:)``): the B–Δ envelope distance
///   given with its snapshots (``EnvelopeDistanceEstimator``) and the ``TauCPdDistance`` inversion
///   (τc magnitude + Pd, windows ≥ 1 s, sufficient displacement SNR), combined by inverse variance
///   in log10 Δ;
/// - one station: ``EventLocator/locateOnsite(_:)`` from the latest back-azimuth and that
///   distance, with σ from both; without a back-azimuth or a distance the epicentre is the
///   station (`.stationOnly`, origin = pick time) and no Alert is sent
///   (``Configuration/requireOnsiteLocationForAlert``);
/// - two or more: ``EventLocator/locate(_:)`` grid search (times, back-azimuths, distances).
/// - magnitude: each station's latest snapshot is re-evaluated with ``StationMagnitudeEstimator``
///   using the hypocentral distance from the current location (so the Pd relations enter once
///   the distance is known); the event magnitude is ``MagnitudeCombination/inverseVariance(_:)``
///   of the station magnitudes; a lower bound if any station window is saturated.
///
/// **Lifecycle.**
/// - *Alert* (update 0): at the first snapshot where the event magnitude exists, is ≥
///   ``Configuration/minimumAlertMagnitude``, no station has a low displacement SNR, the event has
///   an epicentre other than the station (an onsite back-azimuth + distance, or two stations; see
///   ``Configuration/requireOnsiteLocationForAlert``), and the event is not a single-station event
///   with glitch evidence (then it is *held* until a second station confirms).
/// - *Update* (+1 each): every further snapshot of an associated station (window growth in the
///   processor's 0.5 s steps) and the confirming pick of a second station.
/// - *Cancel* (rules, each logged with its numbers; a cancel message is emitted only if an alert
///   was sent, otherwise the event is *discarded* silently in the log):
///   1. **glitch**: a picker rejection explained by glitches at the station of a single-station
///      event, within ``Configuration/glitchEvidenceSeconds`` of its pick (or a pick with repaired
///      glitches) — immediate cancel.
///   2. **teleseism, τc/Pd**: on a window ≥ ``Configuration/teleseismMinimumWindowSeconds`` with
///      τc magnitude ≥ ``Configuration/teleseismMinimumTauCMagnitude``, the observed Pd is more
///      than ``Configuration/teleseismPdDeficitLog10`` log units below the Pd that Wu & Zhao (2006)
///      predict for that magnitude at ``Configuration/maximumLocalDistanceKilometers``: a local
///      event of that size would be much stronger at any local distance; long period with tiny
///      amplitude means a distant (teleseismic/regional) event or a noise-dominated window.
///   3. **teleseism, apparent velocity** (two stations; checked at the confirming pick and at every
///      later snapshot, since the back-azimuth may arrive after the second pick): with the first station's back-azimuth
///      φ, the baseline projected on φ is `L = d |cos(θ_AB − φ)|`; if `L ≥` ``Configuration/minimumProjectedBaselineKilometers``
///      and `v_app = L / |t_B − t_A| ≥` ``Configuration/teleseismApparentVelocityKilometersPerSecond``
///      (15 km/s, far above crustal P speeds) **and** the best local location misfits
///      (χ²/data ≥ ``Configuration/teleseismMisfitPerDatum``), the wavefront is too flat for a local
///      source. (A local source almost beneath one station also has a high v_app, but it fits
///      the local location; that is why the misfit condition is needed.)
///   4. **not confirmed**: ``Configuration/confirmationTimeoutSeconds`` after the first pick with a
///      single station, cancel if there is glitch evidence, no snapshot, a low displacement SNR
///      (< ``Configuration/minimumDisplacementSignalToNoise``), or (if configured) magnitude growth
///      below ``Configuration/minimumMagnitudeGrowth``; otherwise the event is kept as an onsite
///      event (logged).
/// - *Closed*: ``Configuration/eventLifetimeSeconds`` after the first pick: no more association or
///   updates.
///
/// These rules are ours (documented heuristics built from the cited relations), not an
/// operational standard; the thresholds are configurable.
public struct EventBuilder: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Station positions by `NET.STA`.
        public var stations: [String: GeoPoint]
        public var locator: EventLocator.Configuration
        public var magnitudeEstimator: StationMagnitudeEstimator
        public var associationVelocityKilometersPerSecond: Double
        public var associationToleranceSeconds: Double
        /// Snapshot ↔ pick matching tolerance, s.
        public var pickMatchToleranceSeconds: Double
        public var confirmationTimeoutSeconds: Double
        public var eventLifetimeSeconds: Double
        public var minimumAlertMagnitude: Double
        public var minimumDisplacementSignalToNoise: Double
        public var minimumMagnitudeGrowth: Double?
        public var glitchEvidenceSeconds: Double
        public var teleseismMinimumWindowSeconds: Double
        public var teleseismMinimumTauCMagnitude: Double
        public var teleseismPdDeficitLog10: Double
        public var maximumLocalDistanceKilometers: Double
        public var teleseismApparentVelocityKilometersPerSecond: Double
        public var minimumProjectedBaselineKilometers: Double
        public var teleseismMisfitPerDatum: Double
        /// When true (default), a single-station event is not alerted while its epicentre would be
        /// the station itself (`.stationOnly`: no back-azimuth yet, or no distance from B–Δ or
        /// τc/Pd): that placeholder epicentre puts the source under the targets, over-predicts the
        /// intensity and gives a countdown of ≈ 0 s (for a source 180 km away: I 9 and 2 s instead
        /// of ≈ 6 and ≈ 18 s). The hold lasts until the polarisation window (≈ 1 s after P) and a
        /// distance are available, or until a second station locates the event. Also, no Alert
        /// before at least one station has a back-azimuth: two stations ≈ 15 km apart with times
        /// (and distances) alone fix a hyperbola (and circles) whose intersections are ambiguous.
        public var requireOnsiteLocationForAlert: Bool
        /// No Alert while the location's horizontal σ exceeds this (km; default 150). Two stations
        /// ≈ 15 km apart with arrival times only constrain a hyperbola, not a point (σ of hundreds
        /// of km): alerting such a solution predicts intensities and countdowns for a random
        /// point on it. Updates of an alerted event are not held.
        public var maximumAlertHorizontalSigmaKilometers: Double
        /// The τc/Pd distance (``TauCPdDistance``) is used only from windows at least this long
        /// (s; default 1): τc of shorter windows is biased low for large events (the period of the
        /// first half-cycle), which makes the distance meaningless.
        public var minimumTauCPdWindowSeconds: Double
        /// S velocity for the S−P distance (``SMinusPDistance``; P: the locator's), km/s.
        public var sVelocityKilometersPerSecond: Double = 3.5
        /// An S−P distance is not used when it differs from the station's P-based single-station
        /// distance by more than this many combined σ (in log10 Δ): a false S (a burst in the P
        /// coda, another event) would otherwise fix the range with a σ of a few percent.
        public var sMinusPConsistencySigmas: Double = 3

        public init(stations: [String: GeoPoint], locator: EventLocator.Configuration = .init(),
                    magnitudeEstimator: StationMagnitudeEstimator = .init(),
                    associationVelocityKilometersPerSecond: Double = 5.0, associationToleranceSeconds: Double = 0.5,
                    pickMatchToleranceSeconds: Double = 0.05, confirmationTimeoutSeconds: Double = 8,
                    eventLifetimeSeconds: Double = 120, minimumAlertMagnitude: Double = 3.0,
                    minimumDisplacementSignalToNoise: Double = 3, minimumMagnitudeGrowth: Double? = nil,
                    glitchEvidenceSeconds: Double = 10, teleseismMinimumWindowSeconds: Double = 2,
                    teleseismMinimumTauCMagnitude: Double = 5, teleseismPdDeficitLog10: Double = 1,
                    maximumLocalDistanceKilometers: Double = 300,
                    teleseismApparentVelocityKilometersPerSecond: Double = 15,
                    minimumProjectedBaselineKilometers: Double = 5, teleseismMisfitPerDatum: Double = 9,
                    requireOnsiteLocationForAlert: Bool = true, maximumAlertHorizontalSigmaKilometers: Double = 150,
                    minimumTauCPdWindowSeconds: Double = 1) {
            self.requireOnsiteLocationForAlert = requireOnsiteLocationForAlert
            self.maximumAlertHorizontalSigmaKilometers = maximumAlertHorizontalSigmaKilometers
            self.minimumTauCPdWindowSeconds = minimumTauCPdWindowSeconds
            self.stations = stations
            self.locator = locator
            self.magnitudeEstimator = magnitudeEstimator
            self.associationVelocityKilometersPerSecond = associationVelocityKilometersPerSecond
            self.associationToleranceSeconds = associationToleranceSeconds
            self.pickMatchToleranceSeconds = pickMatchToleranceSeconds
            self.confirmationTimeoutSeconds = confirmationTimeoutSeconds
            self.eventLifetimeSeconds = eventLifetimeSeconds
            self.minimumAlertMagnitude = minimumAlertMagnitude
            self.minimumDisplacementSignalToNoise = minimumDisplacementSignalToNoise
            self.minimumMagnitudeGrowth = minimumMagnitudeGrowth
            self.glitchEvidenceSeconds = glitchEvidenceSeconds
            self.teleseismMinimumWindowSeconds = teleseismMinimumWindowSeconds
            self.teleseismMinimumTauCMagnitude = teleseismMinimumTauCMagnitude
            self.teleseismPdDeficitLog10 = teleseismPdDeficitLog10
            self.maximumLocalDistanceKilometers = maximumLocalDistanceKilometers
            self.teleseismApparentVelocityKilometersPerSecond = teleseismApparentVelocityKilometersPerSecond
            self.minimumProjectedBaselineKilometers = minimumProjectedBaselineKilometers
            self.teleseismMisfitPerDatum = teleseismMisfitPerDatum
        }

        /// Station positions from metadata (`NET.STA` keys).
        public init(stations: [StationMetadata]) {
            var map: [String: GeoPoint] = [:]
            for s in stations {
                map["\(s.network).\(s.station)"] = GeoPoint(latitudeDegrees: s.latitudeDegrees,
                                                             longitudeDegrees: s.longitudeDegrees)
            }
            self.init(stations: map)
        }
    }

    public enum State: String, Sendable, Equatable {
        case pending, alerted, cancelled, discarded, closed
    }

    struct StationState: Sendable {
        var pick: StationPick
        /// The station's configured position (``Configuration/stations`` is immutable, so this is
        /// the value a lookup by `pick.station` gives; kept here so updates do no String-keyed lookup).
        var location: GeoPoint
        /// Decision-value names of this station, built once (emitted at every update).
        var distanceName: String
        var distanceSigmaName: String
        var backAzimuthName: String
        var latest: StationSnapshot?
        var backAzimuth: BackAzimuthEstimate?
        var distance: EpicentralDistanceEstimate?
        /// The τc/Pd distance of the latest snapshot (``tauCPdDistance(_:)``; nil when that window
        /// gives none), computed once when the snapshot arrives (``note(_:in:)``).
        var tauCPd: EpicentralDistanceEstimate?
        /// The τc/Pd distance of the latest snapshot that gave one; used only by a single-station
        /// event whose latest window gives none (``stationDistance(_:keepingLast:)``).
        var lastTauCPd: EpicentralDistanceEstimate?
        /// The S−P distance, once an S onset was accepted for this pick.
        var sMinusP: EpicentralDistanceEstimate?
        var firstMagnitude: Double?
        var maxMagnitude: Double?

        /// `location`: the configured position of `pick.station` (the builder always passes it; the
        /// default, unknown, is for tests of the per-station functions that do not read it).
        init(pick: StationPick, location: GeoPoint = GeoPoint(latitudeDegrees: .nan, longitudeDegrees: .nan)) {
            self.pick = pick
            self.location = location
            let code = pick.station
            distanceName = "distanceKm[\(code)]"
            distanceSigmaName = "distanceLog10Sigma[\(code)]"
            backAzimuthName = "backAzimuthDegrees[\(code)]"
        }
    }

    struct EventState: Sendable {
        var id: String
        var firstPickTime: Timestamp
        var stations: [StationState]  // pick order
        var state: State = .pending
        var nextUpdateNumber = 0
        var glitchEvidence: [String] = []
        var timeoutChecked = false
        /// The locator's coarse-grid candidates for the event's current picks, kept across updates
        /// (``LocatorCoarseCandidates``, a few KB; only saves work, results are the same). Emptied
        /// when the event closes, is cancelled or discarded (closed events stay in `events`).
        var coarseCandidates = LocatorCoarseCandidates()
        var isOpen: Bool { state == .pending || state == .alerted }
        func index(of station: String) -> Int? { stations.firstIndex { $0.pick.station == station } }
    }

    public let configuration: Configuration
    private let locator: EventLocator
    private var events: [EventState] = []
    /// The decision log, in decision order.
    public private(set) var decisions: [Decision] = []
    /// The builder's data-time clock (largest time seen).
    public private(set) var clock: Timestamp?
    /// Picker rejections kept as glitch evidence (time-ordered; pruned after the evidence span).
    private var recentGlitches: [StationRejection] = []

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        self.locator = EventLocator(configuration.locator)
        // Build the coarse-grid travel-time tables of every station pair now (a small network:
        // up to 8 stations, 28 pairs), so the first two-station location of a pair does not pay
        // for them; results do not depend on it (EventLocator.prepare).
        let positions = configuration.stations.sorted { $0.key < $1.key }.map(\.value)
        if positions.count <= 8 {
            var pairs: [[GeoPoint]] = []
            for a in positions.indices {
                for b in positions.indices where b > a { pairs.append([positions[a], positions[b]]) }
            }
            locator.prepare(stationSets: pairs)
        }
    }

    /// Clears events, the log and the clock.
    public mutating func reset() {
        events = []
        decisions = []
        clock = nil
        recentGlitches = []
    }

    /// Returns and clears the decision log (for streaming it out).
    public mutating func drainDecisions() -> [Decision] {
        defer { decisions = [] }
        return decisions
    }

    /// The state of an event by id (nil if unknown).
    public func state(ofEvent id: String) -> State? { events.first { $0.id == id }?.state }

    /// Ids of all events so far, in creation order.
    public var eventIDs: [String] { events.map(\.id) }

    /// The stable event id: `qw-YYYYMMDDThhmmss.sss-STA` (UTC, ms truncated; STA = station code
    /// without network).
    public static func eventID(firstPickTime t: Timestamp, station: String) -> String {
        let c = t.components
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        let sta = station.split(separator: ".").last.map(String.init) ?? station
        return "qw-" + pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2)
            + pad(c.second, 2) + "." + pad(c.nanosecond / 1_000_000, 3) + "-" + sta
    }

    // MARK: - Streaming entry points

    /// Processes one input; returns the messages it caused (timeouts up to the input's time first).
    public mutating func ingest(_ input: EventBuilderInput) -> [EventUpdate] {
        var out = advance(to: input.time)
        switch input {
        case .pick(let p): out += handlePick(p)
        case .rejection(let r): out += handleRejection(r)
        case .snapshot(let s): out += handleSnapshot(s)
        case .sPhase(let s): out += handleSPhase(s)
        }
        return out
    }

    /// Advances the data-time clock and fires timeouts (confirmation, lifetime).
    public mutating func advance(to time: Timestamp) -> [EventUpdate] {
        if let c = clock, time <= c { return [] }
        clock = time
        var out: [EventUpdate] = []
        for i in events.indices where events[i].isOpen {
            let age = time.seconds(since: events[i].firstPickTime)
            if !events[i].timeoutChecked, events[i].stations.count < 2, age >= configuration.confirmationTimeoutSeconds {
                events[i].timeoutChecked = true
                out += confirmationTimeout(i, at: time)
            }
            if events[i].isOpen, age >= configuration.eventLifetimeSeconds {
                events[i].state = .closed
                events[i].coarseCandidates = LocatorCoarseCandidates()  // no more solves: free it
                log(time, .closed, events[i].id, nil, "event lifetime reached",
                    [.init("ageSeconds", age), .init("lifetimeSeconds", configuration.eventLifetimeSeconds)])
            }
        }
        recentGlitches.removeAll { time.seconds(since: $0.time) > 2 * configuration.glitchEvidenceSeconds }
        return out
    }

    // MARK: - Handlers

    private mutating func handlePick(_ p: StationPick) -> [EventUpdate] {
        guard let location = configuration.stations[p.station] else {
            log(p.time, .inputIgnored, nil, p.station, "pick from a station not in the configuration")
            return []
        }
        for i in events.indices where events[i].isOpen && events[i].index(of: p.station) == nil {
            var bestWindow: (dt: Double, window: Double)?
            var fits = false
            for s in events[i].stations {
                let other = s.location
                let d = Geodesy.distanceKilometers(from: location, to: other)
                let window = d / configuration.associationVelocityKilometersPerSecond + configuration.associationToleranceSeconds
                let dt = p.time.seconds(since: s.pick.time)
                if abs(dt) <= window { fits = true; break }
                if bestWindow == nil { bestWindow = (dt, window) }
            }
            if fits {
                return associate(p, location: location, toEvent: i)
            } else if let (dt, window) = bestWindow {
                log(p.time, .pickNotAssociated, events[i].id, p.station,
                    "arrival-time difference exceeds separation / v_assoc + tolerance",
                    [.init("dtSeconds", dt), .init("windowSeconds", window)])
            }
        }
        // New event.
        let id = Self.eventID(firstPickTime: p.time, station: p.station)
        var e = EventState(id: id, firstPickTime: p.time, stations: [StationState(pick: p, location: location)])
        log(p.time, .eventCreated, id, p.station, "first pick", [.init("snr", p.snr)])
        if p.repairedGlitchCount > 0 {
            e.glitchEvidence.append("pick carries \(p.repairedGlitchCount) repaired glitch(es)")
            log(p.time, .glitchEvidence, id, p.station, "the picker repaired glitches in the pick window",
                [.init("repairedGlitches", Double(p.repairedGlitchCount))])
        }
        for g in recentGlitches where g.station == p.station
            && abs(g.time.seconds(since: p.time)) <= configuration.glitchEvidenceSeconds {
            e.glitchEvidence.append(g.reason)
            log(p.time, .glitchEvidence, id, p.station, "recent glitch rejection on this station: \(g.reason)",
                [.init("secondsFromPick", g.time.seconds(since: p.time))])
        }
        events.append(e)
        return []
    }

    private mutating func associate(_ p: StationPick, location: GeoPoint, toEvent i: Int) -> [EventUpdate] {
        let first = events[i].stations[0]
        events[i].stations.append(StationState(pick: p, location: location))
        let dt = p.time.seconds(since: first.pick.time)
        log(p.time, .pickAssociated, events[i].id, p.station, "within the physical arrival-time window of \(first.pick.station)",
            [.init("dtSeconds", dt)])
        if events[i].stations.count == 2 {
            log(p.time, .confirmed, events[i].id, p.station, "second station confirms", [.init("stations", 2)])
        }
        var solved: Solution?
        if let reason = apparentVelocityTeleseism(i, solved: &solved) {
            return cancel(i, at: p.time, kind: .teleseism, reason: reason.text, values: reason.values, solved: solved)
        }
        return emit(i, at: p.time, reason: "station \(p.station) associated (\(events[i].stations.count) stations)",
                    solved: solved)
    }

    private mutating func handleRejection(_ r: StationRejection) -> [EventUpdate] {
        guard r.isGlitch else {
            log(r.time, .inputIgnored, nil, r.station, "non-glitch rejection: \(r.reason)")
            return []
        }
        recentGlitches.append(r)
        var out: [EventUpdate] = []
        for i in events.indices where events[i].isOpen {
            guard let k = events[i].index(of: r.station),
                  abs(r.time.seconds(since: events[i].stations[k].pick.time)) <= configuration.glitchEvidenceSeconds
            else { continue }
            events[i].glitchEvidence.append(r.reason)
            let values: [Decision.Value] = [.init("secondsFromPick", r.time.seconds(since: events[i].stations[k].pick.time)),
                                            .init("stations", Double(events[i].stations.count))]
            if events[i].stations.count == 1 {
                out += cancel(i, at: r.time, kind: .cancel,
                              reason: "glitch: single-station event and the picker rejected a glitch on \(r.station) (\(r.reason))",
                              values: values)
            } else {
                log(r.time, .glitchEvidence, events[i].id, r.station,
                    "glitch on a station of a confirmed event (kept): \(r.reason)", values)
            }
        }
        if out.isEmpty && !events.contains(where: { $0.isOpen && $0.index(of: r.station) != nil }) {
            log(r.time, .glitchEvidence, nil, r.station, "glitch rejection kept as evidence: \(r.reason)")
        }
        return out
    }

    /// The open event holding `station`'s pick at `pickTime` (within
    /// ``Configuration/pickMatchToleranceSeconds``), and the station's index in it.
    private func openEvent(station: String, pickTime: Timestamp) -> (event: Int, station: Int)? {
        guard let i = events.indices.first(where: { idx in
            events[idx].isOpen && events[idx].stations.contains {
                $0.pick.station == station
                    && abs($0.pick.time.seconds(since: pickTime)) <= configuration.pickMatchToleranceSeconds
            }
        }), let k = events[i].index(of: station) else { return nil }
        return (i, k)
    }

    private mutating func handleSnapshot(_ s: StationSnapshot) -> [EventUpdate] {
        guard let (i, k) = openEvent(station: s.station, pickTime: s.pickTime) else {
            log(s.time, .inputIgnored, nil, s.station, "snapshot matches no open event's pick",
                [.init("windowSeconds", s.parameters.secondsAfterPick)])
            return []
        }
        note(s, in: &events[i].stations[k])
        var solved: Solution?
        if let reason = tauCPdTeleseism(s) ?? apparentVelocityTeleseism(i, solved: &solved) {
            return cancel(i, at: s.time, kind: .teleseism, reason: reason.text, values: reason.values, solved: solved)
        }
        return emit(i, at: s.time, reason: "\(s.station) window \(s.parameters.secondsAfterPick) s", solved: solved)
    }

    /// An S onset: the station's distance becomes the S−P distance (``SMinusPDistance``; σ of a few
    /// percent against ≈ a factor 2 for τc/Pd), unless it disagrees with the station's P-based
    /// distance (when it has one) by more than ``Configuration/sMinusPConsistencySigmas`` combined
    /// σ, or lies beyond ``Configuration/maximumLocalDistanceKilometers``; then an Update. Only the
    /// first S of a pick is used.
    private mutating func handleSPhase(_ s: StationSPhase) -> [EventUpdate] {
        guard let (i, k) = openEvent(station: s.station, pickTime: s.pickTime), events[i].stations[k].sMinusP == nil else {
            log(s.time, .inputIgnored, nil, s.station, "S onset matches no open event's pick without an S",
                [.init("sMinusPSeconds", s.sMinusPSeconds)])
            return []
        }
        let id = events[i].id
        let sp = s.sMinusPSeconds
        guard let d = SMinusPDistance.estimate(sMinusPSeconds: sp,
                                               pVelocityKilometersPerSecond: configuration.locator.pVelocityKilometersPerSecond,
                                               sVelocityKilometersPerSecond: configuration.sVelocityKilometersPerSecond,
                                               depthKilometers: configuration.locator.depthKilometers),
              d.kilometers <= configuration.maximumLocalDistanceKilometers else {
            log(s.time, .sPhaseRejected, id, s.station, "S−P \(sp) s gives no distance within the local limit",
                [.init("sMinusPSeconds", sp)])
            return []
        }
        var values: [Decision.Value] = [.init("sMinusPSeconds", sp), .init("distanceKm", d.kilometers),
                                        .init("distanceLog10Sigma", d.log10Sigma), .init("energyRatio", s.energyRatio),
                                        .init("horizontalToVerticalChange", s.horizontalToVerticalChange)]
        if let p = stationDistance(in: events[i], k) {
            let z = abs(log10(d.kilometers) - log10(p.kilometers)) / (d.log10Sigma * d.log10Sigma + p.log10Sigma * p.log10Sigma).squareRoot()
            values += [.init("pBasedDistanceKm", p.kilometers), .init("sigmas", z)]
            if z > configuration.sMinusPConsistencySigmas {
                log(s.time, .sPhaseRejected, id, s.station,
                    "S−P distance inconsistent with the station's P-based distance (more than \(configuration.sMinusPConsistencySigmas) σ)",
                    values)
                return []
            }
        }
        events[i].stations[k].sMinusP = d
        log(s.time, .sPhase, id, s.station, "S onset: the S−P distance replaces the P-based one", values)
        return emit(i, at: s.time, reason: "\(s.station) S−P \((sp * 100).rounded() / 100) s")
    }

    // MARK: - Solution and messages

    private struct Solution {
        var location: LocationSolution?
        var kind: EventUpdate.LocationKind
        var magnitude: MagnitudeEstimate?
        var lowerBound: Bool
        var lowSNRStations: [String]
        var stationMagnitudes: [Double?]
        /// ``stationDistance(_:)`` of each station (pick order) at solve time.
        var stationDistances: [EpicentralDistanceEstimate?]
    }

    /// Records snapshot `s` in station state `state`: it becomes the latest, its back-azimuth and
    /// B–Δ distance (if any) replace the earlier ones, and its τc/Pd inversion is computed once.
    func note(_ s: StationSnapshot, in state: inout StationState) {
        state.latest = s
        if let b = s.backAzimuth { state.backAzimuth = b }
        if let d = s.distance { state.distance = d }
        state.tauCPd = tauCPdDistance(s)
        if let d = state.tauCPd { state.lastTauCPd = d }
    }

    /// The τc/Pd inversion (``TauCPdDistance``) of one snapshot: windows ≥
    /// ``Configuration/minimumTauCPdWindowSeconds``, displacement SNR ≥ the minimum, a τc
    /// magnitude, τc shorter than the window (a τc at the window limit is only a lower bound of the
    /// period, see ``StationMagnitudeEstimator``); nil otherwise.
    func tauCPdDistance(_ snap: StationSnapshot) -> EpicentralDistanceEstimate? {
        guard snap.parameters.secondsAfterPick >= configuration.minimumTauCPdWindowSeconds,
              snap.parameters.displacementSignalToNoise.map({ $0 >= configuration.minimumDisplacementSignalToNoise }) ?? true,
              let tc = snap.parameters.tauCSeconds, tc < snap.parameters.secondsAfterPick, tc < TauCMagnitude.cap,
              let mTc = TauCMagnitude.estimate(tauCSeconds: tc),
              let d = TauCPdDistance.estimate(peakDisplacementMeters: snap.parameters.peakDisplacementMeters,
                                              magnitude: mTc, depthKilometers: configuration.locator.depthKilometers),
              d.kilometers.isFinite, d.log10Sigma > 0 else { return nil }
        return d
    }

    /// A station's single-station epicentral distance: the inverse-variance combination, in
    /// log10 Δ, of the B–Δ envelope distance (if a snapshot carried one) and the τc/Pd inversion of
    /// its latest snapshot (``StationState/tauCPd``). With `keepingLast` (a single-station event:
    /// ``stationDistance(in:_:)``),
    /// when the latest window gives no τc/Pd distance (τc at the window limit, a low displacement
    /// SNR) the last one that did stands in: without it the onsite location of an alerted event
    /// falls back to the station itself, and the Updates announce an M 7.5 from 180 km under the
    /// county seat with a 0 s countdown (seen on one-station replays of the Longmenshan sets).
    /// With two or more stations the times and back-azimuths locate the event without it, and a
    /// distance from a shorter window (whose τc magnitude is low for a large event) would pull the
    /// location in: tried, the committed Longmenshan Alert moved from 35 to 76 km off and its
    /// county-seat countdown from 22 to 10 s, so it is not used there. Both are independent single-station methods with
    /// log-normal errors, so the combination is `log Δ = Σ w_i log Δ_i / Σ w_i`, `w_i = 1/σ_i²`,
    /// `σ = (Σ w_i)^(−1/2)`; the result is clamped to [1, ``Configuration/maximumLocalDistanceKilometers``].
    /// With one method, that method's estimate (clamped).
    ///
    /// Once the station has an S−P distance (``handleSPhase(_:)``), that is the distance: its σ is
    /// 10–20× smaller, so a combination would move it by < 1 %, and the P-based estimates share the
    /// event's source bias (docs/onsite-distance.md §6).
    func stationDistance(_ s: StationState, keepingLast: Bool = false) -> EpicentralDistanceEstimate? {
        if let sp = s.sMinusP { return sp }
        // At most two parts, in this order (no array: this runs for every station at every update).
        var envelope: EpicentralDistanceEstimate?
        let tauCPd = s.tauCPd ?? (keepingLast ? s.lastTauCPd : nil)
        if let d = s.distance, d.kilometers.isFinite, d.kilometers > 0, d.log10Sigma > 0 { envelope = d }
        let limit = max(1, configuration.maximumLocalDistanceKilometers)
        func clamp(_ x: Double) -> Double { min(max(x, 1), limit) }
        guard let first = envelope ?? tauCPd else { return nil }
        guard let envelope, let tauCPd else {
            return EpicentralDistanceEstimate(kilometers: clamp(first.kilometers), log10Sigma: first.log10Sigma, method: first.method)
        }
        var sw = 0.0, swx = 0.0
        for p in [envelope, tauCPd] {
            let w = 1 / (p.log10Sigma * p.log10Sigma)
            sw += w
            swx += w * log10(p.kilometers)
        }
        return EpicentralDistanceEstimate(kilometers: clamp(pow(10, swx / sw)), log10Sigma: (1 / sw).squareRoot(),
                                          method: .combined)
    }

    /// The solution of event `i`'s current state (``solve(_:coarseCandidates:)``), keeping the
    /// locator's coarse candidates with the event.
    private mutating func solve(_ i: Int) -> Solution {
        var candidates = LocatorCoarseCandidates()
        swap(&candidates, &events[i].coarseCandidates)
        defer { swap(&candidates, &events[i].coarseCandidates) }
        return solve(events[i], coarseCandidates: &candidates)
    }

    /// Station `k`'s distance in event `e`, keeping the last τc/Pd distance only when `e` has a
    /// single station (``stationDistance(_:keepingLast:)`` says why). Used by the solution and by
    /// the S−P consistency check, so both compare against the same distance.
    private func stationDistance(in e: EventState, _ k: Int) -> EpicentralDistanceEstimate? {
        stationDistance(e.stations[k], keepingLast: e.stations.count == 1)
    }

    private func solve(_ e: EventState, coarseCandidates: inout LocatorCoarseCandidates) -> Solution {
        let distances = e.stations.indices.map { stationDistance(in: e, $0) }
        var arrivals: [StationArrival] = []
        arrivals.reserveCapacity(e.stations.count)
        for (s, d) in zip(e.stations, distances) {
            arrivals.append(StationArrival(station: s.pick.station, location: s.location, pickTime: s.pick.time,
                                           backAzimuth: s.backAzimuth, distance: d))
        }
        var location: LocationSolution?
        var kind = EventUpdate.LocationKind.stationOnly
        if arrivals.count >= 2 {
            location = locator.locate(arrivals, coarseCandidates: &coarseCandidates)
            if location != nil { kind = .twoStation }
        } else if let a = arrivals.first {
            location = locator.locateOnsite(a)
            if location != nil { kind = .onsite }
        }
        var families: [MagnitudeEstimate] = []
        var lowerBound = false
        var lowSNR: [String] = []
        var perStation: [Double?] = []
        let h = configuration.locator.depthKilometers
        for s in e.stations {
            guard let snap = s.latest else { perStation.append(nil); continue }
            var p = snap.parameters
            if let location {
                let delta = Geodesy.distanceKilometers(from: s.location, to: location.epicenter)
                p.hypocentralDistanceKilometers = (delta * delta + h * h).squareRoot()
            } else {
                p.hypocentralDistanceKilometers = nil
            }
            let m = configuration.magnitudeEstimator.estimate(p)
            if m.lowSignalToNoise { lowSNR.append(s.pick.station) }
            if m.saturated { lowerBound = true }
            if let c = m.combined { families.append(c) }
            perStation.append(m.combined?.magnitude)
        }
        return Solution(location: location, kind: kind, magnitude: MagnitudeCombination.inverseVariance(families),
                        lowerBound: lowerBound, lowSNRStations: lowSNR, stationMagnitudes: perStation,
                        stationDistances: distances)
    }

    private func message(_ e: EventState, _ sol: Solution, type: EventUpdate.MessageType, number: Int, at time: Timestamp,
                         reason: String) -> EventUpdate {
        let first = e.stations[0]
        let stationPoint = first.location
        return EventUpdate(
            id: e.id, updateNumber: number, messageType: type, time: time,
            originTime: sol.location?.originTime ?? first.pick.time,
            originTimeSigmaSeconds: sol.location?.originTimeSigmaSeconds,
            epicenter: sol.location?.epicenter ?? stationPoint,
            depthKilometers: configuration.locator.depthKilometers,
            horizontalSigmaKilometers: sol.location?.horizontalSigmaKilometers, locationKind: sol.kind,
            magnitude: sol.magnitude, magnitudeIsLowerBound: sol.lowerBound, stations: e.stations.map(\.pick.station),
            reason: reason)
    }

    /// `solved`: the solution of the event's current state if it was already computed (by the
    /// apparent-velocity check of the same input), so the locator does not run twice.
    private mutating func emit(_ i: Int, at time: Timestamp, reason: String, solved: Solution? = nil) -> [EventUpdate] {
        let sol = solved ?? solve(i)
        for (k, m) in sol.stationMagnitudes.enumerated() {
            guard let m else { continue }
            if events[i].stations[k].firstMagnitude == nil { events[i].stations[k].firstMagnitude = m }
            events[i].stations[k].maxMagnitude = max(events[i].stations[k].maxMagnitude ?? m, m)
        }
        // One allocation for the values (stations, magnitude and σ, 3 per station, 4 of the
        // location, the update number), appended one by one in the logged order.
        var values: [Decision.Value] = []
        values.reserveCapacity(8 + 3 * events[i].stations.count)
        values.append(.init("stations", Double(events[i].stations.count)))
        if let m = sol.magnitude {
            values.append(.init("magnitude", m.magnitude))
            values.append(.init("magnitudeSigma", m.sigma))
        }
        // Each station's single-station distance and back-azimuth, so the log explains the location.
        for (k, s) in events[i].stations.enumerated() {
            if let d = sol.stationDistances[k] {
                values.append(.init(s.distanceName, d.kilometers))
                values.append(.init(s.distanceSigmaName, d.log10Sigma))
            }
            if let b = s.backAzimuth { values.append(.init(s.backAzimuthName, b.backAzimuthDegrees)) }
        }
        if let l = sol.location {
            values.append(.init("latitude", l.epicenter.latitudeDegrees))
            values.append(.init("longitude", l.epicenter.longitudeDegrees))
            values.append(.init("horizontalSigmaKm", l.horizontalSigmaKilometers))
            values.append(.init("misfit", l.misfit))
        }
        switch events[i].state {
        case .alerted:
            let n = events[i].nextUpdateNumber
            events[i].nextUpdateNumber += 1
            values.append(.init("updateNumber", Double(n)))
            log(time, .update, events[i].id, nil, reason, values)
            return [message(events[i], sol, type: .update, number: n, at: time, reason: reason)]
        case .pending:
            if let why = holdReason(events[i], sol) {
                log(time, .alertHeld, events[i].id, nil, why, values)
                return []
            }
            events[i].state = .alerted
            events[i].nextUpdateNumber = 1
            values.append(.init("updateNumber", 0))
            log(time, .alert, events[i].id, nil, reason, values)
            return [message(events[i], sol, type: .alert, number: 0, at: time, reason: reason)]
        default:
            return []
        }
    }

    private func holdReason(_ e: EventState, _ sol: Solution) -> String? {
        guard let m = sol.magnitude else { return "no magnitude yet" }
        if m.magnitude < configuration.minimumAlertMagnitude {
            return "magnitude \(m.magnitude) below the alert threshold \(configuration.minimumAlertMagnitude)"
        }
        if !sol.lowSNRStations.isEmpty {
            return "low displacement SNR at " + sol.lowSNRStations.joined(separator: ", ")
        }
        if configuration.requireOnsiteLocationForAlert, sol.kind == .stationOnly {
            return "single station without back-azimuth and distance yet: the provisional epicentre would be the station itself"
        }
        if configuration.requireOnsiteLocationForAlert, !e.stations.contains(where: { $0.backAzimuth != nil }) {
            return "no back-azimuth yet: arrival times and distances alone leave the direction ambiguous"
        }
        if let l = sol.location, !(l.horizontalSigmaKilometers <= configuration.maximumAlertHorizontalSigmaKilometers) {
            return "location too uncertain: horizontal σ \(l.horizontalSigmaKilometers) km > \(configuration.maximumAlertHorizontalSigmaKilometers) km"
        }
        if e.stations.count < 2, !e.glitchEvidence.isEmpty {
            return "single station with glitch evidence, waiting for confirmation: " + e.glitchEvidence.joined(separator: "; ")
        }
        return nil
    }

    private mutating func cancel(_ i: Int, at time: Timestamp, kind: Decision.Kind, reason: String,
                                 values: [Decision.Value], solved: Solution? = nil) -> [EventUpdate] {
        let wasAlerted = events[i].state == .alerted
        if kind == .teleseism { log(time, .teleseism, events[i].id, nil, reason, values) }
        if wasAlerted {
            let sol = solved ?? solve(i)
            let n = events[i].nextUpdateNumber
            events[i].nextUpdateNumber += 1
            events[i].state = .cancelled
            events[i].coarseCandidates = LocatorCoarseCandidates()
            log(time, .cancel, events[i].id, nil, reason, values + [.init("updateNumber", Double(n))])
            return [message(events[i], sol, type: .cancel, number: n, at: time, reason: reason)]
        }
        events[i].state = .discarded
        events[i].coarseCandidates = LocatorCoarseCandidates()
        log(time, .discarded, events[i].id, nil, "not alerted, discarded: " + reason, values)
        return []
    }

    private mutating func confirmationTimeout(_ i: Int, at time: Timestamp) -> [EventUpdate] {
        let e = events[i]
        let c = configuration
        let values: [Decision.Value] = [.init("timeoutSeconds", c.confirmationTimeoutSeconds),
                                        .init("stations", Double(e.stations.count))]
        if !e.glitchEvidence.isEmpty {
            return cancel(i, at: time, kind: .cancel,
                          reason: "not confirmed and glitch evidence: " + e.glitchEvidence.joined(separator: "; "),
                          values: values)
        }
        guard let s = e.stations[0].latest else {
            return cancel(i, at: time, kind: .cancel, reason: "not confirmed and no station parameters", values: values)
        }
        if let snr = s.parameters.displacementSignalToNoise, snr < c.minimumDisplacementSignalToNoise {
            return cancel(i, at: time, kind: .cancel, reason: "not confirmed and displacement SNR too low",
                          values: values + [.init("displacementSNR", snr), .init("minimum", c.minimumDisplacementSignalToNoise)])
        }
        if let g = c.minimumMagnitudeGrowth, let m0 = e.stations[0].firstMagnitude, let m1 = e.stations[0].maxMagnitude,
           m1 - m0 < g {
            return cancel(i, at: time, kind: .cancel, reason: "not confirmed and no magnitude growth",
                          values: values + [.init("growth", m1 - m0), .init("minimum", g)])
        }
        log(time, .keptUnconfirmed, e.id, nil, "not confirmed by a second station; kept as an onsite event", values)
        return []
    }

    // MARK: - Teleseism rules

    private func tauCPdTeleseism(_ s: StationSnapshot) -> (text: String, values: [Decision.Value])? {
        let c = configuration
        let p = s.parameters
        guard p.secondsAfterPick >= c.teleseismMinimumWindowSeconds, let tc = p.tauCSeconds,
              let mTc = TauCMagnitude.magnitude(tauCSeconds: tc), mTc >= c.teleseismMinimumTauCMagnitude,
              p.peakDisplacementMeters > 0
        else { return nil }
        let w = PdMagnitudeWuZhao2006.self
        let logPdPredictedCm = w.constant + w.magnitudeCoefficient * mTc
            + w.logDistanceCoefficient * log10(c.maximumLocalDistanceKilometers)
        let deficit = logPdPredictedCm - log10(p.peakDisplacementMeters * 100)
        guard deficit >= c.teleseismPdDeficitLog10 else { return nil }
        return ("teleseism (τc/Pd): τc \(tc) s implies M \(mTc), but Pd is \(deficit) log units below that magnitude's Pd at \(c.maximumLocalDistanceKilometers) km",
                [.init("tauCSeconds", tc), .init("tauCMagnitude", mTc), .init("pdMeters", p.peakDisplacementMeters),
                 .init("pdDeficitLog10", deficit)])
    }

    /// Sets `solved` to the event's solution when it computes one (the caller reuses it).
    private mutating func apparentVelocityTeleseism(_ i: Int, solved: inout Solution?) -> (text: String, values: [Decision.Value])? {
        let e = events[i]
        let c = configuration
        guard e.stations.count >= 2, let baz = e.stations[0].backAzimuth,
              case let a = e.stations[0].location, case let b = e.stations[1].location
        else { return nil }
        let d = Geodesy.distanceKilometers(from: a, to: b)
        let theta = Geodesy.bearingDegrees(from: a, to: b)
        let projected = d * abs(cos((theta - baz.backAzimuthDegrees) * .pi / 180))
        guard projected >= c.minimumProjectedBaselineKilometers else { return nil }
        let dt = abs(e.stations[1].pick.time.seconds(since: e.stations[0].pick.time))
        let vApp = dt > 0 ? projected / dt : .infinity
        guard vApp >= c.teleseismApparentVelocityKilometersPerSecond else { return nil }
        let sol = solve(i)
        solved = sol
        guard let loc = sol.location, loc.dataCount > 0 else { return nil }
        let perDatum = loc.misfit / Double(loc.dataCount)
        guard perDatum >= c.teleseismMisfitPerDatum else { return nil }
        return ("teleseism (apparent velocity): \(vApp) km/s across the \(projected) km baseline projected on the back-azimuth, and no local source fits",
                [.init("apparentVelocityKmPerSecond", min(vApp, 1e9)), .init("projectedBaselineKm", projected),
                 .init("dtSeconds", dt), .init("misfitPerDatum", perDatum)])
    }

    private mutating func log(_ t: Timestamp, _ kind: Decision.Kind, _ id: String?, _ station: String?, _ reason: String,
                              _ values: [Decision.Value] = []) {
        decisions.append(Decision(time: t, kind: kind, eventID: id, station: station, reason: reason, values: values))
    }
}
