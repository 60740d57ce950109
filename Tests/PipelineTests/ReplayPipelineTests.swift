import Alerting
import EventBuilder
import Foundation
import Magnitude
import MiniSEED
import Picking
import Pipeline
import SeismicCore
import Testing

/// The committed scenario sets (SampleWaveforms/scenarios, made by `quakewarn simulate`; the
/// README there records the command lines and the theoretical arrivals used below).
enum Scenario {
    static let directory: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SampleWaveforms/scenarios")

    static func configuration() throws -> QuakeWarnConfiguration {
        try QuakeWarnConfiguration.load(path: directory.appendingPathComponent("config.yaml").path)
    }

    /// The committed records of `set`: both stations, or only those named (e.g. `["SC.NANTA.00"]`:
    /// the other station down).
    static func segments(_ set: String, stations: [String] = ["SC.GAOSI.00", "SC.NANTA.00"]) throws -> [SampleBlock] {
        var out: [SampleBlock] = []
        for station in stations {
            let path = directory.appendingPathComponent("\(set)/\(station).mseed").path
            out += try MiniSEEDReader.read(path: path).segments
        }
        return out
    }

    /// Runs the whole pipeline; `chunkSeconds` nil feeds whole segments.
    static func run(_ segments: [SampleBlock], chunkSeconds: Double?, exercise: Bool = false,
                    configuration: QuakeWarnConfiguration? = nil) throws -> (ReplayOutputs, [PipelineRecord]) {
        let q = try configuration ?? Self.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q, status: exercise ? .exercise : nil,
                                            expectedStreams: Set(segments.map(\.streamID))))
        var outputs = ReplayOutputs()
        var records: [PipelineRecord] = []
        for block in ReplaySchedule.blocks(from: segments, chunkSeconds: chunkSeconds) {
            records += pipeline.process(block)
        }
        records += pipeline.finish()
        for r in records { try outputs.add(r) }
        return (outputs, records)
    }

    static func files(_ o: ReplayOutputs) -> [String] {
        [o.picks.joined(separator: "\n"), o.events.joined(separator: "\n"), o.decisions.joined(separator: "\n"),
         o.warnings.joined(separator: "\n"), o.cap.map { $0.name + "\n" + $0.xml }.joined(separator: "\n"),
         o.notices.joined(separator: "\n"), o.summary]
    }
}

@Suite("ReplayPipeline on the scenario sets")
struct ReplayPipelineTests {
    /// Great-circle distance (independent twin: spherical law of cosines, R = 6371.0088 km).
    static func distanceKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let (p1, p2) = (lat1 * .pi / 180, lat2 * .pi / 180)
        let c = sin(p1) * sin(p2) + cos(p1) * cos(p2) * cos((lon2 - lon1) * .pi / 180)
        return 6371.0088 * acos(min(1, max(-1, c)))
    }

    /// Epicentre errors (km) of the event messages: single-station (`onsite`) and two-station.
    static func errors(_ o: ReplayOutputs, lat: Double, lon: Double) -> (onsite: [Double], twoStation: [Double]) {
        var one: [Double] = [], two: [Double] = []
        for u in o.eventUpdates where u.messageType != .cancel {
            let e = distanceKm(u.epicenter.latitudeDegrees, u.epicenter.longitudeDegrees, lat, lon)
            switch u.locationKind {
            case .onsite: one.append(e)
            case .twoStation: two.append(e)
            case .stationOnly: break
            }
        }
        return (one, two)
    }

    @Test("nearby M4.5 at ≈ 25 km: picks at the simulated P, one event, the Alert is an onsite epicentre ≤ 30 km off, two stations ≤ 15 km, warnings for every target")
    func nearbyScenario() throws {
        let q = try Scenario.configuration()
        let (o, _) = try Scenario.run(Scenario.segments("nearby-m4.5"), chunkSeconds: 1)
        // Theoretical P arrivals printed by `quakewarn simulate` (scripts/dev/make_scenarios.sh).
        let expectedP = ["SC.NANTA.00.HNZ": "2026-05-12T06:00:04.299297537Z", "SC.GAOSI.00.HNZ": "2026-05-12T06:00:05.507151549Z"]
        let picks = o.picks.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        for (stream, p) in expectedP {
            let pick = try #require(picks.first { $0["stream"] as? String == stream && $0["type"] as? String == "pick" })
            let text = try #require(pick["time"] as? String)
            let t = try #require(Timestamp(iso8601: text))
            let ref = try #require(Timestamp(iso8601: p))
            #expect(abs(t.seconds(since: ref)) < 0.3, "\(stream) pick \(t) vs P \(ref)")
            let knownText = try #require(pick["knownTime"] as? String)
            let known = try #require(Timestamp(iso8601: knownText))
            #expect(known > t && known.seconds(since: t) < 5)
        }
        #expect(Set(o.eventUpdates.map(\.id)).count == 1)
        let alert = try #require(o.eventUpdates.first)
        #expect(alert.messageType == .alert)
        // The first Alert is never placed at the station: an onsite (back-azimuth + distance) epicentre.
        #expect(alert.locationKind == .onsite)
        let err = Self.errors(o, lat: 30.10, lon: 105.19)
        #expect(!err.onsite.isEmpty && err.onsite.allSatisfy { $0 <= 30 }, "\(err.onsite)")
        #expect(!err.twoStation.isEmpty && err.twoStation.allSatisfy { $0 <= 15 }, "\(err.twoStation)")
        #expect(o.eventUpdates.last?.stations.sorted() == ["SC.GAOSI", "SC.NANTA"])
        // Magnitude within 0.5 of the scenario Mw (met since τp^max starts at the pick; before, the
        // τp recursion carried pre-event noise and the magnitude read ≈ 0.6 high).
        let last = try #require(o.eventUpdates.last?.magnitude?.magnitude)
        #expect(abs(last - 4.5) <= 0.5, "M \(last)")
        let first = try #require(o.warningMessages.first)
        #expect(first.msgType == .alert && first.updateNumber == 0 && first.status == .exercise)
        #expect(o.warningMessages.dropFirst().allSatisfy { $0.msgType == .update })
        #expect(o.warningMessages.map(\.updateNumber) == Array(0..<o.warningMessages.count))
        #expect(first.targets.map(\.name) == q.targets.map(\.name))
        for t in first.targets {
            #expect(t.predictedIntensity.isFinite && t.predictedIntensity > 2)
            // countdown = S arrival − creation (data) time, ≥ 0, rounded to 0.1 s
            let expected = max(0, t.sWaveArrivalTime.seconds(since: first.createdTime))
            #expect(abs(t.countdownSeconds - expected) <= 0.051)
        }
        #expect(o.cap.count == o.warnings.count)
        #expect(o.cap.first?.xml.contains("<status>Exercise</status>") == true)
    }

    @Test("Longquan M5.8 at ≈ 75 km: S onsets at both stations, settled two-station epicentre ≤ 5 km; onsite ≤ 30 km and M ± 0.5 are known issues")
    func longquanScenario() throws {
        let (o, _) = try Scenario.run(Scenario.segments("longquan-m5.8"), chunkSeconds: 1)
        #expect(Set(o.eventUpdates.map(\.id)).count == 1)
        #expect(o.eventUpdates.first?.messageType == .alert)
        #expect(o.eventUpdates.allSatisfy { $0.locationKind != .stationOnly })
        let err = Self.errors(o, lat: 30.42, lon: 104.30)
        // An S onset at each station, 0–0.6 s after the simulated S (scripts/dev/make_scenarios.sh's
        // arrivals: Nanta 06:30:20.990, Gaosi 06:30:22.765; the synthetic S grows from zero, so the
        // onset is read a little late), each followed by an Update located with the S−P distances.
        let simulatedS = ["SC.NANTA": "2026-05-12T06:30:20.989511180Z", "SC.GAOSI": "2026-05-12T06:30:22.765193252Z"]
        let sLines = o.picks.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "S" }
        #expect(sLines.count == 2)
        for line in sLines {
            let station = try #require(line["station"] as? String)
            let t = try #require((line["time"] as? String).flatMap { Timestamp(iso8601: $0) })
            let truth = try #require(simulatedS[station].flatMap { Timestamp(iso8601: $0) })
            #expect(t.seconds(since: truth) >= 0 && t.seconds(since: truth) <= 0.6, "\(station) S \(t) vs \(truth)")
        }
        #expect(o.eventUpdates.filter { $0.reason.contains("S−P") }.count == 2)
        // The settled location (both S−P distances): a few km (this set 2.2 km; ≤ 4.4 km in all 20
        // realizations of ScenarioEnsembleTests; before the S−P distances 9 of 20 met 15 km).
        let settled = try #require(err.twoStation.last)
        #expect(settled <= 5, "\(err.twoStation)")
        // The onsite Alert (Nanta, 1.5 s window) is placed 35 km from Nanta along a correct
        // back-azimuth (283°); the true distance is 72.5 km. That distance is the τc/Pd inversion
        // alone (the B–Δ distance needs pick + 3 s and reaches no snapshot of this set): τc reads
        // M 5.3 at 1.5 s and this Brune set's Pd is ≈ 2× Wu & Zhao's at M 5.8 (the 3-s Pd inverted
        // with the true M gives R ≈ 38 km). docs/onsite-distance.md has both sources' numbers.
        withKnownIssue("single-station (τc/Pd) distance ≈ 2× short at 75 km: τc magnitude low at 1.5 s and Brune Pd ≈ 2× Wu & Zhao") {
            #expect(err.onsite.allSatisfy { $0 <= 30 }, "\(err.onsite)")
        }
        let last = try #require(o.eventUpdates.last?.magnitude?.magnitude)
        // Was ≈ 7 at 3 s while τp^max carried pre-event noise; now ≈ 6.4 (+0.59 with the S−P
        // distances, +0.57 before: a longer, right distance reads the same Pd as a larger M): the Pd
        // relations read the simulated P high (docs/validation.md, M 5.5–6.5 at 3 s). Cause: the Brune point
        // source of this set; regenerated with the published two-corner source (simulate --source
        // atkinson-silva-2000) this set meets both goals (onsite 11 km, M 5.96), but the nearby M4.5
        // onsite Alert (32 km: τc reads M 5.2 at 1.5 s, so τc/Pd gives 56 km for 24 km) and the
        // nearby two-station Updates before Gaosi's back-azimuth (25.7, 27.6 km) and the Longmenshan
        // Alert (114 km: τc magnitudes 7.1–7.4 invert to R > 300 km, clamped) then fail, so the
        // sets stay Brune (docs/onsite-distance.md).
        withKnownIssue("Brune point source: simulated 3-s Pd ≈ 2× Wu & Zhao's at M 5.8, read ≈ +0.6 through the Pd relations") {
            #expect(abs(last - 5.8) <= 0.5, "M \(last)")
        }
    }

    @Test("Longmenshan M7.5 at ≈ 180 km (S−P ≈ 21 s): one event, never located at the station, first warning to the county seat ≥ 15 s countdown")
    func longmenshanScenario() throws {
        let (o, _) = try Scenario.run(Scenario.segments("longmenshan-m7.5"), chunkSeconds: 1)
        #expect(Set(o.eventUpdates.map(\.id)).count == 1)
        #expect(o.eventUpdates.allSatisfy { $0.locationKind != .stationOnly })
        let first = try #require(o.warningMessages.first)
        #expect(first.msgType == .alert)
        let seat = try #require(first.targets.first { $0.name.hasPrefix("Lezhi county seat") })
        #expect(seat.countdownSeconds >= 15, "countdown \(seat.countdownSeconds) s")
        // The true countdown: the simulated S arrival at Nanta (≈ 1 km from the county seat) minus
        // the warning's (data) creation time. The physical limit is met (≈ 19 s left) ...
        let sNanta = try #require(Timestamp(iso8601: "2026-05-12T07:00:50.995246545Z"))
        let trueCountdown = sNanta.seconds(since: first.createdTime)
        #expect(trueCountdown >= 15)
        // ... and the predicted one is within 5 s of it (22.1 s predicted vs 18.5 s true: the first
        // location, from both back-azimuths and the B–Δ ⊕ τc/Pd distances, is ≈ 35 km off). Over 20
        // realizations the time left is ≥ 15 s in all, the prediction within 5 s in 9
        // (ScenarioEnsembleTests, docs/onsite-distance.md §6).
        #expect(abs(seat.countdownSeconds - trueCountdown) <= 5, "predicted \(seat.countdownSeconds) s, true \(trueCountdown) s")
        // The epicentre of the first warning is within 50 km of the true one (distance from two close
        // stations at 180 km is the weak part; later updates move by tens of km).
        let alert = try #require(o.eventUpdates.first)
        #expect(Self.distanceKm(alert.epicenter.latitudeDegrees, alert.epicenter.longitudeDegrees, 31.00, 103.38) <= 50)
        // The final magnitude is within 0.5 (the 3 s Pd window is near saturation at M7.5).
        let last = try #require(o.eventUpdates.last?.magnitude?.magnitude)
        #expect(abs(last - 7.5) <= 0.5, "M \(last)")
    }

    @Test("noise with injected glitches (first 20 min of noise-glitches): the glitches are seen, no event, no warning")
    func noiseAndGlitches() throws {
        let all = try Scenario.segments("noise-glitches")
        let segments = all.map { s in
            SampleBlock(streamID: s.streamID, startTime: s.startTime, samplingRateHz: s.samplingRateHz, unit: s.unit,
                        samples: Array(s.samples.prefix(120_000)))
        }
        let (o, _) = try Scenario.run(segments, chunkSeconds: 1)
        #expect(o.picks.filter { $0.contains("glitch") }.count >= 3)
        #expect(o.events.isEmpty)
        #expect(o.warnings.isEmpty)
    }

    @Test("noise with spikes on the vertical channels: no event, no warning")
    func glitchesGiveNoWarning() throws {
        var segments = try Scenario.segments("noise-glitches").map { s in
            SampleBlock(streamID: s.streamID, startTime: s.startTime, samplingRateHz: s.samplingRateHz, unit: s.unit,
                        samples: Array(s.samples.prefix(15_000)))
        }
        for i in segments.indices where segments[i].streamID.channel == "HNZ" {
            // Single-sample spikes (telemetry glitches) of 0.5 m/s² every 20 s, from 35 s on.
            var k = 3500
            while k < segments[i].samples.count {
                segments[i].samples[k] += 0.5 * 427_700
                k += 2000
            }
        }
        let (o, _) = try Scenario.run(segments, chunkSeconds: 1)
        // The spikes were seen (and explained as glitches), not missed.
        #expect(o.picks.filter { $0.contains("glitch: spike") }.count >= 3)
        #expect(o.events.isEmpty)
        #expect(o.warnings.isEmpty)
    }

    @Test("two runs give byte-identical outputs")
    func deterministic() throws {
        let segments = try Scenario.segments("nearby-m4.5")
        let a = try Scenario.run(segments, chunkSeconds: 1).0
        let b = try Scenario.run(segments, chunkSeconds: 1).0
        #expect(Scenario.files(a) == Scenario.files(b))
        #expect(!a.warnings.isEmpty)
    }

    @Test("chunking invariance: 1 s blocks, 0.37 s blocks and whole segments give identical outputs")
    func chunkingInvariance() throws {
        let segments = try Scenario.segments("nearby-m4.5")
        let one = Scenario.files(try Scenario.run(segments, chunkSeconds: 1).0)
        let whole = Scenario.files(try Scenario.run(segments, chunkSeconds: nil).0)
        let odd = Scenario.files(try Scenario.run(segments, chunkSeconds: 0.37).0)
        #expect(one == whole)
        #expect(one == odd)
    }

    @Test("a 2 s gap on one channel: no crash, a notice, the event still found, same outputs for any chunking")
    func gapInvariance() throws {
        var segments: [SampleBlock] = []
        for seg in try Scenario.segments("nearby-m4.5") {
            guard seg.streamID.description == "SC.GAOSI.00.HNE" else {
                segments.append(seg)
                continue
            }
            // Drop samples 2000..<2200 (20–22 s into the record, before the P wave).
            segments.append(SampleBlock(streamID: seg.streamID, startTime: seg.startTime, samplingRateHz: seg.samplingRateHz,
                                        unit: seg.unit, samples: Array(seg.samples[..<2000])))
            segments.append(SampleBlock(streamID: seg.streamID, startTime: seg.time(ofSample: 2200),
                                        samplingRateHz: seg.samplingRateHz, unit: seg.unit,
                                        samples: Array(seg.samples[2200...])))
        }
        let (one, _) = try Scenario.run(segments, chunkSeconds: 1)
        let whole = try Scenario.run(segments, chunkSeconds: nil).0
        #expect(Scenario.files(one) == Scenario.files(whole))
        #expect(one.notices.contains { $0.contains("SC.GAOSI.00.HNE") && $0.contains("gap") })
        #expect(Set(one.eventUpdates.map(\.id)).count == 1)
        #expect(one.warningMessages.first?.msgType == .alert)
    }

    @Test("streams not in the configuration are ignored with one notice each")
    func unknownStreams() throws {
        let q = try Scenario.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q))
        let id = try #require(StreamID("XX.OTHER.00.HNZ"))
        let start = try #require(Timestamp(iso8601: "2026-05-12T06:00:00Z"))
        var records: [PipelineRecord] = []
        for k in 0..<3 {
            records += pipeline.process(SampleBlock(streamID: id, startTime: start.adding(nanoseconds: Int64(k) * 1_000_000_000),
                                                    samplingRateHz: 100, samples: [Double](repeating: 0, count: 100)))
        }
        records += pipeline.finish()
        let notices = records.compactMap { r -> String? in if case .notice(_, let m) = r { return m } else { return nil } }
        #expect(notices.count == 1)
        #expect(notices.first?.contains("XX.OTHER.00.HNZ") == true)
    }

    @Test("--exercise status overrides the configuration's Actual")
    func exerciseOverride() throws {
        var q = try Scenario.configuration()
        q.alerting.status = .actual
        let segments = try Scenario.segments("nearby-m4.5")
        let actual = try Scenario.run(segments, chunkSeconds: nil, configuration: q).0
        let drill = try Scenario.run(segments, chunkSeconds: nil, exercise: true, configuration: q).0
        #expect(actual.warningMessages.first?.status == .actual)
        #expect(drill.warningMessages.first?.status == .exercise)
        #expect(drill.warningMessages.count == actual.warningMessages.count)
    }
}

@Suite("ReplayReport")
struct ReplayReportTests {
    @Test("report: one trace per stream, a red line per pick, a blue line per S onset, the magnitude curve and every target of the first warning")
    func report() throws {
        let segments = try Scenario.segments("nearby-m4.5")
        let (o, _) = try Scenario.run(segments, chunkSeconds: 1)
        let html = ReplayReport.html(title: "longquan <test>", segments: segments, outputs: o)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("longquan &lt;test&gt;"))
        let streams = Set(segments.map(\.streamID))
        let verticals = streams.filter { $0.channel == "HNZ" }
        // A trace per stream plus a characteristic-function row per vertical; pick lines on both.
        #expect(html.components(separatedBy: "<polyline fill=\"none\" stroke=\"#333\"").count - 1
                == streams.count + verticals.count)
        let pPicks = o.picks.filter { $0.contains("\"type\":\"pick\"") }
        let zPicks = pPicks.filter { $0.contains("HNZ") }.count
        #expect(html.components(separatedBy: "stroke=\"red\"").count - 1 == pPicks.count + zPicks)
        // An S onset per station (both are found on this set), drawn on its two horizontals.
        let sOnsets = o.picks.filter { $0.contains("\"type\":\"S\"") }
        #expect(sOnsets.count == 2)
        #expect(html.components(separatedBy: "class=\"s-onset\"").count - 1 == 2 * sOnsets.count)
        #expect(html.contains("trigger on"))
        // The CF crosses the trigger threshold at the Nanta P wave (simulated P 06:00:04.30) and not
        // in the noise before it (after the LTA warm-up).
        let z = try #require(segments.first { $0.streamID.description == "SC.NANTA.00.HNZ" })
        let cf = ReplayReport.characteristicFunction(z, picker: .init())
        let p = try #require(Timestamp(iso8601: "2026-05-12T06:00:04.299297537Z"))
        let iP = Int((p.seconds(since: z.startTime) * z.samplingRateHz).rounded())
        let on = GlitchRejectingPicker.Configuration().trigger.onThreshold
        #expect((cf.samples[iP..<(iP + 150)].max() ?? 0) > on)
        #expect((cf.samples[1500..<(iP - 200)].max() ?? .infinity) < on)
        #expect(html.contains("Magnitude evolution"))
        // Targets as a plot: one intensity bar (coloured by level) and one countdown bar per target.
        let firstWarning = try #require(o.warningMessages.first)
        #expect(html.components(separatedBy: "<rect class=\"countdown\"").count - 1
                >= firstWarning.targets.count)
        #expect(html.contains("S-wave countdown"))
        let q = try Scenario.configuration()
        for t in q.targets { #expect(html.contains(t.name)) }
        // Decimated: at most 900 min/max pairs per trace, whatever the record length.
        #expect(html.utf8.count < 6 * 2 * 900 * 16 + 50_000)
        // Same input, same document.
        #expect(html == ReplayReport.html(title: "longquan <test>", segments: segments, outputs: o))
    }
}
