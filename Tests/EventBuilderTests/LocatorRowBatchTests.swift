// The row-batched arrival-time χ² of LocatorMisfit.search and .spread (two stations) against the
// same grids evaluated node by node: the same best node, χ², edge flag and 68 % radius, bit for bit.
import Foundation
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

@Suite("Locator early exit")
struct LocatorEarlyExitTests {
    /// The early exits of completeChi2 (after the time terms, the back-azimuth lower bound |sin|,
    /// each station's terms) never stop a node whose complete χ² is ≤ the limit: with a limit, the
    /// value is the complete χ² bit for bit when that is ≤ the limit, and > the limit otherwise.
    /// (A bound of 180° − 90°·|sin| for nodes behind the station was tried and made the bench's
    /// two-station update slower; an invalid bound, 180° − 80°·|sin|, fails this test.)
    @Test("early exits are exact: ≤ limit gives the complete χ², > limit only when the complete χ² is (200 000 nodes)")
    func earlyExitIsExact() {
        var rng = SplitMix64(seed: 5150)
        var wrong = 0, exited = 0, behind = 0
        for trial in 0..<2000 {
            let terms = (0..<2).map { s in
                LocatorTerm(x: 40 * rng.nextUniform() - 20, y: 40 * rng.nextUniform() - 20,
                            time: s == 0 ? 0 : 6 * rng.nextUniform() - 3, hasBackAzimuth: true,
                            backAzimuthDegrees: 360 * rng.nextUniform(),
                            backAzimuthWeight: 1 / pow(1 + 20 * rng.nextUniform(), 2),
                            hasDistance: trial % 2 == 0, log10Distance: 2 * rng.nextUniform(), distanceWeight: 25)
                    .withBackAzimuthVector()
            }
            var travel = [0.0, 0.0]
            terms.withUnsafeBufferPointer { termBuffer in
                travel.withUnsafeMutableBufferPointer { travelBuffer in
                    let misfit = LocatorMisfit(terms: termBuffer, travel: travelBuffer, depthSquared: 100,
                                               velocity: 6, pickVariance: 0.0025)
                    for _ in 0..<100 {
                        // Nodes near a station too (exactly behind or beside it).
                        let near = rng.nextUniform() < 0.3
                        let x = near ? terms[0].x + 2 * rng.nextUniform() - 1 : 600 * rng.nextUniform() - 300
                        let y = near ? terms[0].y + 2 * rng.nextUniform() - 1 : 600 * rng.nextUniform() - 300
                        let time = misfit.timeTotal(x, y)
                        let full = misfit.completeChi2(x, y, timeTotal: time, limit: .infinity)
                        // Limits just below, at and above the complete value, and the time part.
                        for limit in [full, full.nextDown, full.nextUp, full * 0.5, time, time + 0.5 * (full - time)] {
                            let q = misfit.completeChi2(x, y, timeTotal: time, limit: limit)
                            if full <= limit {
                                if q.bitPattern != full.bitPattern { wrong += 1 }
                            } else {
                                if !(q > limit) { wrong += 1 }
                                if q.bitPattern != full.bitPattern { exited += 1 }
                            }
                        }
                        let dx = x - terms[0].x, dy = y - terms[0].y
                        if terms[0].backAzimuthEast * dx + terms[0].backAzimuthNorth * dy < 0 { behind += 1 }
                    }
                }
            }
        }
        #expect(wrong == 0)
        #expect(exited > 10_000, "\(exited) early exits")
        #expect(behind > 50_000, "\(behind) nodes behind the first station")
    }
}
