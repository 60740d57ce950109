import Foundation
import Testing
import TestSupport

@testable import WebSocketHub

/// The test venv's Python (scripts/test-env/python-venv.sh exports it as QW_TEST_PYTHON) when
/// it can import the third-party `websockets` client; nil skips these tests.
private let pythonWithWebsockets: String? = {
    guard let python = ProcessInfo.processInfo.environment["QW_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: python)
    else { return nil }
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: python)
    probe.arguments = ["-c", "import websockets.asyncio.client"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    do { try probe.run() } catch { return nil }
    probe.waitUntilExit()
    return probe.terminationStatus == 0 ? python : nil
}()

/// A subscriber written against the `websockets` library (an independent RFC 6455 implementation).
private let clientScript = """
    import asyncio, sys
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def main(url, token, count):
        headers = {"Authorization": "Bearer " + token} if token else {}
        try:
            async with connect(url, additional_headers=headers, ping_interval=None) as ws:
                print("connected", flush=True)
                for _ in range(count):
                    print("message " + await ws.recv(), flush=True)
        except InvalidStatus as e:
            print("rejected %d" % e.response.status_code, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """

@Suite("WebSocketHub with Python websockets clients", .enabled(if: pythonWithWebsockets != nil, "QW_TEST_PYTHON with websockets not available"))
struct PythonInteropTests {
    /// Complete stdout lines of the Python process (a long line may arrive in several chunks).
    final class Output: Sendable {
        private let state = Mutex<(lines: [String], partial: [UInt8])>(([], []))
        func append(_ data: Data) {
            state.withLock { state in
                for byte in data {
                    if byte == 10 {
                        state.lines.append(String(decoding: state.partial, as: UTF8.self))
                        state.partial.removeAll(keepingCapacity: true)
                    } else {
                        state.partial.append(byte)
                    }
                }
            }
            hubTestChanges.notify()
        }
        var snapshot: [String] { state.withLock { $0.lines } }
    }

    static func launch(url: String, token: String, count: Int) throws -> (Process, Output, ExitWatch) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pythonWithWebsockets ?? "/usr/bin/false")
        process.arguments = ["-c", clientScript, url, token, String(count)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let output = Output()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(data) }
        }
        // The exit wakes `waitUntil` ("python client exits"). (Not `isRunning`: Foundation may
        // still report it running when the termination handler has run.)
        let exit = ExitWatch(changes: hubTestChanges)
        exit.install(on: process)
        try process.run()
        return (process, output, exit)
    }

    @Test func pythonSubscriberReceivesWarningsAndWrongTokenIsRejected() async throws {
        let hub = try await startHub()
        let url = "ws://127.0.0.1:\(hub.port)/warnings"
        let (good, goodOutput, goodExit) = try Self.launch(url: url, token: "secret-token", count: 3)
        let (bad, badOutput, _) = try Self.launch(url: url, token: "not-the-token", count: 1)
        defer {
            if good.isRunning { good.terminate() }
            if bad.isRunning { bad.terminate() }
        }
        try await waitUntil("python subscriber connected", within: 30) { hub.subscriberCount == 1 && goodOutput.snapshot.contains("connected") }
        let messages = [#"{"id":"qw1","updateNumber":0}"#, "second é ü 中文", String(repeating: "z", count: 70_000)]
        for message in messages { hub.broadcast(text: message) }
        try await waitUntil("python received three", within: 30) { goodOutput.snapshot.count >= 4 }
        #expect(goodOutput.snapshot == ["connected"] + messages.map { "message " + $0 })
        try await waitUntil("python rejected", within: 30) { badOutput.snapshot.contains("rejected 401") }
        #expect(hub.statistics.authFailures == 1)
        try await waitUntil("python client exits", within: 30) { goodExit.exitStatus != nil }
        try await waitUntil("hub sees the close", within: 10) { hub.subscriberCount == 0 }
        await hub.shutdown()
    }
}

import Synchronization
