import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import SeedLink

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn feed PATH… --port P`: plays miniSEED files as a SeedLink 3.1 server (drills, tests).
struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Serve miniSEED files as a SeedLink 3.1 server (for drills and tests).",
        discussion: """
            Every record is served as a 512-byte SeedLink packet: 512-byte records byte-identical, \
            others repacked losslessly (STEIM2 for integer data, INT32 if Steim-2 cannot hold a \
            difference; FLOAT32/FLOAT64 unchanged) with the same samples and times. Records are \
            ordered by start time (ties by stream id) and numbered from 1; with --loop the files \
            restart and the numbers keep increasing.

            Pacing: with --speed realtime a record is sent when the time since the server started \
            reaches its end time minus the first record's start (when a digitizer would have filled \
            it); N plays N times faster; max sends as fast as each client reads.

            Commands: HELLO, CAT, BYE, INFO ID|CAPABILITIES|STATIONS|STREAMS, STATION, SELECT \
            ([!][LL]CCC[.T] with ? wildcards, e.g. ??HNZ or HN?), DATA [seq [time]], FETCH, TIME, \
            END. DATA n resumes at sequence n; a bare DATA starts at the oldest packet still in the \
            ring (the last pass). Connections are logged on stderr; port 0 picks a free port and \
            prints "listening on HOST:PORT" on stderr. SIGINT/SIGTERM stop the server.
            """
    )

    @Argument(help: "miniSEED files, or directories whose *.mseed files are served.")
    var paths: [String]

    @Option(help: "TCP port (0: any free port).")
    var port: Int

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "realtime, a speed-up factor N, or max.")
    var speed = "realtime"

    @Flag(help: "Restart the files after the last record (sequence numbers keep increasing).")
    var loop = false

    @Option(help: ArgumentHelp(
        "Re-cut records so that each holds at most this many seconds of data (e.g. 1, as EEW stations send).",
        discussion: "Samples and times are unchanged; only the record boundaries move. Default: serve the files' records."))
    var maxRecordSeconds: Double?

    @Option(help: ArgumentHelp(
        "Write a line 'SEQUENCE NANOS' per data packet sent: its SeedLink sequence number and the wall clock (CLOCK_REALTIME, ns) just before its write to the socket.",
        discussion: "For the end-to-end harness (Benchmarks/scripts/e2e-latency.sh): the daemon's latency log names each warning's record by the same sequence number."))
    var sendLog: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is outside 0...65535") }
        if let s = maxRecordSeconds, !(s.isFinite && s > 0) {
            throw ValidationError("--max-record-seconds \(s) must be a positive number of seconds")
        }
        guard SeedLinkFeedSpeed(speed) != nil else {
            throw ValidationError("--speed '\(speed)' must be realtime, max or a positive number")
        }
    }

    func run() throws {
        let feed: SeedLinkFeed
        do {
            let loaded = try SeedLinkFeed.load(paths: paths)
            if let seconds = maxRecordSeconds {
                feed = try loaded.splittingRecords(maximumSeconds: seconds)
            } else {
                feed = loaded
            }
        } catch {
            Console.error("error: \(error.reason)")
            throw ExitCode(2)
        }
        for problem in feed.problems { Console.error("warning: \(problem)") }
        let repacked = feed.records.filter(\.repacked).count
        let streams = Set(feed.records.map(\.streamID)).count
        let cut = maxRecordSeconds.map { ", at most \($0) s per record" } ?? ""
        Console.error("serving \(feed.records.count) packets (\(repacked) repacked to 512 bytes) of \(streams) streams, speed \(speed)\(cut)\(loop ? ", looping" : "")")
        var configuration = SeedLinkServer.Configuration(host: host, port: port, speed: SeedLinkFeedSpeed(speed) ?? .max, loop: loop)
        if let path = sendLog {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                Console.error("error: cannot create the send log \(path)")
                throw ExitCode(2)
            }
            let log = SendLog(handle)
            configuration.sendLog = { sequences, nanos in log.write(sequences, nanos) }
        }
        let server = SeedLinkServer(feed: feed, configuration: configuration, log: { Console.error($0) })
        let done = DispatchSemaphore(value: 0)
        let failed = FailureFlag()
        let host = self.host
        Task {
            do {
                let bound = try await server.start()
                Console.error("listening on \(host):\(bound)")
            } catch {
                Console.error("error: \(error)")
                failed.set()
                done.signal()
            }
        }
        // Graceful stop on SIGINT/SIGTERM: stop listening, close connections, exit 0.
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                Console.error("signal \(sig): stopping")
                Task {
                    await server.stop()
                    done.signal()
                }
            }
            source.resume()
            sources.append(source)
        }
        done.wait()
        sources.forEach { $0.cancel() }
        if failed.isSet { throw ExitCode(2) }
        Console.error("stopped")
    }
}

/// A flag set from another thread.
final class FailureFlag: @unchecked Sendable {
    // Set at most once before `done.signal()` and read after `done.wait()`: the semaphore orders them.
    private var value = false
    func set() { value = true }
    var isSet: Bool { value }
}

/// `quakewarn feed --send-log`: one line per packet, written per flush.
private final class SendLog: Sendable {
    private let handle: Mutex<FileHandle>
    init(_ handle: FileHandle) { self.handle = Mutex(handle) }
    func write(_ sequences: [Int], _ nanos: Int64) {
        var text = ""
        for s in sequences { text += "\(s) \(nanos)\n" }
        handle.withLock { $0.write(Data(text.utf8)) }
    }
}
