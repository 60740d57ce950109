// Times QuakeWarn's STA/LTA CFs over 10,000,000 samples (windows 50/1000, output buffer reused)
// with both the wall clock and this thread's CPU clock, and prints one JSON object per CF.
// `scripts/compare-stalta.sh` alternates this with ObsPy's C code so that both see the same
// machine conditions. A plain executable (not ordo-one) because the comparison needs the
// thread CPU time at microsecond resolution.
import Foundation
import Picking
import SeismicCore

func now(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func time(repeat count: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    try body()  // warm-up
    var walls: [Double] = [], cpus: [Double] = []
    for _ in 0..<count {
        let w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID)
        try body()
        cpus.append(now(CLOCK_THREAD_CPUTIME_ID) - c0)
        walls.append(now(CLOCK_MONOTONIC) - w0)
    }
    return (median(walls), median(cpus))
}

var rng = SplitMix64(seed: 815)
let input = (0..<10_000_000).map { _ in rng.nextStandardNormal() }
var output = [Double](repeating: 0, count: input.count)
let repeats = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 9
let recursive = try time(repeat: repeats) {
    var cf = try RecursiveSTALTA(staSampleCount: 50, ltaSampleCount: 1000)
    cf.process(input, into: &output)
}
print("{\"name\": \"recursive\", \"wall\": \(recursive.wall), \"cpu\": \(recursive.cpu)}")
let classic = try time(repeat: repeats) {
    var cf = try ClassicSTALTA(staSampleCount: 50, ltaSampleCount: 1000)
    cf.process(input, into: &output)
}
print("{\"name\": \"classic\", \"wall\": \(classic.wall), \"cpu\": \(classic.cpu)}")
