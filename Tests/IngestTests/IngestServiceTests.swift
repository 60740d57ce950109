import Alerting
import Foundation
import Ingest
import MiniSEED
import SeedLink
import SeismicCore
import Synchronization
import Testing
import TestSupport

/// IngestService in process against a SeedLinkServer whose feed holds irregular records.
@Suite struct IngestServiceTests {
    /// Collects warnings delivered through the sink seam.
    actor CollectingSink: WarningSink {
        var delivered: [(String, Bool)] = []
        var flushed = false
        func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {
            delivered.append((warning.id, envelope != nil))
        }
        func flush() async throws { flushed = true }
    }

    @Test func guardDecisionsReachMetricsAndStatistics() async throws {
        let path = Scenario.directory.appendingPathComponent("longquan-m5.8/SC.NANTA.00.mseed").path
        let all = try SeedLinkFeed.load(paths: [path]).records.filter { $0.streamID.channel == "HNZ" }
        try #require(all.count > 12)
        // r0 r1 r2 r1(duplicate) r3 r5(gap) r4(out of order) r6… ; r2 flagged "clock locked".
        var locked = all[2]
        locked.bytes[37] = 0x20
        locked.bytes[38] = 0x80  // time tag questionable: counted from the raw record
        var records = [all[0], all[1], locked, all[1], all[3], all[5], all[4]] + all[6...]
        records = records.map { $0 }
        let feed = SeedLinkFeed(records: records)
        let server = SeedLinkServer(feed: feed, configuration: .init(host: "127.0.0.1", port: 0, speed: .max))
        let port = try await server.start()
        defer { Task { await server.stop() } }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-ingest-svc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let configuration = IngestConfiguration(
            stationConfigurationPath: Scenario.directory.appendingPathComponent("config.yaml").path,
            seedlink: .init(port: port, stations: [.init(network: "SC", station: "NANTA", selectors: ["00HNZ"])],
                            stateFile: dir.appendingPathComponent("sl.state").path),
            outputDirectory: dir.path, metrics: .init(port: 0), realtimePriority: 2, cpuWakeupLatencyMicroseconds: 9)
        let sink = CollectingSink()
        let service = try IngestService(configuration: configuration, quakeWarn: try Scenario.configuration(), sinks: [sink])
        let decided = Atomic<Int>(0)
        let changed = ChangeSignal()
        // The scheduling of the thread that decides each record (the processing thread).
        let policies = Mutex<Set<String>>([])
        service.observeRecordDecisions { n in
            let p = ProcessingThreadPriority.currentThread()
            policies.withLock { _ = $0.insert(p.fifo ? "fifo \(p.priority)" : "normal") }
            decided.store(n, ordering: .releasing)
            changed.notify()
        }
        let running = Task { try await service.run() }
        let expectedRecords = records.count
        // Woken by each decided record (one stream only here).
        try await changed.wait(20, "\(expectedRecords) records decided") {
            decided.load(ordering: .acquiring) >= expectedRecords
        }
        #expect(service.isConnected)
        // realtimePriority: 2 → SCHED_FIFO 2 when this process may (root or CAP_SYS_NICE, as in
        // CI), else the normal policy (the daemon logs why and goes on).
        let permitted = RealtimePriorityTests.permitted()
        #expect(policies.withLock { $0 } == [permitted ? "fifo 2" : "normal"])
        // cpuWakeupLatencyMicroseconds: 9 → the machine's PM QoS limit is ≤ 9 µs while the service
        // runs and something else after, when this process may open the device (root, as in CI).
        let pmQoS = FileManager.default.isWritableFile(atPath: CPULatencyRequest.defaultDevice)
        if pmQoS { #expect(CPULatencyRequest.currentLimit().map { $0 <= 9 } == true) }
        #expect(service.metricsPort.map { $0 > 0 } == true)
        service.stop()
        try await running.value
        if pmQoS { #expect(CPULatencyRequest.currentLimit() != 9) }

        let stats = await service.statistics()
        let d = try #require(stats.streams["SC.NANTA.00.HNZ"]).decisions
        #expect(d["first"] == 1)
        #expect(d["duplicate"] == 1)  // r1 again after r2: inside accepted data
        #expect(d["gap"] == 1)
        #expect(d["outOfOrder"] == 1)
        #expect(d["inOrder"] == expectedRecords - 4)
        // Samples: every record once, except r4 (dropped as out of order).
        let reference = try MiniSEEDReader.read(path: path).segments.filter { $0.streamID.channel == "HNZ" }
        let r4 = MiniSEEDRecordDecoder.decodeOne(all[4].bytes)
        let totalCount = reference.reduce(0) { $0 + $1.samples.count }
        #expect(stats.streams["SC.NANTA.00.HNZ"]?.samples == totalCount - r4)

        let text = service.metrics.exposition()
        #expect(text.contains(#"quakewarn_ingest_duplicates_total{stream="SC.NANTA.00.HNZ"} 1"#), "\(text)")
        #expect(text.contains(#"quakewarn_ingest_gaps_total{stream="SC.NANTA.00.HNZ"} 1"#))
        #expect(text.contains(#"quakewarn_ingest_out_of_order_total{stream="SC.NANTA.00.HNZ"} 1"#))
        #expect(text.contains(#"quakewarn_ingest_records_total{stream="SC.NANTA.00.HNZ",decision="duplicate"} 1"#))
        // The scenario records carry Blockette 1001 with timing quality 0 (written by `quakewarn simulate`).
        #expect(text.contains(#"quakewarn_ingest_timing_quality_percent{stream="SC.NANTA.00.HNZ"} 0.0"#))
        #expect(text.contains(#"quakewarn_ingest_clock_locked{stream="SC.NANTA.00.HNZ"} 0.0"#))  // last record unflagged
        #expect(text.contains(#"quakewarn_ingest_time_tag_questionable_total{stream="SC.NANTA.00.HNZ"} 1"#))
        #expect(text.contains("quakewarn_ingest_processing_latency_seconds_count"))
        #expect(text.contains("quakewarn_ingest_data_latency_seconds{"))
        // The state file holds the last sequence delivered (the feed numbers packets from 1).
        let state = try SeedLinkStateFile.load(path: dir.appendingPathComponent("sl.state").path)
        #expect(state["SC_NANTA"] == records.count)
        #expect(await sink.flushed)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ingest-stats.json").path))
    }
}

extension MiniSEEDRecordDecoder {
    /// Sample count of one record (0 if it does not decode).
    static func decodeOne(_ bytes: [UInt8]) -> Int {
        var d = MiniSEEDRecordDecoder()
        d.append(bytes)
        return ((try? d.next()) ?? nil)?.sampleCount ?? 0
    }
}
