import Foundation
import SeismicCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// ``CPULatencyRequest``: the PM QoS request of ingest.yaml / relay.yaml `cpuWakeupLatencyMicroseconds`.
@Suite struct CPULatencyRequestTests {
    static func temporaryFile() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qw-pmqos-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }

    @Test("writes the limit as one 32-bit integer in host byte order, as the kernel reads it")
    func writeFormat() throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let request = try CPULatencyRequest(microseconds: 0x0102_0304, device: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 4)
        // Little-endian hosts (x86-64, arm64 Linux): least significant byte first.
        #expect(bytes == [0x04, 0x03, 0x02, 0x01])
        #expect(CPULatencyRequest.currentLimit(device: path) == 0x0102_0304)
        #expect(request.microseconds == 0x0102_0304 && request.device == path)
    }

    @Test("errors name the device and the step; out-of-range limits are refused before opening anything")
    func errors() throws {
        let missing = "/nonexistent-qw-dir/cpu_dma_latency"
        #expect(throws: CPULatencyRequestError.system(device: missing, step: "open", errno: ENOENT)) {
            _ = try CPULatencyRequest(microseconds: 0, device: missing)
        }
        let (request, problem) = CPULatencyRequest.request(microseconds: 5, device: missing)
        #expect(request == nil)
        #expect(problem?.contains("open \(missing)") == true, "\(problem ?? "nil")")
        #expect(throws: CPULatencyRequestError.outOfRange(microseconds: -1)) {
            _ = try CPULatencyRequest(microseconds: -1, device: missing)
        }
        #expect(CPULatencyRequest.request(microseconds: 3_000_000_000, device: missing).problem?.contains("outside") == true)
        #expect(CPULatencyRequest.currentLimit(device: missing) == nil)
    }

    @Test("the kernel's limit is the request while it is held, and not after (when this process may open the device)")
    func kernelRequest() throws {
        // Needs root (the device is 0600); skipped elsewhere. Other requests may be active (then
        // the machine's limit is the smallest), so the checks are ≤ while held and ≠ after.
        let fd = open(CPULatencyRequest.defaultDevice, O_WRONLY)
        guard fd >= 0 else { return }
        close(fd)
        let limit = 7
        do {
            let request = try CPULatencyRequest(microseconds: limit)
            let held = try #require(CPULatencyRequest.currentLimit())
            #expect(held <= limit)
            withExtendedLifetime(request) {}
        }
        let after = try #require(CPULatencyRequest.currentLimit())
        #expect(after != limit, "the request ends when its file is closed")
    }
}
