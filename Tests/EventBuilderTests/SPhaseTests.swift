import Foundation
import SeismicCore
import Testing
@testable import EventBuilder

/// A 3-component record (100 Hz, counts-like units) of Gaussian noise whose standard deviation per
/// component changes at given times: `(start s, σ north, σ east, σ vertical)`, the last segment
/// lasting to the end. Seeded.
struct PiecewiseNoise {
    static let start = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
    var north: [Double] = [], east: [Double] = [], vertical: [Double] = []

    init(seconds: Double, segments: [(Double, Double, Double, Double)], seed: UInt64) {
        var g = SplitMix64(seed: seed)
        for i in 0..<Int(seconds * 100) {
            let t = Double(i) / 100
            let s = segments.last { $0.0 <= t } ?? (0, 1, 1, 1)
            north.append(s.1 * g.nextStandardNormal())
            east.append(s.2 * g.nextStandardNormal())
            vertical.append(s.3 * g.nextStandardNormal())
        }
    }

    /// The three components cut into blocks of `chunk` samples (nil: whole), interleaved N, E, Z.
    func blocks(chunk: Int?) -> [SampleBlock] {
        var out: [SampleBlock] = []
        let n = north.count
        let step = chunk ?? n
        var i = 0
        while i < n {
            let j = min(i + step, n)
            for (cha, x) in [("HNN", north), ("HNE", east), ("HNZ", vertical)] {
                out.append(SampleBlock(streamID: StreamID(network: "QW", station: "NANTA", location: "", channel: cha),
                                       startTime: Self.start.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: i, samplingRateHz: 100)),
                                       samplingRateHz: 100, unit: .counts, samples: Array(x[i..<j])))
            }
            i = j
        }
        return out
    }

    static func at(_ seconds: Double) -> Timestamp { start.adding(nanoseconds: Int64((seconds * 1e9).rounded())) }

    /// Runs an analyser with a pick at `pick` s over the blocks; returns every output.
    func analyse(pick: Double, chunk: Int?) -> [OnsiteStationAnalyzer.Output] {
        var a = OnsiteStationAnalyzer(samplingRateHz: 100)
        var out = a.addPick(Self.at(pick))
        for b in blocks(chunk: chunk) { out += a.process(b) }
        return out
    }

    static func sOnsets(_ outputs: [OnsiteStationAnalyzer.Output]) -> [(time: Timestamp, ratio: Double, hv: Double, at: Timestamp)] {
        outputs.compactMap {
            if case let .sArrival(_, t, r, hv, at) = $0 { return (t, r, hv, at) }
            return nil
        }
    }
}

@Suite("S onset and S−P distance")
struct SPhaseTests {
    /// P at 5 s (vertical-dominated, as a steep P), S at 15 s (horizontal-dominated).
    static let pAndS = PiecewiseNoise(seconds: 40, segments: [(0, 1, 1, 1), (5, 10, 10, 20), (15, 60, 60, 15)], seed: 7)

    @Test("a horizontal-dominated arrival 10 s after P: one S onset within 0.05 s, known 1–1.5 s later")
    func findsS() throws {
        let s = PiecewiseNoise.sOnsets(Self.pAndS.analyse(pick: 5, chunk: 25))
        #expect(s.count == 1)
        let onset = try #require(s.first)
        #expect(abs(onset.time.seconds(since: PiecewiseNoise.at(15))) <= 0.05, "S at \(onset.time)")
        let latency = onset.at.seconds(since: onset.time)
        #expect(latency >= 1 && latency <= 1.5 + 0.01, "known \(latency) s after the onset")
        // Horizontal σ 10 → 60: variance ratio ≈ 36; H/V variance ratio 200/400 → 7200/225: change ≈ 64.
        #expect(onset.ratio > 20 && onset.ratio < 60, "ratio \(onset.ratio)")
        #expect(onset.hv > 40 && onset.hv < 100, "H/V change \(onset.hv)")
    }

    @Test("the same outputs for 1-sample, 37-sample and whole-record blocks")
    func chunkingInvariance() {
        let one = Self.pAndS.analyse(pick: 5, chunk: 1)
        #expect(PiecewiseNoise.sOnsets(one).count == 1)
        #expect(one == Self.pAndS.analyse(pick: 5, chunk: 37))
        #expect(one == Self.pAndS.analyse(pick: 5, chunk: nil))
    }

    @Test("a P coda growing fivefold on all components (no polarisation change) is not taken for S")
    func growingPCodaIsNoS() {
        let coda = PiecewiseNoise(seconds: 40, segments: [(0, 1, 1, 1), (5, 10, 10, 20), (9, 50, 50, 100)], seed: 8)
        #expect(PiecewiseNoise.sOnsets(coda.analyse(pick: 5, chunk: 25)).isEmpty)
    }

    @Test("an S 1 s after P (closer than minimumSMinusPSeconds) and an S after the search window are not reported")
    func outsideTheWindow() {
        let early = PiecewiseNoise(seconds: 40, segments: [(0, 1, 1, 1), (5, 10, 10, 20), (6, 60, 60, 15)], seed: 9)
        #expect(PiecewiseNoise.sOnsets(early.analyse(pick: 5, chunk: 25)).isEmpty)
        let late = PiecewiseNoise(seconds: 60, segments: [(0, 1, 1, 1), (5, 10, 10, 20), (40, 60, 60, 15)], seed: 10)
        #expect(PiecewiseNoise.sOnsets(late.analyse(pick: 5, chunk: 25)).isEmpty)
    }

    @Test("S−P distance: R = (tS − tP)/(1/Vs − 1/Vp), Δ = √(R² − h²), σ from the pick and velocity errors")
    func distance() throws {
        let d = try #require(SMinusPDistance.estimate(sMinusPSeconds: 8.4, pVelocityKilometersPerSecond: 6,
                                                      sVelocityKilometersPerSecond: 3.5, depthKilometers: 10))
        // By hand: 1/3.5 − 1/6 = 2.5/21, R = 8.4 · 21 / 2.5 = 70.56 km, Δ = √(70.56² − 10²).
        #expect(abs(d.kilometers - (70.56 * 70.56 - 100).squareRoot()) < 1e-9)
        // σ(log10 R) = √((√(0.1² + 0.5²)/8.4)² + 0.05²) / ln 10 = √(0.26/70.56 + 0.0025) / ln 10.
        #expect(abs(d.log10Sigma - (0.26 / 70.56 + 0.0025).squareRoot() / log(10)) < 1e-12)
        #expect(d.method == .sMinusP)
        #expect(SMinusPDistance.estimate(sMinusPSeconds: 0, pVelocityKilometersPerSecond: 6,
                                         sVelocityKilometersPerSecond: 3.5, depthKilometers: 10) == nil)
        #expect(SMinusPDistance.estimate(sMinusPSeconds: 5, pVelocityKilometersPerSecond: 3,
                                         sVelocityKilometersPerSecond: 3.5, depthKilometers: 10) == nil)
        #expect(SMinusPDistance.estimate(sMinusPSeconds: .nan, pVelocityKilometersPerSecond: 6,
                                         sVelocityKilometersPerSecond: 3.5, depthKilometers: 10) == nil)
    }

    static func sPhase(_ station: String, pick: Timestamp, sMinusP: Double) -> EventBuilderInput {
        let s = pick.adding(nanoseconds: Int64((sMinusP * 1e9).rounded()))
        return .sPhase(StationSPhase(station: station, pickTime: pick, sTime: s, energyRatio: 30,
                                     horizontalToVerticalChange: 20, time: s.adding(nanoseconds: 1_000_000_000)))
    }

    @Test("event builder: an S onset replaces the station's distance (Update naming S−P); inconsistent or unmatched ones are logged and ignored")
    func eventBuilder() throws {
        let sc = Scenario()
        var b = makeBuilder()
        var all: [EventUpdate] = []
        for input in sc.fullSequence { all += b.ingest(input) }
        let before = all.count
        // The scenario's true S−P at Nanta: R (√(30² + 10²)) · (1/3.5 − 1/6).
        let r = (30.0 * 30 + 100).squareRoot()
        all += b.ingest(Self.sPhase("QW.NANTA", pick: sc.pickN, sMinusP: r * (1 / 3.5 - 1 / 6)))
        #expect(all.count == before + 1)
        let u = try #require(all.last)
        #expect(u.messageType == .update && u.reason.hasPrefix("QW.NANTA S−P "))
        let d = try #require(b.decisions.last { $0.kind == .sPhase })
        let km = try #require(d.values.first { $0.name == "distanceKm" }?.value)
        #expect(abs(km - 30) < 1e-6, "S−P distance \(km) km for 30 km")
        // A second S for the same pick is ignored.
        #expect(b.ingest(Self.sPhase("QW.NANTA", pick: sc.pickN, sMinusP: 5)).isEmpty)
        #expect(b.decisions.last?.kind == .inputIgnored)
        // Gaosi, with a P-based distance (the scenario's, σ 0.2 in log10): an "S" 30 s after P
        // (≈ 250 km) is 0.9 log units off, > 3 combined σ: rejected, no message.
        all += b.ingest(sc.snapshot("QW.GAOSI", pick: sc.pickG, window: 1.0))
        let g = b.ingest(Self.sPhase("QW.GAOSI", pick: sc.pickG, sMinusP: 30))
        #expect(g.isEmpty)
        let rejected = try #require(b.decisions.last)
        #expect(rejected.kind == .sPhaseRejected && rejected.station == "QW.GAOSI")
        #expect((rejected.values.first { $0.name == "sigmas" }?.value ?? 0) > 3)
        // No event for this pick.
        #expect(b.ingest(Self.sPhase("QW.NANTA", pick: sc.pickN.adding(nanoseconds: 50_000_000_000), sMinusP: 8)).isEmpty)
        #expect(b.decisions.last?.kind == .inputIgnored)
    }
}
