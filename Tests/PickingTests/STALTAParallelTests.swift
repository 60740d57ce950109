// Bit-exactness of the long-block fast paths of the STA/LTA CFs (lane-parallel recursive,
// input-based classic) against serial twins written here from ObsPy's C loops.
import Foundation
import SeismicCore
import Testing
import TestSupport
@testable import Picking

/// ObsPy `recstalta.c`'s loop, written independently: serial, one sample at a time.
private func serialRecursive(_ x: [Double], nsta: Int, nlta: Int) -> [Double] {
    let cs = 1.0 / Double(nsta), cl = 1.0 / Double(nlta)
    var sta = 0.0, lta = 0.0
    var out = [Double](repeating: 0, count: x.count)
    for i in 1..<x.count {
        let sq = x[i] * x[i]
        sta = cs * sq + (1 - cs) * sta
        lta = cl * sq + (1 - cl) * lta
        out[i] = i < nlta ? 0 : sta / lta
    }
    return out
}

/// ObsPy `stalta.c`'s loops (OPTIMIZED_VERSION), written independently, lagged samples re-read.
private func serialClassic(_ x: [Double], nsta: Int, nlta: Int) -> [Double] {
    let frac = Double(nlta) / Double(nsta)
    var out = [Double](repeating: 0, count: x.count)
    var sta = 0.0
    for i in 0..<nsta { sta += x[i] * x[i] }
    var lta = sta
    for i in nsta..<nlta {
        let b = x[i] * x[i]
        lta += b
        sta += b - x[i - nsta] * x[i - nsta]
    }
    out[nlta - 1] = sta / lta * frac
    for i in nlta..<x.count {
        sta += x[i] * x[i] - x[i - nsta] * x[i - nsta]
        lta += x[i] * x[i] - x[i - nlta] * x[i - nlta]
        out[i] = sta / lta * frac
    }
    return out
}

/// Seeded noise with bursts (events 50× the noise) and a silent stretch.
private func burstyNoise(count: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix64(seed: seed)
    var x = rng.noise(count: count)
    for i in x.indices where i % 9_000 < 400 { x[i] *= 50 }
    for i in (count / 3)..<(count / 3 + 500) { x[i] *= 1e-6 }
    return x
}

private func firstDifference(_ a: [Double], _ b: [Double]) -> Int? {
    zip(a, b).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }?.offset
}

@Suite("STA/LTA long-block fast paths")
struct STALTAParallelTests {
    @Test("recursive: lane-parallel blocks are bit-identical to the serial recursion",
          arguments: [(5, 20), (3, 40), (20, 10)])
    func recursiveParallel(nsta: Int, nlta: Int) throws {
        let n = 20 * RecursiveSTALTA.speculativeWarmUp(nsta: nsta, nlta: nlta) + 777
        #expect(n - nlta >= RecursiveSTALTA.speculativeMinimumLength(nsta: nsta, nlta: nlta))
        let x = burstyNoise(count: n, seed: UInt64(nsta * 1000 + nlta))
        let reference = serialRecursive(x, nsta: nsta, nlta: nlta)
        let filter = try RecursiveSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        var one = filter
        #expect(firstDifference(one.process(x), reference) == nil, "one block")
        // A long block after a short one (the fast path starting mid-stream), then short ones.
        let sizes = [1_234] + [n - 1_234 - 2_000] + fixedChunks(total: 2_000, size: 300)
        #expect(firstDifference(runChunked(filter, x, sizes: sizes), reference) == nil, "chunked")
        // In place (input and output the same memory): the fast path must step aside.
        var inPlace = x
        var f = filter
        inPlace.withUnsafeMutableBufferPointer { buf in f.process(UnsafeBufferPointer(buf), into: buf) }
        #expect(firstDifference(inPlace, reference) == nil, "in place")
    }

    @Test("recursive: a lane whose speculation fails is recomputed, output still exact")
    func recursiveFallback() throws {
        let nsta = 50, nlta = 1000, n = 60_000
        let x = burstyNoise(count: n, seed: 99)
        let reference = serialRecursive(x, nsta: nsta, nlta: nlta)
        // Run the serial part up to nlta with the public API, then the parallel kernel with a
        // warm-up far too short to converge (128 samples for a 1000-sample LTA).
        var out = [Double](repeating: .nan, count: n)
        var f = try RecursiveSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        let head = Array(x[0..<nlta])
        let headOut = f.process(head)
        out.replaceSubrange(0..<nlta, with: headOut)
        // Recover the state after the head from the serial twin (sta, lta at sample nlta − 1).
        let cs = 1.0 / Double(nsta), cl = 1.0 / Double(nlta)
        var sta = 0.0, lta = 0.0
        for i in 1..<nlta {
            let sq = x[i] * x[i]
            sta = cs * sq + (1 - cs) * sta
            lta = cl * sq + (1 - cl) * lta
        }
        let fallbacks = x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                RecursiveSTALTA.speculativeSteadyState(
                    input: xb.baseAddress!, output: ob.baseAddress!, range: nlta..<n, warmUp: 1,
                    coefficients: (cs, 1 - cs, cl, 1 - cl), sta: &sta, lta: &lta)
            }
        }
        #expect(fallbacks == 3)
        #expect(firstDifference(out, reference) == nil)
        // With the real warm-up the lanes coalesce (no recomputation needed) on this data.
        let long = burstyNoise(count: 20 * RecursiveSTALTA.speculativeWarmUp(nsta: nsta, nlta: nlta), seed: 5)
        var head2 = [Double](repeating: 0, count: long.count)
        var sta2 = 0.0, lta2 = 0.0
        for i in 1..<nlta {
            let sq = long[i] * long[i]
            sta2 = cs * sq + (1 - cs) * sta2
            lta2 = cl * sq + (1 - cl) * lta2
        }
        let noFallbacks = long.withUnsafeBufferPointer { xb in
            head2.withUnsafeMutableBufferPointer { ob in
                RecursiveSTALTA.speculativeSteadyState(
                    input: xb.baseAddress!, output: ob.baseAddress!, range: nlta..<long.count,
                    warmUp: RecursiveSTALTA.speculativeWarmUp(nsta: nsta, nlta: nlta),
                    coefficients: (cs, 1 - cs, cl, 1 - cl), sta: &sta2, lta: &lta2)
            }
        }
        #expect(noFallbacks == 0)
        #expect(firstDifference(Array(head2[nlta...]), Array(serialRecursive(long, nsta: nsta, nlta: nlta)[nlta...])) == nil)
    }

    @Test("classic: the input-based steady state is bit-identical to ObsPy's loop",
          arguments: [(50, 1000), (7, 7), (1, 300), (30, 64)])
    func classicFastPath(nsta: Int, nlta: Int) throws {
        let n = 30_000
        let x = burstyNoise(count: n, seed: UInt64(nsta + 7 * nlta))
        let reference = serialClassic(x, nsta: nsta, nlta: nlta)
        let filter = try ClassicSTALTA(staSampleCount: nsta, ltaSampleCount: nlta)
        var one = filter
        #expect(firstDifference(one.process(x), reference) == nil, "one block")
        // Long blocks (fast path, ring refilled) interleaved with short ones (ring path).
        let sizes = [5, 4_000, 13, 1, 9_000, 250, 3, 11_000] + fixedChunks(total: n - 24_272, size: 97)
        #expect(sizes.reduce(0, +) == n)
        #expect(firstDifference(runChunked(filter, x, sizes: sizes), reference) == nil, "chunked")
        var inPlace = x
        var f = filter
        inPlace.withUnsafeMutableBufferPointer { buf in f.process(UnsafeBufferPointer(buf), into: buf) }
        #expect(firstDifference(inPlace, reference) == nil, "in place")
    }
}
