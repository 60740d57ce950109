// S-wave onset on the horizontal components after a P pick, and the S−P distance.

internal import Foundation
import Picking
import SeismicCore

/// Finds the S onset on the two horizontal components after a station's P pick.
///
/// **Method** (ours; the parts are standard): the S wave is the first large increase of
/// horizontal energy after P that is not matched on the vertical (P moves the ground along the
/// steep ray, mostly vertically; S across it, mostly horizontally). At fixed data times after the
/// pick (every ``evaluationIntervalSeconds``), on the window
/// `W = [max(P + searchStartSeconds, end − windowSeconds), end)` of the three components:
/// 1. a cheap screen: the horizontal variance `(n − n̄)² + (e − ē)²` over the last
///    ``comparisonSeconds`` of `W` must be ≥ ``minimumScreenRatio`` × that of the rest of `W`
///    (skips the AIC while nothing is arriving);
/// 2. the onset is the minimum of the sum of the two horizontals' Maeda (1985) AIC functions
///    (``Picking/MaedaAIC``, ObsPy's `aic_simple` definition) over `W` (ObsPy's `ar_pick` also
///    picks S with an AIC on the horizontals, there on AR prediction errors); a minimum with less
///    than ``minimumAfterOnsetSeconds`` of data after it waits for the next evaluation;
/// 3. it is accepted when it is ≥ ``minimumSMinusPSeconds`` after P, the horizontal variance over
///    `comparisonSeconds` after it is ≥ ``minimumEnergyRatio`` × that over the `2 · comparisonSeconds`
///    before it (the P coda), **and** the horizontal/vertical variance ratio grows by ≥
///    ``minimumHorizontalToVerticalChange`` across it. The last test is what tells S from the
///    growing P coda of a large event (without it, a simulated M 7.5 gave "S" 2.5–6.5 s after P
///    at 180 km); polarisation is the classic S criterion (e.g. Cichowicz 1993, BSSA 83(1),
///    180–189, uses the horizontal share of the energy among its S features).
/// The first accepted evaluation gives the S time; searching stops at ``maximumSMinusPSeconds``.
///
/// Every evaluation uses only samples at fixed global indices (pick + multiples of the interval),
/// so the result does not depend on how the data were chunked (``OnsiteStationAnalyzer``).
///
/// **Units**: any (counts or m/s²; ratios and AIC are scale-free). **Latency**: the S time is
/// known ``minimumAfterOnsetSeconds`` to `minimumAfterOnset + evaluationInterval` s after the onset.
/// **Limits**: a station closer than `minimumSMinusPSeconds · 8.4 km/s` (≈ 12 km) gets no S; an S
/// hidden in a strong P coda (ratio below the threshold) is missed, not guessed; a later large
/// arrival (e.g. a second event) within the window could be taken for S — ``SMinusPDistance``
/// and the event builder's consistency check guard against that.
public struct SPhaseDetector: Sendable, Equatable {
    /// The analysed window never starts before P + this (s): the P onset itself is no S.
    public var searchStartSeconds: Double = 0.5
    /// Earliest S accepted, s after P (≈ 12.6 km at 8.4 km per second of S−P).
    public var minimumSMinusPSeconds: Double = 1.5
    /// The search ends this long after P (s; 30 s ≈ 250 km).
    public var maximumSMinusPSeconds: Double = 30
    /// Length of the analysed window, s (the latest data before each evaluation).
    public var windowSeconds: Double = 5
    /// Evaluations every this many seconds of data after P + searchStart.
    public var evaluationIntervalSeconds: Double = 0.5
    /// Data needed after an onset before it is accepted, s.
    public var minimumAfterOnsetSeconds: Double = 1
    /// Length of the "after" variance window; the "before" window is twice as long, s.
    public var comparisonSeconds: Double = 1
    /// Screen: last `comparisonSeconds` over the rest of the window (horizontal variance).
    public var minimumScreenRatio: Double = 2
    /// Horizontal variance after / before the onset (4: amplitude × 2).
    public var minimumEnergyRatio: Double = 4
    /// Growth of the horizontal/vertical variance ratio across the onset.
    public var minimumHorizontalToVerticalChange: Double = 2

    public init() {}

    /// An accepted S onset.
    public struct Onset: Sendable, Equatable {
        /// Offset of the onset from the first sample of the analysed window.
        public var index: Int
        /// Horizontal variance after / before the onset.
        public var energyRatio: Double
        /// (Horizontal / vertical variance) after the onset over the same ratio before it.
        public var horizontalToVerticalChange: Double
    }

    /// Mean of `(n − n̄)² + (e − ē)²` over `range`, i.e. the two components' variances summed; nil if empty.
    static func horizontalVariance(_ n: UnsafeBufferPointer<Double>, _ e: UnsafeBufferPointer<Double>,
                                   _ range: Range<Int>) -> Double? {
        guard let vn = variance(n, range), let ve = variance(e, range) else { return nil }
        return vn + ve
    }

    /// Evaluates one window: `north`/`east`/`vertical` are the window's samples (same length),
    /// `firstIndexAfterP` the offset (samples) of the window's first sample from the P pick, `fs`
    /// the rate. `scratch` must hold ≥ 2 × the window length (two AIC functions); nothing is allocated.
    public func evaluate(north: UnsafeBufferPointer<Double>, east: UnsafeBufferPointer<Double>,
                         vertical: UnsafeBufferPointer<Double>, firstIndexAfterP: Int, samplingRateHz fs: Double,
                         scratch: UnsafeMutableBufferPointer<Double>) -> Onset? {
        let n = min(north.count, east.count, vertical.count)
        let cmp = SampleBlock.sampleCount(seconds: comparisonSeconds, samplingRateHz: fs)
        let after = SampleBlock.sampleCount(seconds: minimumAfterOnsetSeconds, samplingRateHz: fs)
        let minSP = SampleBlock.sampleCount(seconds: minimumSMinusPSeconds, samplingRateHz: fs)
        let edge = max(2, SampleBlock.sampleCount(seconds: 0.1, samplingRateHz: fs))
        guard cmp > 1, n >= 3 * cmp, scratch.count >= 2 * n else { return nil }
        // 1. Screen: the last `cmp` samples against the rest.
        guard let recent = Self.horizontalVariance(north, east, (n - cmp)..<n),
              let earlier = Self.horizontalVariance(north, east, 0..<(n - cmp)), earlier > 0,
              recent >= minimumScreenRatio * earlier else { return nil }
        // 2. Summed AIC of both horizontals; its minimum over the whole window (but the edges).
        let aicN = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
        let aicE = UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n)])
        MaedaAIC.compute(UnsafeBufferPointer(rebasing: north[0..<n]), into: aicN)
        MaedaAIC.compute(UnsafeBufferPointer(rebasing: east[0..<n]), into: aicE)
        var best: Int?
        var bestValue = Double.infinity
        let lo = max(2 * cmp - 1, minSP - firstIndexAfterP - 1), hi = n - edge
        guard lo < hi else { return nil }
        for k in lo..<hi {
            let v = aicN[k] + aicE[k]
            if v.isFinite, v < bestValue { best = k; bestValue = v }
        }
        // The onset (first sample of the second segment) needs `after` samples after it: a minimum
        // later than that is an onset still arriving; the next evaluation sees it whole.
        guard let k = best, k + 1 + max(after, cmp) <= n else { return nil }
        // 3. Accept on the horizontal variance ratio and the change of horizontal/vertical ratio.
        let post = (k + 1)..<(k + 1 + cmp), pre = (k + 1 - 2 * cmp)..<(k + 1)
        guard let hPost = Self.horizontalVariance(north, east, post),
              let hPre = Self.horizontalVariance(north, east, pre), hPre > 0,
              let vPost = Self.variance(vertical, post), let vPre = Self.variance(vertical, pre), vPost > 0, vPre > 0
        else { return nil }
        let ratio = hPost / hPre
        let hvChange = (hPost / vPost) / (hPre / vPre)
        guard ratio >= minimumEnergyRatio, hvChange >= minimumHorizontalToVerticalChange else { return nil }
        return Onset(index: k + 1, energyRatio: ratio, horizontalToVerticalChange: hvChange)
    }

    /// Variance of `x` over `range`; nil if empty.
    static func variance(_ x: UnsafeBufferPointer<Double>, _ range: Range<Int>) -> Double? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= x.count else { return nil }
        var sum = 0.0
        for i in range { sum += x[i] }
        let m = sum / Double(range.count)
        var v = 0.0
        for i in range { v += (x[i] - m) * (x[i] - m) }
        return v / Double(range.count)
    }
}

/// Hypocentral and epicentral distance from the S−P time, for constant Vp and Vs (straight rays):
/// ```
/// R = (t_S − t_P) / (1/Vs − 1/Vp),    Δ = √(R² − h²)
/// σ(log10 R) = √((σ_SP / (t_S − t_P))² + σ_v²) / ln 10
/// ```
/// σ_SP = √(σ_P² + σ_S²) (pick errors, default 0.1 and 0.5 s: ``SPhaseDetector``'s onsets on the
/// simulated scenarios were 0.06–0.5 s late at 25–75 km and 0.5–3 s at 180 km, where the S of an
/// M 7.5 grows slowly) and σ_v the relative error of the velocity factor (default 0.05, an
/// assumption: Vp and Vs are not calibrated for Sichuan). The standard single-station distance of
/// seismology (the S−P time; e.g. Shearer 2009, "Introduction to Seismology", 2nd ed., the
/// chapter on earthquake location).
public enum SMinusPDistance {
    public static func estimate(sMinusPSeconds sp: Double, pVelocityKilometersPerSecond vp: Double,
                                sVelocityKilometersPerSecond vs: Double, depthKilometers h: Double,
                                pickSigmaSeconds: Double = (0.1 * 0.1 + 0.5 * 0.5).squareRoot(),
                                relativeVelocitySigma: Double = 0.05) -> EpicentralDistanceEstimate? {
        guard sp.isFinite, sp > 0, vp.isFinite, vs.isFinite, vs > 0, vp > vs, h.isFinite, h >= 0 else { return nil }
        let r = sp / (1 / vs - 1 / vp)
        let epi = r > h ? (r * r - h * h).squareRoot() : 0
        let rel = pickSigmaSeconds / sp
        let sigma = (rel * rel + relativeVelocitySigma * relativeVelocitySigma).squareRoot() / log(10)
        return EpicentralDistanceEstimate(kilometers: max(epi, 1), log10Sigma: sigma, method: .sMinusP)
    }
}
