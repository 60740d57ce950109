import Alerting
@_spi(Testing) import Pipeline
import SeismicCore
import Testing

/// The performance changes of the pipeline keep its outputs: the warm-up leaves no trace, and the
/// input re-cutting finds the same slice boundaries as a per-sample scan.
@Suite("ReplayPipeline performance changes keep the outputs")
struct PerfPipelineTests {
    /// `warmUpAfterFirstWarning`: calls `warmUp()` once, right after the block that released the
    /// first warning (mid-event: the later updates of the event come after it).
    /// `keepWarm`: a ``PipelineKeepWarm`` pass before every block (as the daemon's timer between
    /// packets); its throwaway warnings are added to `keepWarmWarnings`.
    static func run(_ segments: [SampleBlock], warmUpAtStart: Bool, warmUpAfterFirstWarning: Bool = false,
                    keepWarm: Bool = false, keepWarmWarnings: inout Int) throws -> ReplayOutputs
    {
        let q = try Scenario.configuration()
        var pipeline = ReplayPipeline(.init(quakeWarn: q, expectedStreams: Set(segments.map(\.streamID))))
        if warmUpAtStart { pipeline.warmUp() }
        var keeper = PipelineKeepWarm(configuration: pipeline)
        var outputs = ReplayOutputs()
        var warmed = !warmUpAfterFirstWarning
        for block in ReplaySchedule.blocks(from: segments, chunkSeconds: 1) {
            if keepWarm { keepWarmWarnings += keeper.run(eventStageOf: pipeline) }
            let records = pipeline.process(block)
            for r in records { try outputs.add(r) }
            if !warmed, records.contains(where: { if case .warning = $0 { true } else { false } }) {
                pipeline.warmUp()
                warmed = true
            }
        }
        for r in pipeline.finish() { try outputs.add(r) }
        return outputs
    }

    static func run(_ segments: [SampleBlock], warmUpAtStart: Bool, warmUpAfterFirstWarning: Bool = false) throws
        -> ReplayOutputs
    {
        var unused = 0
        return try run(segments, warmUpAtStart: warmUpAtStart, warmUpAfterFirstWarning: warmUpAfterFirstWarning,
                       keepWarmWarnings: &unused)
    }

    @Test("warmUp() exercises picks, events and warnings, and leaves the outputs unchanged (at the start and mid-event)")
    func warmUpLeavesNoTrace() throws {
        let q = try Scenario.configuration()
        let summary = ReplayPipeline(.init(quakeWarn: q)).warmUp()
        #expect(summary.waveformPicks > 0, "\(summary)")
        #expect(summary.eventWarnings > 0, "\(summary)")
        let segments = try Scenario.segments("longquan-m5.8")
        let plain = Scenario.files(try Self.run(segments, warmUpAtStart: false))
        let warmed = Scenario.files(try Self.run(segments, warmUpAtStart: true))
        let midway = Scenario.files(try Self.run(segments, warmUpAtStart: false, warmUpAfterFirstWarning: true))
        #expect(plain[3].split(separator: "\n").count > 2)  // warnings: the Alert and later updates
        #expect(warmed == plain)
        #expect(midway == plain)
    }

    @Test("keep-warm passes before every record (scratch station chain, event stage on a copy) leave the outputs unchanged")
    func keepWarmLeavesNoTrace() throws {
        let segments = try Scenario.segments("longquan-m5.8")
        let plain = Scenario.files(try Self.run(segments, warmUpAtStart: false))
        var keepWarmWarnings = 0
        let kept = Scenario.files(try Self.run(segments, warmUpAtStart: false, keepWarm: true,
                                               keepWarmWarnings: &keepWarmWarnings))
        #expect(plain[3].split(separator: "\n").count > 2)  // warnings: the Alert and later updates
        #expect(kept == plain)
        // Every pass ran the event stage to its warnings (the synthetic event's Alert and Update).
        let passes = ReplaySchedule.blocks(from: segments, chunkSeconds: 1).count
        #expect(keepWarmWarnings == 2 * passes, "\(keepWarmWarnings) throwaway warnings in \(passes) passes")
    }

    @Test("keep-warm's scratch station holds a bounded number of items over 10 minutes of its data")
    func keepWarmScratchIsBounded() throws {
        let q = try Scenario.configuration()
        let live = ReplayPipeline(.init(quakeWarn: q))
        var keeper = PipelineKeepWarm(configuration: live)
        // 2,400 passes of 0.25 s = 10 minutes of the scratch station's data time (24 s of
        // keep-warm at its 10 ms default period). Slices held back by the gating would grow by
        // three per pass.
        for _ in 0..<2_400 { keeper.run(eventStageOf: live) }
        #expect(keeper.scratchHeldItems < 100, "\(keeper.scratchHeldItems) items held")
    }

    /// The original re-cutting: from each slice start, every later sample is tested until one lies
    /// at or after the next epoch-aligned boundary.
    static func naiveSlices(_ blocks: [SampleBlock], sliceNanoseconds: Int64) -> [(start: Timestamp, count: Int)] {
        var out: [(start: Timestamp, count: Int)] = []
        var open: SampleBlock?
        func close() {
            if let o = open, !o.samples.isEmpty { out.append((o.startTime, o.samples.count)) }
            open = nil
        }
        for block in blocks {
            if let current = open, current.samplingRateHz == block.samplingRateHz,
               Double(block.startTime.nanoseconds(since: current.endTimeExclusive)).magnitude <= 0.5e9 / current.samplingRateHz {
                open?.samples += block.samples
            } else {
                close()
                open = block
            }
            guard var segment = open else { continue }
            var start = 0
            let n = segment.samples.count
            while start < n {
                let t0 = segment.time(ofSample: start).nanosecondsSinceEpoch
                let boundary = (t0 / sliceNanoseconds + (t0 % sliceNanoseconds < 0 ? 0 : 1)) * sliceNanoseconds
                var end = start + 1
                while end < n, segment.time(ofSample: end).nanosecondsSinceEpoch < boundary { end += 1 }
                guard end < n else { break }
                out.append((segment.time(ofSample: start), end - start))
                start = end
            }
            if start > 0 {
                segment = SampleBlock(streamID: segment.streamID, startTime: segment.time(ofSample: start),
                                      samplingRateHz: segment.samplingRateHz, unit: segment.unit,
                                      samples: Array(segment.samples[start...]))
            }
            open = segment
        }
        close()
        return out
    }

    @Test("slice boundaries equal a per-sample scan for awkward rates, offsets, block sizes and gaps", arguments: [
        (100.0, 0.25, 1.0), (33.3, 0.25, 0.37), (250.0, 0.25, 2.048), (200.0, 0.1, 0.5), (1.0, 0.25, 7.0),
        (17.0, 0.3, 0.05), (40.0, 0.25, 3.3),
    ])
    func sliceBoundaries(rate: Double, slice: Double, blockSeconds: Double) {
        var rng = SplitMix64(seed: UInt64(rate * 1000 + slice * 10 + blockSeconds))
        let id = StreamID(network: "XX", station: "TEST", location: "", channel: "HHZ")
        var blocks: [SampleBlock] = []
        // Start at an odd nanosecond offset; a gap and an overlap along the way.
        var t = Timestamp(nanosecondsSinceEpoch: 1_778_565_600_123_456_789)
        for k in 0..<60 {
            let n = max(1, Int((blockSeconds * rate * (0.5 + rng.nextUniform())).rounded()))
            let b = SampleBlock(streamID: id, startTime: t, samplingRateHz: rate, samples: [Double](repeating: 1, count: n))
            blocks.append(b)
            t = b.endTimeExclusive
            if k == 20 { t = t.adding(nanoseconds: 1_234_567_891) }   // gap
            if k == 40 { t = t.adding(nanoseconds: -300_000_000) }    // overlap
        }
        let ns = Int64((slice * 1e9).rounded())
        let expected = Self.naiveSlices(blocks, sliceNanoseconds: ns)
        let actual = ReplayPipeline.slices(of: blocks, sliceSeconds: slice)
        #expect(actual.count == expected.count)
        #expect(actual.map(\.start) == expected.map(\.start))
        #expect(actual.map(\.count) == expected.map(\.count))
        #expect(actual.map(\.count).reduce(0, +) == blocks.map(\.samples.count).reduce(0, +))
    }
}
