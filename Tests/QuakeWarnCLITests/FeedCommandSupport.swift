import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running `quakewarn feed` process (port 0), its port read from stderr.
final class FeedProcess: @unchecked Sendable {
    // Everything is set once in `start`; the collector and the exit watch are thread-safe.
    let process = Process()
    private let output = OutputCollector()
    private let exit = ExitWatch()
    private(set) var port = 0

    var stderrText: String { output.text }

    /// Starts `quakewarn feed ARGS --port 0` and waits (≤ 10 s) for `listening on 127.0.0.1:PORT`,
    /// woken by each chunk the feed writes to stderr (no polling).
    static func start(_ arguments: [String]) throws -> FeedProcess {
        let feed = FeedProcess()
        feed.process.executableURL = try CLIRunner.executable()
        feed.process.arguments = ["feed"] + arguments + ["--port", "0"]
        let err = Pipe()
        feed.process.standardError = err
        feed.process.standardOutput = FileHandle.nullDevice
        feed.process.standardInput = FileHandle.nullDevice
        feed.output.attach(err)
        feed.exit.install(on: feed.process)
        try feed.process.run()
        if let port = feed.output.waitBlocking(10, for: OutputCollector.number(after: "listening on 127.0.0.1:")) {
            feed.port = port
            return feed
        }
        feed.kill()
        throw FeedFailure(message: "feed did not start listening: \(feed.stderrText)")
    }

    /// Sends SIGTERM and waits (≤ 5 s, woken by the exit) for the exit status.
    func terminate() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        Glibc.kill(process.processIdentifier, SIGTERM)
        guard let status = exit.waitBlocking(5) else {
            kill()
            return nil
        }
        return status
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct FeedFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A blocking TCP client with a receive timeout (127.0.0.1 only).
final class LineSocket {
    let fd: Int32

    init(port: Int, timeoutSeconds: Int = 3) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FeedFailure(message: "socket() failed") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw FeedFailure(message: "connect to 127.0.0.1:\(port) failed")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Reads until `count` bytes arrived, the peer closed, or the receive timeout hit.
    func receive(atLeast count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}
