import Foundation
import MiniSEED
import SeedLink
import SeismicCore
import Synchronization
import Testing

@Suite struct ArrivalStampTests {
    /// Records with their socket arrival stamps, and the wall clock when the consumer got each.
    final class Stamps: Sendable {
        let rows = Mutex<[(sequence: Int, arrival: Int64, handled: Int64)]>([])
    }

    @Test("recordWithBytes carries the wall clock of the read that completed the packet: not before the server sent it, not after the consumer got it, and unchanged by a slow consumer")
    func arrivalIsStampedAtTheSocketRead() async throws {
        let feed = try Synthetic.feed()
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .max))
        let before = Timestamp.wallClockNow().nanosecondsSinceEpoch
        let port = try await server.start()
        var configuration = ClientTests.client(port: port).configuration
        configuration.deliversRecordBytes = true
        let client = SeedLinkClient(configuration: configuration)
        let stamps = Stamps()
        let count = feed.records.count
        let run = Task {
            try await client.run { event in
                guard case .recordWithBytes(_, let sequence, let bytes, let arrival) = event else { return }
                #expect(bytes.count == 512)
                let handled = Timestamp.wallClockNow().nanosecondsSinceEpoch
                let n = stamps.rows.withLock { $0.append((sequence, arrival, handled)); return $0.count }
                // A slow consumer, which is what is tested: later packets wait in the client's
                // queue meanwhile (2 ms of work per record, not a poll).
                try? await Task.sleep(nanoseconds: 2_000_000)
                if n >= count { client.stop() }
            }
        }
        let deadline = Task {
            // The deadline of the whole run (cancelled when it completes), not a poll.
            try await Task.sleep(nanoseconds: 30_000_000_000)
            client.stop()
        }
        _ = try? await run.value
        deadline.cancel()
        await server.stop()
        let rows = stamps.rows.withLock { $0 }
        try #require(rows.count == count)
        #expect(rows.map(\.sequence) == Array(1...count))
        for (i, r) in rows.enumerated() {
            #expect(r.arrival >= before)
            #expect(r.arrival <= r.handled)
            if i > 0 { #expect(r.arrival >= rows[i - 1].arrival, "stamps follow the reads") }
        }
        // The server sends at max speed and the consumer takes ≥ 2 ms per record, so most records
        // were read long before they were handled; a stamp taken at hand-over could not show this.
        let queued = rows.filter { $0.handled - $0.arrival > 1_000_000 }.count
        #expect(queued > count / 2, "\(queued) of \(count) records waited > 1 ms after their read")
    }
}

@Suite struct FeedSplitTests {
    @Test("splittingRecords(maximumSeconds:) re-cuts long records into ≤ 1 s records with the same samples and times; short records stay byte-identical")
    func splitKeepsSamplesAndTimes() throws {
        let long = try Synthetic.feed()  // 512-byte STEIM2 records of several seconds each
        let short = Synthetic.feed(try Synthetic.shortRecords("XX.GAOSI..HNN", start: Synthetic.t0, rate: 100, records: 4,
                                                              samplesPerRecord: 50, seed: 3))
        let feed = SeedLinkFeed(records: SeedLinkFeed.sorted(long.records + short.records))
        let split = try feed.splittingRecords(maximumSeconds: 1)
        #expect(split.records.count > feed.records.count)
        var original: [StreamID: [Double]] = [:], cut: [StreamID: [Double]] = [:]
        var originalStart: [StreamID: Timestamp] = [:], cutStart: [StreamID: Timestamp] = [:]
        for r in feed.records {
            let d = try Synthetic.decode(r.bytes)
            original[d.streamID, default: []] += d.samples
            originalStart[d.streamID] = min(originalStart[d.streamID] ?? d.startTime, d.startTime)
        }
        var lastEnd: [StreamID: Timestamp] = [:]
        for r in split.records {
            #expect(r.bytes.count == 512)
            let d = try Synthetic.decode(r.bytes)
            #expect(d.sampleCount <= 100, "at most 1 s of 100 sps data")
            #expect(r.endTime.nanoseconds(since: r.startTime) <= 1_000_000_000)
            if let e = lastEnd[d.streamID] { #expect(d.startTime == e, "contiguous: \(d.streamID)") }
            lastEnd[d.streamID] = r.endTime
            cut[d.streamID, default: []] += d.samples
            cutStart[d.streamID] = min(cutStart[d.streamID] ?? d.startTime, d.startTime)
        }
        #expect(cut == original)
        #expect(cutStart == originalStart)
        // The 0.5 s records were not touched.
        let kept = split.records.filter { $0.streamID.channel == "HNN" && $0.streamID.station == "GAOSI" }
        #expect(kept.map(\.bytes) == short.records.map(\.bytes))
        // Data-time order.
        #expect(zip(split.records, split.records.dropFirst()).allSatisfy { $0.startTime <= $1.startTime })
        #expect(throws: SeedLinkError.self) { try feed.splittingRecords(maximumSeconds: 0) }
    }
}
