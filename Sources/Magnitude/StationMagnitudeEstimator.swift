// Per-window station magnitude: which relations, how they are combined, when it saturates.

/// The magnitude of one ``StationParameters`` window.
public struct StationMagnitude: Sendable, Equatable {
    /// Why a window's magnitude is flagged as saturated (a lower bound).
    public enum SaturationReason: String, Sendable, Equatable, CaseIterable {
        /// The combined magnitude is ≥ ``StationMagnitudeEstimator/saturationMagnitude``.
        case magnitudeAboveThreshold
        /// τc ≥ the window length or ≥ the 10 s cap: the window cannot resolve that period.
        case tauCAtWindowLimit
        /// τp^max ≥ the window length.
        case tauPAtWindowLimit
    }

    /// The individual relations that could be evaluated (Pd relations only with a distance).
    public var components: [MagnitudeEstimate]
    /// Inverse-variance combination of the families used (nil if nothing could be evaluated).
    public var combined: MagnitudeEstimate?
    public var saturationReasons: [SaturationReason]
    /// True if any saturation reason applies: treat ``combined`` as a lower bound.
    public var saturated: Bool { !saturationReasons.isEmpty }
    /// True when Pd / pre-event peak |u| was below ``StationMagnitudeEstimator/minimumDisplacementSignalToNoise``:
    /// τc and τp^max were left out (they would measure the noise), and Pd is an upper bound.
    public var lowSignalToNoise: Bool
}

/// Turns a window's station parameters into a magnitude with uncertainty.
///
/// Policy:
/// - **Distance known** (``StationParameters/hypocentralDistanceKilometers``): the Pd relations
///   ``PdMagnitudeKuyukAllen2013`` (σ 0.31) and ``PdMagnitudeWuZhao2006`` (σ 0.418) are evaluated
///   and merged into one Pd family: the mean of the two magnitudes, with σ the mean of the two σ
///   (exact for fully correlated errors — both use the same Pd — so the merge does not pretend to
///   gain information). The family then enters the combination with τc and τp^max.
/// - **Always** (distance-free): ``TauCMagnitude`` (σ 0.4, assumed) and
///   ``TauPMagnitudeOlsonAllen2005`` (σ 0.5, assumed).
/// - Combination: ``MagnitudeCombination/inverseVariance(_:)`` over the families.
///
/// **Saturation.** P-wave parameters over a few seconds saturate for large ruptures, whose source
/// duration exceeds the window (Kanamori 2005; Wu & Zhao 2006 give their SD for M < 6.5;
/// Ridgecrest M7.1 was underestimated by 0.8, Chung et al. 2020; OpenEEW notes saturation ≈ M 7.5).
/// A window is flagged `saturated` when the combined M ≥ ``saturationMagnitude`` (default 6.5, the
/// upper end of the Wu & Zhao calibration), or when τc (or τp^max) ≥ the window length — a window
/// shorter than one period cannot measure that period, the value is limited by the window — or
/// τc ≥ 10 s (the cap of the Taiwan offline tool). Then the magnitude is a lower bound. A τc or
/// τp^max at the window limit is listed in `components` but left out of `combined`: it bounds the
/// period from below and is no estimate of it (before the τp recursion was restarted at the pick,
/// ``RealTimeStationProcessor``, it carried long-period pre-event noise and read 2–3 s in the
/// first 0.5 s window, i.e. M ≈ 8.5, on a simulated M5.8 at 80 km).
///
/// **Noise gate.** When the window's displacement signal-to-noise ratio
/// (``StationParameters/displacementSignalToNoise``: Pd over the peak |u| of the 5 s before the
/// pick) is below ``minimumDisplacementSignalToNoise`` (default 3, the minimum SNR also used for
/// picks, SeisComP `minSNR`), τc and τp^max are not used: Σu² and the τp sums are then
/// dominated by noise (microseisms, or the start-up transient of the 0.075 Hz filters
/// when the record is short), whose long periods would read as a large magnitude. The Pd
/// relations are still used (Pd is then an upper bound of the P amplitude). This gate is our
/// heuristic, not from the cited papers. Without a noise level (no data before the pick) the
/// gate does not apply.
///
/// Early windows (0.5–2.5 s) use relations calibrated on 3–4 s windows; their magnitudes tend to
/// be low for growing ruptures. Nothing here corrects for that.
public struct StationMagnitudeEstimator: Sendable, Equatable {
    /// Combined magnitude at or above which a window is flagged saturated.
    public var saturationMagnitude: Double
    /// Displacement SNR below which τc and τp^max are not used (see the type doc).
    public var minimumDisplacementSignalToNoise: Double

    public init(saturationMagnitude: Double = 6.5, minimumDisplacementSignalToNoise: Double = 3) {
        self.saturationMagnitude = saturationMagnitude
        self.minimumDisplacementSignalToNoise = minimumDisplacementSignalToNoise
    }

    public func estimate(_ p: StationParameters) -> StationMagnitude {
        var components: [MagnitudeEstimate] = []
        var families: [MagnitudeEstimate] = []
        if let r = p.hypocentralDistanceKilometers {
            let ka = PdMagnitudeKuyukAllen2013.estimate(peakDisplacementMeters: p.peakDisplacementMeters,
                                                       hypocentralDistanceKilometers: r)
            let wz = PdMagnitudeWuZhao2006.estimate(peakDisplacementMeters: p.peakDisplacementMeters,
                                                   hypocentralDistanceKilometers: r)
            if let ka, let wz {
                components += [ka, wz]
                families.append(MagnitudeEstimate(
                    magnitude: (ka.magnitude + wz.magnitude) / 2, sigma: (ka.sigma + wz.sigma) / 2, method: .pdMean,
                    isOutsideCalibrationRange: ka.isOutsideCalibrationRange || wz.isOutsideCalibrationRange))
            }
        }
        let lowSNR = p.displacementSignalToNoise.map { $0 < minimumDisplacementSignalToNoise } ?? false
        // A period at (or beyond) the window length is not measured by that window: it is a lower
        // bound (flagged below), not an estimate, so it stays out of the combination.
        if !lowSNR, let tc = p.tauCSeconds, let e = TauCMagnitude.estimate(tauCSeconds: tc) {
            components.append(e)
            if tc < p.secondsAfterPick && tc < TauCMagnitude.cap { families.append(e) }
        }
        if !lowSNR, let tp = p.tauPMaxSeconds, let e = TauPMagnitudeOlsonAllen2005.estimate(tauPMaxSeconds: tp) {
            components.append(e)
            if tp < p.secondsAfterPick { families.append(e) }
        }
        let combined = MagnitudeCombination.inverseVariance(families)
        var reasons: [StationMagnitude.SaturationReason] = []
        if let combined, combined.magnitude >= saturationMagnitude { reasons.append(.magnitudeAboveThreshold) }
        if !lowSNR, let tc = p.tauCSeconds, tc >= p.secondsAfterPick || tc >= TauCMagnitude.cap {
            reasons.append(.tauCAtWindowLimit)
        }
        if !lowSNR, let tp = p.tauPMaxSeconds, tp >= p.secondsAfterPick { reasons.append(.tauPAtWindowLimit) }
        return StationMagnitude(components: components, combined: combined, saturationReasons: reasons,
                                lowSignalToNoise: lowSNR)
    }
}
