import Foundation
import Magnitude
import SeismicCore
import Testing
@testable import EventBuilder

/// A scenario on the placeholder Lezhi stations: exact P arrivals (straight rays, Vp 6 km/s,
/// depth 10 km) from a known epicentre, and station-parameter snapshots of a M ≈ 4.5 event
/// (τc 0.403 s → 4.218·log10 0.403 + 6.166 = 4.50; Pd 5.7e-5 m ≈ Wu & Zhao's M 4.5 at 31.6 km).
struct Scenario {
    static let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
    var epicenter: GeoPoint
    var pickN: Timestamp
    var pickG: Timestamp

    init(bearingFromNanta: Double = 250, distanceKilometers: Double = 30) {
        let epi = Geodesy.destination(from: Lezhi.nanta, bearingDegrees: bearingFromNanta,
                                      distanceKilometers: distanceKilometers)
        func arrival(_ s: GeoPoint) -> Timestamp {
            let d = Geodesy.distanceKilometers(from: s, to: epi)
            return Scenario.origin.adding(nanoseconds: Int64(((d * d + 100).squareRoot() / 6 * 1e9).rounded()))
        }
        epicenter = epi
        pickN = arrival(Lezhi.nanta)
        pickG = arrival(Lezhi.gaosi)
    }

    static func pick(_ station: String, _ t: Timestamp, glitches: Int = 0) -> EventBuilderInput {
        let sta = station.split(separator: ".").last.map(String.init) ?? station
        return .pick(StationPick(station: station, streamID: StreamID(network: "QW", station: sta, location: "", channel: "HNZ"),
                                 time: t, snr: 30, grade: "A", repairedGlitchCount: glitches))
    }

    static func parameters(window: Double, pd: Double = 5.7e-5, tauC: Double? = 0.403, noise: Double = 1e-7) -> StationParameters {
        StationParameters(pickSample: 6000, pickTime: nil, windowSampleCount: Int(window * 100), secondsAfterPick: window,
                          isFinal: window >= 3, windowEndedBySWave: false, hypocentralDistanceKilometers: nil,
                          preEventSeconds: 60, preEventPeakDisplacementMeters: noise, peakDisplacementMeters: pd,
                          peakVelocityMetersPerSecond: pd * 10, peakAccelerationMetersPerSecondSquared: pd * 100,
                          tauCSeconds: tauC, tauPMaxSeconds: nil, peakGroundAccelerationMetersPerSecondSquared: pd * 100,
                          peakGroundVelocityMetersPerSecond: pd * 10)
    }

    static func backAzimuth(_ degrees: Double, at t: Timestamp) -> BackAzimuthEstimate {
        BackAzimuthEstimate(backAzimuthDegrees: Geodesy.normalizedBearing(degrees), sigmaDegrees: 5, statisticalSigmaDegrees: 3,
                            rectilinearity: 0.9, apparentIncidenceDegrees: 30, eigenvalues: [1, 0.05, 0.05],
                            effectiveSampleCount: 18, windowStart: t, windowSeconds: 1)
    }

    func snapshot(_ station: String, pick: Timestamp, window: Double, parameters: StationParameters? = nil,
                  withBackAzimuth: Bool = true, withDistance: Bool = true) -> EventBuilderInput {
        let loc = station == "QW.NANTA" ? Lezhi.nanta : Lezhi.gaosi
        let baz = Geodesy.bearingDegrees(from: loc, to: epicenter)
        let dist = Geodesy.distanceKilometers(from: loc, to: epicenter)
        return .snapshot(StationSnapshot(
            station: station, pickTime: pick, time: pick.adding(nanoseconds: Int64(window * 1e9)),
            parameters: parameters ?? Self.parameters(window: window),
            backAzimuth: withBackAzimuth ? Self.backAzimuth(baz, at: pick) : nil,
            distance: withDistance ? EpicentralDistanceEstimate(kilometers: dist, log10Sigma: 0.2, method: .given) : nil))
    }

    /// Alert at N's first window, N update, G confirms, G's window.
    var fullSequence: [EventBuilderInput] {
        [Self.pick("QW.NANTA", pickN),
         snapshot("QW.NANTA", pick: pickN, window: 0.5),
         snapshot("QW.NANTA", pick: pickN, window: 1.0),
         Self.pick("QW.GAOSI", pickG),
         snapshot("QW.GAOSI", pick: pickG, window: 0.5, withDistance: false)]
    }
}

func makeBuilder() -> EventBuilder { EventBuilder(.init(stations: Lezhi.stations)) }

@Suite("Event lifecycle")
struct LifecycleTests {
    @Test("event id format: qw-YYYYMMDDThhmmss.sss-STA (ms truncated)")
    func eventID() throws {
        let t = try #require(Timestamp(iso8601: "2026-03-01T02:03:04.567891Z"))
        #expect(EventBuilder.eventID(firstPickTime: t, station: "QW.NANTA") == "qw-20260301T020304.567-NANTA")
    }

    @Test("alert → update → second station confirms → update; location converges on the epicentre")
    func alertUpdateConfirm() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var all: [EventUpdate] = []
        for input in sc.fullSequence { all += b.ingest(input) }
        for d in b.decisions { print("decision: \(d)") }
        #expect(all.map(\.messageType) == [.alert, .update, .update, .update])
        #expect(all.map(\.updateNumber) == [0, 1, 2, 3])
        #expect(Set(all.map(\.id)) == [EventBuilder.eventID(firstPickTime: sc.pickN, station: "QW.NANTA")])
        #expect(all[0].locationKind == .onsite && all[0].stationCount == 1)
        #expect(all[2].locationKind == .twoStation && all[2].stations == ["QW.NANTA", "QW.GAOSI"])
        #expect(b.decisions.contains { $0.kind == .confirmed })
        // Onsite from exact back-azimuth and distance: the destination point itself.
        #expect(Geodesy.distanceKilometers(from: all[0].epicenter, to: sc.epicenter) < 1e-6)
        let last = try #require(all.last)
        let err = Geodesy.distanceKilometers(from: last.epicenter, to: sc.epicenter)
        #expect(err < 1, "two-station error \(err) km")
        #expect(abs(last.originTime.seconds(since: Scenario.origin)) < 0.1)
        let m = try #require(last.magnitude)
        #expect(abs(m.magnitude - 4.5) < 0.3, "M \(m.magnitude)")
        #expect(m.sigma > 0 && m.sigma < 0.4)
        // Closes after its lifetime; no further messages.
        #expect(b.advance(to: sc.pickN.adding(nanoseconds: 130_000_000_000)).isEmpty)
        #expect(b.state(ofEvent: last.id) == .closed)
    }

    @Test("onsite without a B–Δ distance: τc/Pd inversion (windows ≥ 1 s) places the epicentre along the back-azimuth")
    func onsiteTauCPdFallback() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        // 0.5 s: τc of so short a window is not used for distance → epicentre would be the station → held.
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5, withDistance: false))
        #expect(out.isEmpty)
        #expect(b.decisions.contains { $0.kind == .alertHeld && $0.reason.contains("station itself") })
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 1.0, withDistance: false))
        let alert = try #require(out.first)
        #expect(alert.locationKind == .onsite)
        // Expected distance by hand: M(τc) = 4.218·log10 0.403 + 6.166; R from Wu & Zhao with Pd = 5.7e-3 cm.
        let m = 4.218 * log10(0.403) + 6.166
        let r = pow(10, (-3.463 + 0.729 * m - log10(5.7e-3)) / 1.374)
        let epi = (r * r - 100).squareRoot()
        #expect(abs(lawOfCosinesKilometers(Lezhi.nanta, alert.epicenter) - epi) < 1e-6)
        #expect(abs(Geodesy.angleDifference(Geodesy.bearingDegrees(from: Lezhi.nanta, to: alert.epicenter),
                                            Geodesy.bearingDegrees(from: Lezhi.nanta, to: sc.epicenter))) < 1e-6)
        #expect(abs(epi - 30) < 5, "τc/Pd distance \(epi) km for a 30 km scenario")
        // A later window whose τc reaches the window (only a lower bound of the period: no τc/Pd
        // distance from it) keeps the last τc/Pd distance: the Update stays at the same onsite
        // epicentre instead of falling back to the station itself (seen on one-station M7.5 replays).
        let limited = Scenario.parameters(window: 1.5, pd: 2e-4, tauC: 1.5)
        let update = try #require(b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 1.5, parameters: limited,
                                                       withDistance: false)).first)
        #expect(update.messageType == .update && update.locationKind == .onsite)
        #expect(abs(lawOfCosinesKilometers(Lezhi.nanta, update.epicenter) - epi) < 1e-6)
    }

    @Test("association window |Δt| ≤ d / 5 km/s + 0.5 s: inside joins, outside starts a new event")
    func associationWindow() throws {
        let sc = Scenario()
        let d = Geodesy.distanceKilometers(from: Lezhi.nanta, to: Lezhi.gaosi)
        let window = d / 5 + 0.5
        var inside = makeBuilder()
        _ = inside.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        _ = inside.ingest(Scenario.pick("QW.GAOSI", sc.pickN.adding(nanoseconds: Int64((window - 0.1) * 1e9))))
        #expect(inside.eventIDs.count == 1)
        #expect(inside.decisions.contains { $0.kind == .pickAssociated })

        var outside = makeBuilder()
        _ = outside.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        _ = outside.ingest(Scenario.pick("QW.GAOSI", sc.pickN.adding(nanoseconds: Int64((window + 0.1) * 1e9))))
        #expect(outside.eventIDs.count == 2)
        let rejected = try #require(outside.decisions.first { $0.kind == .pickNotAssociated })
        #expect(rejected.station == "QW.GAOSI")
        #expect(rejected.values.contains { $0.name == "windowSeconds" && abs($0.value - window) < 1e-9 })
        #expect(rejected.values.contains { $0.name == "dtSeconds" && abs($0.value - (window + 0.1)) < 1e-6 })
    }

    @Test("lone pick followed by a glitch rejection on the same station → Cancel with the glitch reason")
    func glitchCancel() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5))
        out += b.ingest(.rejection(StationRejection(station: "QW.NANTA", time: sc.pickN.adding(nanoseconds: 2_000_000_000),
                                                     isGlitch: true, reason: "glitch: spike")))
        #expect(out.map(\.messageType) == [.alert, .cancel])
        #expect(out.last?.updateNumber == 1)
        #expect(out.last?.reason.contains("glitch") == true)
        #expect(b.decisions.contains { $0.kind == .cancel && $0.reason.contains("glitch") })
    }

    @Test("pick with repaired glitches: alert held, then discarded at the confirmation timeout (no message)")
    func glitchPickDiscarded() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN, glitches: 1))
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5))
        out += b.advance(to: sc.pickN.adding(nanoseconds: 9_000_000_000))
        #expect(out.isEmpty)
        #expect(b.decisions.contains { $0.kind == .alertHeld && $0.reason.contains("glitch") })
        let id = try #require(b.eventIDs.first)
        #expect(b.state(ofEvent: id) == .discarded)
        #expect(b.decisions.contains { $0.kind == .discarded && $0.reason.contains("glitch") })
    }

    @Test("single station, clean, good SNR: kept as an onsite event at the timeout; low SNR: discarded")
    func unconfirmed() throws {
        let sc = Scenario()
        var good = makeBuilder()
        _ = good.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        _ = good.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5))
        #expect(good.advance(to: sc.pickN.adding(nanoseconds: 9_000_000_000)).isEmpty)
        #expect(good.decisions.contains { $0.kind == .keptUnconfirmed })
        #expect(good.state(ofEvent: good.eventIDs[0]) == .alerted)

        var noisy = makeBuilder()
        _ = noisy.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        let p = Scenario.parameters(window: 0.5, noise: 5.7e-5 / 2)  // displacement SNR 2 < 3
        #expect(noisy.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5, parameters: p)).isEmpty)
        _ = noisy.advance(to: sc.pickN.adding(nanoseconds: 9_000_000_000))
        #expect(noisy.state(ofEvent: noisy.eventIDs[0]) == .discarded)
        #expect(noisy.decisions.contains { $0.kind == .discarded && $0.reason.contains("SNR") })
    }

    @Test("teleseism by τc/Pd: τc 1.2 s (M 6.5) with Pd 2e-7 m → Cancel at the 2 s window")
    func teleseismTauC() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        for w in [0.5, 1.0, 1.5, 2.0] {
            let p = Scenario.parameters(window: w, pd: 2e-7, tauC: 1.2, noise: 1e-8)
            out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: w, parameters: p, withBackAzimuth: false,
                                        withDistance: false))
        }
        // No back-azimuth: the epicentre would be the station, so nothing was alerted; the teleseism
        // rule discards the event silently.
        #expect(out.isEmpty)
        #expect(b.state(ofEvent: b.eventIDs[0]) == .discarded)
        let d = try #require(b.decisions.first { $0.kind == .teleseism })
        // Wu & Zhao at 300 km for M(τc = 1.2 s) vs log10(2e-5 cm): hand computation.
        let m = 4.218 * log10(1.2) + 6.166
        let expected = (-3.463 + 0.729 * m - 1.374 * log10(300.0)) - log10(2e-5)
        #expect(d.values.contains { $0.name == "pdDeficitLog10" && abs($0.value - expected) < 1e-9 })
        #expect(b.decisions.contains { $0.kind == .discarded && $0.reason.contains("teleseism") })
    }

    @Test("teleseism by apparent velocity: 20 km/s along the baseline from back-azimuth 325° → Cancel")
    func teleseismSlowness() throws {
        let sc = Scenario(bearingFromNanta: 325, distanceKilometers: 40)
        let d = Geodesy.distanceKilometers(from: Lezhi.nanta, to: Lezhi.gaosi)
        let theta = Geodesy.bearingDegrees(from: Lezhi.nanta, to: Lezhi.gaosi)
        let projected = d * abs(cos((theta - 325) * .pi / 180))
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        let snap = StationSnapshot(station: "QW.NANTA", pickTime: sc.pickN, time: sc.pickN.adding(nanoseconds: 500_000_000),
                                   parameters: Scenario.parameters(window: 0.5),
                                   backAzimuth: Scenario.backAzimuth(325, at: sc.pickN),
                                   distance: EpicentralDistanceEstimate(kilometers: 40, log10Sigma: 0.2, method: .given))
        out += b.ingest(.snapshot(snap))
        out += b.ingest(Scenario.pick("QW.GAOSI", sc.pickN.adding(nanoseconds: Int64(projected / 20 * 1e9))))
        #expect(out.map(\.messageType) == [.alert, .cancel])
        let t = try #require(b.decisions.first { $0.kind == .teleseism })
        #expect(t.values.contains { $0.name == "apparentVelocityKmPerSecond" && abs($0.value - 20) < 0.01 })
    }

    @Test("apparent-velocity rule also fires when the back-azimuth arrives after the second pick")
    func teleseismSlownessLateBackAzimuth() throws {
        let sc = Scenario(bearingFromNanta: 325, distanceKilometers: 40)
        let d = Geodesy.distanceKilometers(from: Lezhi.nanta, to: Lezhi.gaosi)
        let theta = Geodesy.bearingDegrees(from: Lezhi.nanta, to: Lezhi.gaosi)
        let projected = d * abs(cos((theta - 325) * .pi / 180))
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        out += b.ingest(Scenario.pick("QW.GAOSI", sc.pickN.adding(nanoseconds: Int64(projected / 20 * 1e9))))
        #expect(!b.decisions.contains { $0.kind == .teleseism })  // no back-azimuth yet
        let snap = StationSnapshot(station: "QW.NANTA", pickTime: sc.pickN, time: sc.pickN.adding(nanoseconds: 500_000_000),
                                   parameters: Scenario.parameters(window: 0.5),
                                   backAzimuth: Scenario.backAzimuth(325, at: sc.pickN))
        out += b.ingest(.snapshot(snap))
        #expect(out.isEmpty)  // cancelled before any alert: discarded, no message
        #expect(b.decisions.contains { $0.kind == .teleseism })
        #expect(b.state(ofEvent: b.eventIDs[0]) == .discarded)
    }

    @Test("a local event along the baseline (325°, 40 km) is not taken for a teleseism")
    func localAlongBaseline() throws {
        let sc = Scenario(bearingFromNanta: 325, distanceKilometers: 40)
        var b = makeBuilder()
        var out: [EventUpdate] = []
        for input in sc.fullSequence { out += b.ingest(input) }
        #expect(!b.decisions.contains { $0.kind == .teleseism })
        #expect(out.map(\.messageType) == [.alert, .update, .update, .update])
        let last = try #require(out.last)
        // The given 40 km distances are combined with the τc/Pd distances of these snapshots (≈ 30 km,
        // made for the 30 km scenario), which pulls the epicentre by a few km.
        #expect(Geodesy.distanceKilometers(from: last.epicenter, to: sc.epicenter) < 5)
    }

    @Test("determinism: same inputs → identical updates and decision logs, with or without extra advance() calls")
    func determinism() {
        let sc = Scenario()
        var inputs = sc.fullSequence
        inputs.append(.rejection(StationRejection(station: "QW.GAOSI", time: sc.pickG.adding(nanoseconds: 3_000_000_000),
                                                  isGlitch: true, reason: "glitch: step")))
        func run(extraAdvances: Bool) -> ([EventUpdate], [Decision]) {
            var b = makeBuilder()
            var out: [EventUpdate] = []
            for input in inputs {
                if extraAdvances { out += b.advance(to: input.time.adding(nanoseconds: -1_000_000)) }
                out += b.ingest(input)
            }
            out += b.advance(to: sc.pickN.adding(nanoseconds: 200_000_000_000))
            return (out, b.decisions)
        }
        let a = run(extraAdvances: false)
        let b = run(extraAdvances: false)
        let c = run(extraAdvances: true)
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(a.0 == c.0)
        #expect(a.0.count == 4)
        #expect(a.1.contains { $0.kind == .glitchEvidence })  // glitch on a confirmed event: logged, kept
    }

    @Test("JSON encoding of messages and decisions (ISO-8601 times, ordered values)")
    func encoding() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out: [EventUpdate] = []
        for input in sc.fullSequence { out += b.ingest(input) }
        let enc = JSONEncoder()
        let msg = try #require(try JSONSerialization.jsonObject(with: enc.encode(out[0])) as? [String: Any])
        #expect(msg["msgType"] as? String == "Alert")
        #expect(msg["id"] as? String == out[0].id)
        #expect(msg["originTime"] as? String == out[0].originTime.iso8601)
        #expect(msg["stations"] as? [String] == ["QW.NANTA"])
        let alert = try #require(b.decisions.first { $0.kind == .alert })
        let dec = try #require(try JSONSerialization.jsonObject(with: enc.encode(alert)) as? [String: Any])
        #expect(dec["kind"] as? String == "alert")
        let values = try #require(dec["values"] as? [[String: Any]])
        #expect(values.map { $0["name"] as? String } == alert.values.map(\.name))
    }

    @Test("inputs from unknown stations and unmatched snapshots are ignored with a logged reason")
    func ignored() {
        let sc = Scenario()
        var b = makeBuilder()
        #expect(b.ingest(Scenario.pick("XX.NOPE", sc.pickN)).isEmpty)
        #expect(b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5)).isEmpty)
        #expect(b.decisions.filter { $0.kind == .inputIgnored }.count == 2)
        #expect(b.eventIDs.isEmpty)
    }
}
