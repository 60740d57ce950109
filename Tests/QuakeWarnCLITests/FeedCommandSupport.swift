import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running `quakewarn feed` process (port 0), its port read from stderr.
final class FeedProcess: @unchecked Sendable {
    // `stderrText` is guarded by `lock`; the rest is set once in `start`.
    let process = Process()
    private let lock = NSLock()
    private var stderrData = Data()
    private(set) var port = 0

    var stderrText: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Starts `quakewarn feed ARGS --port 0` and waits (≤ 10 s) for `listening on 127.0.0.1:PORT`.
    static func start(_ arguments: [String]) throws -> FeedProcess {
        let feed = FeedProcess()
        feed.process.executableURL = try CLIRunner.executable()
        feed.process.arguments = ["feed"] + arguments + ["--port", "0"]
        let err = Pipe()
        feed.process.standardError = err
        feed.process.standardOutput = FileHandle.nullDevice
        feed.process.standardInput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            feed.lock.lock()
            feed.stderrData.append(chunk)
            feed.lock.unlock()
        }
        try feed.process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let range = feed.stderrText.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let text = feed.stderrText[range]
                feed.port = Int(text.split(separator: ":").last ?? "") ?? 0
                return feed
            }
            if !feed.process.isRunning { break }
            usleep(5_000)
        }
        feed.kill()
        throw FeedFailure(message: "feed did not start listening: \(feed.stderrText)")
    }

    /// Sends SIGTERM and waits (≤ 5 s) for the exit status.
    func terminate() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill()
            return nil
        }
        return process.terminationStatus
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
