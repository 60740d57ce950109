import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP proxy on 127.0.0.1 (free port) in front of a changing upstream port, which can cut every
/// open connection at once (both directions, wherever the bytes are: mid-packet included).
final class CuttingProxy: @unchecked Sendable {
    // Mutable state is guarded by `lock`; the threads only touch file descriptors.
    private let lock = NSLock()
    private var upstream: Int
    private var open: [Int32] = []
    private var stopped = false
    private let listener: Int32
    let port: Int
    private(set) var connections = 0
    private(set) var cuts = 0

    init(upstream: Int) throws {
        self.upstream = upstream
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw FeedFailure(message: "proxy: cannot listen") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func setUpstream(_ port: Int) {
        lock.lock()
        upstream = port
        lock.unlock()
    }

    /// Cuts every open connection (both sides).
    func cutAll() {
        lock.lock()
        let fds = open
        if !fds.isEmpty { cuts += 1 }
        lock.unlock()
        for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        cutAll()
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            lock.lock()
            let done = stopped
            let target = upstream
            lock.unlock()
            if done || client < 0 {
                if client >= 0 { close(client) }
                return
            }
            let server = Self.connect(port: target)
            guard server >= 0 else {
                close(client)
                continue
            }
            lock.lock()
            open += [client, server]
            connections += 1
            lock.unlock()
            let finished = DispatchGroup()
            for (from, to) in [(client, server), (server, client)] {
                finished.enter()
                Thread.detachNewThread {
                    Self.pump(from: from, to: to)
                    shutdown(from, Int32(SHUT_RDWR))
                    shutdown(to, Int32(SHUT_RDWR))
                    finished.leave()
                }
            }
            Thread.detachNewThread { [self] in
                finished.wait()
                lock.lock()
                open.removeAll { $0 == client || $0 == server }
                lock.unlock()
                close(client)
                close(server)
            }
        }
    }

    private static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    private static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Small random-ish reads make cuts land inside packets.
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, 700, 0) }
            if n <= 0 { return }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                if m <= 0 { return }
                sent += m
            }
        }
    }
}

/// A running `quakewarn ingest --config FILE` process (stderr collected).
final class IngestProcess: @unchecked Sendable {
    // Set once in `start`; the collector and the exit watch are thread-safe.
    let process = Process()
    private let output = OutputCollector()
    private let exit = ExitWatch()

    var stderrText: String { output.text }

    static func start(config: String) throws -> IngestProcess {
        let p = IngestProcess()
        p.process.executableURL = try CLIRunner.executable()
        p.process.arguments = ["ingest", "--config", config]
        let err = Pipe()
        p.process.standardError = err
        p.process.standardOutput = FileHandle.nullDevice
        p.process.standardInput = FileHandle.nullDevice
        p.output.attach(err)
        p.exit.install(on: p.process)
        try p.process.run()
        return p
    }

    /// SIGTERM, then wait (≤ 15 s, woken by the exit) for the exit status (nil: had to be killed).
    func terminate() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        guard let status = exit.waitBlocking(15) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return status
    }
}

/// `ingest-stats.json` as the daemon writes it.
struct IngestStats: Decodable {
    struct Stream: Decodable {
        var decisions: [String: Int]
        var samples: Int
        var sampleSum: Double
    }
    var streams: [String: Stream]
    var picks: Int
    var events: Int
    var warnings: Int
    var reconnects: Int

    static func read(_ directory: URL) -> IngestStats? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("ingest-stats.json").path) else {
            return nil
        }
        return try? JSONDecoder().decode(IngestStats.self, from: data)
    }

    var totalSamples: Int { streams.values.reduce(0) { $0 + $1.samples } }
}

enum IngestFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let scenarios = repository.appendingPathComponent("SampleWaveforms/scenarios")

    /// Per-stream sample count and sum of the miniSEED files (the reference).
    static func reference(_ files: [String]) throws -> [String: (count: Int, sum: Double)] {
        var out: [String: (count: Int, sum: Double)] = [:]
        for f in files {
            for s in try MiniSEEDReader.read(path: f).segments {
                var e = out[s.streamID.description] ?? (0, 0)
                e.count += s.samples.count
                for x in s.samples { e.sum += x }
                out[s.streamID.description] = e
            }
        }
        return out
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qw-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes an ingest file for the scenario configuration.
    static func writeConfig(in dir: URL, port: Int, output: String, extra: String = "") throws -> String {
        let text = """
            configuration: \(scenarios.appendingPathComponent("config.yaml").path)
            seedlink:
              host: 127.0.0.1
              port: \(port)
              stateFile: \(dir.appendingPathComponent("seedlink.state").path)
              stateSaveIntervalSeconds: 0
              networkTimeoutSeconds: 10
              reconnect: { initialDelaySeconds: 0.05, maximumDelaySeconds: 0.5 }
            output: { directory: \(output) }
            metrics: { port: 0 }
            \(extra)
            """
        let path = dir.appendingPathComponent("ingest-\(UUID().uuidString.prefix(8)).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Waits until `condition` (which reads files the daemon writes into `directories`) holds
    /// or `seconds` pass; re-checked whenever a file in those directories is created, written or
    /// renamed into place (inotify), not on a timer. List parents before children: a directory
    /// that does not exist yet is watched once its creation in the parent was seen.
    static func wait(seconds: Double, watching directories: [String], _ condition: () -> Bool) -> Bool {
        guard let watch = try? DirectoryWatch(directories) else {
            Issue.record("inotify unavailable")
            return false
        }
        return watch.waitBlocking(seconds, until: condition)
    }
}
