// The two-station SIMD arrival-time χ² of LocatorMisfit against the generic per-station loop:
// the same bits at every node.
import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

@Suite("Locator kernel")
struct LocatorKernelTests {
    @Test("two-station SIMD time χ² is bit-identical to the per-station loop (20 000 nodes)")
    func twoStationTimeTotalIsExact() {
        var rng = SplitMix64(seed: 77)
        var mismatches = 0
        for _ in 0..<200 {
            var terms = (0..<2).map { _ in
                LocatorTerm(x: 40 * rng.nextUniform() - 20, y: 40 * rng.nextUniform() - 20,
                            time: 10 * rng.nextUniform() - 5, hasBackAzimuth: false, backAzimuthDegrees: 0,
                            backAzimuthWeight: 0, hasDistance: false, log10Distance: 0, distanceWeight: 0)
            }
            terms[0].time = 0
            let h = 30 * rng.nextUniform(), v = 5 + 2 * rng.nextUniform(), st = 0.01 + 0.1 * rng.nextUniform()
            var travel = [0.0, 0.0]
            terms.withUnsafeBufferPointer { termBuffer in
                travel.withUnsafeMutableBufferPointer { travelBuffer in
                    let misfit = LocatorMisfit(terms: termBuffer, travel: travelBuffer, depthSquared: h * h,
                                               velocity: v, pickVariance: st * st)
                    for _ in 0..<100 {
                        let x = 600 * rng.nextUniform() - 300, y = 600 * rng.nextUniform() - 300
                        let fast = misfit.timeTotal(x, y)
                        let reference = misfit.timeChi2(sumT: misfit.fillTravelTimes(x, y))
                        if fast.bitPattern != reference.bitPattern { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }
}
