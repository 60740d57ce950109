import SeismicCore

/// Incremental miniSEED 2 record decoder for byte streams (e.g. SeedLink packets).
///
/// Feed arbitrary chunks with ``append(_:)`` (even one byte at a time) and call ``next()``
/// until it returns nil ("need more bytes", like libmseed's `msr_parse` returning > 0). The
/// record length comes from Blockette 1000 (512-byte SeedLink records included); a record
/// without Blockette 1000 is delimited by the next record header, so it is returned only once
/// that header (or, never, the end of the stream) has arrived.
///
/// Bad input never traps. When the bytes at the read position are not a valid record,
/// ``next()`` throws one ``MiniSEEDError`` (with the stream byte offset) and then
/// resynchronises: it skips byte by byte, silently, to the next position where a valid record
/// header starts, and continues from there. A record whose header is valid but whose data
/// cannot be decoded also throws; the decoder then resynchronises from the byte after that
/// record's start rather than trusting its length, so a record that was cut short (and
/// followed by the next record) costs only that record. A valid record in an encoding that is
/// not decoded (``MiniSEEDEncoding/other(_:)``) throws `.unsupportedEncoding` and is skipped
/// whole. Call ``reset()`` after a reconnect so no stale partial record is kept.
///
/// Feed miniSEED bytes only: a SeedLink client strips each packet's 8-byte `SLnnnnnn` header
/// first (otherwise every header costs one error and a resynchronisation).
///
/// Buffering: appended bytes are copied into one internal array whose consumed prefix is
/// discarded lazily (amortised O(1) per byte). Each returned record allocates its `samples`.
public struct MiniSEEDRecordDecoder: Sendable {
    /// Name used in errors (e.g. `seedlink://host:18000 IU.ANMO`).
    public var source: String
    private var input = ByteStreamBuffer()
    private var buffer: [UInt8] { input.bytes }
    private var head: Int {
        get { input.head }
        set { input.head = newValue }
    }
    private var resynchronising = false
    /// Records (good or bad) met so far; the index of the next record.
    public private(set) var recordIndex = 0

    /// Longest record accepted, in bytes. A header claiming more is treated as garbage, so a
    /// corrupt length cannot make the decoder wait for up to 64 KiB of later data.
    public let maximumRecordLength: Int

    /// - Parameters:
    ///   - source: name used in errors.
    ///   - maximumRecordLength: longest record accepted (clamped to 128...65536); use 512 for
    ///     SeedLink, whose records are always 512 bytes.
    public init(source: String = "stream", maximumRecordLength: Int = 65536) {
        self.source = source
        self.maximumRecordLength = min(max(maximumRecordLength, 128), 65536)
    }

    /// Bytes received but not yet returned as (or skipped as part of) a record.
    public var bufferedByteCount: Int { input.unconsumedCount }

    /// Stream offset of the next byte to be examined (bytes consumed so far).
    public var consumedByteCount: Int { input.consumedByteCount }

    /// Adds bytes received from the stream.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        input.append(bytes)
    }

    /// Forgets buffered bytes and resynchronisation state (stream offsets keep counting).
    public mutating func reset() {
        input.reset()
        resynchronising = false
    }

    /// Advances `head` by at least one byte, to the next position whose available bytes match
    /// the fixed-header signature (or to the end of the buffer).
    private mutating func skipToNextCandidate() {
        let from = head + 1
        head = buffer.withUnsafeBytes { raw -> Int in
            let n = raw.count
            var q = from
            while q < n {
                if q + 6 < n {
                    let quality = raw[q + 6]
                    if quality != 0x44, quality != 0x52, quality != 0x51, quality != 0x4D {
                        q += 1
                        continue
                    }
                }
                if RecordHeaderParser.hasSignature(UnsafeRawBufferPointer(rebasing: raw[q..<min(q + 27, n)])) { return q }
                q += 1
            }
            return n
        }
    }

    /// Returns the next complete record, nil if more bytes are needed, or throws for bytes
    /// that are not a valid record (see the type documentation for resynchronisation).
    public mutating func next() throws(MiniSEEDError) -> MiniSEEDRecord? {
        while head < buffer.count {
            let start = head
            let parse = buffer.withUnsafeBytes { raw in
                RecordHeaderParser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]), endOfInput: false,
                                         maximumRecordLength: maximumRecordLength)
            }
            switch parse {
            case .needMore:
                return nil
            case .invalid(let error):
                let wasResynchronising = resynchronising
                resynchronising = true
                skipToNextCandidate()
                if wasResynchronising { continue }
                throw error.located(file: source, byteOffset: input.streamOffset(ofIndex: start), recordIndex: recordIndex)
            case .header(let header):
                let index = recordIndex
                let offset = input.streamOffset(ofIndex: start)
                recordIndex += 1
                resynchronising = false
                if header.sampleCount > 0, case .other(let code) = header.encoding {
                    head += header.recordLength
                    let reason = header.hasBlockette1000
                        ? "encoding \(code) is not decoded (supported: INT16, INT32, FLOAT32, FLOAT64, STEIM1, STEIM2, TEXT)"
                        : "record has no Blockette 1000, so its encoding is unknown"
                    throw MiniSEEDError(.unsupportedEncoding, file: source, byteOffset: offset, recordIndex: index,
                                        field: "encoding", reason: reason)
                }
                var samples: [Double] = []
                var text: String?
                if header.sampleCount > 0 {
                    var decoded = LibMSEED.Decoded.samples
                    let numeric = header.encoding != .text
                    samples = [Double](unsafeUninitializedCapacity: numeric ? header.sampleCount : 0) { out, initialized in
                        decoded = buffer.withUnsafeBytes { raw in
                            LibMSEED.decode(record: UnsafeRawBufferPointer(rebasing: raw[start..<(start + header.recordLength)]),
                                            header: header, into: out.baseAddress)
                        }
                        if case .samples = decoded, numeric { initialized = header.sampleCount } else { initialized = 0 }
                    }
                    switch decoded {
                    case .samples: break
                    case .text(let t): text = t
                    case .failure(let error):
                        resynchronising = true
                        skipToNextCandidate()
                        throw error.located(file: source, byteOffset: offset, recordIndex: index)
                    }
                }
                head += header.recordLength
                return MiniSEEDRecord(streamID: header.streamID, startTime: header.startTime,
                                      samplingRateHz: header.samplingRateHz, encoding: header.encoding,
                                      sequenceNumber: header.sequenceNumber,
                                      quality: Character(Unicode.Scalar(header.quality)),
                                      recordLength: header.recordLength, byteOffset: offset, samples: samples, text: text)
            }
        }
        return nil
    }
}
