internal import Foundation
public import SeismicCore

/// A real-time trigger state machine fed with characteristic-function (CF) values, e.g. an
/// STA/LTA ratio, block by block. It combines ObsPy's on/off hysteresis (`trigger_onset`) with
/// the re-arming, minimum-duration, dead-time and maximum-length rules of SeisComP's scautopick
/// detector (`apps/processing/scautopick/detector.cpp`; algorithms.md §2).
///
/// States and rules (sample indices are 0-based, counted since construction or ``reset(startTime:)``):
/// - **Armed** → a sample with `cf ≥ onThreshold` opens a *candidate* at that sample (`onSample`).
/// - **Minimum duration**: the candidate needs `minimumDurationSamples` consecutive samples with
///   `cf ≥ onThreshold` (counting `onSample`); if the CF drops below ON earlier, the candidate is
///   dropped (``Event/suppressed(onSample:atSample:reason:)`` with `.tooShort`) and the machine is
///   armed again. With the default of 1 sample a trigger is declared at its first sample, exactly
///   like ObsPy.
/// - **Dead time** (SeisComP): after a previous trigger with CF amplitude `A_prev` (the maximum CF
///   from its ON sample over `amplitudeWindowSeconds`, or until its OFF if earlier), a new
///   candidate at time distance `dt = (onSample − previousOnSample)/fs` is declared only once its
///   running CF maximum reaches
///   `A_required = minimumAmplitudeOffset + A_prev · exp(−(dt / deadTimeSeconds)²)`
///   (`A_required = minimumAmplitudeOffset` if `deadTimeSeconds ≤ 0`). While it waits, the
///   candidate stays alive as long as `cf ≥ offThreshold`; if the CF drops below OFF first it is
///   dropped with `.belowDeadTimeAmplitude`. The first trigger after construction/reset has no
///   amplitude requirement.
/// - **Triggered** → ends at the first sample with `cf < offThreshold`; the OFF sample reported
///   is the last sample still `≥ offThreshold` (ObsPy's convention) and the machine is armed again
///   immediately (the CF is below OFF).
/// - **Maximum length**: a trigger that would last longer than `maximumLengthSamples` (still
///   `cf ≥ offThreshold` at `onSample + maximumLengthSamples + 1`, as ObsPy's `off − on > max_len`)
///   is forced off at `onSample + maximumLengthSamples`
///   (``Event/forcedOff(onSample:offSample:onTime:offTime:maximumCF:)``); the machine then
///   re-arms only when the CF drops below `offThreshold` (no new trigger inside one long
///   high-CF episode).
/// - NaN CF values compare as "below every threshold".
///
/// With `minimumDurationSamples = 1`, no previous trigger (or `minimumAmplitudeOffset = 0` and
/// `deadTimeSeconds = 0`) and no maximum length, the ON/OFF pairs equal ObsPy's
/// `trigger_onset(cf, on, off)` for `off ≤ on` (tested against ``TriggerOnset``).
///
/// Latency: a trigger is reported at the sample where it is declared (`declaredSample`, ≥
/// `onSample + minimumDurationSamples − 1`, later if the dead-time amplitude is reached later);
/// an OFF one sample after the OFF sample. Output does not depend on the chunking of the CF.
/// - Complexity: O(1) per sample, no allocation besides the caller's `emit` closure.
public struct TriggerStateMachine: Sendable {
    /// Parameters. All thresholds are in CF units (dimensionless for STA/LTA).
    public struct Configuration: Sendable, Equatable {
        /// CF level that opens a trigger (default 3.5, the reference STA/LTA cases).
        public var onThreshold: Double
        /// CF level below which a trigger ends and the machine re-arms (default 0.5; must be ≤ ON).
        public var offThreshold: Double
        /// Consecutive samples with `cf ≥ onThreshold` needed to declare a trigger (default 1).
        public var minimumDurationSamples: Int
        /// Dead time in seconds (default 30 s, scautopick `thresholds.deadTime`; ≤ 0 disables the decay term).
        public var deadTimeSeconds: Double
        /// Minimum CF amplitude offset for triggers after the first (default 3, scautopick `thresholds.minAmplOffset`).
        public var minimumAmplitudeOffset: Double
        /// Window after ON over which a trigger's CF amplitude is measured, seconds (default 10 s,
        /// scautopick `thresholds.amplMaxTimeWindow`).
        public var amplitudeWindowSeconds: Double
        /// Maximum trigger length in samples; nil = unlimited (default nil).
        public var maximumLengthSamples: Int?

        public init(onThreshold: Double = 3.5, offThreshold: Double = 0.5, minimumDurationSamples: Int = 1,
                    deadTimeSeconds: Double = 30, minimumAmplitudeOffset: Double = 3,
                    amplitudeWindowSeconds: Double = 10, maximumLengthSamples: Int? = nil)
        {
            self.onThreshold = onThreshold
            self.offThreshold = offThreshold
            self.minimumDurationSamples = minimumDurationSamples
            self.deadTimeSeconds = deadTimeSeconds
            self.minimumAmplitudeOffset = minimumAmplitudeOffset
            self.amplitudeWindowSeconds = amplitudeWindowSeconds
            self.maximumLengthSamples = maximumLengthSamples
        }
    }

    /// A parameter that cannot be used.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        case nonFinite(parameter: String, value: Double)
        case offAboveOn(on: Double, off: Double)
        case nonPositiveSamples(parameter: String, value: Int)
        case invalidSamplingRate(Double)

        public var description: String {
            switch self {
            case let .nonFinite(p, v): return "\(p) must be finite, got \(v)"
            case let .offAboveOn(on, off): return "offThreshold \(off) must be <= onThreshold \(on)"
            case let .nonPositiveSamples(p, v): return "\(p) must be >= 1 sample, got \(v)"
            case let .invalidSamplingRate(fs): return "sampling rate must be positive and finite, got \(fs) Hz"
            }
        }
    }

    /// Why a candidate was dropped.
    public enum SuppressionReason: Sendable, Equatable {
        /// The CF fell below ON before `minimumDurationSamples` samples.
        case tooShort(samplesAboveOn: Int)
        /// The CF fell below OFF before reaching the dead-time amplitude requirement.
        case belowDeadTimeAmplitude(required: Double, reached: Double)
    }

    /// What the machine reports.
    public enum Event: Sendable, Equatable {
        /// A trigger was declared at `declaredSample`; it started at `onSample`. `cf` is the CF
        /// maximum from `onSample` to `declaredSample`.
        case triggerOn(onSample: Int, declaredSample: Int, onTime: Timestamp, cf: Double)
        /// The trigger ended normally; `offSample` is its last sample with `cf ≥ offThreshold`.
        case triggerOff(onSample: Int, offSample: Int, onTime: Timestamp, offTime: Timestamp, maximumCF: Double)
        /// The trigger reached the maximum length and was ended at `offSample = onSample + maximumLengthSamples`.
        case forcedOff(onSample: Int, offSample: Int, onTime: Timestamp, offTime: Timestamp, maximumCF: Double)
        /// A candidate starting at `onSample` was dropped at `atSample`.
        case suppressed(onSample: Int, atSample: Int, reason: SuppressionReason)
    }

    private enum State: Sendable, Equatable {
        case armed
        /// Waiting for `cf < off` after a forced off.
        case waitingForRearm
        /// Candidate: consecutive samples ≥ on so far, running max, whether the duration is met.
        case candidate(onSample: Int, run: Int, maxCF: Double, durationMet: Bool)
        case triggered(onSample: Int, maxCF: Double)
    }

    public let configuration: Configuration
    /// Sampling rate of the CF in Hz.
    public let samplingRateHz: Double
    /// Time of CF sample 0.
    public private(set) var startTime: Timestamp
    /// Samples consumed since construction or the last reset.
    public private(set) var processedSampleCount = 0
    private var state: State = .armed
    private let amplitudeWindowSamples: Int
    /// Previous trigger: ON sample and CF amplitude (max over the amplitude window).
    private var previous: (onSample: Int, amplitude: Double)?
    /// Amplitude measurement of the current/last trigger still inside its window.
    private var measuring: (onSample: Int, maxCF: Double)?
    /// The dead-time reference in force before the most recent trigger (for ``retractTrigger(onSample:rearm:)``).
    private var referenceBeforeLastTrigger: (onSample: Int, amplitude: Double)?

    public init(_ configuration: Configuration = Configuration(), samplingRateHz: Double, startTime: Timestamp)
        throws(ConfigurationError)
    {
        let c = configuration
        for (name, v) in [("onThreshold", c.onThreshold), ("offThreshold", c.offThreshold),
                          ("deadTimeSeconds", c.deadTimeSeconds), ("minimumAmplitudeOffset", c.minimumAmplitudeOffset),
                          ("amplitudeWindowSeconds", c.amplitudeWindowSeconds)] where !v.isFinite
        {
            throw .nonFinite(parameter: name, value: v)
        }
        guard c.offThreshold <= c.onThreshold else { throw .offAboveOn(on: c.onThreshold, off: c.offThreshold) }
        guard c.minimumDurationSamples >= 1 else {
            throw .nonPositiveSamples(parameter: "minimumDurationSamples", value: c.minimumDurationSamples)
        }
        if let m = c.maximumLengthSamples, m < 1 { throw .nonPositiveSamples(parameter: "maximumLengthSamples", value: m) }
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        self.configuration = c
        self.samplingRateHz = samplingRateHz
        self.startTime = startTime
        self.amplitudeWindowSamples = max(1, SampleBlock.sampleCount(seconds: max(c.amplitudeWindowSeconds, 0),
                                                                     samplingRateHz: samplingRateHz))
    }

    /// True while a trigger is on (declared and not yet off).
    public var isTriggered: Bool {
        if case .triggered = state { return true }
        return false
    }

    /// True while a candidate (ON reached, trigger not yet declared) is open: a trigger declared
    /// later may then have its ON sample before the next CF value (used by
    /// ``GlitchRejectingPicker`` to size the blocks it feeds between decisions).
    var hasOpenCandidate: Bool {
        if case .candidate = state { return true }
        return false
    }

    /// Forgets everything (state, previous trigger for the dead time); the next CF value is sample 0
    /// at `startTime`. Call at a data gap.
    public mutating func reset(startTime: Timestamp) {
        self.startTime = startTime
        processedSampleCount = 0
        state = .armed
        previous = nil
        measuring = nil
        referenceBeforeLastTrigger = nil
    }

    /// Withdraws the most recent trigger (ON at `onSample`) after a later check rejected it (e.g. a
    /// glitch or a failed re-pick): it no longer serves as the dead-time reference — the reference
    /// before it is restored, as SeisComP only counts picks that were sent — and, with `rearm`,
    /// a trigger still on is dropped and the machine is armed at once (no OFF event follows).
    /// Does nothing if `onSample` is not the most recent trigger.
    public mutating func retractTrigger(onSample: Int, rearm: Bool) {
        let latest = measuring?.onSample ?? previous?.onSample
        guard latest == onSample else { return }
        measuring = nil
        previous = referenceBeforeLastTrigger
        referenceBeforeLastTrigger = nil
        if rearm, case .triggered(let on, _) = state, on == onSample { state = .armed }
    }

    /// Time of CF sample `index`.
    public func time(ofSample index: Int) -> Timestamp {
        startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: index, samplingRateHz: samplingRateHz))
    }

    /// CF amplitude a new candidate starting at `onSample` must reach (0 if there is no previous trigger).
    public func requiredAmplitude(forCandidateAt onSample: Int) -> Double {
        guard let prev = currentPrevious() else { return 0 }
        let c = configuration
        guard c.deadTimeSeconds > 0 else { return c.minimumAmplitudeOffset }
        let dt = Double(onSample - prev.onSample) / samplingRateHz
        let x = dt / c.deadTimeSeconds
        return c.minimumAmplitudeOffset + prev.amplitude * exp(-x * x)
    }

    private func currentPrevious() -> (onSample: Int, amplitude: Double)? {
        if let m = measuring { return (m.onSample, m.maxCF) }
        return previous
    }

    /// Consumes CF values; calls `emit` for each event in sample order.
    public mutating func process(_ cf: UnsafeBufferPointer<Double>, emit: (Event) -> Void) {
        let c = configuration
        let on = c.onThreshold, off = c.offThreshold
        for v in cf {
            let i = processedSampleCount
            processedSampleCount += 1
            // Amplitude window of the latest trigger (may outlive the trigger by design: it is
            // closed at OFF below, or when the window is full).
            if var m = measuring {
                if i - m.onSample < amplitudeWindowSamples {
                    if v > m.maxCF { m.maxCF = v }
                    measuring = m
                } else {
                    previous = (m.onSample, m.maxCF)
                    measuring = nil
                }
            }
            switch state {
            case .armed:
                if v >= on {
                    state = .candidate(onSample: i, run: 0, maxCF: v, durationMet: false)
                    advanceCandidate(i: i, v: v, emit: emit)
                }
            case .waitingForRearm:
                if !(v >= off) { state = .armed }
            case .candidate:
                advanceCandidate(i: i, v: v, emit: emit)
            case .triggered(let onSample, var maxCF):
                if !(v >= off) {
                    closeMeasurement()
                    emit(.triggerOff(onSample: onSample, offSample: i - 1, onTime: time(ofSample: onSample),
                                     offTime: time(ofSample: i - 1), maximumCF: maxCF))
                    state = .armed
                    continue
                }
                if v > maxCF { maxCF = v }
                if let maxLen = c.maximumLengthSamples, i - onSample > maxLen {
                    closeMeasurement()
                    let offSample = onSample + maxLen
                    emit(.forcedOff(onSample: onSample, offSample: offSample, onTime: time(ofSample: onSample),
                                    offTime: time(ofSample: offSample), maximumCF: maxCF))
                    state = .waitingForRearm
                } else {
                    state = .triggered(onSample: onSample, maxCF: maxCF)
                }
            }
        }
    }

    private mutating func closeMeasurement() {
        if let m = measuring {
            previous = (m.onSample, m.maxCF)
            measuring = nil
        }
    }

    private mutating func advanceCandidate(i: Int, v: Double, emit: (Event) -> Void) {
        guard case .candidate(let onSample, var run, var maxCF, var durationMet) = state else { return }
        let c = configuration
        if !durationMet {
            if v >= c.onThreshold {
                run += 1
                if v > maxCF { maxCF = v }
                if run >= c.minimumDurationSamples { durationMet = true }
            } else {
                emit(.suppressed(onSample: onSample, atSample: i, reason: .tooShort(samplesAboveOn: run)))
                state = .armed
                return
            }
        } else {
            if !(v >= c.offThreshold) {
                let req = requiredAmplitude(forCandidateAt: onSample)
                emit(.suppressed(onSample: onSample, atSample: i,
                                 reason: .belowDeadTimeAmplitude(required: req, reached: maxCF)))
                state = .armed
                return
            }
            if v > maxCF { maxCF = v }
        }
        if durationMet {
            let req = requiredAmplitude(forCandidateAt: onSample)
            if maxCF >= req {
                closeMeasurement()
                referenceBeforeLastTrigger = previous
                measuring = (onSample, maxCF)
                emit(.triggerOn(onSample: onSample, declaredSample: i, onTime: time(ofSample: onSample), cf: maxCF))
                // Track the amplitude from ON on: the samples between ON and now are in maxCF.
                state = .triggered(onSample: onSample, maxCF: maxCF)
                if let maxLen = c.maximumLengthSamples, i - onSample > maxLen {
                    closeMeasurement()
                    let offSample = onSample + maxLen
                    emit(.forcedOff(onSample: onSample, offSample: offSample, onTime: time(ofSample: onSample),
                                    offTime: time(ofSample: offSample), maximumCF: maxCF))
                    state = .waitingForRearm
                }
                return
            }
        }
        state = .candidate(onSample: onSample, run: run, maxCF: maxCF, durationMet: durationMet)
    }

    /// Closes a trigger still on at the end of the data (OFF at the last sample), as ObsPy does.
    /// Returns nil if none is on. The machine is armed afterwards.
    public mutating func finish() -> Event? {
        guard case .triggered(let onSample, let maxCF) = state, processedSampleCount > 0 else { return nil }
        closeMeasurement()
        state = .armed
        let last = processedSampleCount - 1
        return .triggerOff(onSample: onSample, offSample: last, onTime: time(ofSample: onSample),
                           offTime: time(ofSample: last), maximumCF: maxCF)
    }

    /// Convenience: processes an array and returns its events.
    public mutating func process(_ cf: [Double]) -> [Event] {
        var out: [Event] = []
        cf.withUnsafeBufferPointer { process($0) { out.append($0) } }
        return out
    }
}
