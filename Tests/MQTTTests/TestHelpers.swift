import Foundation
import MQTT
import NIOCore
import TestSupport

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
