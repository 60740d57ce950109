import Ingest
import SeismicCore
import Testing

/// 100 sps: one sample = 10 ms = 10,000,000 ns. Records of 100 samples (1 s).
private let t0 = Timestamp(nanosecondsSinceEpoch: 1_778_000_000_000_000_000)
private func at(_ seconds: Double) -> Timestamp { t0.adding(nanoseconds: Int64((seconds * 1e9).rounded())) }

@Suite struct InputGuardTests {
    @Test func inOrderRecordsAndSmallJitterAreAccepted() {
        var g = InputGuard()
        #expect(g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100, sequence: 1).kind == .first)
        #expect(g.check(startTime: at(1), sampleCount: 100, samplingRateHz: 100, sequence: 2).kind == .inOrder)
        // 4 ms early/late (< half a sample) is still in order.
        #expect(g.check(startTime: at(2.004), sampleCount: 100, samplingRateHz: 100, sequence: 3).kind == .inOrder)
        #expect(g.acceptedEnd == at(3.004))
    }

    @Test func gapIsAcceptedAndMeasured() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        let d = g.check(startTime: at(1.5), sampleCount: 100, samplingRateHz: 100)
        #expect(d.kind == .gap)
        #expect(d.offsetSeconds == 0.5)
        #expect(d.dropLeadingSamples == 0)
        // Just above half a sample is a gap, just below is in order.
        var h = InputGuard()
        _ = h.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        #expect(h.check(startTime: at(1.0051), sampleCount: 100, samplingRateHz: 100).kind == .gap)
        var k = InputGuard()
        _ = k.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        #expect(k.check(startTime: at(1.0049), sampleCount: 100, samplingRateHz: 100).kind == .inOrder)
    }

    @Test func partialOverlapKeepsOnlyNewSamples() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        // Starts 30 samples before the end: the first 30 are old.
        let d = g.check(startTime: at(0.7), sampleCount: 100, samplingRateHz: 100)
        #expect(d.kind == .partialOverlap)
        #expect(d.dropLeadingSamples == 30)
        #expect(g.acceptedEnd == at(1.7))
        // Misaligned by 3 ms: samples at 0.993 (old, within tolerance of 1.0? no: 7 ms before) ...
        var h = InputGuard()
        _ = h.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        let e = h.check(startTime: at(0.903), sampleCount: 100, samplingRateHz: 100)
        // samples at 0.903 + k·0.01; first one at or after 1.0 − 5 ms is k = 10 (1.003).
        #expect(e.dropLeadingSamples == 10)
        #expect(e.kind == .partialOverlap)
    }

    @Test func duplicatesAreDropped() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100, sequence: 1)
        _ = g.check(startTime: at(1), sampleCount: 100, samplingRateHz: 100, sequence: 2)
        let exact = g.check(startTime: at(1), sampleCount: 100, samplingRateHz: 100, sequence: 2)
        #expect(exact.kind == .exactDuplicate)
        #expect(exact.sequenceRegressed)
        #expect(!exact.kind.isAccepted)
        // An older record, wholly inside accepted data.
        #expect(g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100, sequence: 1).kind == .duplicate)
        // A sub-range of accepted data (a repacked record).
        #expect(g.check(startTime: at(1.2), sampleCount: 50, samplingRateHz: 100).kind == .duplicate)
        // State unchanged by dropped records.
        #expect(g.acceptedEnd == at(2))
        #expect(g.check(startTime: at(2), sampleCount: 100, samplingRateHz: 100, sequence: 3).kind == .inOrder)
    }

    @Test func lateRecordFillingAGapIsOutOfOrder() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100, sequence: 1)
        #expect(g.check(startTime: at(2), sampleCount: 100, samplingRateHz: 100, sequence: 3).kind == .gap)
        let late = g.check(startTime: at(1), sampleCount: 100, samplingRateHz: 100, sequence: 2)
        #expect(late.kind == .outOfOrder)
        #expect(late.sequenceRegressed)
        #expect(g.acceptedEnd == at(3))
    }

    @Test func clockJumps() {
        var g = InputGuard(timeJumpSeconds: 60)
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        // Backward by an hour: dropped, state kept.
        let back = g.check(startTime: at(-3600), sampleCount: 100, samplingRateHz: 100)
        #expect(back.kind == .timeJumpBackward)
        #expect(!back.kind.isAccepted)
        #expect(g.acceptedEnd == at(1))
        // Forward by an hour: accepted as a new time base.
        let forward = g.check(startTime: at(3601), sampleCount: 100, samplingRateHz: 100)
        #expect(forward.kind == .timeJumpForward)
        #expect(forward.kind.isAccepted)
        #expect(g.acceptedEnd == at(3602))
        #expect(g.check(startTime: at(3602), sampleCount: 100, samplingRateHz: 100).kind == .inOrder)
    }

    @Test func rateChangeAndEmptyRecords() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100)
        #expect(g.check(startTime: at(1), sampleCount: 0, samplingRateHz: 100).kind == .empty)
        #expect(g.check(startTime: at(1), sampleCount: 10, samplingRateHz: .nan).kind == .empty)
        #expect(g.check(startTime: at(1), sampleCount: 10, samplingRateHz: -5).kind == .empty)
        #expect(g.check(startTime: at(1), sampleCount: 200, samplingRateHz: 200).kind == .rateChange)
        #expect(g.samplingRateHz == 200)
        #expect(g.check(startTime: at(2), sampleCount: 200, samplingRateHz: 200).kind == .inOrder)
    }

    @Test func sequenceWrapIsNotARegression() {
        var g = InputGuard()
        _ = g.check(startTime: at(0), sampleCount: 100, samplingRateHz: 100, sequence: 0xFF_FFFF)
        let d = g.check(startTime: at(1), sampleCount: 100, samplingRateHz: 100, sequence: 0)
        #expect(d.kind == .inOrder)
        #expect(!d.sequenceRegressed)
    }

    /// Any sequence of records cut from one continuous series, delivered with random repeats,
    /// overlaps and reordering, yields each sample at most once, in increasing time, and all of
    /// them when nothing was lost (naive twin: a set of sample indices).
    @Test func randomisedDeliveryNeverDuplicatesOrReorders() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<300 {
            var g = InputGuard()
            // Records: random start index and length over a 2000-sample series.
            var records: [(start: Int, count: Int)] = []
            var next = 0
            while next < 2000 {
                let n = 1 + Int(rng.next() % 150)
                records.append((next, min(n, 2000 - next)))
                next += n
            }
            var delivered: [(start: Int, count: Int)] = []
            for r in records {
                delivered.append(r)
                switch rng.next() % 6 {
                case 0: delivered.append(r)  // exact repeat
                case 1:  // overlapping re-cut
                    let back = Int(rng.next() % 60)
                    let s = max(0, r.start - back)
                    delivered.append((s, min(2000 - s, r.count + back)))
                case 2: if delivered.count >= 3 { delivered.swapAt(delivered.count - 1, delivered.count - 3) }
                default: break
                }
            }
            var seen: [Int] = []
            for d in delivered {
                let decision = g.check(startTime: at(Double(d.start) / 100), sampleCount: d.count, samplingRateHz: 100)
                guard decision.kind.isAccepted else { continue }
                let first = d.start + decision.dropLeadingSamples
                seen += Array(first..<(d.start + d.count))
            }
            // Strictly increasing: no sample twice, never backwards.
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 < $1 })
            #expect(seen.last == 1999)
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BA_133E_B111
        return z ^ (z >> 31)
    }
}
