import Alerting
import EventBuilder
import Foundation
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

    static func segments(_ set: String) throws -> [SampleBlock] {
        var out: [SampleBlock] = []
        for station in ["SC.GAOSI.00", "SC.NANTA.00"] {
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
    @Test("Longquan M5.5: picks at the simulated P arrivals, one event with an Alert and Updates, warnings for every target")
    func longquanScenario() throws {
        let q = try Scenario.configuration()
        let (o, _) = try Scenario.run(Scenario.segments("longquan-m5.5"), chunkSeconds: 1)
        // Theoretical P arrivals printed by `quakewarn simulate` for this scenario.
        let expectedP = ["SC.NANTA.00.HNZ": "2026-05-12T06:28:06.788618545Z", "SC.GAOSI.00.HNZ": "2026-05-12T06:28:08.431389129Z"]
        let picks = o.picks.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        for (stream, p) in expectedP {
            let pick = try #require(picks.first { $0["stream"] as? String == stream && $0["type"] as? String == "pick" })
            let text = try #require(pick["time"] as? String)
            let t = try #require(Timestamp(iso8601: text))
            let ref = try #require(Timestamp(iso8601: p))
            #expect(abs(t.seconds(since: ref)) < 0.3, "\(stream) pick \(t) vs P \(ref)")
            // Known only after the onset (the picker needs data after it), within a few seconds.
            let knownText = try #require(pick["knownTime"] as? String)
            let known = try #require(Timestamp(iso8601: knownText))
            #expect(known > t && known.seconds(since: t) < 5)
        }
        let ids = Set(o.eventUpdates.map(\.id))
        #expect(ids.count == 1)
        #expect(o.eventUpdates.first?.messageType == .alert)
        #expect(o.eventUpdates.filter { $0.messageType == .alert }.count == 1)
        #expect(o.eventUpdates.contains { $0.messageType == .update })
        #expect(o.eventUpdates.last?.stations.sorted() == ["SC.GAOSI", "SC.NANTA"])

        let first = try #require(o.warningMessages.first)
        #expect(first.msgType == .alert && first.updateNumber == 0)
        #expect(first.status == .exercise)  // scenarios/config.yaml says Exercise
        #expect(o.warningMessages.dropFirst().allSatisfy { $0.msgType == .update })
        #expect(o.warningMessages.map(\.updateNumber) == Array(0..<o.warningMessages.count))
        #expect(first.targets.map(\.name) == q.targets.map(\.name))
        for t in first.targets {
            #expect(t.predictedIntensity.isFinite && t.predictedIntensity > 2)
            #expect(t.countdownSeconds >= 0)
            // countdown = S arrival − creation (data) time, rounded to 0.1 s
            let expected = max(0, t.sWaveArrivalTime.seconds(since: first.createdTime))
            #expect(abs(t.countdownSeconds - expected) <= 0.051)
        }
        #expect(first.targets.contains { $0.countdownSeconds > 1 })
        // The warning is created in data time, after the first pick and before the S wave at Nanta.
        let sNanta = try #require(Timestamp(iso8601: "2026-05-12T06:28:11.758232234Z"))
        #expect(first.createdTime < sNanta)
        #expect(o.cap.count == o.warnings.count)
        #expect(o.cap.first?.xml.contains("<status>Exercise</status>") == true)
    }

    @Test("Longmenshan M6.5 (S−P ≈ 21 s): one event; once two stations locate it, every target gets > 5 s countdown")
    func longmenshanScenario() throws {
        let (o, _) = try Scenario.run(Scenario.segments("longmenshan-m6.5"), chunkSeconds: 1)
        #expect(Set(o.eventUpdates.map(\.id)).count == 1)
        let first = try #require(o.warningMessages.first)
        #expect(first.msgType == .alert)
        let located = try #require(o.warningMessages.first { $0.numberOfStations == 2 })
        #expect(located.targets.allSatisfy { $0.countdownSeconds > 5 })
        // Theoretical S arrival at Nanta (simulate output): the located warning comes well before it.
        let sNanta = try #require(Timestamp(iso8601: "2026-05-12T07:00:50.510882453Z"))
        #expect(sNanta.seconds(since: located.createdTime) > 15)
    }

    @Test("noise only: no pick, no event, no warning")
    func noiseOnly() throws {
        let (o, _) = try Scenario.run(Scenario.segments("noise-only"), chunkSeconds: 1)
        #expect(o.picks.isEmpty)
        #expect(o.events.isEmpty)
        #expect(o.warnings.isEmpty)
    }

    @Test("noise with spikes on the vertical channels: no event, no warning")
    func glitchesGiveNoWarning() throws {
        var segments = try Scenario.segments("noise-only")
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
        let segments = try Scenario.segments("longquan-m5.5")
        let a = try Scenario.run(segments, chunkSeconds: 1).0
        let b = try Scenario.run(segments, chunkSeconds: 1).0
        #expect(Scenario.files(a) == Scenario.files(b))
        #expect(!a.warnings.isEmpty)
    }

    @Test("chunking invariance: 1 s blocks, 0.37 s blocks and whole segments give identical outputs")
    func chunkingInvariance() throws {
        let segments = try Scenario.segments("longquan-m5.5")
        let one = Scenario.files(try Scenario.run(segments, chunkSeconds: 1).0)
        let whole = Scenario.files(try Scenario.run(segments, chunkSeconds: nil).0)
        let odd = Scenario.files(try Scenario.run(segments, chunkSeconds: 0.37).0)
        #expect(one == whole)
        #expect(one == odd)
    }

    @Test("a 2 s gap on one channel: no crash, a notice, the event still found, same outputs for any chunking")
    func gapInvariance() throws {
        var segments: [SampleBlock] = []
        for seg in try Scenario.segments("longquan-m5.5") {
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
        let segments = try Scenario.segments("longquan-m5.5")
        let actual = try Scenario.run(segments, chunkSeconds: nil, configuration: q).0
        let drill = try Scenario.run(segments, chunkSeconds: nil, exercise: true, configuration: q).0
        #expect(actual.warningMessages.first?.status == .actual)
        #expect(drill.warningMessages.first?.status == .exercise)
        #expect(drill.warningMessages.count == actual.warningMessages.count)
    }
}

@Suite("ReplayReport")
struct ReplayReportTests {
    @Test("report: one trace per stream, a red line per pick, the magnitude curve and every target of the first warning")
    func report() throws {
        let segments = try Scenario.segments("longquan-m5.5")
        let (o, _) = try Scenario.run(segments, chunkSeconds: 1)
        let html = ReplayReport.html(title: "longquan <test>", segments: segments, outputs: o)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("longquan &lt;test&gt;"))
        let streams = Set(segments.map(\.streamID))
        let verticals = streams.filter { $0.channel == "HNZ" }
        // A trace per stream plus a characteristic-function row per vertical; pick lines on both.
        #expect(html.components(separatedBy: "<polyline fill=\"none\" stroke=\"#333\"").count - 1
                == streams.count + verticals.count)
        let zPicks = o.picks.filter { $0.contains("HNZ") }.count
        #expect(html.components(separatedBy: "stroke=\"red\"").count - 1 == o.picks.count + zPicks)
        #expect(html.contains("trigger on"))
        // The CF crosses the trigger threshold at the Nanta P wave (simulated P 06:28:06.79) and not
        // in the noise before it (after the LTA warm-up).
        let z = try #require(segments.first { $0.streamID.description == "SC.NANTA.00.HNZ" })
        let cf = ReplayReport.characteristicFunction(z, picker: .init())
        let p = try #require(Timestamp(iso8601: "2026-05-12T06:28:06.788618545Z"))
        let iP = Int((p.seconds(since: z.startTime) * z.samplingRateHz).rounded())
        let on = GlitchRejectingPicker.Configuration().trigger.onThreshold
        #expect((cf.samples[iP..<(iP + 150)].max() ?? 0) > on)
        #expect((cf.samples[1500..<(iP - 200)].max() ?? .infinity) < on)
        #expect(html.contains("Magnitude evolution"))
        let q = try Scenario.configuration()
        for t in q.targets { #expect(html.contains(t.name)) }
        // Decimated: at most 900 min/max pairs per trace, whatever the record length.
        #expect(html.utf8.count < 6 * 2 * 900 * 16 + 50_000)
        // Same input, same document.
        #expect(html == ReplayReport.html(title: "longquan <test>", segments: segments, outputs: o))
    }
}
