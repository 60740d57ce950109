// The row-batched arrival-time χ² of LocatorMisfit.search and .spread (two stations) against the
// same grids evaluated node by node: the same best node, χ², edge flag and 68 % radius, bit for bit.
import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

@Suite("Locator row batches")
struct LocatorRowBatchTests {
    @Test("batched rows give the node-by-node grid search and spread exactly (300 seeded grids)")
    func batchedRowsAreExact() {
        var rng = SplitMix64(seed: 31)
        var mismatches = 0, withBackAzimuth = 0
        for trial in 0..<300 {
            let terms = (0..<2).map { s in
                LocatorTerm(x: 40 * rng.nextUniform() - 20, y: 40 * rng.nextUniform() - 20,
                            time: s == 0 ? 0 : 6 * rng.nextUniform() - 3, hasBackAzimuth: trial % 3 != 0,
                            backAzimuthDegrees: 360 * rng.nextUniform(), backAzimuthWeight: 1 / 25,
                            hasDistance: trial % 2 == 0, log10Distance: 2 * rng.nextUniform(), distanceWeight: 25)
                    .withBackAzimuthVector()
            }
            if terms[0].hasBackAzimuth { withBackAzimuth += 1 }
            var travel = [0.0, 0.0]
            var histogram = [Double](repeating: 0, count: LocatorMisfit.histogramBins(half: 10, step: 1))
            let cx = 200 * rng.nextUniform() - 100, cy = 200 * rng.nextUniform() - 100
            let (half, step) = trial % 2 == 0 ? (10.0, 1.0) : (0.2, 0.1)
            terms.withUnsafeBufferPointer { termBuffer in
                travel.withUnsafeMutableBufferPointer { travelBuffer in
                    histogram.withUnsafeMutableBufferPointer { bins in
                        let misfit = LocatorMisfit(terms: termBuffer, travel: travelBuffer, depthSquared: 100,
                                                   velocity: 6, pickVariance: 0.0025)
                        let k = Int((half / step).rounded())
                        let bound = trial % 4 == 1 ? Double.infinity : misfit.chi2(cx, cy)
                        let batched = misfit.search(cx: cx, cy: cy, half: half, step: step, bound: bound)
                        let single = misfit.search(cx: cx, cy: cy, half: half, k: k, step: step, bound: bound,
                                                   histogram: nil, memo: nil, rowTimes: nil)
                        if batched.best.x.bitPattern != single.best.x.bitPattern
                            || batched.best.y.bitPattern != single.best.y.bitPattern
                            || batched.best.chi2.bitPattern != single.best.chi2.bitPattern
                            || batched.onEdge != single.onEdge || batched.bestI != single.bestI
                            || batched.bestJ != single.bestJ {
                            mismatches += 1
                        }
                        let spreadBatched = misfit.spread(cx: cx, cy: cy, half: half, step: step, best: single.best,
                                                          bestI: single.bestI, bestJ: single.bestJ, histogram: bins)
                        let spreadSingle = misfit.spread(cx: cx, cy: cy, half: half, step: step, best: single.best,
                                                         bestI: single.bestI, bestJ: single.bestJ, histogram: bins,
                                                         batchRows: false)
                        if spreadBatched.bitPattern != spreadSingle.bitPattern { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0)
        #expect(withBackAzimuth > 150)
    }
}
