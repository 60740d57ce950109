import Alerting
import Foundation
import Pipeline
import SeismicCore
import Testing

/// `process(_:emit:)` hands records out after each 0.25 s slice (the live daemon sends a warning
/// before the rest of a long record is processed); the records must be those of a run whose
/// blocks are single slices, where "release after each block" is release after each slice by
/// construction.
@Suite("ReplayPipeline per-slice emission")
struct PerSliceEmissionTests {
    /// Runs with `process(_:emit:)`.
    static func runEmitting(_ segments: [SampleBlock], chunkSeconds: Double?) throws -> ReplayOutputs {
        let q = try Scenario.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q, expectedStreams: Set(segments.map(\.streamID))))
        var records: [PipelineRecord] = []
        for block in ReplaySchedule.blocks(from: segments, chunkSeconds: chunkSeconds) {
            pipeline.process(block) { records.append($0) }
        }
        records += pipeline.finish()
        var outputs = ReplayOutputs()
        for r in records { try outputs.add(r) }
        return outputs
    }

    @Test("Longquan M5.8: whole segments, 4 s blocks and one-slice blocks give identical records through emit and through the returned array")
    func emitEqualsSliceByBlockRun() throws {
        let segments = try Scenario.segments("longquan-m5.8")
        let slices = Scenario.files(try Scenario.run(segments, chunkSeconds: 0.25).0)
        let whole = try Self.runEmitting(segments, chunkSeconds: nil)
        let fourSeconds = try Self.runEmitting(segments, chunkSeconds: 4)
        #expect(!whole.warnings.isEmpty)
        #expect(Scenario.files(whole) == slices)
        #expect(Scenario.files(fourSeconds) == slices)
        #expect(Scenario.files(try Scenario.run(segments, chunkSeconds: 4).0) == slices)
    }

    @Test("issued: every warning is handed out once, in order, before its .warning record is emitted, and equals it")
    func issuedPrecedesEmission() throws {
        let segments = try Scenario.segments("longquan-m5.8")
        let q = try Scenario.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q, expectedStreams: Set(segments.map(\.streamID))))
        var issued: [WarningMessage] = []
        var emitted: [WarningMessage] = []
        var emittedAtIssue: [Int] = []
        for block in ReplaySchedule.blocks(from: segments, chunkSeconds: 4) {
            pipeline.process(block, issued: { m in
                emittedAtIssue.append(emitted.count)
                issued.append(m)
            }, emit: { r in
                if case .warning(let m, _) = r { emitted.append(m) }
            })
        }
        try #require(!emitted.isEmpty)
        #expect(try issued.map { try $0.canonicalJSON() } == emitted.map { try $0.canonicalJSON() })
        // Warning k is issued before its record is emitted: at most k warnings were emitted then.
        #expect(emittedAtIssue.enumerated().allSatisfy { k, emittedBefore in emittedBefore <= k }, "\(emittedAtIssue)")
        // Warnings released together (several updates from one slice) are all issued before the
        // first of them is emitted: the hook is earlier than the records, not merely the same.
        #expect(emittedAtIssue.enumerated().contains { k, emittedBefore in emittedBefore < k }, "\(emittedAtIssue)")
    }

    @Test("emitDeferringCAP: warnings come with an empty capXML and a PendingCAP whose render() is the XML process(_:) gives; other records are unchanged")
    func deferredCAPRendersTheSameXML() throws {
        let segments = try Scenario.segments("longquan-m5.8")
        let q = try Scenario.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q, expectedStreams: Set(segments.map(\.streamID))))
        var records: [PipelineRecord] = []
        var pending = 0
        for block in ReplaySchedule.blocks(from: segments, chunkSeconds: 1) {
            pipeline.process(block, emitDeferringCAP: { r, cap in
                if case .warning(let m, let xml) = r {
                    #expect(xml.isEmpty)
                    if let cap {
                        pending += 1
                        records.append(.warning(m, capXML: cap.render()))
                        return
                    }
                    Issue.record("a warning without its PendingCAP")
                } else {
                    #expect(cap == nil)
                }
                records.append(r)
            })
        }
        records += pipeline.finish()
        var outputs = ReplayOutputs()
        for r in records { try outputs.add(r) }
        let reference = try Scenario.run(segments, chunkSeconds: 1).0
        #expect(pending > 0)
        #expect(!outputs.cap.isEmpty)
        #expect(Scenario.files(outputs) == Scenario.files(reference))
    }
}
