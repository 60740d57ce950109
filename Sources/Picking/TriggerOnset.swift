// Streaming twin of ObsPy's `trigger_onset`: ON/OFF sample pairs from a characteristic function.

/// Turns a characteristic function (CF) into trigger `(on, off)` sample pairs with exactly the
/// semantics of ObsPy 1.5's `obspy.signal.trigger.trigger_onset(cf, thres1, thres2, max_len,
/// max_len_delete)`, but streaming: CF blocks are fed in order and each pair is emitted as soon as
/// it is decided; ``finish()`` closes a trigger that is still on at the end of the data.
///
/// Rules (all indices 0-based, counted from the first CF sample since the last ``reset()``):
/// - **ON candidates** are the first samples of runs with `cf ≥ onThreshold`
///   (`cf[i] ≥ on` and `cf[i−1] < on` or `i = 0`). NaN compares false, i.e. counts as "below".
/// - **OFF candidates** are the last samples of runs with `cf ≥ offThreshold`. A trigger that
///   opens at ON sample `p` ends at the first OFF candidate `o ≥ p`; so with `off ≤ on` the OFF
///   sample is the *last sample still ≥ off*, not the first sample below it.
/// - An ON candidate is used only if it lies after the previous trigger's OFF sample; ON
///   candidates inside a trigger (including one exactly at its OFF sample) are ignored.
/// - **Maximum length** (`maxLengthSamples`, ObsPy `max_len`): if `o − p > maxLength`, the
///   trigger is cut to `(p, p + maxLength)` and a new trigger can start at the next ON candidate
///   after `p + maxLength`; with `deleteLongTriggers` (ObsPy `max_len_delete`) the trigger is
///   dropped instead and ON candidates up to `o` stay ignored.
/// - **End of data**: ObsPy appends `len(cf)` as a last OFF candidate. With `off ≤ on` an open
///   trigger always ends at the last sample `n − 1` (its run of `cf ≥ off` ends there); only with
///   `off > on` can a trigger get OFF = `n` (one past the data), exactly as in ObsPy.
///
/// Deliberate deviations, only where ObsPy itself fails: ObsPy raises `IndexError` when no
/// sample reaches `offThreshold` (possible only if `off > on`), and `OverflowError` when
/// deleting long triggers with an unbounded `max_len` and a trigger without OFF; here the first
/// case closes at `n` like any trigger without an OFF candidate, and the second drops the
/// trigger. `scripts/dev/stalta_trigger_onset_model.py` checks a sample-by-sample model of this
/// state machine against ObsPy on the ObsPy test vector and 18,000 random CFs. ObsPy's own test
/// vector (`sin(arange(0, 5π, 0.1)) + k`, k = 1, 2.1, 0.4, 1; thresholds 1.5/1.0; max_len 50)
/// gives exactly ObsPy's pairs, `[[6,31], [69,94], [131,181], [215,265], [278,315], [480,505],
/// [543,568], [605,631]]` (rows 0, 1, 5, 6, 7 with deletion): its OFF values are the last
/// samples still ≥ 1.0, or ON + 50 where cut — the same convention as above, no special case.
///
/// Decision latency: a trigger is emitted one sample after its OFF sample (when the CF is seen
/// to drop below `offThreshold`), or at sample `p + maxLength + 1` when it is cut. The result
/// does not depend on how the CF is chunked.
///
/// - Complexity: O(1) per CF sample, no allocation.
public struct TriggerOnset: Sendable {
    /// One trigger: 0-based sample indices of the ON and OFF samples (`offSample ≥ onSample`).
    public struct Trigger: Sendable, Hashable, CustomStringConvertible {
        public var onSample: Int
        public var offSample: Int
        public init(onSample: Int, offSample: Int) {
            self.onSample = onSample
            self.offSample = offSample
        }
        public var description: String { "[\(onSample), \(offSample)]" }
    }

    private enum State: Sendable {
        case idle
        /// An ON at `onSample` waits for its OFF candidate.
        case pending(onSample: Int)
        /// A too-long trigger is being dropped; ON candidates stay ignored until its OFF.
        case deleting
    }

    /// CF value at or above which a trigger switches on (ObsPy `thres1`).
    public let onThreshold: Double
    /// CF value at or above which a trigger stays on (ObsPy `thres2`).
    public let offThreshold: Double
    /// Maximum trigger length `off − on` in samples (ObsPy `max_len`); nil = unlimited.
    public let maxLengthSamples: Int?
    /// Drop triggers longer than ``maxLengthSamples`` instead of cutting them (ObsPy `max_len_delete`).
    public let deleteLongTriggers: Bool

    private var state: State = .idle
    private var lastOff = -1
    private var previousAboveOn = false
    private var previousAboveOff = false
    /// Number of CF samples consumed since construction or the last reset.
    public private(set) var processedSampleCount = 0

    /// - Parameters:
    ///   - onThreshold: ON threshold (dimensionless CF units), finite.
    ///   - offThreshold: OFF threshold, finite.
    ///   - maxLengthSamples: maximum `off − on` in samples (≥ 0), or nil for no limit.
    ///   - deleteLongTriggers: drop (true) or cut (false) triggers longer than the maximum.
    /// - Throws: ``STALTAParameterError`` for a non-finite threshold or a negative maximum length.
    public init(onThreshold: Double, offThreshold: Double, maxLengthSamples: Int? = nil,
                deleteLongTriggers: Bool = false) throws(STALTAParameterError)
    {
        guard onThreshold.isFinite else { throw .invalidThreshold(parameter: "on", value: onThreshold) }
        guard offThreshold.isFinite else { throw .invalidThreshold(parameter: "off", value: offThreshold) }
        if let maxLengthSamples, maxLengthSamples < 0 { throw .negativeMaximumLength(samples: maxLengthSamples) }
        self.onThreshold = onThreshold
        self.offThreshold = offThreshold
        self.maxLengthSamples = maxLengthSamples
        self.deleteLongTriggers = deleteLongTriggers
    }

    /// Whether a trigger is currently open (pending its OFF sample).
    public var isTriggered: Bool {
        if case .pending = state { return true }
        return false
    }

    /// Forgets all history; the next CF sample is sample 0.
    public mutating func reset() {
        state = .idle
        lastOff = -1
        previousAboveOn = false
        previousAboveOff = false
        processedSampleCount = 0
    }

    /// Consumes the next CF samples and calls `emit` for every trigger decided by them, in order.
    ///
    /// - Complexity: O(cf.count), no allocation.
    public mutating func process(_ cf: UnsafeBufferPointer<Double>, emit: (Trigger) -> Void) {
        let on = onThreshold
        let off = offThreshold
        var i = processedSampleCount
        for value in cf {
            let aboveOn = value >= on
            let aboveOff = value >= off
            // 1) Sample i − 1 ends a run of cf >= off: it is an OFF candidate.
            if previousAboveOff, !aboveOff {
                if let trigger = close(at: i - 1) { emit(trigger) }
            }
            // 2) Still no OFF, but the trigger already exceeds the maximum length: decided now.
            if case let .pending(p) = state, let maxLength = maxLengthSamples, i - p > maxLength {
                if deleteLongTriggers {
                    state = .deleting
                } else {
                    emit(Trigger(onSample: p, offSample: p + maxLength))
                    lastOff = p + maxLength
                    state = .idle
                }
            }
            // 3) Sample i starts a run of cf >= on: an ON candidate.
            if aboveOn, !previousAboveOn, case .idle = state, i > lastOff {
                state = .pending(onSample: i)
            }
            previousAboveOn = aboveOn
            previousAboveOff = aboveOff
            i += 1
        }
        processedSampleCount = i
    }

    /// Closes the pending trigger (if any) at OFF candidate `o`.
    private mutating func close(at o: Int) -> Trigger? {
        switch state {
        case .idle:
            return nil
        case .deleting:
            lastOff = o
            state = .idle
            return nil
        case let .pending(p):
            state = .idle
            if let maxLength = maxLengthSamples, o - p > maxLength {
                if deleteLongTriggers {
                    lastOff = o
                    return nil
                }
                lastOff = p + maxLength
                return Trigger(onSample: p, offSample: p + maxLength)
            }
            lastOff = o
            return Trigger(onSample: p, offSample: o)
        }
    }

    /// Ends the data: returns the trigger still open, closed as ObsPy closes it (at the last
    /// sample `n − 1` when its run of `cf ≥ off` reaches the end, else at `n`, cut to the maximum
    /// length), then resets the detector so it can be reused for a new record.
    public mutating func finish() -> Trigger? {
        let n = processedSampleCount
        var result: Trigger?
        if previousAboveOff {
            result = close(at: n - 1)
        }
        if result == nil, case let .pending(p) = state {
            // No OFF candidate at or after p: ObsPy's len(cf) sentinel (1e99 when deleting).
            if let maxLength = maxLengthSamples {
                if !deleteLongTriggers {
                    result = Trigger(onSample: p, offSample: n - p > maxLength ? p + maxLength : n)
                }
            } else {
                result = Trigger(onSample: p, offSample: n)
            }
        }
        reset()
        return result
    }

    /// Convenience: consumes `cf` and returns the triggers decided by it.
    public mutating func process(_ cf: [Double]) -> [Trigger] {
        var out: [Trigger] = []
        cf.withUnsafeBufferPointer { buffer in
            process(buffer) { out.append($0) }
        }
        return out
    }

    /// Offline convenience, the equivalent of ObsPy's `trigger_onset(cf, on, off, max_len,
    /// max_len_delete)` on a whole CF.
    public static func triggers(in cf: [Double], onThreshold: Double, offThreshold: Double,
                                maxLengthSamples: Int? = nil, deleteLongTriggers: Bool = false)
        throws(STALTAParameterError) -> [Trigger]
    {
        var detector = try TriggerOnset(onThreshold: onThreshold, offThreshold: offThreshold,
                                        maxLengthSamples: maxLengthSamples, deleteLongTriggers: deleteLongTriggers)
        var out = detector.process(cf)
        if let last = detector.finish() { out.append(last) }
        return out
    }
}
