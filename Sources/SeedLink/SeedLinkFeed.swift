import Foundation
public import MiniSEED
public import SeismicCore

/// One 512-byte miniSEED record ready to be served as a SeedLink packet.
public struct SeedLinkFeedRecord: Sendable, Equatable {
    public var streamID: StreamID
    /// Time of the first sample.
    public var startTime: Timestamp
    /// Time just after the last sample (`start + n / rate`, rounded to the nanosecond); the
    /// start time for records without samples or rate.
    public var endTime: Timestamp
    /// Exactly 512 bytes.
    public var bytes: [UInt8]
    /// File the record came from.
    public var source: String
    /// True when the record was re-encoded from a longer (or shorter) record.
    public var repacked: Bool

    public init(streamID: StreamID, startTime: Timestamp, endTime: Timestamp, bytes: [UInt8], source: String,
                repacked: Bool) {
        self.streamID = streamID
        self.startTime = startTime
        self.endTime = endTime
        self.bytes = bytes
        self.source = source
        self.repacked = repacked
    }
}

/// The records `quakewarn feed` serves: every record of the input files as a 512-byte record,
/// in data-time order.
///
/// - 512-byte input records are served byte-identical.
/// - Other numeric records are repacked into 512-byte records without changing a sample value
///   or a time: decoded, then re-encoded with ``MiniSEEDWriter`` at record length 512 with the
///   same stream id and start time, in a lossless encoding — STEIM2 for integer encodings
///   (INT16, INT32, STEIM1, STEIM2), or INT32 when a difference between consecutive samples
///   does not fit Steim-2's 30 bits; FLOAT32 stays FLOAT32 and FLOAT64 stays FLOAT64. The
///   repacked records start at `start + n_k / rate` (rounded to the microsecond, miniSEED 2's
///   resolution), where `n_k` is the number of samples before them. Quality becomes `D` and
///   header sequence numbers restart at 1 (libmseed's packer); SeedLink sequence numbers are
///   in the packet header anyway.
/// - Non-512-byte TEXT records and records without samples cannot be repacked and are skipped
///   (listed in ``problems``), as are records that fail to decode.
///
/// Order and sequence numbers: records are sorted by start time, ties by stream id, then by
/// file and position (stable). The record at index `i` gets SeedLink sequence number `i + 1`
/// in the first pass; with `--loop`, pass `k` continues with `k × count + i + 1`.
public struct SeedLinkFeed: Sendable {
    public var records: [SeedLinkFeedRecord]
    /// Skipped records and unreadable byte ranges (human-readable, with file and offset).
    public var problems: [String]

    public init(records: [SeedLinkFeedRecord], problems: [String] = []) {
        self.records = records
        self.problems = problems
    }

    /// Expands directories to the `*.mseed` files directly inside them (sorted by name).
    public static func expand(paths: [String]) throws(SeedLinkError) -> [String] {
        do {
            return try MiniSEEDFileList.expand(paths)
        } catch {
            throw SeedLinkError(.feedInput, "\(error)")
        }
    }

    /// Loads files (directories expanded to their `*.mseed` files).
    ///
    /// - Throws: `.feedInput` when a path cannot be read or no record at all can be served.
    public static func load(paths: [String]) throws(SeedLinkError) -> SeedLinkFeed {
        var records: [SeedLinkFeedRecord] = []
        var problems: [String] = []
        for file in try expand(paths: paths) {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SeedLinkError(.feedInput, "\(file): cannot read file")
            }
            let loaded = Self.records(fromBytes: [UInt8](data), source: file)
            records += loaded.records
            problems += loaded.problems
        }
        guard !records.isEmpty else {
            throw SeedLinkError(.feedInput, "no servable miniSEED record in \(paths.joined(separator: ", "))"
                                + (problems.first.map { " (\($0))" } ?? ""))
        }
        return SeedLinkFeed(records: sorted(records), problems: problems)
    }

    /// Sorts by start time, then stream id; equal keys keep their order.
    public static func sorted(_ records: [SeedLinkFeedRecord]) -> [SeedLinkFeedRecord] {
        records.enumerated().sorted { a, b in
            if a.element.startTime != b.element.startTime { return a.element.startTime < b.element.startTime }
            if a.element.streamID != b.element.streamID { return a.element.streamID < b.element.streamID }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Splits a file's bytes into servable 512-byte records (file order), repacking as needed.
    public static func records(fromBytes bytes: [UInt8], source: String) -> (records: [SeedLinkFeedRecord], problems: [String]) {
        var decoder = MiniSEEDRecordDecoder(source: source)
        decoder.append(bytes)
        var out: [SeedLinkFeedRecord] = []
        var problems: [String] = []
        while true {
            let record: MiniSEEDRecord?
            do {
                record = try decoder.next()
            } catch {
                problems.append("skipped: \(error)")
                continue
            }
            guard let record else { break }
            if record.recordLength == 512 {
                let raw = Array(bytes[record.byteOffset..<(record.byteOffset + 512)])
                out.append(SeedLinkFeedRecord(streamID: record.streamID, startTime: record.startTime,
                                              endTime: endTime(of: record), bytes: raw, source: source, repacked: false))
                continue
            }
            do {
                out += try repack(record, source: source)
            } catch {
                problems.append("\(source): byte \(record.byteOffset): skipped: \(error.reason)")
            }
        }
        if decoder.bufferedByteCount > 0 {
            problems.append("\(source): byte \(decoder.consumedByteCount): \(decoder.bufferedByteCount) trailing bytes are not a complete record")
        }
        return (out, problems)
    }

    /// Time just after the record's last sample.
    public static func endTime(of record: MiniSEEDRecord) -> Timestamp {
        guard record.samplingRateHz > 0, record.sampleCount > 0 else { return record.startTime }
        return record.startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(samples: record.sampleCount,
                                                                                  samplingRateHz: record.samplingRateHz))
    }

    /// The lossless encoding a record is repacked in (see the type documentation).
    public static func repackEncoding(for encoding: MiniSEEDEncoding) -> MiniSEEDEncoding? {
        switch encoding {
        case .int16, .int32, .steim1, .steim2: return .steim2
        case .float32: return .float32
        case .float64: return .float64
        case .text, .other: return nil
        }
    }

    /// Re-encodes one decoded record as 512-byte records (see the type documentation).
    ///
    /// - Throws: `.repack` for TEXT records, records without samples or rate, and encoder failures.
    public static func repack(_ record: MiniSEEDRecord, source: String) throws(SeedLinkError) -> [SeedLinkFeedRecord] {
        guard let encoding = repackEncoding(for: record.encoding) else {
            throw SeedLinkError(.repack, "\(record.streamID): a \(record.recordLength)-byte \(record.encoding) record cannot be repacked to 512 bytes")
        }
        guard record.sampleCount > 0, record.samplingRateHz > 0 else {
            throw SeedLinkError(.repack, "\(record.streamID): a \(record.recordLength)-byte record without samples cannot be repacked")
        }
        let block = SampleBlock(streamID: record.streamID, startTime: record.startTime,
                                samplingRateHz: record.samplingRateHz, samples: record.samples)
        return try encode512(block, encoding: encoding, source: source)
    }

    /// Stations and their streams, for `INFO STATIONS`/`INFO STREAMS`.
    public var stations: [SeedLinkInfo.Station] {
        var order: [String] = []
        var byStation: [String: SeedLinkInfo.Station] = [:]
        for (i, r) in records.enumerated() {
            let key = r.streamID.network + "_" + r.streamID.station
            if var s = byStation[key] {
                s.endSequence = i + 1
                if let j = s.streams.firstIndex(where: { $0.location == r.streamID.location && $0.channel == r.streamID.channel }) {
                    s.streams[j].beginTime = min(s.streams[j].beginTime, r.startTime)
                    s.streams[j].endTime = max(s.streams[j].endTime, r.endTime)
                } else {
                    s.streams.append(.init(location: r.streamID.location, channel: r.streamID.channel,
                                           beginTime: r.startTime, endTime: r.endTime))
                }
                byStation[key] = s
            } else {
                order.append(key)
                byStation[key] = .init(network: r.streamID.network, station: r.streamID.station, beginSequence: i + 1,
                                       endSequence: i + 1,
                                       streams: [.init(location: r.streamID.location, channel: r.streamID.channel,
                                                       beginTime: r.startTime, endTime: r.endTime)])
            }
        }
        return order.sorted().compactMap { byStation[$0] }
    }
}
