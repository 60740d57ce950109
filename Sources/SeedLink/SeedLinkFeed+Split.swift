import MiniSEED
import SeismicCore

extension SeedLinkFeed {
    /// The same samples re-cut into 512-byte records that hold at most `seconds` of data each:
    /// the packetisation of an EEW station, which sends ~1 s packets instead of filling a whole
    /// 512-byte record (2–10 s of 100 sps Steim-2 data) before sending it.
    ///
    /// A record that holds more than `seconds` is decoded and its samples are split into runs of
    /// `max(1, ⌊seconds × rate⌋)` samples (the last run may be shorter), each encoded like
    /// ``repack(_:source:)`` (STEIM2 for integer data, INT32 when Steim-2 cannot hold a
    /// difference, FLOAT32/FLOAT64 unchanged): no sample value or time changes, only record
    /// boundaries, so the pipeline's outputs are the same (its slices do not depend on the
    /// chunking). Shorter records are kept byte-identical. The order stays data-time order.
    ///
    /// - Parameter seconds: maximum data duration of one record (s), > 0.
    /// - Throws: `.repack` when a record cannot be decoded or re-encoded.
    public func splittingRecords(maximumSeconds seconds: Double) throws(SeedLinkError) -> SeedLinkFeed {
        guard seconds.isFinite, seconds > 0 else {
            throw SeedLinkError(.repack, "maximum record duration \(seconds) s is not a positive number")
        }
        var out: [SeedLinkFeedRecord] = []
        out.reserveCapacity(records.count * 4)
        for r in records {
            let limit = Int64((seconds * 1e9).rounded())
            guard r.endTime.nanoseconds(since: r.startTime) > limit else {
                out.append(r)
                continue
            }
            var decoder = MiniSEEDRecordDecoder(source: r.source, maximumRecordLength: 512)
            decoder.append(r.bytes)
            let decodedRecord: MiniSEEDRecord?
            do {
                decodedRecord = try decoder.next()
            } catch {
                throw SeedLinkError(.repack, "\(r.streamID) at \(r.startTime.iso8601): \(error)")
            }
            guard let record = decodedRecord, let encoding = Self.repackEncoding(for: record.encoding),
                  record.samplingRateHz > 0, record.sampleCount > 0 else {
                out.append(r)  // nothing to split (text, no samples)
                continue
            }
            let run = max(1, Int((seconds * record.samplingRateHz + 1e-9).rounded(.down)))
            var start = 0
            while start < record.sampleCount {
                let end = min(record.sampleCount, start + run)
                let block = SampleBlock(
                    streamID: record.streamID,
                    startTime: record.startTime.adding(nanoseconds: SampleBlock.offsetNanoseconds(
                        samples: start, samplingRateHz: record.samplingRateHz)),
                    samplingRateHz: record.samplingRateHz, samples: Array(record.samples[start..<end]))
                out += try Self.encode512(block, encoding: encoding, source: r.source)
                start = end
            }
        }
        return SeedLinkFeed(records: Self.sorted(out), problems: problems)
    }

    /// Encodes one block as 512-byte records (Steim-2 falling back to INT32) and reads their times
    /// back; shared by ``repack(_:source:)`` and ``splittingRecords(maximumSeconds:)``.
    static func encode512(_ block: SampleBlock, encoding: MiniSEEDEncoding, source: String) throws(SeedLinkError)
        -> [SeedLinkFeedRecord] {
        var bytes: [UInt8]
        do {
            bytes = try MiniSEEDWriter.encode(block, encoding: encoding, recordLength: 512)
        } catch where encoding == .steim2 && error.code == .valueNotRepresentable {
            do {
                bytes = try MiniSEEDWriter.encode(block, encoding: .int32, recordLength: 512)
            } catch {
                throw SeedLinkError(.repack, "\(block.streamID): \(error)")
            }
        } catch {
            throw SeedLinkError(.repack, "\(block.streamID): \(error)")
        }
        var decoder = MiniSEEDRecordDecoder(source: source, maximumRecordLength: 512)
        decoder.append(bytes)
        var out: [SeedLinkFeedRecord] = []
        while true {
            let piece: MiniSEEDRecord?
            do {
                piece = try decoder.next()
            } catch {
                throw SeedLinkError(.repack, "\(block.streamID): repacked record does not decode: \(error)")
            }
            guard let piece else { break }
            out.append(SeedLinkFeedRecord(streamID: piece.streamID, startTime: piece.startTime, endTime: endTime(of: piece),
                                          bytes: Array(bytes[piece.byteOffset..<(piece.byteOffset + 512)]), source: source,
                                          repacked: true))
        }
        return out
    }
}
