public import SeismicCore

/// A snapshot of the P-wave station parameters of one window that starts at the pick, emitted by
/// ``RealTimeStationProcessor`` at every update step (0.5, 1.0, … s after the pick).
///
/// All amplitudes are absolute peaks over the window samples `pick ..< pick + windowSampleCount`
/// of the chain's signals: acceleration `a` (offset removed, 0.075 Hz high-passed), velocity `v`
/// and displacement `u` (each trapezoid-integrated and high-passed again). SI units throughout
/// (the Pd relations convert to cm themselves).
public struct StationParameters: Sendable, Equatable {
    /// Stream sample index (0 = first sample given to the processor) of the pick.
    public var pickSample: Int
    /// Time of the pick sample, when the processor knows the stream start time.
    public var pickTime: Timestamp?
    /// Number of samples in the window (the pick sample included).
    public var windowSampleCount: Int
    /// Window length `windowSampleCount / fs`, s.
    public var secondsAfterPick: Double
    /// True for the last snapshot of this pick (maximum window or expected S reached).
    public var isFinal: Bool
    /// True when the window was cut short by the expected S arrival (distance known).
    public var windowEndedBySWave: Bool
    /// Hypocentral distance given with the pick, km.
    public var hypocentralDistanceKilometers: Double?
    /// Seconds of data the chain had processed before the pick (warm-up; see
    /// ``StationParameterConfiguration/recommendedWarmUpSeconds``).
    public var preEventSeconds: Double
    /// Noise level: peak |u| over the ``StationParameterConfiguration/noiseWindowSeconds`` before
    /// the pick (fewer if the stream has less before the pick), m; 0 if there were no samples before the pick.
    public var preEventPeakDisplacementMeters: Double

    /// Pd: peak |u|, m.
    public var peakDisplacementMeters: Double
    /// Pv: peak |v|, m/s.
    public var peakVelocityMetersPerSecond: Double
    /// Pa: peak |a| (high-passed acceleration), m/s².
    public var peakAccelerationMetersPerSecondSquared: Double
    /// τc over the window, s (nil while Σu² or Σu̇² is 0).
    public var tauCSeconds: Double?
    /// τp^max: maximum of τp over the window samples at least
    /// ``StationParameterConfiguration/tauPStartDelaySeconds`` after the pick, with the τp recursion
    /// restarted at the pick (no pre-event samples in its sums), s (nil while undefined).
    public var tauPMaxSeconds: Double?
    /// PGA since the pick: peak |acceleration| with only the offset removed (no 0.075 Hz
    /// high-pass), m/s². Differs from Pa only by that high-pass.
    public var peakGroundAccelerationMetersPerSecondSquared: Double
    /// PGV since the pick, m/s. Within the P window this is the same signal and interval as Pv,
    /// so it equals Pv; the processor keeps updating it after the window (``RealTimeStationProcessor/peakGroundVelocitySincePick``).
    public var peakGroundVelocityMetersPerSecond: Double

    /// Pd / pre-event peak |u| (dimensionless); nil when the noise level is 0 (no pre-event data).
    public var displacementSignalToNoise: Double? {
        preEventPeakDisplacementMeters > 0 ? peakDisplacementMeters / preEventPeakDisplacementMeters : nil
    }

    public init(pickSample: Int, pickTime: Timestamp?, windowSampleCount: Int, secondsAfterPick: Double,
                isFinal: Bool, windowEndedBySWave: Bool, hypocentralDistanceKilometers: Double?,
                preEventSeconds: Double, preEventPeakDisplacementMeters: Double = 0, peakDisplacementMeters: Double, peakVelocityMetersPerSecond: Double,
                peakAccelerationMetersPerSecondSquared: Double, tauCSeconds: Double?, tauPMaxSeconds: Double?,
                peakGroundAccelerationMetersPerSecondSquared: Double, peakGroundVelocityMetersPerSecond: Double) {
        self.pickSample = pickSample
        self.pickTime = pickTime
        self.windowSampleCount = windowSampleCount
        self.secondsAfterPick = secondsAfterPick
        self.isFinal = isFinal
        self.windowEndedBySWave = windowEndedBySWave
        self.hypocentralDistanceKilometers = hypocentralDistanceKilometers
        self.preEventSeconds = preEventSeconds
        self.preEventPeakDisplacementMeters = preEventPeakDisplacementMeters
        self.peakDisplacementMeters = peakDisplacementMeters
        self.peakVelocityMetersPerSecond = peakVelocityMetersPerSecond
        self.peakAccelerationMetersPerSecondSquared = peakAccelerationMetersPerSecondSquared
        self.tauCSeconds = tauCSeconds
        self.tauPMaxSeconds = tauPMaxSeconds
        self.peakGroundAccelerationMetersPerSecondSquared = peakGroundAccelerationMetersPerSecondSquared
        self.peakGroundVelocityMetersPerSecond = peakGroundVelocityMetersPerSecond
    }
}
