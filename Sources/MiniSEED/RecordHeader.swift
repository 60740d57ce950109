import SeismicCore

/// The fixed section of data header and the blockettes of one miniSEED 2 record, parsed and
/// checked in Swift before any byte reaches libmseed.
///
/// libmseed 2.19's `msr_unpack` trusts several header values (e.g. it decodes `numsamples`
/// INT32 values without checking that they fit in the record, and it re-derives the record
/// length from Blockette 1000), so every value that bounds a memory access is validated here
/// first; libmseed then only ever sees records whose sample counts, offsets and lengths lie
/// inside the bytes we hold. The checks also give each failure a field name and the offending
/// values (SEED Reference Manual v2.4, ch. 8 "Fixed Section of Data Header", and appendix:
/// Blockettes 100, 1000, 1001).
struct RecordHeader: Sendable {
    var sequenceNumber: Int
    var quality: UInt8
    var streamID: StreamID
    var startTime: Timestamp
    var samplingRateHz: Double
    var sampleCount: Int
    /// SEED encoding code from Blockette 1000 (nil without Blockette 1000).
    var encodingCode: Int?
    var recordLength: Int
    var dataOffset: Int
    var headerBigEndian: Bool
    var hasBlockette1000: Bool

    var encoding: MiniSEEDEncoding { MiniSEEDEncoding(seedCode: encodingCode ?? -1) }
}

/// Outcome of looking at the bytes where a record should start.
enum HeaderParse: Sendable {
    case header(RecordHeader)
    /// More bytes are needed; the payload is the total count (from the record start) known to
    /// be necessary at least.
    case needMore(Int)
    /// Not a usable record here; the error has code, field and reason (no source context yet).
    case invalid(MiniSEEDError)
}

enum RecordHeaderParser {
    /// Smallest and largest accepted record length (2^7 ... 2^16 bytes). libmseed 2 accepts up
    /// to 2^20, but SEED records in practice are 256 ... 65536 bytes; the lower cap keeps a
    /// streaming decoder from waiting for a megabyte because of one corrupt exponent.
    static let minimumRecordLengthExponent = 7
    static let maximumRecordLengthExponent = 16
    static let fixedHeaderLength = 48
    /// Longest time one record may span (10^9 s ≈ 31.7 years; SEED's slowest band code, T,
    /// samples every 10^5...10^6 s). Together with start years limited to 1900...2100 this keeps
    /// every segment's `count / rate` in nanoseconds well inside `Int64`.
    static let maximumRecordDurationSeconds = 1e9

    // MARK: - Byte access (never out of bounds: callers check `count` first)

    @inline(__always)
    static func u16(_ p: UnsafeRawBufferPointer, _ offset: Int, bigEndian: Bool) -> UInt16 {
        let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    @inline(__always)
    static func u32(_ p: UnsafeRawBufferPointer, _ offset: Int, bigEndian: Bool) -> UInt32 {
        let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    @inline(__always)
    static func isSequenceCharacter(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || b == 0x20 || b == 0 }

    /// The fixed-header signature libmseed's `MS_ISVALIDHEADER` tests: six digits/spaces/NULs,
    /// a quality indicator `D`, `R`, `Q` or `M`, a space or NUL, and (when at least 27 bytes are
    /// available) hour ≤ 23, minute ≤ 59, second ≤ 60. Checks only the bytes that are present.
    static func hasSignature(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        // The quality indicator first: it rejects almost every non-header position at once.
        if n > 6 {
            let q = p[6]
            guard q == 0x44 || q == 0x52 || q == 0x51 || q == 0x4D else { return false }
        }
        if n > 7 { guard p[7] == 0x20 || p[7] == 0 else { return false } }
        for i in 0..<min(6, n) where !isSequenceCharacter(p[i]) { return false }
        if n > 24 { guard p[24] <= 23 else { return false } }
        if n > 25 { guard p[25] <= 59 else { return false } }
        if n > 26 { guard p[26] <= 60 else { return false } }
        return true
    }

    static func isPlausibleYearDay(_ year: UInt16, _ day: UInt16) -> Bool {
        (1900...2100).contains(year) && (1...366).contains(day)
    }

    /// Fixed (known) blockette lengths in bytes including the 4-byte type/next header, as in
    /// libmseed `ms_blktlen`; nil for unknown types. Blockette 2000 is variable (read from it).
    static func fixedBlocketteLength(_ type: UInt16) -> Int? {
        switch type {
        case 100: return 12
        case 200: return 52
        case 201: return 60
        case 300: return 60
        case 310: return 60
        case 320: return 64
        case 390: return 28
        case 395: return 16
        case 400: return 16
        case 405: return 6
        case 500: return 200
        case 1000: return 8
        case 1001: return 8
        default: return nil
        }
    }

    static func text(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        var end = range.upperBound
        while end > range.lowerBound, p[end - 1] == 0x20 || p[end - 1] == 0 { end -= 1 }
        var start = range.lowerBound
        while start < end, p[start] == 0x20 || p[start] == 0 { start += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
    }

    /// libmseed's `ms_nomsamprate`: rate from the SEED factor and multiplier (negative values
    /// mean "period"); 0 when the factor is 0.
    static func nominalRate(factor: Int16, multiplier: Int16) -> Double {
        var rate = 0.0
        if factor > 0 { rate = Double(factor) } else if factor < 0 { rate = -1.0 / Double(factor) }
        if multiplier > 0 { rate *= Double(multiplier) } else if multiplier < 0 { rate = -rate / Double(multiplier) }
        return rate
    }

    static func invalid(_ field: String, _ reason: String) -> HeaderParse {
        .invalid(MiniSEEDError(.invalidHeader, field: field, reason: reason))
    }

    /// Parses and validates the record starting at `p[0]`.
    ///
    /// - Parameters:
    ///   - p: the bytes from the record start to the end of the data currently held.
    ///   - endOfInput: true when no more bytes will follow (a file); then a short record is
    ///     `.invalid(.truncatedRecord)` instead of `.needMore`.
    /// - Complexity: O(number of blockettes); O(64 KiB) signature probes for a record without
    ///   Blockette 1000.
    static func parse(_ p: UnsafeRawBufferPointer, endOfInput: Bool) -> HeaderParse {
        let available = p.count
        if available < fixedHeaderLength {
            if !hasSignature(p) {
                return .invalid(MiniSEEDError(.notMiniSEED, reason: "no miniSEED fixed-header signature"))
            }
            if endOfInput {
                return .invalid(MiniSEEDError(.truncatedRecord,
                    reason: "\(available) bytes left, a fixed header alone needs \(fixedHeaderLength)"))
            }
            return .needMore(fixedHeaderLength)
        }
        guard hasSignature(UnsafeRawBufferPointer(rebasing: p[0..<8])) else {
            return .invalid(MiniSEEDError(.notMiniSEED, reason: "no miniSEED fixed-header signature "
                + "(6-character sequence number, quality indicator D/R/Q/M, reserved byte)"))
        }
        guard p[24] <= 23, p[25] <= 59, p[26] <= 60 else {
            return invalid("start time", "time of day \(p[24]):\(p[25]):\(p[26]) is impossible")
        }

        // Byte order: libmseed's heuristic (README.byteorder) — a plausible year and day in
        // big-endian means a big-endian header, otherwise try little-endian.
        var be = true
        var year = u16(p, 20, bigEndian: true)
        var day = u16(p, 22, bigEndian: true)
        if !isPlausibleYearDay(year, day) {
            let ly = u16(p, 20, bigEndian: false), ld = u16(p, 22, bigEndian: false)
            if isPlausibleYearDay(ly, ld) {
                be = false
                year = ly
                day = ld
            } else if (1900...2100).contains(year) {
                return invalid("start time", "day of year \(day) outside 1...366 (year \(year))")
            } else {
                return invalid("start time", "year \(year) (day \(day)) outside 1900...2100 in either byte order")
            }
        }
        let hour = Int(p[24]), minute = Int(p[25]), second = Int(p[26])
        let fract = Int(u16(p, 28, bigEndian: be))
        guard fract <= 9999 else {
            return invalid("start time", "fraction \(fract) × 0.0001 s exceeds 9999")
        }
        let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        guard Int(day) <= (isLeap ? 366 : 365) else {
            return invalid("start time", "day of year \(day) does not exist in \(year)")
        }

        var sequence = 0
        for i in 0..<6 where p[i] >= 0x30 && p[i] <= 0x39 { sequence = sequence * 10 + Int(p[i] - 0x30) }
        let streamID = StreamID(network: text(p, 18..<20), station: text(p, 8..<13),
                                location: text(p, 13..<15), channel: text(p, 15..<18))
        let sampleCount = Int(u16(p, 30, bigEndian: be))
        let factor = Int16(bitPattern: u16(p, 32, bigEndian: be))
        let multiplier = Int16(bitPattern: u16(p, 34, bigEndian: be))
        let activityFlags = p[36]
        let timeCorrection = Int32(bitPattern: u32(p, 40, bigEndian: be))
        let dataOffset = Int(u16(p, 44, bigEndian: be))
        let firstBlockette = Int(u16(p, 46, bigEndian: be))

        // Blockette chain.
        var blockette100Rate: Float?
        var encodingCode: Int?
        var recordLength: Int?
        var microsecondOffset = 0
        var chainEnd = fixedHeaderLength
        var offset = firstBlockette
        var walked = 0
        while offset != 0 {
            guard offset >= chainEnd else {
                return invalid("blockette chain",
                    "blockette at byte \(offset) overlaps the fixed header or the previous blockette (ends at \(chainEnd))")
            }
            if let recordLength, offset + 4 > recordLength {
                return invalid("blockette chain", "blockette at byte \(offset) lies beyond the record length \(recordLength)")
            }
            if offset + 4 > available {
                return short(offset + 4, available, endOfInput, what: "blockette at byte \(offset)")
            }
            let type = u16(p, offset, bigEndian: be)
            let next = Int(u16(p, offset + 2, bigEndian: be))
            var length: Int
            if type == 2000 {
                if offset + 6 > available {
                    return short(offset + 6, available, endOfInput, what: "blockette 2000 at byte \(offset)")
                }
                length = Int(u16(p, offset + 4, bigEndian: be))
                guard length >= 15 else {
                    return invalid("blockette 2000", "length \(length) is shorter than its 15-byte header")
                }
            } else if let known = fixedBlocketteLength(type) {
                length = known
            } else {
                // libmseed stops walking at a blockette whose length it does not know; so do we.
                break
            }
            if let recordLength, offset + length > recordLength {
                return invalid("blockette \(type)", "blockette at byte \(offset) (\(length) bytes) extends beyond the record length \(recordLength)")
            }
            if offset + length > available {
                return short(offset + length, available, endOfInput, what: "blockette \(type) at byte \(offset)")
            }
            switch type {
            case 100:
                blockette100Rate = Float(bitPattern: u32(p, offset + 4, bigEndian: be))
            case 1000:
                encodingCode = Int(p[offset + 4])
                let exponent = Int(p[offset + 6])
                guard (minimumRecordLengthExponent...maximumRecordLengthExponent).contains(exponent) else {
                    return invalid("blockette 1000",
                        "record length exponent \(exponent) outside \(minimumRecordLengthExponent)...\(maximumRecordLengthExponent) (128...65536 bytes)")
                }
                let length = 1 << exponent
                guard offset + 8 <= length, chainEnd <= length else {
                    return invalid("blockette 1000", "record length \(length) does not hold the header and blockettes")
                }
                recordLength = length
            case 1001:
                microsecondOffset = Int(Int8(bitPattern: p[offset + 5]))
            default:
                break
            }
            chainEnd = offset + length
            walked += 1
            if walked > 64 {
                return invalid("blockette chain", "more than 64 blockettes")
            }
            if next != 0, next < chainEnd {
                // libmseed logs and stops walking here; the chain is corrupt, so refuse it.
                return invalid("blockette chain",
                    "next blockette offset \(next) points inside blockette \(type) ending at byte \(chainEnd)")
            }
            offset = next
        }

        // Record length without Blockette 1000: the distance to the next record header at a
        // power-of-two offset, or the rest of the input (libmseed `msr_parse` detection).
        let hasB1000 = recordLength != nil
        if recordLength == nil {
            var exponent = minimumRecordLengthExponent
            while exponent <= maximumRecordLengthExponent {
                let candidate = 1 << exponent
                if candidate >= chainEnd {
                    if candidate == available, endOfInput {
                        recordLength = candidate
                        break
                    }
                    if candidate + fixedHeaderLength <= available,
                       hasSignature(UnsafeRawBufferPointer(rebasing: p[candidate..<(candidate + fixedHeaderLength)])) {
                        recordLength = candidate
                        break
                    }
                    if candidate + fixedHeaderLength > available {
                        if !endOfInput { return .needMore(candidate + fixedHeaderLength) }
                    }
                }
                exponent += 1
            }
            if recordLength == nil {
                return invalid("blockette 1000",
                    "no Blockette 1000 and no following record header at a power-of-two offset: record length unknown")
            }
        }
        guard let recordLength else { return invalid("blockette 1000", "record length unknown") }
        if available < recordLength {
            return short(recordLength, available, endOfInput, what: "record of \(recordLength) bytes")
        }

        // Sampling rate (libmseed `msr_samprate`: Blockette 100 overrides factor/multiplier).
        let nominal = nominalRate(factor: factor, multiplier: multiplier)
        var rate = nominal
        if let b100 = blockette100Rate {
            guard b100.isFinite, b100 > 0 else {
                return invalid("sampling rate", "blockette 100 rate \(b100) is not a positive finite number")
            }
            rate = Double(b100)
        }
        // TEXT records (and encodings we do not decode) commonly carry a rate of 0.
        if sampleCount > 0, MiniSEEDEncoding(seedCode: encodingCode ?? -1).isNumeric {
            guard rate > 0, rate.isFinite else {
                return invalid("sampling rate", "factor \(factor), multiplier \(multiplier) give \(rate) Hz for a record with \(sampleCount) samples")
            }
            // Keeps every time computed from sample counts far inside Int64 nanoseconds.
            guard Double(sampleCount) / rate <= maximumRecordDurationSeconds else {
                return invalid("sampling rate", "\(sampleCount) samples at \(rate) Hz would span more than \(Int(maximumRecordDurationSeconds)) s")
            }
        }

        // Data section.
        if sampleCount > 0 {
            guard dataOffset >= chainEnd, dataOffset < recordLength else {
                return invalid("data offset",
                    "\(dataOffset) is outside \(chainEnd)..<\(recordLength) (after the header and blockettes, inside the record)")
            }
            let dataBytes = recordLength - dataOffset
            let capacity: Int?
            switch encodingCode ?? -1 {
            case 0: capacity = dataBytes
            case 1: capacity = dataBytes / 2
            case 3, 4: capacity = dataBytes / 4
            case 5: capacity = dataBytes / 8
            case 10: capacity = max(0, (dataBytes / 64) * 15 - 2) * 4
            case 11: capacity = max(0, (dataBytes / 64) * 15 - 2) * 7
            default: capacity = nil
            }
            if let capacity, sampleCount > capacity {
                return invalid("sample count",
                    "\(sampleCount) samples cannot fit in \(dataBytes) data bytes of \(MiniSEEDEncoding(seedCode: encodingCode ?? -1)) (at most \(capacity))")
            }
        }

        // Start time (libmseed `msr_starttime`): BTime + time correction unless already applied
        // (activity flag bit 1) + Blockette 1001 microseconds; exact in integer nanoseconds.
        var nanos = Int64(fract) * 100_000 + Int64(microsecondOffset) * 1000
        if activityFlags & 0x02 == 0 { nanos += Int64(timeCorrection) * 100_000 }
        guard let base = Timestamp(year: Int(year), dayOfYear: Int(day), hour: hour, minute: minute,
                                   second: second, nanosecond: 0)
        else {
            return invalid("start time", "\(year),\(day) \(hour):\(minute):\(second) is not a valid time")
        }
        return .header(RecordHeader(
            sequenceNumber: sequence, quality: p[6], streamID: streamID, startTime: base.adding(nanoseconds: nanos),
            samplingRateHz: rate, sampleCount: sampleCount, encodingCode: encodingCode,
            recordLength: recordLength, dataOffset: dataOffset, headerBigEndian: be, hasBlockette1000: hasB1000))
    }

    private static func short(_ needed: Int, _ available: Int, _ endOfInput: Bool, what: String) -> HeaderParse {
        if endOfInput {
            return .invalid(MiniSEEDError(.truncatedRecord,
                reason: "\(what) needs \(needed) bytes, only \(available) remain"))
        }
        return .needMore(needed)
    }
}
