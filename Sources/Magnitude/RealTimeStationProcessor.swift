// Streaming P-wave station parameters (Pd, Pv, Pa, τc, τp^max, PGA, PGV) from a pick on.

public import SeismicCore

/// Why the processor refused a pick or a block.
public enum StationProcessingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The pick lies further back than the kept history (``StationParameterConfiguration/lookbackSeconds``).
    case pickTooOld(pickSample: Int, oldestKeptSample: Int)
    /// The pick sample index is negative (before the first sample of the stream).
    case pickBeforeStreamStart(pickSample: Int)
    /// A pick time maps to a sample index outside the representable range (seconds from the stream start).
    case pickTimeOutOfRange(secondsFromStart: Double)
    /// `pick(at:)` needs the stream start time: feed ``SampleBlock``s, or pass `startTime` to `init`.
    case unknownStartTime
    /// A hypocentral distance is not finite and positive.
    case invalidDistance(kilometers: Double)
    /// A block does not continue the stream (gap/overlap, or a different rate); reset and restart.
    case discontinuity(expected: Timestamp, actual: Timestamp)
    /// A block's sampling rate differs from the configured one.
    case samplingRateMismatch(expected: Double, actual: Double)

    public var description: String {
        switch self {
        case let .pickTooOld(pick, oldest):
            return "pick at sample \(pick) is older than the kept history (oldest kept sample \(oldest))"
        case let .pickBeforeStreamStart(pick):
            return "pick at sample \(pick) is before the first sample of the stream"
        case let .pickTimeOutOfRange(seconds):
            return "pick time is \(seconds) s from the stream start, before it or beyond any stream"
        case .unknownStartTime:
            return "pick time given but the stream start time is unknown"
        case let .invalidDistance(r):
            return "hypocentral distance must be finite and > 0 km, got \(r)"
        case let .discontinuity(expected, actual):
            return "block starts at \(actual.iso8601), expected \(expected.iso8601) (gap or overlap)"
        case let .samplingRateMismatch(expected, actual):
            return "block sampling rate \(actual) Hz differs from the configured \(expected) Hz"
        }
    }
}

/// Runs the CWB real-time chain on one (vertical) acceleration stream, continuously, and from a
/// P pick on emits ``StationParameters`` snapshots every update step.
///
/// Chain per sample (CWB `sniff_eew.c`, algorithms.md §4.2), all in `Double`:
/// ```
/// x  = input / gain                                   m/s²   (gain: counts per m/s²)
/// a0 = x − runningMean(x)                             (RunningMeanRemover, τ = 10 s)
/// a  = HP(a0)                                         (ButterworthBiquad high-pass, 2 poles, 0.075 Hz)
/// v  = HP(∫a dt)                                      m/s    (TrapezoidIntegrator, then HP)
/// u  = HP(∫v dt)                                      m      (TrapezoidIntegrator, then HP)
/// v_τ = LP₃Hz(v)                                      m/s    (input of τp; LP optional)
/// ```
/// CWB additionally subtracts a 10-s running mean from the integrated velocity before its
/// high-pass; that step is not done here (the following 0.075 Hz high-pass already removes the
/// offset it targets).
///
/// From the pick sample p, for the window `p ..< p + n`: Pd = max|u|, Pv = max|v|, Pa = max|a|,
/// τc = 2π/√(Σv²/Σu²) (Kanamori 2005; ``TauCAccumulator``), τp^max = max τp (below), PGA = max|a0|,
/// PGV = max|v|.
///
/// **τp^max starts at the pick.** The τp recursion (``TauPRecursion``, Allen & Kanamori 2003) is
/// restarted at the pick sample p with X = D = 0 and v_τ[p−1] as the previous sample, so its
/// sums hold only samples from the P onset on (`X_n = Σ_{i≥p} α^{n−i} v_τ,i²`). Run through the
/// pick, the recursion's ≈ 1/(1−α) = 1 s memory would carry the pre-event noise (whose velocity,
/// after the 0.075 Hz high-pass, is long-period) into the first second of the window, and
/// τp^max of every window would read that noise's period. τp^max is then the maximum of τp over
/// the window samples at which the restarted sums hold at least `tauPStartDelaySeconds · fs`
/// samples (default: the recursion's time
/// constant 1/((1−α) fs) = 1 s). Warm-up: until the restarted sums span about one time
/// constant, X/D is a ratio over a fraction of a period that depends on the onset phase (a sine
/// onset from zero peaks at 1.3–1.6 T in the first 0.5 s through the 3 Hz low-pass); after it,
/// a sine of period T reads ≈ 1.0–1.2 T. So the 0.5 s window has no τp^max by default.
/// Olson & Allen 2005 (Nature 438, 212–215) take τp^max over 0.05 … 4 s after the trigger
/// with the recursion running through the pick, whose pre-event sums damp that onset ratio but
/// add the noise's period; `tauPStartDelaySeconds = 0.05` gives their start.
///
/// A snapshot is emitted when the sample `p + n − 1` has been processed, for
/// `n = round(k · update · fs)`, k = 1, 2, … up to the window end = `maximumWindowSeconds` (3 s),
/// or the expected S−P time `R (1/Vs − 1/Vp)` if that is shorter and a hypocentral distance R
/// is given (Vp = 6.0, Vs = 3.5 km/s by default; then the last, shorter window is emitted too).
///
/// **Warm-up.** The chain runs on the whole stream, so its filters settle on pre-event noise. The
/// start-up transient of the 0.075 Hz high-passes decays with a ≈ 3.0 s time constant (per
/// cascaded stage, polynomially amplified in the displacement); it is below 10⁻⁸ after
/// ``StationParameterConfiguration/recommendedWarmUpSeconds`` (60 s). With less pre-event data
/// the parameters are still computed, but Pd and τc can carry part of the start-up transient
/// (a slow drift in u added to the P wave, which raises Pd and τc); every snapshot reports
/// ``StationParameters/preEventSeconds`` so a caller can discount it.
///
/// **Latency.** All stages are causal: a snapshot is available as soon as the last sample of its
/// window has been processed (no look-ahead); the integrators add half a sample each.
///
/// **Streaming.** State is carried across calls; any chunking of the input gives bit-identical
/// snapshots. A pick may be set before its sample arrives, or up to `lookbackSeconds` after it
/// (the chain outputs of that span are kept in a ring buffer and replayed exactly).
///
/// **Noise.** Each snapshot carries the peak |u| of the `noiseWindowSeconds` (5 s) before the
/// pick, so a consumer can tell a P wave from displacement noise (``StationParameters/displacementSignalToNoise``;
/// ``StationMagnitudeEstimator`` drops the period parameters when it is low).
///
/// - Complexity: O(1) per sample, no allocation per sample (ring buffers allocated once).
public struct RealTimeStationProcessor: Sendable {
    public let configuration: StationParameterConfiguration

    private var meanRemover: RunningMeanRemover
    private var highPassAcceleration: ButterworthBiquad
    private var integrateVelocity: TrapezoidIntegrator
    private var highPassVelocity: ButterworthBiquad
    private var integrateDisplacement: TrapezoidIntegrator
    private var highPassDisplacement: ButterworthBiquad
    private var tauPLowPass: ButterworthBiquad?
    private let tauPPrototype: TauPRecursion
    private let tauPStartDelaySamples: Int

    // History ring (chain outputs), for late picks.
    private let historyCapacity: Int
    private let lookbackSampleCount: Int
    private let noiseSampleCount: Int
    private var historyA0: [Double]
    private var historyA: [Double]
    private var historyV: [Double]
    private var historyU: [Double]
    private var historyTauPInput: [Double]  // v_τ = LP(v), the τp input

    /// Number of samples processed since init/reset (= stream index of the next sample).
    public private(set) var processedSampleCount = 0
    /// Time of stream sample 0, if known (from `init` or the first ``SampleBlock``).
    public private(set) var startTime: Timestamp?

    private var window: Window?

    /// Peak |a0| since the current pick (keeps updating after the window), m/s²; 0 without a pick.
    public var peakGroundAccelerationSincePick: Double { window?.pga ?? 0 }
    /// Peak |v| since the current pick (keeps updating after the window), m/s; 0 without a pick.
    public var peakGroundVelocitySincePick: Double { window?.pgv ?? 0 }

    private struct Window: Sendable {
        var pickSample: Int
        var distance: Double?
        var stepSampleCounts: [Int]
        var endedBySWave: Bool
        var nextStep = 0
        var samplesSeen = 0
        var pd = 0.0, pv = 0.0, pa = 0.0, pga = 0.0, pgv = 0.0
        var tauC = TauCAccumulator()
        var tauP: TauPRecursion
        var tauPMax: Double?
        var noisePeak = 0.0
    }

    /// - Parameters:
    ///   - configuration: chain settings (validated here).
    ///   - startTime: time of the first sample, needed by ``pick(at:hypocentralDistanceKilometers:emit:)``
    ///     when raw buffers are fed (``process(_:emit:)-(SampleBlock,_)`` sets it itself).
    /// - Throws: ``MagnitudeParameterError`` for a rate, corner, α, interval or window out of range.
    public init(configuration: StationParameterConfiguration, startTime: Timestamp? = nil)
        throws(MagnitudeParameterError)
    {
        let c = configuration
        let fs = c.samplingRateHz
        guard fs.isFinite, fs > 0 else { throw .invalidSamplingRate(fs) }
        guard c.countsPerMeterPerSecondSquared.isFinite, c.countsPerMeterPerSecondSquared != 0 else {
            throw .outOfRange(parameter: "countsPerMeterPerSecondSquared", value: c.countsPerMeterPerSecondSquared,
                              allowed: "finite, non-zero")
        }
        guard c.updateIntervalSeconds.isFinite, c.updateIntervalSeconds * fs >= 0.5 else {
            throw .outOfRange(parameter: "updateIntervalSeconds", value: c.updateIntervalSeconds, allowed: ">= 1 sample")
        }
        guard c.maximumWindowSeconds.isFinite, c.maximumWindowSeconds * fs >= 0.5, c.maximumWindowSeconds <= 3600 else {
            throw .outOfRange(parameter: "maximumWindowSeconds", value: c.maximumWindowSeconds, allowed: "1 sample … 3600 s")
        }
        guard c.pWaveSpeedKilometersPerSecond.isFinite, c.sWaveSpeedKilometersPerSecond.isFinite,
              c.sWaveSpeedKilometersPerSecond > 0, c.pWaveSpeedKilometersPerSecond > c.sWaveSpeedKilometersPerSecond
        else {
            throw .outOfRange(parameter: "pWaveSpeedKilometersPerSecond", value: c.pWaveSpeedKilometersPerSecond,
                              allowed: "Vp > Vs > 0")
        }
        guard c.lookbackSeconds.isFinite, c.lookbackSeconds >= 0, c.lookbackSeconds <= 600 else {
            throw .outOfRange(parameter: "lookbackSeconds", value: c.lookbackSeconds, allowed: "0 … 600 s")
        }
        guard c.noiseWindowSeconds.isFinite, c.noiseWindowSeconds >= 0, c.noiseWindowSeconds <= 600 else {
            throw .outOfRange(parameter: "noiseWindowSeconds", value: c.noiseWindowSeconds, allowed: "0 … 600 s")
        }
        self.configuration = c
        self.startTime = startTime
        meanRemover = try RunningMeanRemover(timeConstantSeconds: c.meanRemovalTimeConstantSeconds, samplingRateHz: fs)
        highPassAcceleration = try ButterworthBiquad(.highPass, cornerHz: c.highPassCornerHz, samplingRateHz: fs)
        highPassVelocity = highPassAcceleration
        highPassDisplacement = highPassAcceleration
        integrateVelocity = try TrapezoidIntegrator(samplingRateHz: fs)
        integrateDisplacement = integrateVelocity
        if let lp = c.tauPLowPassHz {
            tauPLowPass = try ButterworthBiquad(.lowPass, cornerHz: lp, samplingRateHz: fs)
        }
        tauPPrototype = try TauPRecursion(samplingRateHz: fs, alpha: c.tauPAlpha)
        let delay = c.tauPStartDelaySeconds ?? 1 / ((1 - tauPPrototype.alpha) * fs)
        guard delay.isFinite, delay >= 0, delay <= 3600 else {
            throw .outOfRange(parameter: "tauPStartDelaySeconds", value: delay, allowed: "0 … 3600 s")
        }
        tauPStartDelaySamples = SampleBlock.sampleCount(seconds: delay, samplingRateHz: fs)
        noiseSampleCount = SampleBlock.sampleCount(seconds: c.noiseWindowSeconds, samplingRateHz: fs)
        lookbackSampleCount = SampleBlock.sampleCount(seconds: c.lookbackSeconds, samplingRateHz: fs)
        // The ring holds the lookback span plus the noise window before its oldest pick, so a late
        // pick sees the same noise samples as a pick set in advance; one more sample keeps v_τ[p−1]
        // (the τp restart's previous sample) for the oldest allowed pick.
        historyCapacity = max(1, lookbackSampleCount) + noiseSampleCount + 1
        // Five separate buffers, each written here: sharing one (copy-on-write) would copy four of
        // them at the first sample, and the pages are touched now, not on the processing path.
        historyA0 = Array(repeating: 0, count: historyCapacity)
        historyA = Array(repeating: 0, count: historyCapacity)
        historyV = Array(repeating: 0, count: historyCapacity)
        historyU = Array(repeating: 0, count: historyCapacity)
        historyTauPInput = Array(repeating: 0, count: historyCapacity)
    }

    /// Clears all filter state, the history and the pick (start time too).
    public mutating func reset() {
        meanRemover.reset()
        highPassAcceleration.reset()
        integrateVelocity.reset()
        highPassVelocity.reset()
        integrateDisplacement.reset()
        highPassDisplacement.reset()
        tauPLowPass?.reset()
        processedSampleCount = 0
        startTime = nil
        window = nil
    }

    // MARK: - Picks

    /// Starts the P window at stream sample `pickSample` (0 = first sample processed since init/reset).
    ///
    /// Replaces any earlier pick. If the pick sample has already been processed (up to
    /// `lookbackSeconds` back), the kept chain outputs are replayed at once and snapshots whose
    /// window is already complete are emitted here, in order.
    /// - Parameter hypocentralDistanceKilometers: R, if known: the window then ends at the
    ///   expected S (R (1/Vs − 1/Vp)) when that is before `maximumWindowSeconds`.
    public mutating func beginWindow(atPickSample pickSample: Int, hypocentralDistanceKilometers: Double? = nil,
                                     emit: (StationParameters) -> Void = { _ in })
        throws(StationProcessingError)
    {
        guard pickSample >= 0 else { throw .pickBeforeStreamStart(pickSample: pickSample) }
        let oldest = max(0, processedSampleCount - max(lookbackSampleCount, 1))
        guard pickSample >= oldest else { throw .pickTooOld(pickSample: pickSample, oldestKeptSample: oldest) }
        if let r = hypocentralDistanceKilometers, !(r.isFinite && r > 0) { throw .invalidDistance(kilometers: r) }
        let c = configuration
        let fs = c.samplingRateHz
        var endSeconds = c.maximumWindowSeconds
        var endedBySWave = false
        if let r = hypocentralDistanceKilometers {
            let sp = c.expectedSMinusPSeconds(hypocentralDistanceKilometers: r)
            if sp < endSeconds {
                endSeconds = sp
                endedBySWave = true
            }
        }
        let endSamples = max(1, SampleBlock.sampleCount(seconds: endSeconds, samplingRateHz: fs))
        var steps: [Int] = []
        var k = 1
        while true {
            let n = SampleBlock.sampleCount(seconds: Double(k) * c.updateIntervalSeconds, samplingRateHz: fs)
            if n >= endSamples { break }
            if n >= 1, n > (steps.last ?? 0) { steps.append(n) }
            k += 1
        }
        steps.append(endSamples)
        var w = Window(pickSample: pickSample, distance: hypocentralDistanceKilometers, stepSampleCounts: steps,
                       endedBySWave: endedBySWave, tauP: tauPPrototype)
        // Replay kept history from the pick on.
        var index = pickSample
        while index < processedSampleCount {
            let slot = index % historyCapacity
            accumulate(into: &w, a0: historyA0[slot], a: historyA[slot], v: historyV[slot], u: historyU[slot],
                       vTauP: historyTauPInput[slot], emit: emit)
            index += 1
        }
        window = w
    }

    /// Starts the P window at the sample nearest to `time` (needs the stream start time).
    public mutating func pick(at time: Timestamp, hypocentralDistanceKilometers: Double? = nil,
                              emit: (StationParameters) -> Void = { _ in }) throws(StationProcessingError)
    {
        guard let startTime else { throw .unknownStartTime }
        let seconds = time.seconds(since: startTime)
        let sample = (seconds * configuration.samplingRateHz).rounded()
        guard sample >= 0, sample < 1e15 else { throw .pickTimeOutOfRange(secondsFromStart: seconds) }
        try beginWindow(atPickSample: Int(sample), hypocentralDistanceKilometers: hypocentralDistanceKilometers,
                        emit: emit)
    }

    /// Ends the current pick (no further snapshots; PGA/PGV stop updating).
    public mutating func endWindow() { window = nil }

    // MARK: - Processing

    /// Processes samples (in counts, or m/s² with gain 1) continuing the stream.
    ///
    /// The open window, if any, is moved out of its optional stored property for the whole block
    /// and the samples update a local copy, put back at the end: the per-sample path then neither
    /// tests the optional nor moves the window in and out for every sample (it did, ≈ 11 µs per
    /// channel per 100-sample packet during a window against ≈ 2 µs without one; `quakewarn bench`,
    /// station stage). The arithmetic and its order are unchanged, so are the snapshots.
    public mutating func process(_ samples: UnsafeBufferPointer<Double>, emit: (StationParameters) -> Void) {
        guard var w = window else {
            for x in samples { _ = step(x) }
            return
        }
        window = nil
        for x in samples {
            let (a0, a, v, u, vForTauP) = step(x)
            if processedSampleCount - 1 >= w.pickSample {
                accumulate(into: &w, a0: a0, a: a, v: v, u: u, vTauP: vForTauP, emit: emit)
            }
        }
        window = w
    }

    /// One sample through the chain, into the history ring; returns (a0, a, v, u, v_τ).
    @inline(__always)
    private mutating func step(_ x: Double) -> (Double, Double, Double, Double, Double) {
        let acc = x / configuration.countsPerMeterPerSecondSquared
        let a0 = meanRemover.step(acc)
        let a = highPassAcceleration.step(a0)
        let v = highPassVelocity.step(integrateVelocity.step(a))
        let u = highPassDisplacement.step(integrateDisplacement.step(v))
        let vForTauP = tauPLowPass?.step(v) ?? v
        let slot = processedSampleCount % historyCapacity
        historyA0[slot] = a0
        historyA[slot] = a
        historyV[slot] = v
        historyU[slot] = u
        historyTauPInput[slot] = vForTauP
        processedSampleCount += 1
        return (a0, a, v, u, vForTauP)
    }

    /// Convenience: processes an array and returns the snapshots emitted.
    public mutating func process(_ samples: [Double]) -> [StationParameters] {
        var out: [StationParameters] = []
        samples.withUnsafeBufferPointer { process($0) { out.append($0) } }
        return out
    }

    /// Processes a block of the stream; the first block sets ``startTime``.
    /// - Throws: ``StationProcessingError/discontinuity(expected:actual:)`` if the block does not start
    ///   within half a sample of where the stream ended (call ``reset()`` and start again), or
    ///   ``StationProcessingError/samplingRateMismatch(expected:actual:)``.
    public mutating func process(_ block: SampleBlock, emit: (StationParameters) -> Void) throws(StationProcessingError) {
        guard block.samplingRateHz == configuration.samplingRateHz else {
            throw .samplingRateMismatch(expected: configuration.samplingRateHz, actual: block.samplingRateHz)
        }
        if let startTime {
            let expected = startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(
                samples: processedSampleCount, samplingRateHz: configuration.samplingRateHz))
            let tolerance = 0.5e9 / configuration.samplingRateHz
            if Double(block.startTime.nanoseconds(since: expected)).magnitude > tolerance {
                throw .discontinuity(expected: expected, actual: block.startTime)
            }
        } else {
            startTime = block.startTime
        }
        block.samples.withUnsafeBufferPointer { process($0, emit: emit) }
    }

    /// One window sample into `w` (the open window, moved out of ``window`` by the caller).
    @inline(__always)
    private func accumulate(into w: inout Window, a0: Double, a: Double, v: Double, u: Double, vTauP: Double,
                            emit: (StationParameters) -> Void) {
        // After the last snapshot only PGA/PGV still grow (this path runs for every sample until
        // the next pick or endWindow()).
        w.pga = max(w.pga, a0.magnitude)
        w.pgv = max(w.pgv, v.magnitude)
        guard w.nextStep < w.stepSampleCounts.count else { return }
        if w.samplesSeen == 0 {
            // First window sample: the noise level from the ring, [pick − N, pick) ∩ kept samples.
            let first = max(0, w.pickSample - noiseSampleCount, processedSampleCount - historyCapacity)
            var peak = 0.0
            var i = first
            while i < w.pickSample {
                peak = max(peak, historyU[i % historyCapacity].magnitude)
                i += 1
            }
            w.noisePeak = peak
            // Restart τp at the onset; v_τ[p−1] is kept in the ring (capacity has one spare sample),
            // v_τ[−1] = 0 as in the recursion's own convention.
            let previous = w.pickSample >= 1 ? historyTauPInput[(w.pickSample - 1) % historyCapacity] : 0
            w.tauP.restart(previousSample: previous)
        }
        w.samplesSeen += 1
        w.pd = max(w.pd, u.magnitude)
        w.pv = max(w.pv, v.magnitude)
        w.pa = max(w.pa, a.magnitude)
        w.tauC.add(displacement: u, velocity: v)
        if let tp = w.tauP.step(vTauP), w.samplesSeen >= tauPStartDelaySamples {
            w.tauPMax = max(w.tauPMax ?? tp, tp)
        }
        if w.samplesSeen == w.stepSampleCounts[w.nextStep] {
            w.nextStep += 1
            let fs = configuration.samplingRateHz
            let snapshot = StationParameters(
                pickSample: w.pickSample,
                pickTime: startTime?.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: w.pickSample,
                                                                                       samplingRateHz: fs)),
                windowSampleCount: w.samplesSeen,
                secondsAfterPick: Double(w.samplesSeen) / fs,
                isFinal: w.nextStep == w.stepSampleCounts.count,
                windowEndedBySWave: w.endedBySWave && w.nextStep == w.stepSampleCounts.count,
                hypocentralDistanceKilometers: w.distance,
                preEventSeconds: Double(w.pickSample) / fs,
                preEventPeakDisplacementMeters: w.noisePeak,
                peakDisplacementMeters: w.pd,
                peakVelocityMetersPerSecond: w.pv,
                peakAccelerationMetersPerSecondSquared: w.pa,
                tauCSeconds: w.tauC.tauCSeconds,
                tauPMaxSeconds: w.tauPMax,
                peakGroundAccelerationMetersPerSecondSquared: w.pga,
                peakGroundVelocityMetersPerSecond: w.pgv)
            emit(snapshot)
        }
    }
}
