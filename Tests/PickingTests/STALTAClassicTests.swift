import SeismicCore
import TestSupport
import Testing
import Picking

/// Independent twin: both window sums recomputed from scratch at every sample (no running sums).
private func naiveClassic(_ x: [Double], nsta: Int, nlta: Int) -> [Double] {
    var out = [Double](repeating: 0, count: x.count)
    guard x.count >= nlta else { return out }
    for i in (nlta - 1)..<x.count {
        var s = 0.0
        for j in (i - nsta + 1)...i { s += x[j] * x[j] }
        var l = 0.0
        for j in (i - nlta + 1)...i { l += x[j] * x[j] }
        out[i] = (s / Double(nsta)) / (l / Double(nlta))
    }
    return out
}

@Suite("Classic STA/LTA")
struct STALTAClassicTests {
    @Test("matches a from-scratch box-sum twin on seeded noise with an event", arguments: [
        (5, 10), (1, 1), (7, 7), (1, 50), (50, 1000), (3, 4),
    ])
    func matchesNaiveTwin(nsta: Int, nlta: Int) throws {
        var rng = SplitMix64(seed: 42)
        var x = rng.noise(count: 3000)
        for i in 1500..<1700 { x[i] *= 20 }  // an "event"
        var filter = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        let cf = filter.process(x)
        let ref = naiveClassic(x, nsta: nsta, nlta: nlta)
        var worst = 0.0
        for i in x.indices {
            if i < nlta - 1 {
                #expect(cf[i] == 0, "warm-up sample \(i) must be exactly 0")
            } else {
                // Running sums carry an absolute error of order eps × (LTA window power), so the
                // error is measured relative to the largest possible CF value, nlta/nsta (S ≤ L).
                // Any window/index mistake gives errors of order 1, far above the tolerance.
                worst = max(worst, abs(cf[i] - ref[i]) / (Double(nlta) / Double(nsta)))
            }
        }
        #expect(worst < 1e-9, "max deviation from the box-sum twin, relative to nlta/nsta: \(worst)")
        #expect(cf[nlta - 1] != 0, "first full window (sample nlta-1) must carry a value")
    }

    @Test("warm-up: exactly nlta-1 leading zeros; fewer samples than nlta-1 give all zeros")
    func warmUp() throws {
        var filter = try ClassicSTALTA(staSampleCount: 3, ltaSampleCount: 8)
        #expect(filter.warmUpSampleCount == 7)
        let x = (0..<20).map { Double($0 % 5) + 1 }
        let cf = filter.process(x)
        #expect(cf[0..<7].allSatisfy { $0 == 0 })
        // Sample 7: S = x5²+x6²+x7² = 1+4+9... computed by hand: x = 1,2,3,4,5,1,2,3
        let s = 1.0 + 4 + 9, l = 1.0 + 4 + 9 + 16 + 25 + 1 + 4 + 9
        #expect(abs(cf[7] - (s / 3) / (l / 8)) < 1e-15)
        var short = try ClassicSTALTA(staSampleCount: 3, ltaSampleCount: 8)
        #expect(short.process([1, 2, 3, 4, 5]) == [0, 0, 0, 0, 0])
    }

    @Test("any chunking is bit-identical to one block", arguments: [(5, 10), (50, 1000), (7, 7), (1, 2)])
    func chunkingInvariance(nsta: Int, nlta: Int) throws {
        var rng = SplitMix64(seed: 7)
        var x = rng.noise(count: 12_345, sigma: 300)
        for i in 6000..<6400 { x[i] *= 15 }
        let filter = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        var whole = filter
        let reference = whole.process(x)
        for (name, sizes) in standardChunkings(total: x.count) {
            #expect(bitIdentical(runChunked(filter, x, sizes: sizes), reference), "chunking \(name)")
        }
        var resummed = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta, summation: .resummed(everySamples: 97))
        let resummedRef = resummed.process(x)
        resummed.reset()
        for (name, sizes) in standardChunkings(total: x.count) {
            #expect(bitIdentical(runChunked(resummed, x, sizes: sizes), resummedRef), "re-summed, chunking \(name)")
        }
    }

    @Test("re-summed mode: any interval, any chunking; every-sample re-summation equals the box sums",
          arguments: [1, 2, 13, 1000])
    func resummedIntervals(interval: Int) throws {
        var rng = SplitMix64(seed: UInt64(interval))
        var x = rng.noise(count: 5000)
        for i in 2000..<2100 { x[i] *= 1e5 }
        let filter = try ClassicSTALTA(staSampleCount: 3, ltaSampleCount: 8, summation: .resummed(everySamples: interval))
        var whole = filter
        let reference = whole.process(x)
        for (name, sizes) in standardChunkings(total: x.count) {
            #expect(bitIdentical(runChunked(filter, x, sizes: sizes), reference), "interval \(interval), chunking \(name)")
        }
        if interval == 1 {
            // Re-summed before every output: the sums are the plain window sums (oldest first).
            let ref = naiveClassic(x, nsta: 3, nlta: 8)
            let worst = (7..<x.count).map { abs(reference[$0] - ref[$0]) / abs(ref[$0]) }.max() ?? 0
            #expect(worst < 1e-14, "every-sample re-summation vs box sums: \(worst)")
        }
    }

    @Test("reset() forgets everything: output equals a fresh filter's")
    func resetEqualsFresh() throws {
        var rng = SplitMix64(seed: 9)
        let a = rng.noise(count: 500), b = rng.noise(count: 700)
        var used = try ClassicSTALTA(staSampleCount: 10, ltaSampleCount: 100)
        _ = used.process(a)
        used.reset()
        #expect(used.processedSampleCount == 0)
        var fresh = try ClassicSTALTA(staSampleCount: 10, ltaSampleCount: 100)
        #expect(bitIdentical(used.process(b), fresh.process(b)))
    }

    @Test("in-place processing (input and output the same memory) gives the same result")
    func inPlace() throws {
        var rng = SplitMix64(seed: 11)
        let x = rng.noise(count: 2000)
        var f1 = try ClassicSTALTA(staSampleCount: 20, ltaSampleCount: 200)
        let expected = f1.process(x)
        var f2 = try ClassicSTALTA(staSampleCount: 20, ltaSampleCount: 200)
        var buffer = x
        buffer.withUnsafeMutableBufferPointer { p in f2.process(UnsafeBufferPointer(p), into: p) }
        #expect(bitIdentical(buffer, expected))
    }

    @Test("running sums drift after a huge transient; periodic re-summation bounds it")
    func driftAndResummation() throws {
        // A 1e7-count spike (square 1e14) followed by unit noise: once the spike has left both
        // windows the running sums keep a rounding residue of order 1e14 · 2^-53 per update.
        var rng = SplitMix64(seed: 5)
        var x = rng.noise(count: 60_000)
        for i in 1000..<1100 { x[i] = 1e7 * rng.normal() }
        let nsta = 10, nlta = 200
        var running = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        var resummed = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta,
                                         summation: .resummed(everySamples: 1000))
        let a = running.process(x), b = resummed.process(x)
        let ref = naiveClassic(x, nsta: nsta, nlta: nlta)
        func maxRel(_ cf: [Double], from: Int) -> Double {
            (from..<x.count).map { abs(cf[$0] - ref[$0]) / abs(ref[$0]) }.max() ?? 0
        }
        // After the first re-summation past the spike (sample 2199), the re-summed CF is exact
        // to rounding, while the running sums still carry the spike's residue.
        let runningError = maxRel(a, from: 3000), resummedError = maxRel(b, from: 3000)
        #expect(resummedError < 1e-9, "re-summed error \(resummedError)")
        #expect(runningError > 1e-6, "running-sum error \(runningError) (the documented drift)")
    }

    @Test("seconds are converted to samples by rounding to nearest")
    func secondsInit() throws {
        let f = try ClassicSTALTA(staSeconds: 0.5, ltaSeconds: 10, samplingRateHz: 100)
        #expect(f.staSampleCount == 50 && f.ltaSampleCount == 1000)
        let g = try ClassicSTALTA(staSeconds: 0.126, ltaSeconds: 1.0049, samplingRateHz: 200)
        #expect(g.staSampleCount == 25 && g.ltaSampleCount == 201)
    }

    @Test("invalid parameters throw typed errors")
    func invalidParameters() {
        #expect(throws: STALTAParameterError.nonPositiveWindow(parameter: "sta", samples: 0)) {
            try ClassicSTALTA(staSampleCount: 0, ltaSampleCount: 10)
        }
        #expect(throws: STALTAParameterError.staLongerThanLTA(staSamples: 11, ltaSamples: 10)) {
            try ClassicSTALTA(staSampleCount: 11, ltaSampleCount: 10)
        }
        #expect(throws: STALTAParameterError.invalidSamplingRate(0)) {
            try ClassicSTALTA(staSeconds: 1, ltaSeconds: 10, samplingRateHz: 0)
        }
        #expect(throws: STALTAParameterError.invalidWindowSeconds(parameter: "sta", seconds: 0.001, samplingRateHz: 100)) {
            try ClassicSTALTA(staSeconds: 0.001, ltaSeconds: 10, samplingRateHz: 100)
        }
        let nanError = #expect(throws: STALTAParameterError.self) {
            try ClassicSTALTA(staSeconds: 1, ltaSeconds: .nan, samplingRateHz: 100)
        }
        #expect(nanError?.description.hasPrefix("lta:") == true)
        #expect(throws: STALTAParameterError.windowTooLong(parameter: "lta", samples: 1 << 40,
                                                           maximum: ClassicSTALTA.maximumLTASampleCount)) {
            try ClassicSTALTA(staSampleCount: 1, ltaSampleCount: 1 << 40)
        }
        #expect(throws: STALTAParameterError.nonPositiveWindow(parameter: "resummation interval", samples: 0)) {
            try ClassicSTALTA(staSampleCount: 1, ltaSampleCount: 10, summation: .resummed(everySamples: 0))
        }
    }
}
