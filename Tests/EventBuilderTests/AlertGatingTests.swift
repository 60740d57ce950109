// The first-Alert gates (no epicentre at the station, a back-azimuth, σh) and the single-station
// distance combination (B–Δ ⊕ τc/Pd).
import Foundation
import Magnitude
import SeismicCore
import Testing
@testable import EventBuilder

@Suite("Alert gating and single-station distance")
struct AlertGatingTests {
    @Test("one station without back-azimuth: held ('station itself'); the next snapshot with one alerts an onsite epicentre")
    func noAlertAtTheStation() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5, withBackAzimuth: false))
        #expect(out.isEmpty)
        #expect(b.decisions.contains { $0.kind == .alertHeld && $0.reason.contains("station itself") })
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 1.0))
        let alert = try #require(out.first)
        #expect(alert.messageType == .alert && alert.locationKind == .onsite)
        #expect(Geodesy.distanceKilometers(from: alert.epicenter, to: Lezhi.nanta) > 10)
        // Switched off: the old behaviour (Alert with the station as epicentre) is available.
        var config = EventBuilder.Configuration(stations: Lezhi.stations)
        config.requireOnsiteLocationForAlert = false
        var legacy = EventBuilder(config)
        var o2 = legacy.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        o2 += legacy.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5, withBackAzimuth: false, withDistance: false))
        #expect(o2.first?.locationKind == .stationOnly)
    }

    @Test("two stations, times only: no Alert until a back-azimuth arrives (the hyperbola is not a location)")
    func twoStationsNeedABackAzimuth() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var out = b.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        out += b.ingest(Scenario.pick("QW.GAOSI", sc.pickG))
        out += b.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5, withBackAzimuth: false))
        #expect(out.isEmpty)
        #expect(b.decisions.contains { $0.kind == .alertHeld && $0.reason.contains("back-azimuth") })
        out += b.ingest(sc.snapshot("QW.GAOSI", pick: sc.pickG, window: 0.5))
        let alert = try #require(out.first)
        #expect(alert.messageType == .alert && alert.locationKind == .twoStation)
    }

    @Test("σh above the limit holds the Alert; a looser limit lets it through")
    func sigmaGate() throws {
        let sc = Scenario()
        var config = EventBuilder.Configuration(stations: Lezhi.stations)
        config.maximumAlertHorizontalSigmaKilometers = 1  // the onsite σ here is ≈ 14 km (σ_log 0.2 at 30 km)
        var tight = EventBuilder(config)
        var out = tight.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        out += tight.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5))
        #expect(out.isEmpty)
        #expect(tight.decisions.contains { $0.kind == .alertHeld && $0.reason.contains("too uncertain") })
        var loose = makeBuilder()
        var o2 = loose.ingest(Scenario.pick("QW.NANTA", sc.pickN))
        o2 += loose.ingest(sc.snapshot("QW.NANTA", pick: sc.pickN, window: 0.5))
        #expect(o2.first?.messageType == .alert)
    }

    @Test("single-station distance: B–Δ and τc/Pd combined by inverse variance in log10 Δ (hand computation)")
    func distanceCombination() throws {
        let sc = Scenario()
        let b = makeBuilder()
        let p = Scenario.parameters(window: 1.5)
        let given = EpicentralDistanceEstimate(kilometers: 60, log10Sigma: 0.3, method: .envelopeBDelta)
        let snapshot = StationSnapshot(station: "QW.NANTA", pickTime: sc.pickN, time: sc.pickN, parameters: p, distance: given)
        var state = EventBuilder.StationState(pick: StationPick(station: "QW.NANTA",
                                                                streamID: StreamID(network: "QW", station: "NANTA", location: "",
                                                                                   channel: "HNZ"),
                                                                time: sc.pickN, snr: 30, grade: "A", repairedGlitchCount: 0))
        b.note(snapshot, in: &state)
        let d = try #require(b.stationDistance(state))
        // τc/Pd by hand: M(τc 0.403 s) and its σ from TauCMagnitude; R from Wu & Zhao with Pd 5.7e-3 cm.
        let mTc = try #require(TauCMagnitude.estimate(tauCSeconds: 0.403))
        let r = pow(10, (-3.463 + 0.729 * mTc.magnitude - log10(5.7e-3)) / 1.374)
        let epi = (r * r - 100).squareRoot()
        let s2 = ((0.729 * mTc.sigma) * (0.729 * mTc.sigma) + 0.305 * 0.305).squareRoot() / 1.374
        let w1 = 1 / (0.3 * 0.3), w2 = 1 / (s2 * s2)
        let expected = pow(10, (w1 * log10(60) + w2 * log10(epi)) / (w1 + w2))
        #expect(abs(d.kilometers - expected) < 1e-9 * expected)
        #expect(abs(d.log10Sigma - (1 / (w1 + w2)).squareRoot()) < 1e-12)
        #expect(d.method == .combined)
        // A 0.5 s window gives no τc/Pd distance: only B–Δ remains, unless a single-station event
        // keeps the last τc/Pd distance (the 1.5 s window's, kept by note(_:in:)).
        b.note(StationSnapshot(station: "QW.NANTA", pickTime: sc.pickN, time: sc.pickN,
                               parameters: Scenario.parameters(window: 0.5), distance: given), in: &state)
        #expect(b.tauCPdDistance(try #require(state.latest)) == nil)
        #expect(b.stationDistance(state) == given)
        #expect(state.lastTauCPd != nil && state.lastTauCPd == b.tauCPdDistance(snapshot))
        #expect(b.stationDistance(state) == given)
        #expect(b.stationDistance(state, keepingLast: true) == d)
        // Clamped to the local range.
        state.distance = EpicentralDistanceEstimate(kilometers: 5000, log10Sigma: 0.3, method: .envelopeBDelta)
        #expect(b.stationDistance(state)?.kilometers == 300)
    }
}
