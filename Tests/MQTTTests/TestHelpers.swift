import Foundation
import MQTT
import NIOCore

/// Thrown by `withDeadline` when the body did not finish in time.
struct TestTimeout: Error, CustomStringConvertible {
    var seconds: Double
    var what: String
    var description: String { "timed out after \(seconds) s: \(what)" }
}

/// Runs `body`, failing with `TestTimeout` if it has not finished after `seconds` (the body is
/// cancelled then). Every wait in these tests goes through this, so nothing can hang.
func withDeadline<T: Sendable>(
    _ seconds: Double,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TestTimeout(seconds: seconds, what: what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TestTimeout(seconds: seconds, what: what) }
        return first
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a seeded generator for reproducible test inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func encode(_ packet: MQTTPacket) throws -> [UInt8] {
    var out = ByteBuffer()
    try packet.encode(into: &out)
    return Array(out.readableBytesView)
}

struct LeftoverBytes: Error { var count: Int }

/// Decodes one packet from `bytes`; nil means "needs more data". Throws if bytes are left over.
func decodeOne(
    _ bytes: [UInt8],
    maximumPacketSize: Int = MQTTPacketDecoder.defaultMaximumPacketSize
) throws -> MQTTPacket? {
    var decoder = MQTTPacketDecoder(maximumPacketSize: maximumPacketSize)
    var input = ByteBuffer(bytes: bytes)
    let packet = try decoder.decodePacket(from: &input)
    if packet != nil && input.readableBytes != 0 { throw LeftoverBytes(count: input.readableBytes) }
    return packet
}

/// The error thrown by decoding `bytes`, or nil if decoding did not throw.
func decodeError(
    _ bytes: [UInt8],
    maximumPacketSize: Int = MQTTPacketDecoder.defaultMaximumPacketSize
) -> MQTTError? {
    var decoder = MQTTPacketDecoder(maximumPacketSize: maximumPacketSize)
    var input = ByteBuffer(bytes: bytes)
    do {
        _ = try decoder.decodePacket(from: &input)
        return nil
    } catch {
        return error
    }
}

/// Environment of the test broker started by `eval "$(scripts/test-env/mosquitto.sh start)"`.
enum BrokerEnvironment {
    static var host: String? { ProcessInfo.processInfo.environment["MQTT_TEST_HOST"] }
    static var port: Int? { ProcessInfo.processInfo.environment["MQTT_TEST_PORT"].flatMap(Int.init) }
    static var user: String? { ProcessInfo.processInfo.environment["MQTT_TEST_USER"] }
    static var password: String? { ProcessInfo.processInfo.environment["MQTT_TEST_PASSWORD"] }
    static var isAvailable: Bool { host != nil && port != nil && user != nil && password != nil }

    /// Path of scripts/test-env/mosquitto.sh, from this file's location.
    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/test-env/mosquitto.sh").path

    /// Path of an executable found in the usual Debian locations.
    static func tool(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Awaits `task`'s value for at most `seconds`; on timeout the task is cancelled and
/// `TestTimeout` thrown. (`Task.value` alone ignores the caller's cancellation, so a plain
/// `withDeadline { await task.value }` could wait for ever.)
func value<T: Sendable>(of task: Task<T, any Error>, within seconds: Double, _ what: String) async throws -> T {
    do {
        return try await withDeadline(seconds, what) {
            try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        }
    } catch {
        task.cancel()
        throw error
    }
}

func value<T: Sendable>(of task: Task<T, Never>, within seconds: Double, _ what: String) async throws -> T {
    do {
        return try await withDeadline(seconds, what) {
            await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
        }
    } catch {
        task.cancel()
        throw error
    }
}
