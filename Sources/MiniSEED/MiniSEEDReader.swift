import SeismicCore

/// Reads miniSEED 2 files (SEED Reference Manual v2.4, ch. 8) into contiguous sample blocks.
///
/// ## Decoding
/// Each record's header and blockettes are parsed and bounds-checked in Swift; the data
/// section is decoded by libmseed 2.19 `msr_unpack` (INT16, INT32, FLOAT32, FLOAT64, Steim-1,
/// Steim-2; all become `Double` exactly). TEXT records are collected in
/// ``MiniSEEDVolume/texts``; records in any other encoding (24-bit, GEOSCOPE, CDSN, SRO,
/// DWWSSN, unknown codes) and records without Blockette 1000 (encoding unknown) are reported
/// as `.unsupportedEncoding` problems. A Steim record whose last sample differs from its
/// reverse integration constant is a `.decodeFailed` problem (libmseed only warns).
///
/// ## Grouping and continuity
/// Records are grouped by exact stream id and exact sampling rate and, within a group, sorted
/// by start time (stable: records with equal start keep file order), so records stored out of
/// time order are reassembled. Walking a group in that order, a record *continues* a segment
/// when its start time `t` satisfies `|t − e| ≤ 0.5 / rate` seconds, where
/// `e = segmentStart + n / rate` is where that segment's `n` samples would continue (computed
/// in integer nanoseconds, rounded); the most recently started matching segment wins. This is
/// libmseed's and ObsPy's default tolerance of half a sample period. Otherwise the record
/// starts a new segment. A continued segment keeps its first record's start time; later
/// records' timing jitter within the tolerance is absorbed. Records without samples or with a
/// rate of 0 take no part.
///
/// Discontinuities are then reported between consecutive segments of a group in start-time
/// order (as ObsPy's `Stream.get_gaps` does): with `e` the end of the earlier segment (time
/// just after its last sample) and `t` the start of the next, a `.gap` if `t > e`, an
/// `.overlap` if `t < e` (duplicated records give an overlap of the whole record). Streams with
/// two sampling rates form two groups; the rate change itself is not reported as a gap.
///
/// ## Lenient and strict
/// Lenient (default): every good record is kept; each bad record or unreadable byte range is
/// listed in ``MiniSEEDVolume/problems`` and skipped (resynchronising at the next byte offset
/// where a valid record header starts). The read throws only if the file cannot be read or
/// holds no valid record at all. Strict: the first problem is thrown.
///
/// ## Memory
/// The file is read into one `[UInt8]`; headers are parsed in place; all samples are decoded
/// into one `[Double]` pool reserved to the total header sample count, then copied once into
/// each segment's array. Per record, libmseed allocates one small blockette link (see
/// `LibMSEED`); nothing else is allocated per record.
public enum MiniSEEDReader {
    /// Reads and decodes a whole miniSEED file.
    ///
    /// - Throws: ``MiniSEEDError`` naming the file: `.fileUnreadable`, or (lenient) the first
    ///   problem when no record is valid, or (strict) the first problem.
    public static func read(path: String, strict: Bool = false) throws(MiniSEEDError) -> MiniSEEDVolume {
        let bytes = try FileIO.readAll(path: path)
        return try read(bytes: bytes, source: path, strict: strict)
    }

    /// Reads and decodes miniSEED records from memory; `source` names them in errors.
    public static func read(bytes: [UInt8], source: String, strict: Bool = false) throws(MiniSEEDError) -> MiniSEEDVolume {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(MiniSEEDError) -> MiniSEEDVolume in
                try readVolume(raw, source: source, strict: strict)
            }
        }
        return try result.get()
    }

    // MARK: - Implementation

    /// A record whose header passed validation (compact: no strings, for cache-friendly passes).
    struct Entry {
        var header: RecordHeader
        var byteOffset: Int
        var recordIndex: Int
        /// Index into the stream table.
        var stream: Int
        /// Where its samples start in the pool (valid when `decoded`).
        var poolStart = 0
        var decoded = false
    }

    /// Finds the first offset after `start` where a record header parses (lenient resync).
    static func resynchronise(_ raw: UnsafeRawBufferPointer, after start: Int) -> Int {
        var q = start + 1
        let n = raw.count
        while q < n {
            // Cheap pre-filter on the quality indicator before building any slice.
            if q + 6 < n {
                let quality = raw[q + 6]
                if quality != 0x44, quality != 0x52, quality != 0x51, quality != 0x4D {
                    q += 1
                    continue
                }
            }
            let probe = UnsafeRawBufferPointer(rebasing: raw[q..<min(q + RecordHeaderParser.fixedHeaderLength, n)])
            if RecordHeaderParser.hasSignature(probe), n - q >= RecordHeaderParser.fixedHeaderLength,
               case .header = RecordHeaderParser.parse(UnsafeRawBufferPointer(rebasing: raw[q..<n]), endOfInput: true) {
                return q
            }
            q += 1
        }
        return n
    }

    static func readVolume(_ raw: UnsafeRawBufferPointer, source: String, strict: Bool) throws(MiniSEEDError) -> MiniSEEDVolume {
        let n = raw.count
        guard n > 0 else { throw MiniSEEDError(.notMiniSEED, file: source, byteOffset: 0, reason: "file is empty") }
        var problems: [MiniSEEDError] = []
        var entries: [Entry] = []
        var streamIDs: [StreamID] = []
        var streamIndex: [StreamID: Int] = [:]

        // Pass 1: headers.
        var offset = 0
        var index = 0
        while offset < n {
            let rest = UnsafeRawBufferPointer(rebasing: raw[offset..<n])
            switch RecordHeaderParser.parse(rest, endOfInput: true) {
            case .header(let header):
                if entries.isEmpty { entries.reserveCapacity(n / header.recordLength + 1) }
                let stream: Int
                if let last = entries.last, streamIDs[last.stream] == header.streamID {
                    stream = last.stream
                } else if let known = streamIndex[header.streamID] {
                    stream = known
                } else {
                    stream = streamIDs.count
                    streamIDs.append(header.streamID)
                    streamIndex[header.streamID] = stream
                }
                entries.append(Entry(header: header, byteOffset: offset, recordIndex: index, stream: stream))
                offset += header.recordLength
            case .needMore(let needed):
                // Not produced with endOfInput, but stay total.
                let error = MiniSEEDError(.truncatedRecord, file: source, byteOffset: offset, recordIndex: index,
                                          reason: "record needs \(needed) bytes, only \(n - offset) remain")
                if strict { throw error }
                problems.append(error)
                offset = n
            case .invalid(let error):
                var error = error.located(file: source, byteOffset: offset, recordIndex: index)
                if strict { throw error }
                let next = resynchronise(raw, after: offset)
                if next < n {
                    error.reason += " (skipped \(next - offset) bytes to the next record header at byte \(next))"
                }
                problems.append(error)
                offset = next
            }
            index += 1
        }

        // Pass 2: data, decoded straight into one pool sized from the headers.
        var total = 0
        for entry in entries where entry.header.encoding.isNumeric { total += entry.header.sampleCount }
        var texts: [StreamID: [(Timestamp, String)]] = [:]
        let pool = [Double](unsafeUninitializedCapacity: total) { buffer, initialized in
            var filled = 0
            decoding: for e in entries.indices {
                let header = entries[e].header
                let locate = { (error: MiniSEEDError) -> MiniSEEDError in
                    error.located(file: source, byteOffset: entries[e].byteOffset, recordIndex: entries[e].recordIndex)
                }
                if header.sampleCount > 0 {
                    if case .other(let code) = header.encoding {
                        let reason = header.hasBlockette1000
                            ? "encoding \(code) is not decoded (supported: INT16, INT32, FLOAT32, FLOAT64, STEIM1, STEIM2, TEXT)"
                            : "record has no Blockette 1000, so its encoding is unknown"
                        problems.append(locate(MiniSEEDError(.unsupportedEncoding, field: "encoding", reason: reason)))
                        if strict { break decoding }
                        continue
                    }
                    let numeric = header.encoding.isNumeric
                    let record = UnsafeRawBufferPointer(rebasing: raw[entries[e].byteOffset..<(entries[e].byteOffset + header.recordLength)])
                    let out = numeric ? buffer.baseAddress.map { $0 + filled } : nil
                    switch LibMSEED.decode(record: record, header: header, into: out) {
                    case .samples:
                        entries[e].poolStart = filled
                        if numeric { filled += header.sampleCount }
                    case .text(let text):
                        texts[header.streamID, default: []].append((header.startTime, text))
                    case .failure(let error):
                        problems.append(locate(error))
                        if strict { break decoding }
                        continue
                    }
                }
                entries[e].decoded = true
            }
            initialized = filled
        }
        if strict, let first = problems.first { throw first }
        guard entries.contains(where: \.decoded) else {
            problems.sort { ($0.byteOffset ?? 0) < ($1.byteOffset ?? 0) }
            throw problems.first ?? MiniSEEDError(.notMiniSEED, file: source, byteOffset: 0, reason: "no miniSEED record found")
        }
        problems.sort { ($0.byteOffset ?? 0) < ($1.byteOffset ?? 0) }
        return assemble(entries, streamIDs: streamIDs, pool: pool, texts: texts, source: source, byteCount: n,
                        problems: problems)
    }

    struct GroupKey: Hashable {
        var stream: Int
        var rateBits: UInt64
    }

    /// Groups, orders and merges decoded records into segments (see the type documentation).
    static func assemble(_ entries: [Entry], streamIDs: [StreamID], pool: [Double],
                         texts: [StreamID: [(Timestamp, String)]], source: String, byteCount: Int,
                         problems: [MiniSEEDError]) -> MiniSEEDVolume {
        var encodingSets = [Set<MiniSEEDEncoding>](repeating: [], count: streamIDs.count)
        var recordCounts = [Int](repeating: 0, count: streamIDs.count)
        var groups: [GroupKey: [Int]] = [:]
        var lastKey: GroupKey?
        var lastMembers: [Int] = []
        var lastEncoding: [MiniSEEDEncoding?] = Array(repeating: nil, count: streamIDs.count)
        var recordCount = 0
        for (i, entry) in entries.enumerated() where entry.decoded {
            let h = entry.header
            recordCount += 1
            recordCounts[entry.stream] += 1
            if lastEncoding[entry.stream] != h.encoding {
                encodingSets[entry.stream].insert(h.encoding)
                lastEncoding[entry.stream] = h.encoding
            }
            guard h.sampleCount > 0, h.encoding.isNumeric, h.samplingRateHz > 0 else { continue }
            let key = GroupKey(stream: entry.stream, rateBits: h.samplingRateHz.bitPattern)
            if key != lastKey {
                if let lastKey { groups[lastKey, default: []].append(contentsOf: lastMembers) }
                lastKey = key
                lastMembers = groups.removeValue(forKey: key) ?? []
            }
            lastMembers.append(i)
        }
        if let lastKey { groups[lastKey, default: []].append(contentsOf: lastMembers) }

        struct Run {
            var start: Timestamp
            var parts: [Int]
            var count: Int
            var end: Timestamp
        }
        var segments: [SampleBlock] = []
        var discontinuities: [StreamDiscontinuity] = []
        var allRuns: [(key: GroupKey, run: Run)] = []
        for (key, members) in groups {
            let rate = Double(bitPattern: key.rateBits)
            let streamID = streamIDs[key.stream]
            var ordered = members
            var sorted = true
            for j in ordered.indices.dropFirst()
            where entries[ordered[j]].header.startTime < entries[ordered[j - 1]].header.startTime {
                sorted = false
                break
            }
            if !sorted {
                ordered.sort {
                    let a = entries[$0].header.startTime, b = entries[$1].header.startTime
                    return a != b ? a < b : $0 < $1
                }
            }
            let toleranceNanoseconds = 0.5e9 / rate
            // Each record extends the run it continues (latest first), else starts a new run.
            var runs: [Run] = []
            for i in ordered {
                let h = entries[i].header
                var extended = false
                for r in runs.indices.reversed() {
                    let difference = h.startTime.nanoseconds(since: runs[r].end)
                    if Double(difference.magnitude) <= toleranceNanoseconds {
                        runs[r].parts.append(i)
                        runs[r].count += h.sampleCount
                        runs[r].end = runs[r].start.adding(nanoseconds: SampleBlock.offsetNanoseconds(
                            samples: runs[r].count, samplingRateHz: rate))
                        extended = true
                        break
                    }
                }
                if !extended {
                    let end = h.startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(
                        samples: h.sampleCount, samplingRateHz: rate))
                    runs.append(Run(start: h.startTime, parts: [i], count: h.sampleCount, end: end))
                }
            }
            // Runs are in start order (records were sorted); report each against its predecessor.
            for r in runs.indices.dropFirst() {
                let expected = runs[r - 1].end
                let actual = runs[r].start
                discontinuities.append(StreamDiscontinuity(kind: actual > expected ? .gap : .overlap,
                                                           streamID: streamID, expectedTime: expected,
                                                           actualTime: actual))
            }
            allRuns += runs.map { (key, $0) }
        }

        // Fast path: one run holding every pooled sample in pool order takes the pool as is.
        if allRuns.count == 1, let only = allRuns.first, only.run.count == pool.count,
           only.run.parts.enumerated().allSatisfy({ position, i in
               position == 0 ? entries[i].poolStart == 0
                   : entries[i].poolStart == entries[only.run.parts[position - 1]].poolStart
                     + entries[only.run.parts[position - 1]].header.sampleCount
           }) {
            segments.append(SampleBlock(streamID: streamIDs[only.key.stream], startTime: only.run.start,
                                        samplingRateHz: Double(bitPattern: only.key.rateBits), unit: .counts,
                                        samples: pool))
        } else {
            for (key, run) in allRuns {
                var samples: [Double] = []
                samples.reserveCapacity(run.count)
                for i in run.parts {
                    let start = entries[i].poolStart
                    samples.append(contentsOf: pool[start..<(start + entries[i].header.sampleCount)])
                }
                segments.append(SampleBlock(streamID: streamIDs[key.stream], startTime: run.start,
                                            samplingRateHz: Double(bitPattern: key.rateBits), unit: .counts,
                                            samples: samples))
            }
        }
        segments.sort {
            if $0.streamID != $1.streamID { return $0.streamID < $1.streamID }
            if $0.startTime != $1.startTime { return $0.startTime < $1.startTime }
            return $0.samplingRateHz < $1.samplingRateHz
        }
        discontinuities.sort {
            if $0.streamID != $1.streamID { return $0.streamID < $1.streamID }
            if $0.actualTime != $1.actualTime { return $0.actualTime < $1.actualTime }
            return $0.expectedTime < $1.expectedTime
        }

        var encodings: [StreamID: Set<MiniSEEDEncoding>] = [:]
        var streams: [MiniSEEDStreamSummary] = []
        for s in streamIDs.indices where recordCounts[s] > 0 {
            let id = streamIDs[s]
            encodings[id] = encodingSets[s]
            let own = segments.filter { $0.streamID == id }
            let gaps = discontinuities.filter { $0.streamID == id && $0.kind == .gap }.count
            let overlaps = discontinuities.filter { $0.streamID == id && $0.kind == .overlap }.count
            let firstRecord = entries.lazy.filter { $0.decoded && $0.stream == s }.map(\.header.startTime).min()
            let start = own.map(\.startTime).min() ?? firstRecord ?? Timestamp(nanosecondsSinceEpoch: 0)
            let end = own.map(\.endTimeExclusive).max() ?? start
            streams.append(MiniSEEDStreamSummary(
                streamID: id, samplingRatesHz: Array(Set(own.map(\.samplingRateHz))).sorted(), startTime: start,
                endTime: end, sampleCount: own.reduce(0) { $0 + $1.samples.count }, segmentCount: own.count,
                gapCount: gaps, overlapCount: overlaps, recordCount: recordCounts[s], encodings: encodingSets[s]))
        }
        streams.sort { $0.streamID < $1.streamID }
        var joinedTexts: [StreamID: String] = [:]
        for (id, parts) in texts {
            joinedTexts[id] = parts.enumerated().sorted {
                $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset
            }.map(\.element.1).joined()
        }
        return MiniSEEDVolume(source: source, byteCount: byteCount, recordCount: recordCount, segments: segments,
                              discontinuities: discontinuities, encodings: encodings, streams: streams,
                              texts: joinedTexts, problems: problems)
    }
}
