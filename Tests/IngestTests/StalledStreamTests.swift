import Alerting
import Foundation
import MiniSEED
import Pipeline
import SeismicCore
import Testing

/// The committed scenario sets (SampleWaveforms/scenarios, made by `quakewarn simulate`).
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
            out += try MiniSEEDReader.read(path: directory.appendingPathComponent("\(set)/\(station).mseed").path).segments
        }
        return out
    }
}

@Suite("ReplayPipeline: stalled streams stop gating after stallTimeoutSeconds")
struct StalledStreamTests {
    func lines(_ records: [PipelineRecord]) throws -> ReplayOutputs {
        var o = ReplayOutputs()
        for r in records { try o.add(r) }
        return o
    }

    @Test func timeoutWithoutStallChangesNothing() throws {
        let q = try Scenario.configuration()
        let blocks = ReplaySchedule.blocks(from: try Scenario.segments("longquan-m5.8"), chunkSeconds: 1)
        var plain = ReplayPipeline(.init(quakeWarn: q))
        var gated = ReplayPipeline(.init(quakeWarn: q, stallTimeoutSeconds: 10))
        var a: [PipelineRecord] = [], b: [PipelineRecord] = []
        for block in blocks {
            a += plain.process(block)
            b += gated.process(block)
        }
        a += plain.finish()
        b += gated.finish()
        let (oa, ob) = (try lines(a), try lines(b))
        #expect(!oa.warnings.isEmpty)
        #expect(oa.picks == ob.picks && oa.events == ob.events && oa.decisions == ob.decisions && oa.warnings == ob.warnings)
        #expect(oa.notices == ob.notices)
    }

    /// GAOSI stops 20 s into the record: without a timeout nothing is released until finish();
    /// with 10 s, NANTA's pick, event and Alert come out live, with a "stalled" notice; when
    /// GAOSI's remaining data arrive, a "caught up" notice follows.
    @Test func stalledStationStopsHoldingTheOtherBack() throws {
        let q = try Scenario.configuration()
        let segments = try Scenario.segments("longquan-m5.8")
        let blocks = ReplaySchedule.blocks(from: segments, chunkSeconds: 1)
        let start = try #require(blocks.first?.startTime)
        let cut = start.adding(nanoseconds: 20_000_000_000)
        let live = blocks.filter { $0.streamID.station == "NANTA" || $0.startTime < cut }
        let late = blocks.filter { $0.streamID.station != "NANTA" && $0.startTime >= cut }

        var held = ReplayPipeline(.init(quakeWarn: q))
        var heldOut: [PipelineRecord] = []
        for b in live { heldOut += held.process(b) }
        #expect(!heldOut.contains { if case .event = $0 { true } else { false } })

        var pipeline = ReplayPipeline(.init(quakeWarn: q, stallTimeoutSeconds: 10))
        var out: [PipelineRecord] = []
        for b in live { out += pipeline.process(b) }
        let o = try lines(out)
        #expect(o.picks.contains { $0.contains("SC.NANTA.00.HNZ") && $0.contains("\"pick\"") })
        #expect(!o.events.isEmpty)
        #expect(o.warnings.contains { $0.contains("\"Alert\"") })
        #expect(o.notices.filter { $0.contains("stalled") }.count == 3)  // GAOSI HNZ/HNN/HNE
        #expect(pipeline.gatingStreams.allSatisfy { $0.station == "NANTA" })

        var after: [PipelineRecord] = []
        for b in late { after += pipeline.process(b) }
        after += pipeline.finish()
        let o2 = try lines(after)
        #expect(o2.notices.filter { $0.contains("caught up") }.count == 3)
        #expect(pipeline.gatingStreams.count == 6)
    }

    @Test func streamThatNeverDeliversIsDroppedAfterTheTimeout() throws {
        let q = try Scenario.configuration()
        let blocks = ReplaySchedule.blocks(from: try Scenario.segments("noise-glitches"), chunkSeconds: 1)
            .filter { $0.streamID.channel != "HNE" || $0.streamID.station != "GAOSI" }
        var pipeline = ReplayPipeline(.init(quakeWarn: q, stallTimeoutSeconds: 5))
        var notices: [String] = []
        var released = false
        for b in blocks {
            for r in pipeline.process(b) {
                if case .notice(_, let m) = r { notices.append(m) }
            }
            if !pipeline.gatingStreams.contains(StreamID(network: "SC", station: "GAOSI", location: "00", channel: "HNE")) {
                released = true
            }
        }
        #expect(released)
        #expect(notices.contains { $0.hasPrefix("SC.GAOSI.00.HNE: stalled") })
    }
}
