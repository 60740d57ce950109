public import SeismicCore

/// One decoded miniSEED 2 data record.
///
/// Times come from the record's own BTime header fields, converted exactly to integer
/// nanoseconds: BTime (0.0001 s resolution) + the time correction (unless activity flag bit 1
/// says it is already applied) + Blockette 1001's microsecond offset, exactly as libmseed's
/// `msr_starttime` does in microseconds. miniSEED 2 has microsecond resolution, so nothing is
/// lost; the same instants are libmseed's `hptime_t` × 1000.
public struct MiniSEEDRecord: Sendable {
    /// `NET.STA.LOC.CHA`, trimmed of the header's space padding (station codes have at most
    /// 5 characters in miniSEED 2, e.g. `AKT013` is stored as `AKT01`).
    public var streamID: StreamID
    /// Time of the first sample.
    public var startTime: Timestamp
    /// Sampling rate in Hz: Blockette 100's rate if present, else the header's factor and
    /// multiplier (libmseed `msr_samprate`). 0 is possible for a record without samples.
    public var samplingRateHz: Double
    public var encoding: MiniSEEDEncoding
    /// The 6-digit sequence number (0 when blank).
    public var sequenceNumber: Int
    /// Data quality indicator: `D`, `R`, `Q` or `M`.
    public var quality: Character
    /// Record length in bytes (from Blockette 1000, or detected without it).
    public var recordLength: Int
    /// Offset of the record from the start of its file or stream.
    public var byteOffset: Int
    /// Decoded samples (empty for a TEXT record or a record without samples).
    public var samples: [Double]
    /// The text of a TEXT (ASCII) record, e.g. a `LOG` channel; nil for numeric records.
    public var text: String?

    public init(streamID: StreamID, startTime: Timestamp, samplingRateHz: Double, encoding: MiniSEEDEncoding,
                sequenceNumber: Int, quality: Character = "D", recordLength: Int, byteOffset: Int,
                samples: [Double], text: String? = nil) {
        self.streamID = streamID
        self.startTime = startTime
        self.samplingRateHz = samplingRateHz
        self.encoding = encoding
        self.sequenceNumber = sequenceNumber
        self.quality = quality
        self.recordLength = recordLength
        self.byteOffset = byteOffset
        self.samples = samples
        self.text = text
    }

    /// Number of decoded samples.
    public var sampleCount: Int { samples.count }

    /// The samples as a block of raw counts (or the stored float values).
    public var block: SampleBlock {
        SampleBlock(streamID: streamID, startTime: startTime, samplingRateHz: samplingRateHz, unit: .counts,
                    samples: samples)
    }
}
