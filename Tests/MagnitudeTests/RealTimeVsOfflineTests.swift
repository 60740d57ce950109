// Where the real-time Pd (streaming CWB chain: running-mean removal, 2-pole 0.075 Hz high-passes,
// trapezoid integrations) and the offline Pd (GroundMotion.ResponseSimulation: demean, 5 % cosine
// taper, FFTW spectral double integration with a zero-phase 0.075 Hz band taper) agree, and why
// they differ.
import Foundation
import GroundMotion
import Magnitude
import MiniSEED
import SeismicCore
import Testing
import TestSupport

enum PdPaths {
    /// Real-time Pd of the 3 s window starting at `pick` (samples in m/s², or counts with `gain`).
    static func realTime(_ x: [Double], pick: Int, fs: Double, gain: Double = 1) throws -> Double {
        var p = try RealTimeStationProcessor(configuration: StationParameterConfiguration(samplingRateHz: fs,
                                                                                         countsPerMeterPerSecondSquared: gain))
        try p.beginWindow(atPickSample: pick)
        let snaps = p.process(x)
        return try #require(snaps.last { $0.secondsAfterPick == 3 }).peakDisplacementMeters
    }

    /// Offline Pd: the whole record integrated twice in the frequency domain with a zero-phase band
    /// taper that is 0 below 0.0375 Hz and 1 above 0.075 Hz (the real-time corner); peak |u| over
    /// [pick, pick + 3 s).
    static func offline(_ x: [Double], pick: Int, fs: Double, gain: Double = 1) throws -> Double {
        var sim = ResponseSimulation()
        let band = try CosineBandTaper(lowStopHz: 0.0375, lowPassHz: 0.075, highPassHz: fs / 2 * 0.9, highStopHz: fs / 2)
        let u = try sim.convert(x.map { $0 / gain }, samplingRateHz: fs, from: .acceleration, to: .displacement, preFilter: band)
        let end = min(u.count, pick + Int(3 * fs))
        return u[pick..<end].map(abs).max() ?? 0
    }

    /// A displacement pulse `A·sin(2πf(t−t0))·w(t−t0)` with a Hann-squared envelope of `cycles`
    /// periods (zero displacement, velocity and acceleration at both ends), and its analytic
    /// acceleration (second derivative), sampled at fs.
    static func pulse(amplitude a: Double, frequency f: Double, cycles: Double, start t0: Double, count: Int, fs: Double)
        -> (displacement: [Double], acceleration: [Double])
    {
        let duration = cycles / f
        let w = 2 * Double.pi * f, v = Double.pi / duration
        var u = [Double](repeating: 0, count: count), acc = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let t = Double(i) / fs - t0
            guard t > 0, t < duration else { continue }
            // envelope e = sin⁴(π t / T): e' and e'' analytic.
            let s = sin(v * t), c = cos(v * t)
            let e = pow(s, 4), e1 = 4 * pow(s, 3) * c * v, e2 = v * v * (12 * s * s * c * c - 4 * pow(s, 4))
            let g = sin(w * t), g1 = w * cos(w * t), g2 = -w * w * sin(w * t)
            u[i] = a * g * e
            acc[i] = a * (g2 * e + 2 * g1 * e1 + g * e2)
        }
        return (u, acc)
    }
}

@Suite("Real-time vs offline Pd")
struct RealTimeVsOfflineTests {
    static let fs = 100.0

    /// Analytic pulses well inside the band (0.5–2 Hz, ≫ 0.075 Hz). **Offline** (zero-phase, the
    /// whole pulse in the window): the true peak displacement to 0.1 % (only the band taper's
    /// tail below 0.075 Hz and the end taper touch it). **Real-time**: 0–25 % *above* the truth
    /// (measured +6 %, +16 %, +19 % at 2, 1, 0.5 Hz): the three causal 2-pole 0.075 Hz high-passes
    /// have unit gain there but a phase lead ≈ √2·0.075/f rad each, which grows towards low
    /// frequencies, so the pulse's spectral components are shifted unequally and the waveform is
    /// distorted (dispersed); its peak grows. In magnitude units (Wu & Zhao, 1/0.729 per log unit)
    /// 25 % is ≤ 0.13.
    @Test("in band (0.5–2 Hz pulses): offline = analytic Pd to 0.1 %; real-time 0–25 % above (causal high-pass phase)",
          arguments: [(2.0, 3.0), (1.0, 2.0), (0.5, 1.0)])
    func inBand(frequency: Double, cycles: Double) throws {
        let pick = 12_000
        let (u, acc) = PdPaths.pulse(amplitude: 1e-3, frequency: frequency, cycles: cycles, start: Double(pick) / Self.fs,
                                     count: pick + 600, fs: Self.fs)
        let truth = u[pick..<(pick + 300)].map(abs).max() ?? 0
        let off = try PdPaths.offline(acc, pick: pick, fs: Self.fs)
        let rt = try PdPaths.realTime(acc, pick: pick, fs: Self.fs)
        #expect(abs(off / truth - 1) < 1e-3, "offline/truth \(off / truth)")
        #expect(rt / truth >= 1.0 && rt / truth <= 1.25, "real-time/truth \(rt / truth)")
    }

    /// Near the corner (a 0.2 Hz, 0.6-cycle pulse: much energy below 0.1 Hz) the causal chain
    /// removes and distorts more than the zero-phase taper: real-time 0.67 of the truth, offline
    /// 0.89 (its taper reaches 1 only at 0.075 Hz). Both lose what is below the band — that part
    /// of Pd is not measured by either path by design.
    @Test("near the 0.075 Hz corner (0.2 Hz pulse): real-time < 0.75 × truth, offline 0.85–0.95 × truth")
    func nearCorner() throws {
        let pick = 12_000
        let (u, acc) = PdPaths.pulse(amplitude: 1e-3, frequency: 0.2, cycles: 0.6, start: Double(pick) / Self.fs,
                                     count: pick + 600, fs: Self.fs)
        let truth = u[pick..<(pick + 300)].map(abs).max() ?? 0
        let rt = try PdPaths.realTime(acc, pick: pick, fs: Self.fs)
        let off = try PdPaths.offline(acc, pick: pick, fs: Self.fs)
        #expect(rt / truth < 0.75, "real-time/truth \(rt / truth)")
        #expect(off / truth > 0.85 && off / truth < 0.95, "offline/truth \(off / truth)")
    }

    /// A constant acceleration offset (a digitizer DC offset of 0.01 m/s², 10× the pulse's peak
    /// acceleration order): the real-time running-mean removal starts at the first sample and the
    /// high-passes reject DC; the offline path demeans the window. Neither Pd moves.
    @Test("a constant 0.01 m/s² offset changes neither Pd (real-time to 1e-9, offline to 1e-5)")
    func offset() throws {
        let pick = 2_000
        let (_, acc) = PdPaths.pulse(amplitude: 1e-3, frequency: 1, cycles: 2, start: Double(pick) / Self.fs, count: pick + 600,
                                     fs: Self.fs)
        let shifted = acc.map { $0 + 0.01 }
        let rt0 = try PdPaths.realTime(acc, pick: pick, fs: Self.fs), rt1 = try PdPaths.realTime(shifted, pick: pick, fs: Self.fs)
        let off0 = try PdPaths.offline(acc, pick: pick, fs: Self.fs), off1 = try PdPaths.offline(shifted, pick: pick, fs: Self.fs)
        #expect(abs(rt1 / rt0 - 1) < 1e-9)
        #expect(abs(off1 / off0 - 1) < 1e-5)
    }

    /// The real K-NET record (AKT013 EW, pick at sample 1000 = 10 s after the start):
    /// - **Same data, both paths agree within 3 %**: with the record's own pre-event noise
    ///   mirrored to 60 s before it (what `quakewarn magnitude --pre-roll mirror` does: a station
    ///   that has been running) and the offline window ending at pick + 3 s (only the data the
    ///   real-time path has seen), Pd = 1.72e-4 m (real-time) vs 1.75e-4 m (offline).
    /// - **Causality**: the offline path on the *whole* 59 s record gives 3× more (5.2e-4 m): its
    ///   zero-phase 0.075 Hz filter has a ±10 s impulse response that pulls the S wave's long
    ///   periods back into the P window. Offline Pd must be measured on data up to the window end.
    /// - **Start-up transient**: with only the raw 10 s before the pick, both paths read ≈ 2× the
    ///   warmed-up value (real-time 3.5e-4, offline 3.8e-4 m): the real-time high-passes start from
    ///   rest inside their ≈ 13 s time constants (2-pole 0.075 Hz), the offline taper and demean
    ///   act on a window dominated by the P wave. Hence the ≥ 60 s warm-up recommendation.
    @Test("K-NET AKT013: same data → real-time and offline within 3 %; whole record offline 3× (acausal); 10 s warm-up ≈ 2× (start-up)")
    func knet() throws {
        let block = try #require(try MiniSEEDReader.read(path: Fixtures.path("mseed/obspy_KNET_AKT013_EW.mseed")).segments.first)
        let ref = try AKT013Reference.load()
        let x = block.samples, pick = ref.pickSample, g = ref.gain
        let pre = Array(x[..<(pick - 100)])
        var roll: [Double] = []
        var forward = false
        while roll.count < 6000 {
            roll = (forward ? pre : pre.reversed()) + roll
            forward.toggle()
        }
        let mirrored = roll + x
        let mPick = pick + roll.count
        let rtWarm = try PdPaths.realTime(mirrored, pick: mPick, fs: Self.fs, gain: g)
        let offWarm = try PdPaths.offline(Array(mirrored[..<(mPick + 300)]), pick: mPick, fs: Self.fs, gain: g)
        #expect(abs(rtWarm / offWarm - 1) < 0.03, "real-time \(rtWarm) vs offline \(offWarm)")
        let offWhole = try PdPaths.offline(x, pick: pick, fs: Self.fs, gain: g)
        #expect(offWhole / rtWarm > 2.5, "whole-record offline \(offWhole)")
        let rtRaw = try PdPaths.realTime(x, pick: pick, fs: Self.fs, gain: g)
        let offRaw = try PdPaths.offline(Array(x[..<(pick + 300)]), pick: pick, fs: Self.fs, gain: g)
        #expect(rtRaw / rtWarm > 1.6 && offRaw / offWarm > 1.6, "raw warm-up: \(rtRaw), \(offRaw)")
        #expect(abs(rtRaw / offRaw - 1) < 0.15)
    }
}
