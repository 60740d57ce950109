public import SeismicCore
import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The zero-phase band-pass applied before PGA/PGV in ``InstrumentalIntensityCalculator``.
///
/// GB/T 17742-2020 Appendix A asks for a 0.1–10 Hz band-pass of all three components
/// (algorithms.md §5); the exact filter of clause A.5 was not retrieved. Third-party
/// implementations use a 0.1 Hz high-pass plus a low-pass with `T0 = 0.1 s`. We choose, and
/// apply in the frequency domain over the whole window,
/// ```
/// B(f) = 1/√(1 + (f_low/f)^(2N)) · 1/√(1 + (f/f_high)^(2N)),   f_low = 0.1 Hz, f_high = 10 Hz, N = 4
/// ```
/// the magnitude of an N-th order Butterworth high-pass times an N-th order Butterworth low-pass,
/// with zero phase. Why: (1) −3 dB exactly at the nominal 0.1 and 10 Hz corners, which is how a
/// "0.1–10 Hz band-pass" is read in seismology; (2) maximally flat in the band: the gain is within
/// 1e-4 of 1 between 0.32 and 3.2 Hz, so the PGA/PGV of ordinary records (energy 0.5–5 Hz) are
/// not biased; (3) zero phase: peaks are not delayed or reshaped by phase distortion, which
/// matters because PGA and PGV are peaks of the vector sum of three components; (4) no ringing of
/// an ideal (boxcar) band-pass. Order 4 (24 dB/octave) is the usual strong-motion choice. A causal
/// time-domain Butterworth (the streaming path) has the same magnitude but a phase delay, so its
/// peaks can differ by a few percent; ``order`` and the corners are parameters so that an
/// operator can reproduce another agency's processing once A.5 is known.
public struct IntensityBandPass: Sendable, Hashable {
    /// High-pass corner `f_low`, Hz (−3 dB).
    public var lowCornerHz: Double
    /// Low-pass corner `f_high`, Hz (−3 dB).
    public var highCornerHz: Double
    /// Butterworth order `N` of each side (`≥ 1`).
    public var order: Int

    /// - Throws: ``GroundMotionError/invalidParameter(name:value:reason:)`` unless
    ///   `0 < f_low < f_high` (finite) and `order ≥ 1`.
    public init(lowCornerHz: Double, highCornerHz: Double, order: Int) throws(GroundMotionError) {
        guard lowCornerHz > 0, lowCornerHz.isFinite else {
            throw .invalidParameter(name: "low corner", value: lowCornerHz, reason: "must be positive and finite")
        }
        guard highCornerHz > lowCornerHz, highCornerHz.isFinite else {
            throw .invalidParameter(name: "high corner", value: highCornerHz, reason: "must be finite and > \(lowCornerHz) Hz")
        }
        guard order >= 1, order <= 32 else {
            throw .invalidParameter(name: "order", value: Double(order), reason: "must be in 1...32")
        }
        self.lowCornerHz = lowCornerHz
        self.highCornerHz = highCornerHz
        self.order = order
    }

    private init(unchecked low: Double, _ high: Double, _ order: Int) {
        lowCornerHz = low
        highCornerHz = high
        self.order = order
    }

    /// 0.1–10 Hz, 4th-order Butterworth magnitude on each side (see the type's documentation).
    public static let gbt17742 = IntensityBandPass(unchecked: 0.1, 10, 4)

    /// The real, zero-phase gain `B(f)` (0 at 0 Hz).
    public func gain(atFrequencyHz f: Double) -> Double {
        guard f > 0 else { return 0 }
        let twiceOrder = Double(2 * order)
        let high = 1 / (1 + pow(lowCornerHz / f, twiceOrder)).squareRoot()
        let low = 1 / (1 + pow(f / highCornerHz, twiceOrder)).squareRoot()
        return high * low
    }
}

/// How `I_A` and `I_V` are combined into the intensity (GB/T 17742-2020 A.7 as reconstructed in
/// algorithms.md §5). The standard's text was not retrieved; two of three implementations use
/// "and", one uses "or".
public enum IntensityCombinationRule: String, Sendable, Hashable {
    /// `I = I_V` if `I_A ≥ 6.0` **and** `I_V ≥ 6.0`, else `(I_A + I_V)/2`. The default: the
    /// majority reading, and the physically sensible one (PGV governs only for strong shaking,
    /// when both measures agree the shaking is strong).
    case both
    /// `I = I_V` if `I_A ≥ 6.0` **or** `I_V ≥ 6.0`, else `(I_A + I_V)/2`.
    case either
}

/// Peaks of one component after band-pass filtering (and, for velocity, integration).
public struct ComponentPeaks: Sendable, Hashable {
    /// The stream, when known.
    public var streamID: StreamID?
    /// max |a(t)| of the band-passed component, m/s².
    public var pgaMetersPerSecondSquared: Double
    /// max |v(t)| of the band-passed, integrated component, m/s.
    public var pgvMetersPerSecond: Double
    /// max |a − mean| of the unfiltered component, m/s² (for comparison with raw-peak tools).
    public var unfilteredPeakAccelerationMetersPerSecondSquared: Double

    public init(streamID: StreamID?, pgaMetersPerSecondSquared: Double, pgvMetersPerSecond: Double,
                unfilteredPeakAccelerationMetersPerSecondSquared: Double) {
        self.streamID = streamID
        self.pgaMetersPerSecondSquared = pgaMetersPerSecondSquared
        self.pgvMetersPerSecond = pgvMetersPerSecond
        self.unfilteredPeakAccelerationMetersPerSecondSquared = unfilteredPeakAccelerationMetersPerSecondSquared
    }
}

/// GB/T 17742-2020 instrumental intensity of one record.
public struct InstrumentalIntensity: Sendable, Hashable {
    /// Vector PGA: max over t of `√(a_1² + a_2² + a_3²)` of the band-passed components, m/s².
    public var pgaMetersPerSecondSquared: Double
    /// Vector PGV: same for velocity, m/s.
    public var pgvMetersPerSecond: Double
    /// Sample index of the vector PGA.
    public var pgaSample: Int
    /// Sample index of the vector PGV.
    public var pgvSample: Int
    /// `I_A = 3.17 lg PGA + 6.59` (unrounded, unclipped; −∞ for PGA = 0).
    public var intensityFromPGA: Double
    /// `I_V = 3.00 lg PGV + 9.77` (unrounded, unclipped; −∞ for PGV = 0).
    public var intensityFromPGV: Double
    /// The combined intensity, clipped to [1.0, 12.0], before rounding.
    public var unroundedIntensity: Double
    /// The instrumental intensity: ``unroundedIntensity`` rounded to one decimal (half away
    /// from zero).
    public var intensity: Double
    /// Per-component peaks, in input order.
    public var components: [ComponentPeaks]
}

/// GB/T 17742-2020 (中国地震烈度表) Appendix A instrumental intensity, offline over a whole
/// record (algorithms.md §5; reconstructed from three implementations citing clauses A.5–A.8 and
/// Song et al. 2021, who confirm the "0.1–10 Hz band-passed three-component vector PGV"):
/// 1. every component (acceleration, m/s²): demean, 5 % cosine taper, zero-pad to ≥ 2n, FFT;
///    multiply by ``IntensityBandPass`` `B(f)` → band-passed acceleration; multiply by
///    `B(f)/(i2πf)` → band-passed velocity (spectral integration, exact for the band-limited
///    signal; 0 Hz set to 0);
/// 2. `PGA = max_t √(Σ a_c(t)²)`, `PGV = max_t √(Σ v_c(t)²)` over the components;
/// 3. `I_A = 3.17 lg PGA + 6.59`, `I_V = 3.00 lg PGV + 9.77` (PGA in m/s², PGV in m/s);
/// 4. `I = I_V` if `I_A ≥ 6.0` and `I_V ≥ 6.0` (``IntensityCombinationRule``), else
///    `(I_A + I_V)/2`; clip to [1.0, 12.0]; round to one decimal.
///
/// Open questions (documented, not resolved): the exact A.5 filter (see ``IntensityBandPass``)
/// and "and" vs "or" in step 4. The standard uses three components; fewer are accepted (the
/// vector sum of what is there), and the caller must flag such results as incomplete.
///
/// Latency: offline (whole window). The 5 % taper (2.5 % per end) assumes the strong motion is
/// not at the very edges of the window; give the record some pre-event noise.
/// - Complexity: O(c · m log m) for `c` components; scratch buffers are reused between calls.
public struct InstrumentalIntensityCalculator: Sendable {
    public var bandPass: IntensityBandPass
    public var combinationRule: IntensityCombinationRule
    private var window: SpectralWindow
    private var acceleration: [[Double]] = []
    private var velocity: [[Double]] = []

    public init(bandPass: IntensityBandPass = .gbt17742, combinationRule: IntensityCombinationRule = .both,
                windowOptions: SpectralWindowOptions = SpectralWindowOptions()) {
        self.bandPass = bandPass
        self.combinationRule = combinationRule
        self.window = SpectralWindow(options: windowOptions)
    }

    /// `I_A = 3.17 lg PGA + 6.59`, PGA in m/s².
    public static func intensity(fromPGA pga: Double) -> Double { 3.17 * log10(pga) + 6.59 }
    /// `I_V = 3.00 lg PGV + 9.77`, PGV in m/s.
    public static func intensity(fromPGV pgv: Double) -> Double { 3.00 * log10(pgv) + 9.77 }

    /// Step 4: combine, clip to [1.0, 12.0] (non-finite or NaN inputs give 1.0), unrounded.
    public static func combine(intensityFromPGA iA: Double, intensityFromPGV iV: Double,
                               rule: IntensityCombinationRule = .both) -> Double {
        let useVelocity = switch rule {
        case .both: iA >= 6.0 && iV >= 6.0
        case .either: iA >= 6.0 || iV >= 6.0
        }
        let raw = useVelocity ? iV : (iA + iV) / 2
        guard !raw.isNaN else { return 1.0 }
        return Swift.min(Swift.max(raw, 1.0), 12.0)
    }

    /// Rounds to one decimal, halves away from zero (`6.25 → 6.3` as far as the binary value of
    /// the input allows).
    public static func roundToOneDecimal(_ value: Double) -> Double { (value * 10).rounded(.toNearestOrAwayFromZero) / 10 }

    /// Computes the intensity of 1–3 acceleration components (m/s²) sampled together.
    ///
    /// - Parameters:
    ///   - components: Equal-length, time-aligned components in m/s².
    ///   - samplingRateHz: Hz.
    ///   - streamIDs: Optional ids, one per component, copied into the result.
    /// - Throws: ``GroundMotionError/componentMismatch(_:)`` for 0 or > 3 components or unequal
    ///   lengths, and the window errors (empty, bad rate, non-finite).
    public mutating func compute(components: [[Double]], samplingRateHz: Double,
                                 streamIDs: [StreamID]? = nil) throws(GroundMotionError) -> InstrumentalIntensity {
        guard (1...3).contains(components.count) else {
            throw .componentMismatch("\(components.count) components; need 1 to 3")
        }
        let n = components[0].count
        for (index, component) in components.enumerated() where component.count != n {
            throw .componentMismatch("component \(index) has \(component.count) samples, component 0 has \(n)")
        }
        if let streamIDs, streamIDs.count != components.count {
            throw .componentMismatch("\(streamIDs.count) stream ids for \(components.count) components")
        }
        while acceleration.count < components.count {
            acceleration.append([])
            velocity.append([])
        }
        let bandPass = self.bandPass
        var peaks: [ComponentPeaks] = []
        peaks.reserveCapacity(components.count)
        for (index, component) in components.enumerated() {
            try window.load(component, samplingRateHz: samplingRateHz)
            try window.synthesize(into: &acceleration[index]) { _, f in
                Complex(real: bandPass.gain(atFrequencyHz: f), imaginary: 0)
            }
            try window.synthesize(into: &velocity[index]) { _, f in
                // B(f)/(i2πf) = −i·B(f)/(2πf); 0 at 0 Hz (B(0) = 0 as well).
                guard f > 0 else { return .zero }
                return Complex(real: 0, imaginary: -bandPass.gain(atFrequencyHz: f) / (2 * Double.pi * f))
            }
            let mean = window.removedMean
            var rawPeak = 0.0
            for value in component { rawPeak = Swift.max(rawPeak, abs(value - mean)) }
            peaks.append(ComponentPeaks(
                streamID: streamIDs?[index],
                pgaMetersPerSecondSquared: Self.peakAbsolute(acceleration[index]),
                pgvMetersPerSecond: Self.peakAbsolute(velocity[index]),
                unfilteredPeakAccelerationMetersPerSecondSquared: rawPeak))
        }
        let (pga, pgaSample) = Self.vectorPeak(acceleration, components: components.count, count: n)
        let (pgv, pgvSample) = Self.vectorPeak(velocity, components: components.count, count: n)
        let iA = Self.intensity(fromPGA: pga)
        let iV = Self.intensity(fromPGV: pgv)
        let combined = Self.combine(intensityFromPGA: iA, intensityFromPGV: iV, rule: combinationRule)
        return InstrumentalIntensity(
            pgaMetersPerSecondSquared: pga, pgvMetersPerSecond: pgv, pgaSample: pgaSample, pgvSample: pgvSample,
            intensityFromPGA: iA, intensityFromPGV: iV, unroundedIntensity: combined,
            intensity: Self.roundToOneDecimal(combined), components: peaks)
    }

    /// Computes the intensity of 1–3 blocks in m/s² with the same sampling rate, start time
    /// (within half a sample) and length.
    ///
    /// - Throws: ``GroundMotionError/unexpectedUnit(stream:unit:expected:)`` unless every block is
    ///   ``SampleBlock/Unit/metersPerSecondSquared``; ``GroundMotionError/componentMismatch(_:)``
    ///   for different rates, start times or lengths.
    public mutating func compute(blocks: [SampleBlock]) throws(GroundMotionError) -> InstrumentalIntensity {
        guard let first = blocks.first else { throw .componentMismatch("no components") }
        for block in blocks {
            guard block.unit == .metersPerSecondSquared else {
                throw .unexpectedUnit(stream: block.streamID.description, unit: block.unit.rawValue,
                                      expected: SampleBlock.Unit.metersPerSecondSquared.rawValue)
            }
            guard block.samplingRateHz == first.samplingRateHz else {
                throw .componentMismatch("\(block.streamID) at \(block.samplingRateHz) Hz, \(first.streamID) at \(first.samplingRateHz) Hz")
            }
            let offset = Double(block.startTime.nanosecondsSinceEpoch - first.startTime.nanosecondsSinceEpoch)
            guard abs(offset) * first.samplingRateHz < 0.5e9 else {
                throw .componentMismatch("\(block.streamID) starts \(offset / 1e9) s after \(first.streamID)")
            }
        }
        return try compute(components: blocks.map(\.samples), samplingRateHz: first.samplingRateHz,
                           streamIDs: blocks.map(\.streamID))
    }

    static func peakAbsolute(_ samples: [Double]) -> Double {
        var peak = 0.0
        for value in samples { peak = Swift.max(peak, abs(value)) }
        return peak
    }

    /// max over t of √(Σ_c x_c(t)²) and its index (first one on ties).
    static func vectorPeak(_ series: [[Double]], components: Int, count: Int) -> (Double, Int) {
        var best = 0.0
        var bestIndex = 0
        for t in 0..<count {
            var sum = 0.0
            for c in 0..<components { sum += series[c][t] * series[c][t] }
            if sum > best {
                best = sum
                bestIndex = t
            }
        }
        return (best.squareRoot(), bestIndex)
    }
}
