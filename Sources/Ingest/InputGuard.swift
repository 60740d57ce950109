public import SeismicCore

/// Per-stream check of incoming records before they reach the pipeline: a pure value type that
/// remembers the end of the data accepted so far and classifies each new record against it.
///
/// With `dt = 1/rate`, `tol = ½·dt`, `E` = end (exclusive) of the accepted data, a record
/// `[s, s + n·dt)`:
///
/// | case | condition | action |
/// | --- | --- | --- |
/// | ``Kind/first`` | no data accepted yet (or after a rate change) | accept |
/// | ``Kind/inOrder`` | `|s − E| ≤ tol` | accept |
/// | ``Kind/gap`` | `tol < s − E ≤ timeJump` | accept; the pipeline's picker restarts at the gap |
/// | ``Kind/timeJumpForward`` | `s − E > timeJump` | accept, forget the gap history (a new time base) |
/// | ``Kind/partialOverlap`` | `s < E − tol` and `s + n·dt > E + tol` | accept only the samples at or after `E` (`dropLeadingSamples`) |
/// | ``Kind/exactDuplicate`` | same start and sample count as the last accepted record | drop |
/// | ``Kind/duplicate`` | wholly inside accepted data (`s + n·dt ≤ E + tol`) | drop |
/// | ``Kind/outOfOrder`` | wholly before `E`, inside a gap recorded earlier (late gap fill) | drop: the pipeline is strictly forward in data time; counted |
/// | ``Kind/timeJumpBackward`` | `s < E − timeJump` | drop; the stream resumes by itself once its times pass `E` again |
/// | ``Kind/rateChange`` | sampling rate differs | accept as a new stream start (the picker restarts) |
/// | ``Kind/empty`` | no samples or invalid rate | drop |
///
/// Out-of-order records are dropped rather than buffered: the SeedLink server delivers each
/// station's packets in sequence, so late records only come from a server-side backfill, and
/// holding the stream back to wait for them would cost warning time. Backward time jumps (a
/// digitizer clock reset) are dropped until the station's time passes the accepted end again,
/// because processing data twice (with two time bases) could produce duplicate picks and
/// events; the operator sees them in `quakewarn_ingest_records_total{decision="timeJumpBackward"}`
/// and in the data-latency gauge.
///
/// - Complexity: O(g) per record with g ≤ ``maximumRememberedGaps`` remembered gaps.
public struct InputGuard: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case first, inOrder, gap, timeJumpForward, partialOverlap, rateChange
        case exactDuplicate, duplicate, outOfOrder, timeJumpBackward, empty

        /// Whether records of this kind go (at least partly) to the pipeline.
        public var isAccepted: Bool {
            switch self {
            case .first, .inOrder, .gap, .timeJumpForward, .partialOverlap, .rateChange: true
            default: false
            }
        }
    }

    public struct Decision: Sendable, Equatable {
        public var kind: Kind
        /// Samples at the start of the record to drop (partial overlap); 0 otherwise.
        public var dropLeadingSamples: Int
        /// `s − E` in seconds (positive: gap or forward jump; negative: overlap or backward jump); 0 for the first record.
        public var offsetSeconds: Double
        /// The record's SeedLink sequence number is not after the last accepted one (informational:
        /// sequence numbers are server-specific and restart with a new server).
        public var sequenceRegressed: Bool
    }

    /// A larger backward or forward jump (seconds) is a clock jump.
    public var timeJumpSeconds: Double
    public static let maximumRememberedGaps = 16

    public private(set) var acceptedEnd: Timestamp?
    public private(set) var samplingRateHz: Double?
    private var lastStart: Timestamp?
    private var lastCount = 0
    private var lastSequence: Int?
    /// Recent holes `[from, to)` between accepted data (for out-of-order detection).
    private var gaps: [(from: Timestamp, to: Timestamp)] = []

    public init(timeJumpSeconds: Double = 600) {
        self.timeJumpSeconds = timeJumpSeconds.isFinite && timeJumpSeconds > 0 ? timeJumpSeconds : 600
    }

    public static func == (a: InputGuard, b: InputGuard) -> Bool {
        a.acceptedEnd == b.acceptedEnd && a.samplingRateHz == b.samplingRateHz && a.lastStart == b.lastStart
            && a.lastCount == b.lastCount && a.lastSequence == b.lastSequence && a.timeJumpSeconds == b.timeJumpSeconds
            && a.gaps.elementsEqual(b.gaps, by: { $0.from == $1.from && $0.to == $1.to })
    }

    /// Forgets everything (the next record is ``Kind/first``).
    public mutating func reset() {
        acceptedEnd = nil
        samplingRateHz = nil
        lastStart = nil
        lastCount = 0
        lastSequence = nil
        gaps.removeAll()
    }

    /// Classifies a record and, when it is accepted, advances the state.
    /// - Parameters:
    ///   - startTime: time of the first sample.
    ///   - sampleCount: number of samples.
    ///   - samplingRateHz: rate (Hz).
    ///   - sequence: SeedLink sequence number, if known.
    public mutating func check(startTime: Timestamp, sampleCount: Int, samplingRateHz rate: Double,
                               sequence: Int? = nil) -> Decision {
        func decision(_ kind: Kind, drop: Int = 0, offset: Double = 0) -> Decision {
            var regressed = false
            if let sequence, let last = lastSequence {
                // 24-bit wrap-around: "after" means within the next half of the sequence space.
                let forward = (sequence - last) & 0xFF_FFFF
                regressed = forward == 0 || forward > 0x7F_FFFF
            }
            return Decision(kind: kind, dropLeadingSamples: drop, offsetSeconds: offset, sequenceRegressed: regressed)
        }
        guard sampleCount > 0, rate.isFinite, rate > 0 else { return decision(.empty) }
        let duration = SampleBlock.offsetNanoseconds(samples: sampleCount, samplingRateHz: rate)
        let end = startTime.adding(nanoseconds: duration)
        guard let accepted = acceptedEnd, let currentRate = samplingRateHz else {
            let d = decision(.first)
            accept(start: startTime, count: sampleCount, end: end, rate: rate, sequence: sequence)
            return d
        }
        if (rate - currentRate).magnitude > 1e-9 * currentRate {
            let d = decision(.rateChange, offset: Double(startTime.nanoseconds(since: accepted)) / 1e9)
            reset()
            accept(start: startTime, count: sampleCount, end: end, rate: rate, sequence: sequence)
            return d
        }
        let tolerance = Int64((0.5e9 / rate).rounded())
        let offset = startTime.nanoseconds(since: accepted)
        let offsetSeconds = Double(offset) / 1e9
        let jump = Int64((timeJumpSeconds * 1e9).rounded())
        if offset.magnitude <= tolerance {
            let d = decision(.inOrder, offset: offsetSeconds)
            accept(start: startTime, count: sampleCount, end: end, rate: rate, sequence: sequence)
            return d
        }
        if offset > 0 {
            let kind: Kind = offset > jump ? .timeJumpForward : .gap
            let d = decision(kind, offset: offsetSeconds)
            if kind == .timeJumpForward {
                gaps.removeAll()
            } else {
                gaps.append((accepted, startTime))
                if gaps.count > Self.maximumRememberedGaps { gaps.removeFirst(gaps.count - Self.maximumRememberedGaps) }
            }
            accept(start: startTime, count: sampleCount, end: end, rate: rate, sequence: sequence)
            return d
        }
        // Starts before the accepted end.
        if startTime == lastStart && sampleCount == lastCount { return decision(.exactDuplicate, offset: offsetSeconds) }
        if -offset > jump { return decision(.timeJumpBackward, offset: offsetSeconds) }
        let overhang = end.nanoseconds(since: accepted)
        if overhang > tolerance {
            // Keep the samples whose time is at or after the accepted end (within tolerance).
            let samplesBefore = Double(-offset) * rate / 1e9
            let drop = min(sampleCount, max(1, Int((samplesBefore - 0.5).rounded(.up))))
            let keptStart = startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: drop, samplingRateHz: rate))
            let d = decision(.partialOverlap, drop: drop, offset: offsetSeconds)
            accept(start: keptStart, count: sampleCount - drop, end: end, rate: rate, sequence: sequence)
            return d
        }
        // Wholly inside data already accepted, or inside a hole left earlier.
        let insideGap = gaps.contains { g in
            startTime.nanoseconds(since: g.from) >= -tolerance && g.to.nanoseconds(since: end) >= -tolerance
        }
        return decision(insideGap ? .outOfOrder : .duplicate, offset: offsetSeconds)
    }

    private mutating func accept(start: Timestamp, count: Int, end: Timestamp, rate: Double, sequence: Int?) {
        acceptedEnd = end
        samplingRateHz = rate
        lastStart = start
        lastCount = count
        if let sequence { lastSequence = sequence }
    }
}

/// Clock-quality information of a miniSEED 2 record's fixed header and Blockette 1001 (SEED
/// Reference Manual v2.4, ch. 8: activity flags byte 36, I/O and clock flags byte 37, data
/// quality flags byte 38; Blockette 1001 byte 4: timing quality 0–100 %).
///
/// `MiniSEEDRecord` does not carry these fields, so they are read here from the raw record.
public struct ClockQuality: Sendable, Equatable {
    public var activityFlags: UInt8
    public var ioClockFlags: UInt8
    public var dataQualityFlags: UInt8
    /// Blockette 1001 timing quality in percent (nil without Blockette 1001).
    public var timingQualityPercent: Int?

    /// Activity bit 1: time correction applied.
    public var timeCorrectionApplied: Bool { activityFlags & 0x02 != 0 }
    /// I/O and clock bit 5: clock locked.
    public var clockLocked: Bool { ioClockFlags & 0x20 != 0 }
    /// Data-quality bit 7: time tag questionable.
    public var timeTagQuestionable: Bool { dataQualityFlags & 0x80 != 0 }

    public init(activityFlags: UInt8, ioClockFlags: UInt8, dataQualityFlags: UInt8, timingQualityPercent: Int?) {
        self.activityFlags = activityFlags
        self.ioClockFlags = ioClockFlags
        self.dataQualityFlags = dataQualityFlags
        self.timingQualityPercent = timingQualityPercent
    }

    /// Reads the flags from a raw record; nil if it is shorter than the 48-byte fixed header.
    /// Never traps: the blockette chain is followed only inside the record, at most 32 steps.
    public init?(record bytes: [UInt8]) {
        guard bytes.count >= 48 else { return nil }
        activityFlags = bytes[36]
        ioClockFlags = bytes[37]
        dataQualityFlags = bytes[38]
        // Byte order: the one that gives a plausible BTIME year (libmseed's heuristic).
        let yearBE = Int(bytes[20]) << 8 | Int(bytes[21])
        let bigEndian = (1900...2100).contains(yearBE)
        func u16(_ o: Int) -> Int { bigEndian ? Int(bytes[o]) << 8 | Int(bytes[o + 1]) : Int(bytes[o + 1]) << 8 | Int(bytes[o]) }
        var quality: Int?
        var offset = u16(46)
        var steps = 0
        while offset >= 48, offset + 8 <= bytes.count, steps < 32 {
            let type = u16(offset)
            if type == 1001 {
                quality = Int(bytes[offset + 4])
                break
            }
            let next = u16(offset + 2)
            guard next > offset else { break }
            offset = next
            steps += 1
        }
        timingQualityPercent = quality
    }
}
