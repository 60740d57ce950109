import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

@Suite("Onsite streaming analyser")
struct OnsiteStationAnalyzerTests {
    static let synthetic = SyntheticP(backAzimuthDegrees: 225, incidenceDegrees: 30, amplitude: 0.02, noise: 0.0005,
                                      seed: 5, leadSeconds: 10, durationSeconds: 5)

    static func blocks(chunk: (inout SplitMix64) -> Int, seed: UInt64) -> [SampleBlock] {
        let s = synthetic
        let comps: [(String, [Double])] = [("HNN", s.north), ("HNE", s.east), ("HNZ", s.vertical)]
        var g = SplitMix64(seed: seed)
        var perComponent: [[SampleBlock]] = []
        for (cha, x) in comps {
            var out: [SampleBlock] = []
            var i = 0
            while i < x.count {
                let n = min(chunk(&g), x.count - i)
                out.append(SampleBlock(streamID: StreamID(network: "QW", station: "NANTA", location: "", channel: cha),
                                       startTime: s.startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(
                                           samples: i, samplingRateHz: s.samplingRateHz)),
                                       samplingRateHz: s.samplingRateHz, unit: .metersPerSecondSquared,
                                       samples: Array(x[i..<(i + n)])))
                i += n
            }
            perComponent.append(out)
        }
        // Interleave the components round-robin (uneven progress between them).
        var merged: [SampleBlock] = []
        var idx = [0, 0, 0]
        while idx.enumerated().contains(where: { $0.element < perComponent[$0.offset].count }) {
            for k in 0..<3 where idx[k] < perComponent[k].count {
                merged.append(perComponent[k][idx[k]])
                idx[k] += 1
            }
        }
        return merged
    }

    func run(_ blocks: [SampleBlock], pickFirst: Bool, bufferSeconds: Double = 30) -> [OnsiteStationAnalyzer.Output] {
        var a = OnsiteStationAnalyzer(.init(bufferSeconds: bufferSeconds), samplingRateHz: Self.synthetic.samplingRateHz)
        var out: [OnsiteStationAnalyzer.Output] = []
        if pickFirst { out += a.addPick(Self.synthetic.pickTime) }
        for (n, b) in blocks.enumerated() {
            out += a.process(b)
            if !pickFirst && n == blocks.count / 2 { out += a.addPick(Self.synthetic.pickTime) }
        }
        return out
    }

    @Test("outputs identical for one block, 7-sample chunks and random chunks; equal to the batch analysers")
    func chunking() throws {
        let whole = run(Self.blocks(chunk: { _ in 1 << 20 }, seed: 1), pickFirst: true)
        let seven = run(Self.blocks(chunk: { _ in 7 }, seed: 2), pickFirst: true)
        let random = run(Self.blocks(chunk: { g in 1 + g.int(below: 300) }, seed: 3), pickFirst: false)
        #expect(whole.count == 2)
        #expect(whole == seven)
        #expect(whole == random)
        // A 5 s buffer is trimmed (to 5 s whenever it exceeds 10 s) during the run: same outputs.
        let trimmed = run(Self.blocks(chunk: { _ in 7 }, seed: 4), pickFirst: true, bufferSeconds: 5)
        #expect(whole == trimmed)
        // Batch twin on [pick − 3 s, …).
        let s = Self.synthetic
        let lead = 300, p = 1000
        let start = s.startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: p - lead, samplingRateHz: 100))
        let baz = try PolarizationAnalyzer().estimate(north: Array(s.north[(p - lead)..<(p + 100)]),
                                                      east: Array(s.east[(p - lead)..<(p + 100)]),
                                                      vertical: Array(s.vertical[(p - lead)..<(p + 100)]),
                                                      startTime: start, samplingRateHz: 100, pickTime: s.pickTime)
        #expect(whole.contains(.backAzimuth(pickTime: s.pickTime, baz)))
        #expect(abs(Geodesy.angleDifference(baz.backAzimuthDegrees, 225)) < 2 * baz.sigmaDegrees)
        let (fit, d) = try EnvelopeDistanceEstimator().estimate(
            verticalAccelerationMetersPerSecondSquared: Array(s.vertical[(p - lead)..<(p + 300)]), pickIndex: lead,
            samplingRateHz: 100)
        #expect(whole.contains(.distance(pickTime: s.pickTime, fit: fit, d)))
    }

    @Test("a pick before the data segment fails with a reason, not a trap")
    func pickBeforeData() {
        var a = OnsiteStationAnalyzer(samplingRateHz: 100)
        let blocks = Self.blocks(chunk: { _ in 1 << 20 }, seed: 1)
        var out = a.addPick(Self.synthetic.startTime.adding(nanoseconds: -5_000_000_000))
        for b in blocks { out += a.process(b) }
        #expect(out.count == 2)
        #expect(out.allSatisfy { if case .failed = $0 { true } else { false } })
    }

    @Test("absurd configuration and pick times: no trap, typed failures or nil")
    func hostileInput() throws {
        var a = OnsiteStationAnalyzer(.init(leadSeconds: .infinity, bufferSeconds: 1e300), samplingRateHz: 100)
        var out = a.addPick(Timestamp(nanosecondsSinceEpoch: .max))
        for b in Self.blocks(chunk: { _ in 1 << 20 }, seed: 1) { out += a.process(b) }
        #expect(out.isEmpty)  // a pick ≈ 240 years after the data: pending forever, no trap
        var bad = EventLocator.Configuration()
        bad.coarseStepKilometers = 0
        let arr = syntheticArrivals(epicenter: Lezhi.gaosi, origin: Timestamp(nanosecondsSinceEpoch: 0))
        #expect(EventLocator(bad).locate(arr) == nil)
        var pol = PolarizationAnalyzer.Configuration()
        pol.windowSeconds = 1e300
        let s = Self.synthetic
        #expect(throws: PolarizationError.self) {
            try PolarizationAnalyzer(pol).estimate(north: s.north, east: s.east, vertical: s.vertical, startTime: s.startTime,
                                                   samplingRateHz: 100, pickTime: s.pickTime)
        }
        #expect(throws: PolarizationError.self) {
            try PolarizationAnalyzer().estimate(north: s.north, east: s.east, vertical: s.vertical, startTime: s.startTime,
                                                samplingRateHz: 100, pickTime: Timestamp(nanosecondsSinceEpoch: .min))
        }
        #expect(EnvelopeDistanceEstimator.envelope(of: s.vertical, pickIndex: 10, samplingRateHz: 100,
                                                   windowSeconds: .infinity).isEmpty)
    }
}
