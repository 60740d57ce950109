public import SeismicCore
public import SignalProcessing

/// Onset re-picker: refines an STA/LTA trigger time to the P onset with the Maeda (1985) AIC
/// (``MaedaAIC``), in the manner of SeisComP's `AIC` picker (`processing/picker/araic.cpp`), and
/// grades the pick by its signal-to-noise ratio.
///
/// Steps, for a trigger at sample `t` of a record sampled at `fs`:
/// 1. **Window** `[t − round(preTriggerSeconds·fs), t + round(postTriggerSeconds·fs)]`, clipped
///    to the available samples.
/// 2. **Demean** by the mean of the pre-trigger part `[start, t)` (the noise).
/// 3. Optional causal Butterworth **filter** (``Configuration/filter``); it is run over up to
///    ``Configuration/filterLeadSeconds`` of data before the window so that its start-up
///    transient has decayed inside the window, and the window is demeaned again afterwards.
/// 4. **AIC** over the window; pick = the index of the minimum, searched at least
///    ``Configuration/edgeMarginSamples`` from both window ends (the AIC is degenerate at the
///    ends, as in SeisComP's 10-sample margin).
/// 5. **SNR** as in SeisComP: `SNR = 0.707 · max|x[k…end]| / rms(x[start..<k])`, the peak after
///    the pick converted to an rms-equivalent of a sinusoid (`1/√2 ≈ 0.707`) over the noise rms
///    before it.
/// 6. **Grade** from the SNR (``Grade``); below ``Configuration/minimumSNR`` the pick is rejected.
///
/// Defaults and why (EEW use; SeisComP's araic defaults −30 s/+10 s/minSNR 3 target network
/// picking where latency does not matter):
/// - `preTriggerSeconds = 3`: an STA/LTA trigger is late by a fraction of the STA window
///   (typically 0.05–1 s on emergent onsets) plus the filter delay, so the onset lies well inside
///   3 s; 3 s of noise is also several periods of the 1 Hz band edge, which gives a stable noise
///   variance for the AIC's first segment and for the SNR.
/// - `postTriggerSeconds = 0.5`: the re-pick is available 0.5 s after the trigger (latency);
///   0.5 s holds the onset and the first P cycles but rarely a later phase, so the window has the
///   single variance change that the two-segment AIC model assumes.
/// - `minimumSNR = 3` as SeisComP; `edgeMarginSamples = 10` as SeisComP.
///
/// Latency: the result needs samples up to `t + postTriggerSeconds`; the computation is O(window).
/// Units: seconds, Hz; the samples may be in any unit (SNR is a ratio).
public struct AICRepicker: Sendable {
    /// Quality grade from the SNR. Thresholds (dimensionless SNR as defined above):
    ///
    /// | grade | SNR          | meaning |
    /// | ----- | ------------ | ------- |
    /// | A     | ≥ 20         | impulsive, unambiguous onset (ObsPy/pk_baer class 0 territory) |
    /// | B     | ≥ 10         | clear onset |
    /// | C     | ≥ 5          | usable onset, timing uncertainty grows |
    /// | D     | ≥ minimumSNR | weak; use for association, low weight for location/magnitude |
    ///
    /// The thresholds are configurable (``Configuration/gradeThresholds``).
    public enum Grade: String, Sendable, Equatable, Comparable, CaseIterable {
        case a = "A", b = "B", c = "C", d = "D"

        public static func < (lhs: Grade, rhs: Grade) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// SNR thresholds for grades A, B, C (D is everything from ``Configuration/minimumSNR`` up).
    public struct GradeThresholds: Sendable, Equatable {
        public var a: Double
        public var b: Double
        public var c: Double
        public init(a: Double = 20, b: Double = 10, c: Double = 5) {
            self.a = a
            self.b = b
            self.c = c
        }
    }

    /// Parameters (see the type documentation for the rationale of the defaults).
    public struct Configuration: Sendable, Equatable {
        /// Seconds of data before the trigger in the AIC window (default 3 s).
        public var preTriggerSeconds: Double
        /// Seconds of data after the trigger in the AIC window (default 0.5 s).
        public var postTriggerSeconds: Double
        /// Filter applied before the AIC (default none: the caller's picking filter is usually
        /// already applied; `bandpass:1:20` reproduces the ObsPy tutorial's `ar_pick` band).
        public var filter: FilterSpec
        /// Maximum seconds of data before the window used to run the filter in (default 5 s).
        public var filterLeadSeconds: Double
        /// Minimum SNR for a pick (default 3, SeisComP `minSNR`).
        public var minimumSNR: Double
        /// Samples at each window end excluded from the AIC minimum search (default 10).
        public var edgeMarginSamples: Int
        /// SNR thresholds of the grades.
        public var gradeThresholds: GradeThresholds

        public init(preTriggerSeconds: Double = 3, postTriggerSeconds: Double = 0.5, filter: FilterSpec = .none,
                    filterLeadSeconds: Double = 5, minimumSNR: Double = 3, edgeMarginSamples: Int = 10,
                    gradeThresholds: GradeThresholds = GradeThresholds())
        {
            self.preTriggerSeconds = preTriggerSeconds
            self.postTriggerSeconds = postTriggerSeconds
            self.filter = filter
            self.filterLeadSeconds = filterLeadSeconds
            self.minimumSNR = minimumSNR
            self.edgeMarginSamples = edgeMarginSamples
            self.gradeThresholds = gradeThresholds
        }
    }

    /// A configuration value that cannot be used.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidSeconds(parameter: String, value: Double)
        case invalidMinimumSNR(Double)
        case negativeEdgeMargin(Int)
        case gradeThresholdsNotDecreasing(GradeThresholds)

        public var description: String {
            switch self {
            case let .invalidSeconds(p, v): return "\(p) must be finite and > 0 s (>= 0 for filterLeadSeconds), got \(v)"
            case let .invalidMinimumSNR(v): return "minimumSNR must be finite and >= 0, got \(v)"
            case let .negativeEdgeMargin(n): return "edgeMarginSamples must be >= 0, got \(n)"
            case let .gradeThresholdsNotDecreasing(g): return "grade thresholds must satisfy A >= B >= C, got \(g.a), \(g.b), \(g.c)"
            }
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = Configuration()) throws(ConfigurationError) {
        let c = configuration
        for (name, v) in [("preTriggerSeconds", c.preTriggerSeconds), ("postTriggerSeconds", c.postTriggerSeconds)] {
            guard v.isFinite, v > 0 else { throw .invalidSeconds(parameter: name, value: v) }
        }
        guard c.filterLeadSeconds.isFinite, c.filterLeadSeconds >= 0 else {
            throw .invalidSeconds(parameter: "filterLeadSeconds", value: c.filterLeadSeconds)
        }
        guard c.minimumSNR.isFinite, c.minimumSNR >= 0 else { throw .invalidMinimumSNR(c.minimumSNR) }
        guard c.edgeMarginSamples >= 0 else { throw .negativeEdgeMargin(c.edgeMarginSamples) }
        let g = c.gradeThresholds
        guard g.a >= g.b, g.b >= g.c, g.a.isFinite, g.c.isFinite else { throw .gradeThresholdsNotDecreasing(g) }
        self.configuration = c
    }

    /// The grade for `snr` (assumes `snr >= minimumSNR`).
    public func grade(forSNR snr: Double) -> Grade {
        let g = configuration.gradeThresholds
        if snr >= g.a { return .a }
        if snr >= g.b { return .b }
        if snr >= g.c { return .c }
        return .d
    }

    /// Re-picks the trigger at `triggerSample` (0-based index into `block.samples`).
    public func repick(_ block: SampleBlock, triggerSample: Int) -> Result<RepickResult, RepickRejection> {
        block.samples.withUnsafeBufferPointer { buf in
            repick(samples: buf, startTime: block.startTime, samplingRateHz: block.samplingRateHz,
                   triggerSample: triggerSample)
        }
    }

    /// Re-picks the trigger at `triggerSample` of `samples` (sample 0 at `startTime`, rate
    /// `samplingRateHz`). Sample indices in the result refer to `samples`.
    public func repick(samples: UnsafeBufferPointer<Double>, startTime: Timestamp, samplingRateHz fs: Double,
                       triggerSample t: Int) -> Result<RepickResult, RepickRejection>
    {
        var scratch: [Double] = []
        return repick(samples: samples, startTime: startTime, samplingRateHz: fs, triggerSample: t, scratch: &scratch)
    }

    /// ``repick(samples:startTime:samplingRateHz:triggerSample:)`` with `scratch` as working
    /// storage for the window and its AIC (grown to `2 × window` samples if shorter): with a
    /// large enough scratch and no ``Configuration/filter``, nothing is allocated.
    @_spi(Testing) public func repick(samples: UnsafeBufferPointer<Double>, startTime: Timestamp, samplingRateHz fs: Double,
                                      triggerSample t: Int, scratch: inout [Double]) -> Result<RepickResult, RepickRejection>
    {
        let c = configuration
        let n = samples.count
        guard fs.isFinite, fs > 0 else { return .failure(.invalidSamplingRate(fs)) }
        guard t >= 0, t < n else { return .failure(.triggerOutsideData(triggerSample: t, sampleCount: n)) }
        let pre = SampleBlock.sampleCount(seconds: c.preTriggerSeconds, samplingRateHz: fs)
        let post = SampleBlock.sampleCount(seconds: c.postTriggerSeconds, samplingRateHz: fs)
        let start = max(0, t - pre)
        let end = min(n - 1, t + post)  // inclusive
        let margin = c.edgeMarginSamples
        // Need noise before the trigger, data after it, and room for the margins.
        let minPre = max(margin + 2, 2)
        let minPost = 1
        guard t - start >= minPre, end - t >= minPost, end - start + 1 >= 2 * margin + 4 else {
            return .failure(.windowTooShort(availableSamples: end - start + 1, preTriggerSamples: t - start,
                                            postTriggerSamples: end - t, requiredPreTriggerSamples: minPre))
        }
        // Window (+ filter lead), demeaned by the raw pre-trigger mean.
        let lead: Int
        let filter: ButterworthFilter?
        do throws(FilterDesignError) {
            filter = try c.filter.makeFilter(samplingRateHz: fs)
        } catch {
            return .failure(.filterDesign(error))
        }
        if filter != nil {
            lead = min(start, SampleBlock.sampleCount(seconds: c.filterLeadSeconds, samplingRateHz: fs))
        } else {
            lead = 0
        }
        let from = start - lead
        var noiseMean = 0.0
        for i in start..<t { noiseMean += samples[i] }
        noiseMean /= Double(t - start)
        let len = end - from + 1
        if scratch.count < 2 * len { scratch.append(contentsOf: repeatElement(0, count: 2 * len - scratch.count)) }
        return scratch.withUnsafeMutableBufferPointer { buf -> Result<RepickResult, RepickRejection> in
            let work = UnsafeMutableBufferPointer(rebasing: buf[0..<len])
            for i in from...end { work[i - from] = samples[i] - noiseMean }
            if var f = filter {
                f.process(inPlace: work)
                var sum = 0.0
                for i in lead..<(lead + t - start) { sum += work[i] }
                let m = sum / Double(t - start)
                for i in work.indices { work[i] -= m }
            }
            let window = UnsafeBufferPointer(rebasing: work[lead..<len])
            // Flat window: nothing to pick (also catches zero-filled gaps).
            var maxAbs = 0.0
            for v in window { maxAbs = max(maxAbs, abs(v)) }
            guard maxAbs > 0 else { return .failure(.flatSignal) }
            let aic = UnsafeMutableBufferPointer(rebasing: buf[len..<(len + window.count)])
            MaedaAIC.compute(window, into: aic)
            let searchLower = max(margin, 1)
            let searchUpper = min(window.count - 1 - margin, window.count - 3)  // inclusive
            guard searchLower <= searchUpper,
                  let k = MaedaAIC.minimumIndex(UnsafeBufferPointer(aic), in: searchLower..<(searchUpper + 1))
            else { return .failure(.flatSignal) }
            return result(window: window, onset: k, start: start, trigger: t, end: end, startTime: startTime,
                          samplingRateHz: fs)
        }
    }

    /// SNR, grade and result for the AIC onset `k` of `window` (which starts at sample `start`).
    private func result(window: UnsafeBufferPointer<Double>, onset k: Int, start: Int, trigger t: Int, end: Int,
                        startTime: Timestamp, samplingRateHz fs: Double) -> Result<RepickResult, RepickRejection>
    {
        let c = configuration
        // SNR (SeisComP araic): 0.707 · max|after| / rms(before).
        var sumSq = 0.0
        for i in 0..<k { sumSq += window[i] * window[i] }
        let noiseRMS = (sumSq / Double(k)).squareRoot()
        var peak = 0.0
        for i in k..<window.count { peak = max(peak, abs(window[i])) }
        guard noiseRMS > 0 else { return .failure(.flatSignal) }
        let snr = 0.707 * peak / noiseRMS
        guard snr >= c.minimumSNR else { return .failure(.snrBelowMinimum(snr: snr, minimum: c.minimumSNR)) }
        let index = start + k
        let time = startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: index, samplingRateHz: fs))
        return .success(RepickResult(sampleIndex: index, time: time, triggerSample: t,
                                     offsetFromTriggerSeconds: Double(index - t) / fs, snr: snr,
                                     grade: grade(forSNR: snr), windowStartSample: start, windowEndSample: end))
    }
}

/// A refined onset.
public struct RepickResult: Sendable, Equatable {
    /// Onset sample (0-based, same indexing as the input).
    public var sampleIndex: Int
    /// Onset time (`startTime + sampleIndex / fs`).
    public var time: Timestamp
    /// The trigger sample that was refined.
    public var triggerSample: Int
    /// `(sampleIndex − triggerSample) / fs` in seconds (negative: onset before the trigger).
    public var offsetFromTriggerSeconds: Double
    /// `0.707 · max|x after| / rms(x before)` (dimensionless).
    public var snr: Double
    public var grade: AICRepicker.Grade
    /// First and last (inclusive) sample of the AIC window.
    public var windowStartSample: Int
    public var windowEndSample: Int
}

/// Why no onset was returned (a domain outcome, not a failure of the program).
public enum RepickRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The trigger index is not inside the data.
    case triggerOutsideData(triggerSample: Int, sampleCount: Int)
    /// Not enough data around the trigger for the AIC window (counts in samples).
    case windowTooShort(availableSamples: Int, preTriggerSamples: Int, postTriggerSamples: Int,
                        requiredPreTriggerSamples: Int)
    /// The window (or its noise part) is constant: no variance change to pick.
    case flatSignal
    /// The SNR is below the configured minimum.
    case snrBelowMinimum(snr: Double, minimum: Double)
    /// The sampling rate is not positive and finite (Hz).
    case invalidSamplingRate(Double)
    /// The configured filter cannot be built at this sampling rate.
    case filterDesign(FilterDesignError)

    public var description: String {
        switch self {
        case let .triggerOutsideData(t, n): return "trigger sample \(t) outside 0..<\(n)"
        case let .windowTooShort(avail, pre, post, req):
            return "AIC window too short: \(avail) samples (\(pre) before, \(post) after the trigger; need >= \(req) before and >= 1 after)"
        case .flatSignal: return "flat signal: no variance change in the AIC window"
        case let .snrBelowMinimum(snr, min): return "SNR \(snr) below minimum \(min)"
        case let .invalidSamplingRate(fs): return "sampling rate \(fs) Hz must be positive and finite"
        case let .filterDesign(e): return "filter: \(e)"
        }
    }
}
