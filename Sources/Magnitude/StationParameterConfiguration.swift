// Settings of the real-time station-parameter chain.

/// Settings of ``RealTimeStationProcessor``. Every value is in the unit its name says; the
/// defaults are the CWB real-time chain and the usual EEW windows (algorithms.md §4).
public struct StationParameterConfiguration: Sendable, Equatable {
    /// Sampling rate of the stream, Hz.
    public var samplingRateHz: Double
    /// Digitizer gain in counts per m/s²: acceleration = input / gain. Use 1 for input already in m/s².
    public var countsPerMeterPerSecondSquared: Double
    /// Corner of the three 2-pole Butterworth high-passes (CWB: 0.075 Hz; Wu & Kanamori 2005).
    public var highPassCornerHz: Double
    /// Time constant of the running-mean removal, s (CWB: 0.999 per sample at 100 sps = 10 s).
    public var meanRemovalTimeConstantSeconds: Double
    /// Interval between snapshots after the pick, s (0.5 s).
    public var updateIntervalSeconds: Double
    /// Longest P window, s (τ0 = 3 s, Kanamori 2005 / Wu & Kanamori 2005).
    public var maximumWindowSeconds: Double
    /// τp smoothing constant α; nil → 1 − 1/fs (RTSeis; 0.99 at 100 sps).
    public var tauPAlpha: Double?
    /// Corner of the 2-pole Butterworth low-pass applied to the velocity before τp, Hz
    /// (Olson & Allen 2005: 3 Hz; RTSeis: 2-pole 3 Hz); nil → no low-pass.
    public var tauPLowPassHz: Double?
    /// τp counts toward τp^max only once the recursion (restarted at the pick) holds at least
    /// `tauPStartDelaySeconds · fs` samples; earlier samples feed it but are not maxed over. nil (default) → the recursion's time constant `1/((1 − α) fs)` (1 s for
    /// the default α at any rate): the recursion is restarted at the pick, and until its memory has
    /// filled, X/D is a ratio of sums over a fraction of a period whose value depends on the onset
    /// phase (a sine onset from zero reads 1.2–1.6 T in the first 0.5 s through the 3 Hz low-pass,
    /// ≈ +0.6…+1.4 magnitude units via Olson & Allen 2005). Olson & Allen 2005 start τp^max at
    /// 0.05 s, but with the recursion running through the pick, where the pre-event sums damp
    /// that onset ratio (and add the noise's period instead). 0.05 reproduces their start.
    public var tauPStartDelaySeconds: Double?
    /// P speed for the expected S−P time, km/s (crustal average, 6.0).
    public var pWaveSpeedKilometersPerSecond: Double
    /// S speed for the expected S−P time, km/s (3.5; ISNet uses 3.5 to exclude S, algorithms.md §7).
    public var sWaveSpeedKilometersPerSecond: Double
    /// How far back (s) a pick may lie behind the newest processed sample: the chain outputs of
    /// this many seconds are kept so a late pick (e.g. after an AIC re-pick) is caught up exactly.
    public var lookbackSeconds: Double
    /// Span before the pick (s) whose peak |u| is the noise level reported with every snapshot
    /// (``StationParameters/preEventPeakDisplacementMeters``); 5 s.
    public var noiseWindowSeconds: Double

    public init(samplingRateHz: Double,
                countsPerMeterPerSecondSquared: Double = 1,
                highPassCornerHz: Double = 0.075,
                meanRemovalTimeConstantSeconds: Double = 10,
                updateIntervalSeconds: Double = 0.5,
                maximumWindowSeconds: Double = 3,
                tauPAlpha: Double? = nil,
                tauPLowPassHz: Double? = 3,
                tauPStartDelaySeconds: Double? = nil,
                pWaveSpeedKilometersPerSecond: Double = 6.0,
                sWaveSpeedKilometersPerSecond: Double = 3.5,
                lookbackSeconds: Double = 10,
                noiseWindowSeconds: Double = 5) {
        self.samplingRateHz = samplingRateHz
        self.countsPerMeterPerSecondSquared = countsPerMeterPerSecondSquared
        self.highPassCornerHz = highPassCornerHz
        self.meanRemovalTimeConstantSeconds = meanRemovalTimeConstantSeconds
        self.updateIntervalSeconds = updateIntervalSeconds
        self.maximumWindowSeconds = maximumWindowSeconds
        self.tauPAlpha = tauPAlpha
        self.tauPLowPassHz = tauPLowPassHz
        self.tauPStartDelaySeconds = tauPStartDelaySeconds
        self.pWaveSpeedKilometersPerSecond = pWaveSpeedKilometersPerSecond
        self.sWaveSpeedKilometersPerSecond = sWaveSpeedKilometersPerSecond
        self.lookbackSeconds = lookbackSeconds
        self.noiseWindowSeconds = noiseWindowSeconds
    }

    /// Pre-event data (s) after which the start-up transient of the high-pass chain has decayed
    /// below ~10⁻⁸ of its initial size: 20 time constants of the 2-pole Butterworth poles,
    /// `20 · √2 / (2π fc)` (60 s at 0.075 Hz).
    public var recommendedWarmUpSeconds: Double {
        20 * 2.0.squareRoot() / (2 * Double.pi * highPassCornerHz)
    }

    /// Expected S−P time for hypocentral distance R: `R (1/Vs − 1/Vp)`, s.
    public func expectedSMinusPSeconds(hypocentralDistanceKilometers r: Double) -> Double {
        r * (1 / sWaveSpeedKilometersPerSecond - 1 / pWaveSpeedKilometersPerSecond)
    }
}
