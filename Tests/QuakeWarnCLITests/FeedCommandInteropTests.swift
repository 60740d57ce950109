import Foundation

#if canImport(Glibc)
import Glibc
#endif
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// `quakewarn feed` against a real third-party SeedLink client: ObsPy 1.5.1's
/// `obspy.clients.seedlink` (SLClient, TIME window in multi-station mode), run by
/// `scripts/interop/seedlink_obspy_client.py` with the interpreter in `QW_TEST_PYTHON`.
///
/// Disabled when `QW_TEST_PYTHON` is unset: scripts/test.sh always sets it (from
/// scripts/test-env/python-venv.sh, which creates `.venv-test` with pinned obspy==1.5.1).
@Suite("quakewarn feed interop with ObsPy", .enabled(if: ProcessInfo.processInfo.environment["QW_TEST_PYTHON"] != nil))
struct FeedCommandInteropTests {
    static let repositoryRoot = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Runs the ObsPy client (≤ 60 s) and parses its JSON.
    static func obspy(port: Int, multiselect: String, begin: Timestamp, end: Timestamp) throws -> [String: Any] {
        let python = ProcessInfo.processInfo.environment["QW_TEST_PYTHON"] ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryRoot + "/scripts/interop/seedlink_obspy_client.py", "127.0.0.1", String(port), multiselect,
                             begin.iso8601, end.iso8601]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { if process.isRunning { kill(pid, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: killer)
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        killer.cancel()
        guard process.terminationStatus == 0 else {
            throw FeedFailure(message: "ObsPy client failed (\(process.terminationStatus)): \(String(decoding: errData, as: UTF8.self))")
        }
        return try #require(try JSONSerialization.jsonObject(with: outData) as? [String: Any])
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    @Test("every sample, start time and 512-byte record reaches ObsPy unchanged")
    func obspyReceivesTheFilesUnchanged() throws {
        let dir = NSTemporaryDirectory() + "feed-interop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        // 1. A 512-byte-record STEIM2 file of a 3-component station, written by MiniSEEDWriter:
        //    served byte-identical.
        let t0 = try #require(Timestamp(year: 2024, month: 5, day: 6, hour: 7, minute: 8, second: 9, nanosecond: 123_000_000))
        var native: [UInt8] = []
        for (k, cha) in ["HNZ", "HNN", "HNE"].enumerated() {
            var rng = SplitMix64(seed: UInt64(k + 1))
            let samples = (0..<4000).map { i -> Double in
                let phase = Double(i) * 0.03 + Double(k)
                return (3000 * sin(phase)).rounded() + Double(rng.next() % 101) - 50
            }
            native += try MiniSEEDWriter.encode(
                SampleBlock(streamID: try #require(StreamID("XX.QWSL.00.\(cha)")), startTime: t0, samplingRateHz: 100,
                            samples: samples), encoding: .steim2, recordLength: 512)
        }
        let nativePath = dir + "/qwsl_512.mseed"
        try Data(native).write(to: URL(fileURLWithPath: nativePath))
        // 2. Real 4096-byte records (STEIM2 and FLOAT64): repacked to 512 bytes.
        let real = ["obspy_KONO_BHZ.mseed", "obspy_RJOB_20050801_Z.mseed"]
        for f in real { try FileManager.default.copyItem(atPath: Fixtures.path("mseed/" + f), toPath: dir + "/" + f) }

        // Reference: MiniSEEDReader's decoding of every file.
        var reference: [String: SampleBlock] = [:]
        var begin = Timestamp(nanosecondsSinceEpoch: Int64.max), end = Timestamp(nanosecondsSinceEpoch: 0)
        var stations: [String: Set<String>] = [:]  // NET_STA -> selectors (ObsPy needs at least one per station)
        for path in [nativePath] + real.map({ dir + "/" + $0 }) {
            for segment in try MiniSEEDReader.read(path: path).segments {
                #expect(reference[segment.streamID.description] == nil, "one segment per stream")
                reference[segment.streamID.description] = segment
                begin = min(begin, segment.startTime)
                end = max(end, segment.endTimeExclusive)
                let id = segment.streamID
                stations["\(id.network)_\(id.station)", default: []].insert(id.location.isEmpty ? id.channel : id.location + id.channel)
            }
        }
        #expect(reference.count == 5)

        let feed = try FeedProcess.start([dir, "--speed", "max"])
        defer { feed.kill() }
        // The 3-component station with a ?-wildcard selector, the others by channel.
        let multiselect = stations.keys.sorted().map { key in
            key == "XX_QWSL" ? key + ":00HN?" : key + ":" + (stations[key] ?? []).sorted().joined(separator: " ")
        }.joined(separator: ",")
        let json = try Self.obspy(port: feed.port, multiselect: multiselect, begin: begin.adding(nanoseconds: -1_000_000_000),
                                  end: end.adding(nanoseconds: 1_000_000_000))
        #expect(feed.terminate() == 0)

        // Per packet: increasing sequence numbers; the 512-byte file's records arrive byte-identical, in order.
        let packets = try #require(json["packets"] as? [[String: Any]])
        let sequences = packets.compactMap { $0["seq"] as? Int }
        #expect(sequences.count == packets.count && sequences == sequences.sorted() && Set(sequences).count == sequences.count)
        let nativeRecords = stride(from: 0, to: native.count, by: 512).map { Array(native[$0..<($0 + 512)]) }
        let receivedNative = packets.filter { ($0["stream"] as? String)?.hasPrefix("XX.QWSL.") == true }
            .map { Self.bytes(hex: $0["raw_hex"] as? String ?? "") }
        #expect(receivedNative.count == nativeRecords.count)
        #expect(Set(receivedNative.map { $0.description }) == Set(nativeRecords.map { $0.description }))
        for cha in ["HNZ", "HNN", "HNE"] {
            // Within a stream, the order of the file.
            let mine = nativeRecords.filter { String(decoding: $0[15..<18], as: UTF8.self) == cha }
            let theirs = receivedNative.filter { String(decoding: $0[15..<18], as: UTF8.self) == cha }
            #expect(mine == theirs, "\(cha) records byte-identical and in order")
        }
        // Every record's start time as ObsPy decodes it equals ours (packet by packet).
        for p in packets {
            let raw = Self.bytes(hex: p["raw_hex"] as? String ?? "")
            var decoder = MiniSEEDRecordDecoder(source: "obspy packet", maximumRecordLength: 512)
            decoder.append(raw)
            let record = try #require(try decoder.next())
            #expect(Int64(p["start_ns"] as? Int ?? -1) == record.startTime.nanosecondsSinceEpoch)
            #expect(p["count"] as? Int == record.sampleCount)
        }

        // Per stream: ObsPy's merged trace equals MiniSEEDReader's decoding of the file, sample for sample.
        let streams = try #require(json["streams"] as? [String: [String: Any]])
        #expect(Set(streams.keys) == Set(reference.keys))
        for (id, block) in reference {
            let got = try #require(streams[id], "\(id) not received")
            #expect(Int64(got["start_ns"] as? Int ?? -1) == block.startTime.nanosecondsSinceEpoch, "\(id) start")
            let values = try #require(got["values"] as? [Double])
            #expect(values.count == block.samples.count, "\(id) sample count")
            #expect(values == block.samples, "\(id) sample values")
        }
    }
}
