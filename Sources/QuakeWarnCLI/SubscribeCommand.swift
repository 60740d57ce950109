import Alerting
import ArgumentParser
import Foundation
import MQTT
import NIOCore
import SeismicCore
import Synchronization
import WebSocketHub

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `quakewarn subscribe`: receive warnings as a terminal would (WebSocket hub or MQTT broker) and
/// print one JSON line per message with its receipt time.
struct SubscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe to warnings over WebSocket or MQTT and print one JSON line per message.",
        discussion: """
            Exactly one of --websocket ws://HOST:PORT/PATH (token from --token-file, sent as
            Authorization: Bearer) or --mqtt HOST:PORT (--username, --password-file, --topic
            filters, default quakewarn/#, QoS 1).

            Each received message gives one line on stdout:
            {"receivedTime","receivedNanos","transport":"websocket"|"mqtt","topic"(mqtt),"verified",
             "reason"(when not verified),"keyId","payloadType","id","updateNumber","status","msgType",
             "magnitude","magnitudeType","originTime","createdTime","sentTime","sentToReceivedNanos"}.
            receivedTime/receivedNanos are CLOCK_REALTIME at receipt (nanoseconds since 1970 UTC).
            A message is "verified":true only if it is a signed envelope whose Ed25519 signature
            checks against one of the --public-key files; anything else (unsigned, forged, unknown
            key, no key given) is printed with "verified":false and a reason, and must not be acted on.

            Exit status: 0 after --count messages, or at --timeout when no --count was given, or
            on SIGINT/SIGTERM; 1 when the connection fails or closes, or --timeout expires
            before --count messages; 2 on bad input (options, unreadable files, rejected token
            or credentials), with a one-line reason on stderr.
            """
    )

    @Option(name: .long, help: "WebSocket URL of the hub, e.g. ws://127.0.0.1:8765/warnings.")
    var websocket: String?

    @Option(name: .long, help: "File holding the hub's bearer token (first line).")
    var tokenFile: String?

    @Option(name: .long, help: "MQTT broker as HOST:PORT.")
    var mqtt: String?

    @Option(name: .long, help: "MQTT user name.")
    var username: String?

    @Option(name: .long, help: "File holding the MQTT password (first line).")
    var passwordFile: String?

    @Option(name: .long, help: "MQTT topic filter (repeatable; default quakewarn/#).")
    var topic: [String] = []

    @Option(name: .long, help: "MQTT client identifier (default quakewarn-subscribe-<pid>-<random>).")
    var clientId: String?

    @Option(name: .customLong("public-key"), help: "Ed25519 public key file to verify signed warnings (repeatable).")
    var publicKeys: [String] = []

    @Option(name: .long, help: "Exit after this many messages.")
    var count: Int?

    @Option(name: .long, help: "Give up (or, without --count, stop) after this many seconds.")
    var timeout: Double?

    func validate() throws {
        if (websocket == nil) == (mqtt == nil) {
            throw ValidationError("give exactly one of --websocket URL or --mqtt HOST:PORT")
        }
        if let count, count < 1 { throw ValidationError("--count \(count) must be ≥ 1") }
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout \(timeout) must be a positive number of seconds") }
        if websocket != nil, mqtt == nil, username != nil || passwordFile != nil || !topic.isEmpty || clientId != nil {
            throw ValidationError("--username, --password-file, --topic and --client-id apply to --mqtt only")
        }
        if mqtt != nil, tokenFile != nil { throw ValidationError("--token-file applies to --websocket only") }
        if passwordFile != nil, username == nil { throw ValidationError("--password-file requires --username") }
    }

    func run() throws {
        // Everything that can be checked before connecting is bad input (exit 2).
        var keys: [(id: String, raw: Data)] = []
        for path in publicKeys {
            do {
                let key = try SigningKeyFile.loadPublicKey(path: path)
                keys.append((SignedEnvelope.keyID(of: key), key.rawRepresentation))
            } catch {
                throw Self.fail("--public-key \(error)")
            }
        }
        let renderer = SubscribeRenderer(keys: keys)
        let session = SubscribeSession(limit: count)

        if let websocket {
            let url: WebSocketURL
            do { url = try WebSocketURL(parsing: websocket) } catch { throw Self.fail("--websocket: \(error)") }
            var token: String?
            if let tokenFile { token = try Self.readFirstLine(tokenFile, option: "--token-file") }
            let configuration = WebSocketClient.Configuration(url: url, bearerToken: token)
            Task {
                do {
                    _ = try await WebSocketClient.connect(configuration) { event in
                        switch event {
                        case let .text(text, receivedNanos):
                            session.emit(renderer.render(payload: Array(text.utf8), transport: "websocket", topic: nil, receivedNanos: receivedNanos))
                        case let .binary(bytes, receivedNanos):
                            session.emit(renderer.render(payload: bytes, transport: "websocket", topic: nil, receivedNanos: receivedNanos))
                        case let .closed(code, reason):
                            let detail = code.map { " (close code \($0)\(reason.isEmpty ? "" : ": \(reason)"))" } ?? ""
                            session.finish(status: 1, message: "connection closed by the server\(detail)")
                        }
                    }
                    Console.error("subscribed to \(url)")
                } catch let error as WebSocketClientError {
                    if case .handshakeRejected = error {
                        session.finish(status: 2, message: "\(error)")
                    } else {
                        session.finish(status: 1, message: "\(error)")
                    }
                } catch {
                    session.finish(status: 1, message: "\(error)")
                }
            }
        } else if let mqtt {
            let (host, port) = try Self.parseHostPort(mqtt)
            var password: [UInt8]?
            if let passwordFile { password = Array(try Self.readFirstLine(passwordFile, option: "--password-file").utf8) }
            let filters = topic.isEmpty ? ["quakewarn/#"] : topic
            let clientID = clientId ?? "quakewarn-subscribe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let configuration = MQTTClientConfiguration(
                host: host, port: port, clientID: clientID, username: username, password: password,
                cleanSession: true, keepAlive: .seconds(30), reconnectMaximumDelay: .seconds(2)
            )
            do { try configuration.validate() } catch { throw Self.fail("--mqtt: \(error)") }
            let client = MQTTClient(configuration: configuration)
            Task {
                do {
                    try await client.run()
                } catch let error as MQTTError where error.code == .connectionRefused {
                    session.finish(status: 2, message: "broker refused the connection: \(error)")
                } catch {
                    session.finish(status: 1, message: "\(error)")
                }
            }
            Task {
                do {
                    try await client.waitUntilConnected()
                    let codes = try await client.subscribe(filters.map { MQTTSubscription(topicFilter: $0, qos: .atLeastOnce) })
                    for (filter, code) in zip(filters, codes) {
                        if case .granted = code { continue }
                        session.finish(status: 2, message: "broker refused the subscription to '\(filter)'")
                        return
                    }
                    Console.error("subscribed to \(filters.joined(separator: ", ")) on \(host):\(port)")
                    for await message in client.messages {
                        let receivedNanos = realtimeNanoseconds()
                        let payload = Array(message.payload.readableBytesView)
                        session.emit(renderer.render(payload: payload, transport: "mqtt", topic: message.topic, receivedNanos: receivedNanos))
                        if session.isFinished { break }
                    }
                } catch let error as MQTTError where error.code == .connectionRefused {
                    // The same refusal also ends run(); whichever task reports it first, it is bad input.
                    session.finish(status: 2, message: "broker refused the connection: \(error)")
                } catch {
                    session.finish(status: 1, message: "\(error)")
                }
            }
        }

        if let timeout {
            let limit = count
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if let limit {
                    session.finish(status: 1, message: "timeout after \(timeout) s: received \(session.received) of \(limit) messages")
                } else {
                    session.finish(status: 0, message: nil)
                }
            }
        }
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { session.finish(status: 0, message: nil) }
            source.resume()
            sources.append(source)
        }
        let (status, message) = session.wait()
        sources.forEach { $0.cancel() }
        if let message {
            if status == 0 { Console.error(message) } else { Self.printError(message) }
        }
        if status != 0 { throw ExitCode(status) }
    }

    static func readFirstLine(_ path: String, option: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(option) \(path): cannot read the file") }
        let text = String(decoding: data, as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw fail("\(option) \(path): the file is empty") }
        return trimmed
    }

    static func parseHostPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else { throw fail("--mqtt '\(text)': expected HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw fail("--mqtt '\(text)': expected HOST:PORT with a port in 1…65535")
        }
        return (host, port)
    }
}

/// Counts printed lines, enforces --count, and carries the exit status to the main thread.
final class SubscribeSession: Sendable {
    private struct State {
        var received = 0
        var result: (status: Int32, message: String?)?
    }

    private let limit: Int?
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    init(limit: Int?) {
        self.limit = limit
    }

    var received: Int { state.withLock { $0.received } }
    var isFinished: Bool { state.withLock { $0.result != nil } }

    /// Prints one line (unbuffered, so a harness reading the pipe sees it at once) unless the
    /// session is over; finishes with status 0 when --count is reached.
    func emit(_ line: String) {
        let reachedLimit: Bool = state.withLock { state in
            guard state.result == nil else { return false }
            SubscribeSession.writeLine(line)
            state.received += 1
            if let limit, state.received >= limit {
                state.result = (0, nil)
                return true
            }
            return false
        }
        if reachedLimit { done.signal() }
    }

    /// The first call wins.
    func finish(status: Int32, message: String?) {
        let first: Bool = state.withLock { state in
            guard state.result == nil else { return false }
            state.result = (status, message)
            return true
        }
        if first { done.signal() }
    }

    func wait() -> (Int32, String?) {
        done.wait()
        return state.withLock { $0.result ?? (1, nil) }
    }

    private static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}

/// Turns one received payload into the output JSON line, verifying signed envelopes.
struct SubscribeRenderer: Sendable {
    /// (keyId, raw 32-byte Ed25519 public key); raw bytes because the key type is not `Sendable`.
    var keys: [(id: String, raw: Data)]

    func render(payload: [UInt8], transport: String, topic: String?, receivedNanos: Int64) -> String {
        var fields: [(String, JSONValue)] = [
            ("receivedTime", .string(Self.iso8601Nanoseconds(receivedNanos))),
            ("receivedNanos", .integer(Int(receivedNanos))),
            ("transport", .string(transport)),
        ]
        if let topic { fields.append(("topic", .string(topic))) }
        let bytes = Data(payload)
        var verified = false
        var reason: String?
        var content: Data?
        var payloadType: String?
        var keyId: String?

        if let envelope = try? JSONDecoder().decode(SignedEnvelope.self, from: bytes) {
            keyId = envelope.keyId
            payloadType = envelope.payloadType
            content = Data(base64Encoded: envelope.payload)
            if content == nil {
                reason = "malformed: payload is not base64"
            } else if keys.isEmpty {
                reason = "no --public-key given"
            } else if let match = keys.first(where: { $0.id == envelope.keyId }) {
                do {
                    let key = try Curve25519.Signing.PublicKey(rawRepresentation: match.raw)
                    _ = try SignedEnvelope.verify(bytes, publicKey: key)
                    verified = true
                } catch let error as VerificationError {
                    reason = error.description
                } catch {
                    reason = "public key: \(error)"
                }
            } else {
                reason = "signed with unknown key \(envelope.keyId)"
            }
        } else {
            content = bytes
            reason = "unsigned (not a signed envelope)"
        }

        fields.append(("verified", .bool(verified)))
        if let reason { fields.append(("reason", .string(reason))) }
        if let keyId { fields.append(("keyId", .string(keyId))) }
        if let payloadType { fields.append(("payloadType", .string(payloadType))) }
        if let content, let warning = try? WarningMessage.decode(json: content) {
            fields += [
                ("id", .string(warning.id)),
                ("updateNumber", .integer(warning.updateNumber)),
                ("status", .string(warning.status.rawValue)),
                ("msgType", .string(warning.msgType.rawValue)),
                ("magnitude", .number(warning.magnitude)),
                ("magnitudeType", .string(warning.magnitudeType)),
                ("originTime", .string(warning.originTime.iso8601)),
                ("createdTime", .string(warning.createdTime.iso8601)),
            ]
            if let sent = warning.sentTime {
                fields.append(("sentTime", .string(sent.iso8601)))
                fields.append(("sentToReceivedNanos", .integer(Int(receivedNanos - sent.nanosecondsSinceEpoch))))
            }
        } else {
            fields.append(("payloadBytes", .integer(content?.count ?? payload.count)))
            if payloadType == nil || payloadType == SignedEnvelope.warningJSONType {
                fields.append(("error", .string("payload is not a warning message")))
            }
        }
        return JSONValue.object(fields).text
    }

    /// `YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ` (always nine fractional digits).
    static func iso8601Nanoseconds(_ nanoseconds: Int64) -> String {
        let c = Timestamp(nanosecondsSinceEpoch: nanoseconds).components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":" + pad(c.minute, 2)
            + ":" + pad(c.second, 2) + "." + pad(c.nanosecond, 9) + "Z"
    }
}
