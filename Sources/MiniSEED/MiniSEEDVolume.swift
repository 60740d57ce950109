public import SeismicCore

/// A jump in a stream's timing between two consecutive runs of data.
///
/// See ``MiniSEEDReader`` for the continuity rule (half a sample interval).
public struct StreamDiscontinuity: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The next data start later than where the previous data would continue.
        case gap
        /// The next data start earlier than where the previous data would continue.
        case overlap
    }

    public var kind: Kind
    public var streamID: StreamID
    /// Where the previous data would continue: the time just after its last sample
    /// (`start + count / rate`), rounded to the nanosecond.
    public var expectedTime: Timestamp
    /// Start time of the next data.
    public var actualTime: Timestamp

    public init(kind: Kind, streamID: StreamID, expectedTime: Timestamp, actualTime: Timestamp) {
        self.kind = kind
        self.streamID = streamID
        self.expectedTime = expectedTime
        self.actualTime = actualTime
    }

    /// `actualTime - expectedTime` in seconds: positive for a gap, negative for an overlap.
    public var seconds: Double { actualTime.seconds(since: expectedTime) }

    public var description: String {
        "\(streamID) \(kind.rawValue) of \(seconds) s: expected \(expectedTime), next data at \(actualTime)"
    }
}

/// What the reader found for one stream (one `NET.STA.LOC.CHA`), for summaries such as
/// `quakewarn info`.
public struct MiniSEEDStreamSummary: Sendable, Equatable {
    public var streamID: StreamID
    /// Distinct sampling rates of the stream's records, ascending (normally one).
    public var samplingRatesHz: [Double]
    /// Time of the first sample of the stream.
    public var startTime: Timestamp
    /// Time just after the last sample of the stream (latest segment end).
    public var endTime: Timestamp
    /// Samples in all segments.
    public var sampleCount: Int
    /// Contiguous segments.
    public var segmentCount: Int
    public var gapCount: Int
    public var overlapCount: Int
    /// Records decoded (numeric, text or empty).
    public var recordCount: Int
    public var encodings: Set<MiniSEEDEncoding>
}

/// Everything read from one miniSEED file or byte buffer.
public struct MiniSEEDVolume: Sendable {
    /// The path or name given to the reader.
    public var source: String
    /// Size of the input in bytes.
    public var byteCount: Int
    /// Records decoded successfully (numeric, text and empty records).
    public var recordCount: Int
    /// Contiguous runs of samples, one `SampleBlock` per run, sorted by stream id, then start
    /// time, then sampling rate. Unit: ``SampleBlock/Unit/counts`` (the stored values).
    public var segments: [SampleBlock]
    /// Gaps and overlaps between consecutive segments of the same stream and rate, sorted by
    /// stream id then time.
    public var discontinuities: [StreamDiscontinuity]
    /// Encodings seen per stream (mixed encodings within a stream are allowed).
    public var encodings: [StreamID: Set<MiniSEEDEncoding>]
    /// Per-stream summary, sorted by stream id.
    public var streams: [MiniSEEDStreamSummary]
    /// Concatenated text of TEXT (ASCII) records per stream, in record time order.
    public var texts: [StreamID: String]
    /// Bad records and unreadable byte ranges that lenient reading skipped, in file order.
    public var problems: [MiniSEEDError]

    public init(source: String, byteCount: Int, recordCount: Int, segments: [SampleBlock],
                discontinuities: [StreamDiscontinuity], encodings: [StreamID: Set<MiniSEEDEncoding>],
                streams: [MiniSEEDStreamSummary], texts: [StreamID: String], problems: [MiniSEEDError]) {
        self.source = source
        self.byteCount = byteCount
        self.recordCount = recordCount
        self.segments = segments
        self.discontinuities = discontinuities
        self.encodings = encodings
        self.streams = streams
        self.texts = texts
        self.problems = problems
    }

    /// The segments of one stream, in time order.
    public func segments(of streamID: StreamID) -> [SampleBlock] { segments.filter { $0.streamID == streamID } }

    /// Total number of samples in all segments.
    public var sampleCount: Int { segments.reduce(0) { $0 + $1.samples.count } }
}
