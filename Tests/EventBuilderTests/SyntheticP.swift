import SeismicCore
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A synthetic 3-component P wave from a known back-azimuth φ and incidence i (from vertical).
///
/// The ray travels up and away from the source, i.e. towards azimuth φ + 180°, so the unit
/// particle-motion vector of a compressional first motion is, in (N, E, Z-up):
/// `p = (sin i · cos(φ+180°), sin i · sin(φ+180°), cos i)`. Displacement `s(t) p` with
/// `s(t) = polarity · A · sin(2π f t) · e^{−t/τ}` (f = 5 Hz, τ = 0.5 s) from the pick on, plus
/// independent Gaussian noise of σ `noise` on each component (seeded SplitMix64).
struct SyntheticP {
    var north: [Double]
    var east: [Double]
    var vertical: [Double]
    var startTime: Timestamp
    var pickTime: Timestamp
    var samplingRateHz: Double

    init(backAzimuthDegrees phi: Double, incidenceDegrees inc: Double, polarity: Double = 1, amplitude: Double = 1,
         noise: Double, seed: UInt64, samplingRateHz fs: Double = 100, leadSeconds: Double = 3,
         durationSeconds: Double = 3) {
        let propagation = (phi + 180) * .pi / 180
        let i = inc * .pi / 180
        let p = (sin(i) * cos(propagation), sin(i) * sin(propagation), cos(i))
        let lead = Int((leadSeconds * fs).rounded())
        let total = lead + Int((durationSeconds * fs).rounded())
        var g = SplitMix64(seed: seed)
        north = []; east = []; vertical = []
        for k in 0..<total {
            var s = 0.0
            if k >= lead {
                let t = Double(k - lead) / fs
                s = polarity * amplitude * sin(2 * .pi * 5 * t) * exp(-t / 0.5)
            }
            north.append(s * p.0 + noise * g.normal())
            east.append(s * p.1 + noise * g.normal())
            vertical.append(s * p.2 + noise * g.normal())
        }
        startTime = Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)
        pickTime = startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: lead, samplingRateHz: fs))
        samplingRateHz = fs
    }
}
