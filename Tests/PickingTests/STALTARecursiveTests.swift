import SeismicCore
import TestSupport
import Foundation
import Testing
import Picking

/// Independent twin: the recursion unrolled into its closed form,
/// `sta_i = Σ_{j=1..i} c (1−c)^{i−j} x_j²` (sample 0 unused), evaluated directly (O(n²)).
private func closedFormRecursive(_ x: [Double], nsta: Int, nlta: Int) -> [Double] {
    let cs = 1.0 / Double(nsta), cl = 1.0 / Double(nlta)
    var out = [Double](repeating: 0, count: x.count)
    for i in x.indices where i >= nlta && i >= 1 {
        var s = 0.0, l = 0.0
        for j in 1...i {
            let e = Double(i - j)
            s += cs * pow(1 - cs, e) * x[j] * x[j]
            l += cl * pow(1 - cl, e) * x[j] * x[j]
        }
        out[i] = s / l
    }
    return out
}

@Suite("Recursive STA/LTA")
struct STALTARecursiveTests {
    @Test("matches the closed-form weighted sums on seeded noise", arguments: [(5, 10), (1, 1), (10, 3), (2, 50)])
    func matchesClosedForm(nsta: Int, nlta: Int) throws {
        var rng = SplitMix64(seed: 815)
        var x = rng.noise(count: 400)
        for i in 200..<240 { x[i] *= 10 }
        var f = try RecursiveSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        let cf = f.process(x)
        let ref = closedFormRecursive(x, nsta: nsta, nlta: nlta)
        var worst = 0.0
        for i in x.indices {
            if i < nlta {
                #expect(cf[i] == 0, "warm-up sample \(i) must be exactly 0")
            } else {
                worst = max(worst, abs(cf[i] - ref[i]) / abs(ref[i]))
            }
        }
        #expect(worst < 1e-10, "max relative deviation from the closed form: \(worst)")
    }

    @Test("sample 0 is never used; the averages update during the warm-up")
    func sampleZeroUnusedAndWarmUpUpdates() throws {
        var a = try RecursiveSTALTA(staSampleCount: 2, ltaSampleCount: 4)
        var b = try RecursiveSTALTA(staSampleCount: 2, ltaSampleCount: 4)
        let x: [Double] = [1e6, 1, 2, 3, 4, 5, 6]
        var y = x
        y[0] = -3
        #expect(bitIdentical(a.process(x), b.process(y)))
        // cf_4 by hand: sta = 0.5 x4² + 0.5 sta3, ... starting at sample 1.
        var sta = 0.0, lta = 0.0
        for v in x[1...4] {
            sta = 0.5 * v * v + 0.5 * sta
            lta = 0.25 * v * v + 0.75 * lta
        }
        var c = try RecursiveSTALTA(staSampleCount: 2, ltaSampleCount: 4)
        let cf = c.process(x)
        #expect(cf[0..<4] == [0, 0, 0, 0])
        #expect(cf[4] == sta / lta)
        #expect(c.warmUpSampleCount == 4)
    }

    @Test("any chunking is bit-identical to one block", arguments: [(5, 10), (50, 1000), (500, 1000)])
    func chunkingInvariance(nsta: Int, nlta: Int) throws {
        var rng = SplitMix64(seed: 17)
        var x = rng.noise(count: 12_345, sigma: 1e3)
        for i in 5000..<5300 { x[i] *= 30 }
        let filter = try RecursiveSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        var whole = filter
        let reference = whole.process(x)
        for (name, sizes) in standardChunkings(total: x.count) {
            #expect(bitIdentical(runChunked(filter, x, sizes: sizes), reference), "chunking \(name)")
        }
    }

    @Test("reset() forgets everything: output equals a fresh filter's")
    func resetEqualsFresh() throws {
        var rng = SplitMix64(seed: 3)
        let a = rng.noise(count: 300), b = rng.noise(count: 300)
        var used = try RecursiveSTALTA(staSampleCount: 5, ltaSampleCount: 50)
        _ = used.process(a)
        used.reset()
        var fresh = try RecursiveSTALTA(staSampleCount: 5, ltaSampleCount: 50)
        #expect(bitIdentical(used.process(b), fresh.process(b)))
    }

    @Test("seconds are converted to samples by rounding to nearest; bad windows throw")
    func parameters() throws {
        let f = try RecursiveSTALTA(staSeconds: 0.5, ltaSeconds: 10, samplingRateHz: 20)
        #expect(f.staSampleCount == 10 && f.ltaSampleCount == 200)
        #expect(throws: STALTAParameterError.nonPositiveWindow(parameter: "lta", samples: -1)) {
            try RecursiveSTALTA(staSampleCount: 1, ltaSampleCount: -1)
        }
        #expect(throws: STALTAParameterError.invalidSamplingRate(-100)) {
            try RecursiveSTALTA(staSeconds: 1, ltaSeconds: 10, samplingRateHz: -100)
        }
    }
}
