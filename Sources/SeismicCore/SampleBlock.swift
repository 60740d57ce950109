/// A contiguous run of samples of one stream: the unit every streaming stage consumes.
///
/// Sample `i` was taken at ``time(ofSample:)`` = `startTime + i / samplingRateHz`, computed in
/// integer nanoseconds and rounded to nearest, so times never drift across long streams.
/// Samples are in the unit named by ``unit`` (raw digitizer counts until a stage converts them).
public struct SampleBlock: Sendable, Equatable {
    /// What the sample values measure.
    public enum Unit: String, Sendable, Codable, Equatable {
        /// Raw digitizer counts.
        case counts
        /// Ground acceleration, m/s².
        case metersPerSecondSquared
        /// Ground velocity, m/s.
        case metersPerSecond
        /// Ground displacement, m.
        case meters
        /// A dimensionless derived quantity, e.g. an STA/LTA characteristic function.
        case dimensionless
    }

    public var streamID: StreamID
    /// Time of the first sample.
    public var startTime: Timestamp
    /// Sampling rate in Hz (samples per second); positive and finite.
    public var samplingRateHz: Double
    public var unit: Unit
    public var samples: [Double]

    public init(streamID: StreamID, startTime: Timestamp, samplingRateHz: Double, unit: Unit = .counts,
                samples: [Double]) {
        self.streamID = streamID
        self.startTime = startTime
        self.samplingRateHz = samplingRateHz
        self.unit = unit
        self.samples = samples
    }

    /// Sample interval in nanoseconds (not rounded; use ``time(ofSample:)`` for sample times).
    public var sampleIntervalNanoseconds: Double { 1e9 / samplingRateHz }

    /// Time of sample `index` (0-based; may lie outside the block), rounded to the nearest nanosecond.
    public func time(ofSample index: Int) -> Timestamp {
        startTime.adding(nanoseconds: Self.offsetNanoseconds(samples: index, samplingRateHz: samplingRateHz))
    }

    /// Time just after the last sample, i.e. the expected start of the next contiguous block.
    public var endTimeExclusive: Timestamp { time(ofSample: samples.count) }

    /// Time of the last sample (equal to ``startTime`` for an empty block).
    public var lastSampleTime: Timestamp { time(ofSample: max(samples.count - 1, 0)) }

    /// `count / samplingRateHz` in nanoseconds, rounded to nearest.
    ///
    /// Total for any input: a rate of zero, a non-finite rate or an offset beyond ±2^63 ns (which
    /// a corrupt record header can produce) saturates to `Int64.max`/`Int64.min` (0 for 0/0)
    /// instead of trapping; callers that accept outside data reject such rates before using them.
    public static func offsetNanoseconds(samples count: Int, samplingRateHz: Double) -> Int64 {
        let offset = (Double(count) * 1e9 / samplingRateHz).rounded()
        if offset.isNaN { return 0 }
        if offset >= 9.223_372_036_854_775e18 { return .max }
        if offset <= -9.223_372_036_854_775e18 { return .min }
        return Int64(offset)
    }

    /// Converts a window length in seconds to a whole number of samples, rounding to nearest
    /// (design.md: windows are given in seconds at the API and converted to samples once).
    public static func sampleCount(seconds: Double, samplingRateHz: Double) -> Int {
        Int((seconds * samplingRateHz).rounded())
    }
}
