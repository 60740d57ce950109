import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn ingest` end to end: `quakewarn feed` processes as the SeedLink server, the daemon
/// as a child process, its outputs and `ingest-stats.json` checked against the files.
@Suite("quakewarn ingest", .serialized)
struct IngestCommandTests {
    let scenario = IngestFixture.scenarios.appendingPathComponent("longquan-m5.8")
    var files: [String] { ["SC.GAOSI.00.mseed", "SC.NANTA.00.mseed"].map { scenario.appendingPathComponent($0).path } }

    /// The feed is killed and restarted mid-stream, a proxy cuts the TCP connection every
    /// 0.7 s (mid-packet too), and the daemon itself is stopped (SIGTERM) and restarted from its
    /// state file; afterwards every sample was processed exactly once: per-stream count and sum
    /// equal the file's, and the guard saw no duplicate, overlap, gap or out-of-order record.
    @Test func everySampleExactlyOnceDespiteFaults() throws {
        let reference = try IngestFixture.reference(files)
        let expectedTotal = reference.values.reduce(0) { $0 + $1.count }
        let dir = try IngestFixture.temporaryDirectory("ingest-fault")
        defer { try? FileManager.default.removeItem(at: dir) }

        // 80 s of data at 16× ≈ 5 s per pass.
        var feed = try FeedProcess.start(files + ["--speed", "16"])
        defer { feed.kill() }
        let proxy = try CuttingProxy(upstream: feed.port)
        defer { proxy.stop() }
        let cutter = Cutter(proxy: proxy, intervalSeconds: 0.7)
        defer { cutter.stop() }

        let out1 = dir.appendingPathComponent("run1").path
        let out2 = dir.appendingPathComponent("run2").path
        var daemon = try IngestProcess.start(config: try IngestFixture.writeConfig(in: dir, port: proxy.port, output: out1))
        defer { _ = daemon.terminate() }

        // Part of the data arrives, then the feed dies and comes back (same files, same numbering).
        let watched1 = [dir.path, out1]  // woken when the daemon (re)writes ingest-stats.json
        #expect(IngestFixture.wait(seconds: 20, watching: watched1) {
            (IngestStats.read(URL(fileURLWithPath: out1))?.totalSamples ?? 0) > expectedTotal / 5
        })
        feed.kill()
        // A 300 ms outage of the feed, which is the fault under test (a duration, not a poll).
        usleep(300_000)
        feed = try FeedProcess.start(files + ["--speed", "16"])
        proxy.setUpstream(feed.port)

        // The daemon is stopped and restarted from its state file.
        #expect(IngestFixture.wait(seconds: 20, watching: watched1) {
            (IngestStats.read(URL(fileURLWithPath: out1))?.totalSamples ?? 0) > expectedTotal / 2
        })
        #expect(daemon.terminate() == 0, "\(daemon.stderrText.suffix(2000))")
        daemon = try IngestProcess.start(config: try IngestFixture.writeConfig(in: dir, port: proxy.port, output: out2))

        let first = try #require(IngestStats.read(URL(fileURLWithPath: out1)))
        let complete = IngestFixture.wait(seconds: 30, watching: [dir.path, out2]) {
            first.totalSamples + (IngestStats.read(URL(fileURLWithPath: out2))?.totalSamples ?? 0) >= expectedTotal
        }
        cutter.stop()
        #expect(complete, "\(daemon.stderrText.suffix(3000))")
        #expect(daemon.terminate() == 0)
        let second = try #require(IngestStats.read(URL(fileURLWithPath: out2)))
        print("ingest fault test: \(proxy.cuts) cuts, \(proxy.connections) connections, reconnects \(first.reconnects)+\(second.reconnects), "
              + "samples \(first.totalSamples)+\(second.totalSamples) of \(expectedTotal)")
        #expect(proxy.cuts >= 3, "the proxy cut \(proxy.cuts) times")
        #expect(first.reconnects + second.reconnects >= 3)

        for (stream, ref) in reference {
            let a = first.streams[stream], b = second.streams[stream]
            #expect((a?.samples ?? 0) + (b?.samples ?? 0) == ref.count, "\(stream) count")
            #expect((a?.sampleSum ?? 0) + (b?.sampleSum ?? 0) == ref.sum, "\(stream) sum")
            for run in [a, b].compactMap({ $0 }) {
                for bad in ["duplicate", "exactDuplicate", "partialOverlap", "gap", "outOfOrder", "timeJumpBackward", "timeJumpForward"] {
                    #expect(run.decisions[bad, default: 0] == 0, "\(stream): \(bad) \(run.decisions)")
                }
            }
        }
        #expect(Set(first.streams.keys).union(second.streams.keys) == Set(reference.keys))
    }

    /// The same scenario through `feed` → `ingest` and through `quakewarn replay` gives
    /// byte-identical picks, events, decisions and warnings.
    @Test func liveEqualsReplay() throws {
        let dir = try IngestFixture.temporaryDirectory("ingest-live")
        defer { try? FileManager.default.removeItem(at: dir) }
        let replayOut = dir.appendingPathComponent("replay").path
        let replay = try CLIRunner.run(["replay", scenario.path, "--config",
                                        IngestFixture.scenarios.appendingPathComponent("config.yaml").path, "--out", replayOut])
        #expect(replay.status == 0, "\(replay.stderr)")

        let reference = try IngestFixture.reference(files)
        let expectedTotal = reference.values.reduce(0) { $0 + $1.count }
        let feed = try FeedProcess.start(files + ["--speed", "max"])
        defer { feed.kill() }
        let liveOut = dir.appendingPathComponent("live")
        let daemon = try IngestProcess.start(config: try IngestFixture.writeConfig(in: dir, port: feed.port, output: liveOut.path))
        defer { _ = daemon.terminate() }
        #expect(IngestFixture.wait(seconds: 30, watching: [dir.path, liveOut.path]) {
                    (IngestStats.read(liveOut)?.totalSamples ?? 0) >= expectedTotal
                },
                "\(daemon.stderrText.suffix(3000))")
        #expect(daemon.terminate() == 0)

        for name in ["picks.jsonl", "events.jsonl", "decisions.jsonl", "warnings.jsonl"] {
            let a = try String(contentsOfFile: replayOut + "/" + name, encoding: .utf8)
            let b = try String(contentsOfFile: liveOut.appendingPathComponent(name).path, encoding: .utf8)
            #expect(a == b, "\(name) differs")
            if name != "decisions.jsonl" { #expect(!a.isEmpty, "\(name) is empty") }
        }
        let capReplay = try FileManager.default.contentsOfDirectory(atPath: replayOut + "/cap").sorted()
        let capLive = try FileManager.default.contentsOfDirectory(atPath: liveOut.appendingPathComponent("cap").path).sorted()
        #expect(capReplay == capLive && !capLive.isEmpty)
        #expect(daemon.stderrText.contains("ingest stopped"))
    }

    @Test func badConfigurationExitsTwoNamingTheKey() throws {
        let dir = try IngestFixture.temporaryDirectory("ingest-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.yaml").path
        try "configuration: x.yaml\nseedlink: { prot: 1 }\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLIRunner.run(["ingest", "--config", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(path): seedlink.prot: unknown key 'prot'"), "\(r.stderr)")
        let missing = try CLIRunner.run(["ingest", "--config", dir.appendingPathComponent("none.yaml").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("none.yaml"))
    }
}

/// Cuts the proxy's connections periodically on a background thread.
final class Cutter: @unchecked Sendable {
    // `running` is guarded by `lock`.
    private let lock = NSLock()
    private var running = true

    init(proxy: CuttingProxy, intervalSeconds: Double) {
        Thread.detachNewThread { [self] in
            while isRunning {
                // The cut period is the fault under test (a schedule, not a poll).
                usleep(UInt32(intervalSeconds * 1e6))
                if isRunning { proxy.cutAll() }
            }
        }
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }
}
