public import Alerting
// Curve25519 public keys are immutable values; swift-crypto does not mark them Sendable yet.
@preconcurrency import Crypto
public import Foundation

/// Why an input line was rejected: a stable `code` (sent as `{"reject":"<code>",…}`) and a
/// human-readable `detail`.
public struct RelayRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine-readable reason; one of the static codes below.
    public var code: String
    public var detail: String

    public init(_ code: String, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Not JSON, or not a JSON object.
    public static let malformedJSON = "malformed-json"
    /// A JSON object without a signature (e.g. a bare warning).
    public static let unsigned = "unsigned"
    /// An envelope with missing fields, bad base64, wrong signature length or unknown format.
    public static let malformedEnvelope = "malformed-envelope"
    /// `keyId` names no configured public key.
    public static let unknownKey = "unknown-key"
    /// The signature does not verify: altered or forged.
    public static let badSignature = "bad-signature"
    /// The payload type is neither a warning's JSON nor CAP XML.
    public static let unsupportedType = "unsupported-type"
    /// The signed payload is not a valid WarningMessage (or CAP alert with identifier and status).
    public static let notAWarning = "not-a-warning"
    /// The line is longer than `input.maxMessageBytes`.
    public static let oversized = "oversized"
    /// The key (id, update, kind) is already in the outbox with other bytes.
    public static let conflictingDuplicate = "conflicting-duplicate"
    /// The outbox could not store it (disk full, …); the publisher should retry later.
    public static let outboxFailure = "outbox-failure"

    public var description: String { "\(code): \(detail)" }
}

/// A verified, decoded input: ready for the outbox.
public struct VerifiedInput: Sendable, Equatable {
    public var kind: OutboxPayloadKind
    public var eventId: String
    public var updateNumber: Int
    public var status: WarningStatus
    public var level: WarningLevel
    /// The envelope in its forwarding form (``SignedEnvelope/encoded()``).
    public var envelopeBytes: Data
    /// The warning (nil for CAP inputs).
    public var message: WarningMessage?
}

/// Verifies input lines against the configured Ed25519 public keys and decodes the payload.
public struct RelayVerifier: Sendable {
    /// Public keys by `keyId` (``SignedEnvelope/keyID(of:)``).
    let keys: [String: Curve25519.Signing.PublicKey]

    /// The configured key ids.
    public var keyIDs: [String] { keys.keys.sorted() }

    init(publicKeys: [Curve25519.Signing.PublicKey]) {
        var keys: [String: Curve25519.Signing.PublicKey] = [:]
        for key in publicKeys { keys[SignedEnvelope.keyID(of: key)] = key }
        self.keys = keys
    }

    /// Loads key files written by `quakewarn keys generate`.
    public static func load(publicKeyFiles: [String]) throws(RelayConfigurationError) -> RelayVerifier {
        var keys: [Curve25519.Signing.PublicKey] = []
        for (index, path) in publicKeyFiles.enumerated() {
            do {
                keys.append(try SigningKeyFile.loadPublicKey(path: path))
            } catch {
                throw RelayConfigurationError(file: path, keyPath: "verification.publicKeyFiles[\(index)]", reason: error.reason)
            }
        }
        return RelayVerifier(publicKeys: keys)
    }

    /// Parses, verifies and decodes one input line (without its newline).
    public func verify(line: Data) -> Result<VerifiedInput, RelayRejection> {
        let envelope: SignedEnvelope
        do {
            envelope = try JSONDecoder().decode(SignedEnvelope.self, from: line)
        } catch {
            guard let object = try? JSONSerialization.jsonObject(with: line), let dictionary = object as? [String: Any] else {
                return .failure(RelayRejection(RelayRejection.malformedJSON, "the line is not a JSON object"))
            }
            if dictionary["signature"] == nil {
                return .failure(RelayRejection(RelayRejection.unsigned, "no signature: send a SignedEnvelope (quakewarn-signed-v1)"))
            }
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "missing or mistyped envelope fields"))
        }
        guard envelope.format == SignedEnvelope.formatV1 else {
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "unsupported format '\(envelope.format)'"))
        }
        guard let key = keys[envelope.keyId] else {
            return .failure(RelayRejection(RelayRejection.unknownKey, "key \(envelope.keyId) is not configured"))
        }
        guard let payload = Data(base64Encoded: envelope.payload) else {
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "payload is not base64"))
        }
        guard let signature = Data(base64Encoded: envelope.signature), signature.count == 64 else {
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "signature is not 64 bytes of base64"))
        }
        let signed = SignedEnvelope.preAuthenticationEncoding(payloadType: envelope.payloadType, payload: payload)
        guard key.isValidSignature(signature, for: signed) else {
            return .failure(RelayRejection(RelayRejection.badSignature, "signature does not match the payload (altered or forged)"))
        }
        let bytes: Data
        do {
            bytes = try envelope.encoded()
        } catch {
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "cannot re-encode the envelope"))
        }
        switch envelope.payloadType {
        case SignedEnvelope.warningJSONType:
            let message: WarningMessage
            do {
                message = try WarningMessage.decode(json: payload)
            } catch {
                return .failure(RelayRejection(RelayRejection.notAWarning, "payload is not a WarningMessage (\(Self.oneLine(error)))"))
            }
            guard !message.id.isEmpty, message.updateNumber >= 0 else {
                return .failure(RelayRejection(RelayRejection.notAWarning, "empty id or negative updateNumber"))
            }
            return .success(VerifiedInput(kind: .warning, eventId: message.id, updateNumber: message.updateNumber,
                                          status: message.status, level: message.highestWarningLevel,
                                          envelopeBytes: bytes, message: message))
        case SignedEnvelope.capXMLType:
            guard let cap = CAPSummary(xml: payload) else {
                return .failure(RelayRejection(RelayRejection.notAWarning,
                                               "CAP payload without <identifier>ID-UPDATE</identifier> and <status>"))
            }
            return .success(VerifiedInput(kind: .cap, eventId: cap.eventId, updateNumber: cap.updateNumber,
                                          status: cap.status, level: cap.level, envelopeBytes: bytes, message: nil))
        default:
            return .failure(RelayRejection(RelayRejection.unsupportedType, "payloadType '\(envelope.payloadType)'"))
        }
    }

    static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ").prefix(200).description
    }
}

/// The few fields the relay needs from a CAP 1.2 alert rendered by Alerting's `CAPRenderer`:
/// the alert's first `<identifier>` (`<id>-<updateNumber>`), its first `<status>`, and the
/// `highestWarningLevel` parameter (level `none` when absent). This is a field extractor for
/// our own renderer's output (whose signature has already been verified), not a general XML parser.
struct CAPSummary {
    var eventId: String
    var updateNumber: Int
    var status: WarningStatus
    var level: WarningLevel

    init?(xml: Data) {
        guard let text = String(data: xml, encoding: .utf8),
              let identifier = Self.element("identifier", in: text),
              let dash = identifier.lastIndex(of: "-"),
              let update = Int(identifier[identifier.index(after: dash)...]), update >= 0,
              let statusText = Self.element("status", in: text),
              let status = WarningStatus(rawValue: statusText)
        else { return nil }
        let id = String(identifier[..<dash])
        guard !id.isEmpty else { return nil }
        eventId = id
        updateNumber = update
        self.status = status
        level = .none
        if let range = text.range(of: "<valueName>highestWarningLevel</valueName>"),
           let value = Self.element("value", in: String(text[range.upperBound...])),
           let parsed = WarningLevel(rawValue: value) {
            level = parsed
        }
    }

    /// Text of the first `<name>…</name>`, trimmed.
    static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"),
              let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return nil }
        return text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension RelayVerifier {
    /// What an envelope's payload declares (kind, id, update, status), read **without**
    /// verifying the signature: for tools that check their own input (e.g. `relay publish`
    /// refusing status Actual). Nil when the payload is not a warning or CAP alert.
    public static func declaredContent(of envelope: SignedEnvelope)
        -> (kind: OutboxPayloadKind, eventId: String, updateNumber: Int, status: WarningStatus)? {
        guard let payload = Data(base64Encoded: envelope.payload) else { return nil }
        switch envelope.payloadType {
        case SignedEnvelope.warningJSONType:
            guard let message = try? WarningMessage.decode(json: payload) else { return nil }
            return (.warning, message.id, message.updateNumber, message.status)
        case SignedEnvelope.capXMLType:
            guard let cap = CAPSummary(xml: payload) else { return nil }
            return (.cap, cap.eventId, cap.updateNumber, cap.status)
        default:
            return nil
        }
    }
}

/// A warning signed inside this process (the ingest daemon with the relay embedded), handed to
/// ``RelayService/submitInProcess(_:completion:)`` as values instead of a line to parse.
///
/// Trust: the relay's signature check exists for input that crosses a process boundary (the
/// QWRI/1 socket, where anybody who can connect could try a forged warning). A warning built
/// here was signed by the same process a few microseconds earlier; re-parsing the line, decoding
/// the warning again (JSONDecoder, ~0.2–0.5 ms cold) and re-verifying the Ed25519 signature
/// (~0.1 ms) guards against nothing an outsider can reach, on the path that design.md budgets at
/// 1 ms. The relay still refuses a warning whose key id it is not configured to trust
/// (``RelayRejection/unknownKey``: a daemon signing with the wrong key fails at once, as it
/// would over the socket), and the bytes stored and published are the signed envelope, which
/// every subscriber verifies.
public struct InProcessSignedWarning: Sendable {
    public let message: WarningMessage
    public let envelope: SignedEnvelope
    /// ``SignedEnvelope/encoded()``: what the outbox stores and MQTT publishes.
    public let envelopeBytes: Data

    /// - Throws: the envelope's encoding error.
    public init(message: WarningMessage, envelope: SignedEnvelope) throws {
        self.message = message
        self.envelope = envelope
        envelopeBytes = try envelope.encoded()
    }
}

extension RelayVerifier {
    /// The checks an in-process warning gets (see ``InProcessSignedWarning``): a known
    /// format, a configured key id, a warning payload type, a non-empty id and update ≥ 0.
    /// The signature is not re-verified.
    public func accept(_ warning: InProcessSignedWarning) -> Result<VerifiedInput, RelayRejection> {
        let envelope = warning.envelope
        guard envelope.format == SignedEnvelope.formatV1 else {
            return .failure(RelayRejection(RelayRejection.malformedEnvelope, "unsupported format '\(envelope.format)'"))
        }
        guard keys[envelope.keyId] != nil else {
            return .failure(RelayRejection(RelayRejection.unknownKey, "key \(envelope.keyId) is not configured"))
        }
        guard envelope.payloadType == SignedEnvelope.warningJSONType else {
            return .failure(RelayRejection(RelayRejection.unsupportedType, "in-process payloadType '\(envelope.payloadType)'"))
        }
        let message = warning.message
        guard !message.id.isEmpty, message.updateNumber >= 0 else {
            return .failure(RelayRejection(RelayRejection.notAWarning, "empty id or negative updateNumber"))
        }
        return .success(VerifiedInput(kind: .warning, eventId: message.id, updateNumber: message.updateNumber,
                                      status: message.status, level: message.highestWarningLevel,
                                      envelopeBytes: warning.envelopeBytes, message: message))
    }
}
