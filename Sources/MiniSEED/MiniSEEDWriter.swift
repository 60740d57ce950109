internal import CMiniSEED
public import SeismicCore
import Synchronization

/// Writes sample blocks as miniSEED 2 (SEED Reference Manual v2.4, ch. 8) with libmseed 2.19's
/// `msr_pack`.
///
/// Every record is big-endian and carries Blockette 1000 (encoding, byte order, record length)
/// and Blockette 1001 (microsecond offset of the start time), plus Blockette 100 when the
/// sampling rate cannot be expressed exactly by the header's integer factor and multiplier.
/// Sequence numbers count up from `firstSequenceNumber` (wrapping 999999 → 1). Record `k`
/// starts at `startTime + n_k / rate`, where `n_k` is the number of samples in the records
/// before it, rounded to the microsecond (miniSEED 2's time resolution; libmseed computes it
/// in `hptime_t` microseconds from the block start).
///
/// Encodings: FLOAT64 (any value, including NaN and ±∞), FLOAT32 (only values exactly
/// representable in binary32), INT16, INT32, STEIM1 and STEIM2 (only integral values in
/// range: ±32767/−32768 for INT16, the Int32 range otherwise; Steim-1 differences between
/// consecutive samples must fit in 32 bits and Steim-2 differences in 30 bits). A value that
/// does not fit throws `.valueNotRepresentable` naming the sample index — nothing is rounded.
///
/// Record length: default 4096 bytes for files (ObsPy's default); 512 for SeedLink. Any power
/// of two from 128 to 65536 is accepted.
///
/// Memory: the samples are converted once into a buffer of the encoding's native type; libmseed
/// allocates one record buffer per call and the output grows by one record per record.
public enum MiniSEEDWriter {
    /// The record length used for files unless told otherwise.
    public static let defaultRecordLength = 4096

    /// Encodes one block into consecutive miniSEED records. An empty block gives no bytes.
    ///
    /// - Parameters:
    ///   - block: stream id (network ≤ 2, station ≤ 5, location ≤ 2, channel ≤ 3 ASCII
    ///     characters), start time (whole microseconds), rate in Hz (positive, finite), samples.
    ///   - encoding: one of the six numeric encodings.
    ///   - recordLength: bytes per record, a power of two in 128...65536.
    ///   - firstSequenceNumber: sequence number of the first record, 1...999999.
    public static func encode(_ block: SampleBlock, encoding: MiniSEEDEncoding, recordLength: Int = defaultRecordLength,
                              firstSequenceNumber: Int = 1) throws(MiniSEEDError) -> [UInt8] {
        try validate(block, recordLength: recordLength, firstSequenceNumber: firstSequenceNumber)
        if block.samples.isEmpty { return [] }
        switch encoding {
        case .float64:
            var values = block.samples
            return try pack(block, encoding: encoding, sampleType: "d", recordLength: recordLength,
                            sequence: firstSequenceNumber, samples: &values)
        case .float32:
            var values = [Float](repeating: 0, count: block.samples.count)
            for (i, x) in block.samples.enumerated() {
                let f = Float(x)
                guard Double(f) == x || x.isNaN else {
                    throw notRepresentable(block, i, x, "is not exactly representable as FLOAT32 (nearest \(f))")
                }
                values[i] = f
            }
            return try pack(block, encoding: encoding, sampleType: "f", recordLength: recordLength,
                            sequence: firstSequenceNumber, samples: &values)
        case .int16, .int32, .steim1, .steim2:
            let range: ClosedRange<Double> = encoding == .int16 ? -32768...32767 : -2_147_483_648...2_147_483_647
            var values = [Int32](repeating: 0, count: block.samples.count)
            for (i, x) in block.samples.enumerated() {
                guard x.isFinite, x.rounded(.towardZero) == x else {
                    throw notRepresentable(block, i, x, "is not an integer; \(encoding) stores integer counts")
                }
                guard range.contains(x) else {
                    throw notRepresentable(block, i, x, "is outside the \(encoding) range \(Int(range.lowerBound))...\(Int(range.upperBound))")
                }
                values[i] = Int32(x)
            }
            if encoding == .steim1 || encoding == .steim2 {
                let limit: ClosedRange<Int64> = encoding == .steim1 ? -2_147_483_648...2_147_483_647 : -536_870_912...536_870_911
                for i in values.indices.dropFirst() {
                    let difference = Int64(values[i]) - Int64(values[i - 1])
                    guard limit.contains(difference) else {
                        throw notRepresentable(block, i, block.samples[i],
                            "differs from the previous sample by \(difference), more than \(encoding) can encode (\(limit.lowerBound)...\(limit.upperBound))")
                    }
                }
            }
            return try pack(block, encoding: encoding, sampleType: "i", recordLength: recordLength,
                            sequence: firstSequenceNumber, samples: &values)
        case .text, .other:
            throw MiniSEEDError(.unsupportedEncoding, field: "encoding",
                                reason: "cannot write \(encoding); use INT16, INT32, FLOAT32, FLOAT64, STEIM1 or STEIM2")
        }
    }

    /// Encodes each block (sequence numbers continue across blocks) and writes the file,
    /// replacing it.
    ///
    /// - Throws: the first encoding error (with the file path), or `.fileUnwritable`.
    public static func write(_ blocks: [SampleBlock], encoding: MiniSEEDEncoding, recordLength: Int = defaultRecordLength,
                             to path: String) throws(MiniSEEDError) {
        var bytes: [UInt8] = []
        var sequence = 1
        for block in blocks {
            do {
                let encoded = try encode(block, encoding: encoding, recordLength: recordLength, firstSequenceNumber: sequence)
                sequence = (sequence - 1 + encoded.count / recordLength) % 999_999 + 1
                bytes.append(contentsOf: encoded)
            } catch {
                throw error.located(file: path)
            }
        }
        try FileIO.writeAll(bytes, to: path)
    }

    // MARK: - Implementation

    static func notRepresentable(_ block: SampleBlock, _ index: Int, _ value: Double, _ why: String) -> MiniSEEDError {
        MiniSEEDError(.valueNotRepresentable, field: "sample \(index)",
                      reason: "\(block.streamID): sample \(index) = \(value) \(why)")
    }

    static func validate(_ block: SampleBlock, recordLength: Int, firstSequenceNumber: Int) throws(MiniSEEDError) {
        guard recordLength >= 128, recordLength <= 65536, recordLength & (recordLength - 1) == 0 else {
            throw MiniSEEDError(.invalidArgument, field: "record length",
                                reason: "\(recordLength) is not a power of two in 128...65536")
        }
        guard (1...999_999).contains(firstSequenceNumber) else {
            throw MiniSEEDError(.invalidArgument, field: "sequence number", reason: "\(firstSequenceNumber) is outside 1...999999")
        }
        let id = block.streamID
        for (name, value, limit) in [("network", id.network, 2), ("station", id.station, 5),
                                     ("location", id.location, 2), ("channel", id.channel, 3)] {
            guard value.utf8.count <= limit, value.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw MiniSEEDError(.invalidArgument, field: name,
                                    reason: "'\(value)' of \(id) must be at most \(limit) printable ASCII characters without spaces")
            }
        }
        guard block.samplingRateHz.isFinite, block.samplingRateHz > 0 else {
            throw MiniSEEDError(.invalidArgument, field: "sampling rate", reason: "\(block.samplingRateHz) Hz is not positive and finite")
        }
        guard Double(block.samples.count) / block.samplingRateHz <= 3e9 else {
            throw MiniSEEDError(.invalidArgument, field: "sampling rate",
                                reason: "\(block.samples.count) samples at \(block.samplingRateHz) Hz span more than 3e9 s")
        }
        guard block.startTime.nanosecondsSinceEpoch % 1000 == 0 else {
            throw MiniSEEDError(.invalidArgument, field: "start time",
                                reason: "\(block.startTime) has sub-microsecond precision, which miniSEED 2 cannot store")
        }
        let year = block.startTime.components.year
        guard (1900...2100).contains(year) else {
            throw MiniSEEDError(.invalidArgument, field: "start time", reason: "\(block.startTime) is outside the years 1900...2100")
        }
    }

    /// Holds the output while libmseed calls the record handler.
    final class Output {
        var bytes: [UInt8] = []
    }

    static func copy(_ text: String, into field: inout (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)) {
        withUnsafeMutableBytes(of: &field) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            for (i, b) in text.utf8.prefix(10).enumerated() { raw[i] = b }
        }
    }

    static func pack<T>(_ block: SampleBlock, encoding: MiniSEEDEncoding, sampleType: Unicode.Scalar, recordLength: Int,
                        sequence: Int, samples: inout [T]) throws(MiniSEEDError) -> [UInt8] {
        let output = Output()
        output.bytes.reserveCapacity((block.samples.count / 100 + 1) * recordLength)
        let count = samples.count
        let result: MiniSEEDError? = samples.withUnsafeMutableBytes { sampleBytes -> MiniSEEDError? in
            LibMSEED.lock.withLock { state -> MiniSEEDError? in
                LibMSEED.installLogging(&state)
                LibMSEED.log.removeAll(keepingCapacity: true)
                guard let msr = msr_init(nil) else {
                    return MiniSEEDError(.encodeFailed, reason: "libmseed could not allocate a record")
                }
                var owned: UnsafeMutablePointer<MSRecord>? = msr
                defer {
                    // Swift owns the samples: detach them before msr_free frees the record.
                    owned?.pointee.datasamples = nil
                    msr_free(&owned)
                }
                copy(block.streamID.network, into: &msr.pointee.network)
                copy(block.streamID.station, into: &msr.pointee.station)
                copy(block.streamID.location, into: &msr.pointee.location)
                copy(block.streamID.channel, into: &msr.pointee.channel)
                msr.pointee.dataquality = CChar(bitPattern: UInt8(ascii: "D"))
                msr.pointee.starttime = block.startTime.nanosecondsSinceEpoch / 1000
                msr.pointee.samprate = block.samplingRateHz
                msr.pointee.encoding = Int8(encoding.seedCode)
                msr.pointee.byteorder = 1
                msr.pointee.reclen = Int32(recordLength)
                msr.pointee.sequence_number = Int32(sequence)
                msr.pointee.datasamples = sampleBytes.baseAddress
                msr.pointee.numsamples = Int64(count)
                msr.pointee.sampletype = CChar(bitPattern: UInt8(sampleType.value))

                // Blockette 1000 first (filled in by msr_pack), then 1001, then 100 if needed.
                var b1000 = blkt_1000_s()
                var b1001 = blkt_1001_s()
                let added1000 = withUnsafeMutableBytes(of: &b1000) { raw in
                    msr_addblockette(msr, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count), 1000, 0)
                }
                let added1001 = withUnsafeMutableBytes(of: &b1001) { raw in
                    msr_addblockette(msr, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count), 1001, 0)
                }
                guard added1000 != nil, added1001 != nil else {
                    return MiniSEEDError(.encodeFailed, reason: "libmseed could not add blockettes")
                }
                var factor: Int16 = 0, multiplier: Int16 = 0
                let exact = ms_genfactmult(block.samplingRateHz, &factor, &multiplier) == 0
                    && ms_nomsamprate(Int32(factor), Int32(multiplier)) == block.samplingRateHz
                if !exact {
                    guard Double(Float(block.samplingRateHz)) == block.samplingRateHz else {
                        return MiniSEEDError(.invalidArgument, field: "sampling rate",
                            reason: "\(block.samplingRateHz) Hz is neither a factor/multiplier ratio nor exact in Blockette 100's binary32")
                    }
                    var b100 = blkt_100_s()
                    b100.samprate = Float(block.samplingRateHz)
                    let added100 = withUnsafeMutableBytes(of: &b100) { raw in
                        msr_addblockette(msr, raw.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(raw.count), 100, 0)
                    }
                    guard added100 != nil else {
                        return MiniSEEDError(.encodeFailed, reason: "libmseed could not add Blockette 100")
                    }
                }

                var packed: Int64 = 0
                let context = Unmanaged.passUnretained(output).toOpaque()
                let records = msr_pack(msr, { record, length, context in
                    guard let record, let context, length > 0 else { return }
                    let sink = Unmanaged<Output>.fromOpaque(context).takeUnretainedValue()
                    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: record, count: Int(length)))
                }, context, &packed, 1, 0)
                guard records >= 0 else {
                    return MiniSEEDError(.encodeFailed, reason: "libmseed msr_pack: " + LibMSEED.logText(or: "failed"))
                }
                guard packed == Int64(count) else {
                    return MiniSEEDError(.encodeFailed, reason: "libmseed packed \(packed) of \(count) samples")
                }
                return nil
            }
        }
        if let result { throw result }
        return output.bytes
    }
}
