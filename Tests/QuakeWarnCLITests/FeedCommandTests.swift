import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// `quakewarn feed` as a process: port 0, protocol over a socket, SIGTERM, bad input.
@Suite("quakewarn feed")
struct FeedCommandTests {
    @Test("port 0 prints the port, serves a directory's records over SeedLink and stops on SIGTERM")
    func servesAndStops() throws {
        // A directory with two real 4096-byte-record files (repacked to 512 bytes when served).
        let files = ["obspy_KONO_BHZ.mseed", "obspy_TLY_BHZ.mseed"]
        let dir = NSTemporaryDirectory() + "feed-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in files { try FileManager.default.copyItem(atPath: Fixtures.path("mseed/" + f), toPath: dir + "/" + f) }

        let feed = try FeedProcess.start([dir, "--speed", "max"])
        defer { feed.kill() }
        #expect(feed.port > 0)
        let socket = try LineSocket(port: feed.port)
        socket.send("HELLO\r")
        let hello = String(decoding: socket.receive(atLeast: 20), as: UTF8.self)
        #expect(hello.hasPrefix("SeedLink v3.1"))
        socket.send("DATA\r")
        // Expected sample count of both files, from the reader.
        let expectedSamples = try files.reduce(0) { $0 + (try MiniSEEDReader.read(path: Fixtures.path("mseed/" + $1)).sampleCount) }
        var bytes = socket.receive(atLeast: 4)  // "OK\r\n" and the first packets
        #expect(bytes.starts(with: Array("OK\r\n".utf8)))
        bytes.removeFirst(4)
        // Read packets until all samples arrived (each 520 bytes; the receive timeout bounds the wait).
        var samples = 0
        var sequences: [Int] = []
        var streams = Set<String>()
        while samples < expectedSamples {
            if bytes.count < 520 { let more = socket.receive(atLeast: 520 - bytes.count); if more.isEmpty { break }; bytes += more; continue }
            let header = String(decoding: bytes[0..<8], as: UTF8.self)
            #expect(header.hasPrefix("SL"))
            sequences.append(Int(header.dropFirst(2), radix: 16) ?? -1)
            var decoder = MiniSEEDRecordDecoder(source: "feed", maximumRecordLength: 512)
            decoder.append(bytes[8..<520])
            let record = try #require(try decoder.next())
            samples += record.sampleCount
            streams.insert(record.streamID.description)
            bytes.removeFirst(520)
        }
        #expect(samples == expectedSamples)
        #expect(sequences == Array(1...sequences.count), "sequence numbers start at 1 and increase by one")
        #expect(streams.count == 2)

        #expect(feed.terminate() == 0)
        let log = feed.stderrText
        #expect(log.contains("connected"))
        #expect(log.contains("stopped"))
    }

    @Test("bad input exits 2 with a one-line reason", arguments: [
        (["feed", "/no/such/file.mseed", "--port", "0"], "no such file"),
        (["feed", "x.mseed", "--port", "0", "--speed", "fast"], "--speed"),
        (["feed", "x.mseed", "--port", "70000"], "--port"),
    ])
    func badInput(_ arguments: [String], _ reason: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
    }

    @Test("a file that is not miniSEED exits 2")
    func notMiniSEED() throws {
        let path = NSTemporaryDirectory() + "feed-cli-" + UUID().uuidString + ".mseed"
        try Data("this is not miniSEED at all, not even close".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try CLIRunner.run(["feed", path, "--port", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no servable miniSEED record"))
    }
}
