public import Crypto
public import Foundation

/// An Ed25519-signed payload (a warning's canonical JSON or its CAP XML).
///
/// Wire format: one JSON object (key order irrelevant; ``encoded()`` writes sorted keys)
/// ```
/// {"format":"quakewarn-signed-v1","keyId":"<16 hex>","payload":"<base64>",
///  "payloadType":"application/vnd.quakewarn.warning+json","signature":"<base64, 64 bytes>"}
/// ```
/// The payload travels as base64 of the exact bytes that were signed, so a terminal verifies with
/// a JSON parser, a base64 decoder and Ed25519 only, and never re-serialises anything.
///
/// The signature is Ed25519 (RFC 8032) over a pre-authentication encoding that binds the type to
/// the bytes (the idea of DSSE's PAE; our own byte layout):
/// ```
/// "QWSIG1" SP len(payloadType) SP payloadType SP len(payload) SP payload
/// ```
/// with lengths as ASCII decimal byte counts and SP = 0x20. A signature on a warning can therefore
/// not be replayed as a signature on a CAP document or vice versa.
///
/// `keyId` is the first 8 bytes (16 lowercase hex digits) of SHA-256 over the raw 32-byte public
/// key; it lets a terminal pick the key during rotation. It is not trusted: verification always
/// checks the signature with the terminal's own public key.
///
/// A signature proves origin and integrity, not freshness: a recorded genuine warning can be
/// re-sent. Terminals must also drop a message whose (id, updateNumber) they have already seen or
/// whose `createdTime` is older than the longest useful countdown (e.g. 120 s), and must honour
/// `status` (Exercise/Test never sound as Actual).
public struct SignedEnvelope: Sendable, Equatable, Codable {
    public static let formatV1 = "quakewarn-signed-v1"
    /// Payload type of a warning's canonical JSON.
    public static let warningJSONType = "application/vnd.quakewarn.warning+json"
    /// Payload type of CAP 1.2 XML.
    public static let capXMLType = "application/cap+xml"

    public var format: String { didSet { encodedBytes = nil } }
    public var keyId: String { didSet { encodedBytes = nil } }
    public var payloadType: String { didSet { encodedBytes = nil } }
    /// Base64 of the signed payload bytes.
    public var payload: String { didSet { encodedBytes = nil } }
    /// Base64 of the 64-byte Ed25519 signature.
    public var signature: String { didSet { encodedBytes = nil } }
    /// ``encoded()``'s bytes when the signer wrote them along with the fields
    /// (``EnvelopeSigner``); dropped as soon as any field changes. Not part of equality or coding.
    private var encodedBytes: Data? = nil

    enum CodingKeys: String, CodingKey {
        case format, keyId, payloadType, payload, signature
    }

    public init(format: String, keyId: String, payloadType: String, payload: String, signature: String) {
        self.format = format
        self.keyId = keyId
        self.payloadType = payloadType
        self.payload = payload
        self.signature = signature
    }

    /// An envelope with ``encoded()``'s bytes already written (by ``EnvelopeSigner``, which
    /// writes them from the same fields; `SigningFastPathTests` checks them against the encoder).
    init(format: String, keyId: String, payloadType: String, payload: String, signature: String, encoded: Data) {
        self.init(format: format, keyId: keyId, payloadType: payloadType, payload: payload, signature: signature)
        encodedBytes = encoded
    }

    /// Field-wise equality (whether ``encoded()``'s bytes are kept does not matter).
    public static func == (a: SignedEnvelope, b: SignedEnvelope) -> Bool {
        a.format == b.format && a.keyId == b.keyId && a.payloadType == b.payloadType && a.payload == b.payload
            && a.signature == b.signature
    }

    /// The bytes that are signed: `QWSIG1 <len type> <type> <len payload> <payload>`.
    public static func preAuthenticationEncoding(payloadType: String, payload: Data) -> Data {
        var out = Data()
        payload.withUnsafeBytes { appendPreAuthenticationEncoding(payloadType: payloadType, payload: $0, to: &out) }
        return out
    }

    /// Appends ``preAuthenticationEncoding(payloadType:payload:)`` to `out`, reserving its final
    /// size first (no interpolated intermediate string); shared with ``EnvelopeSigner``.
    static func appendPreAuthenticationEncoding<Output: RangeReplaceableCollection<UInt8>>(
        payloadType: String, payload: UnsafeRawBufferPointer, to out: inout Output
    ) {
        let typeLength = String(payloadType.utf8.count).utf8, payloadLength = String(payload.count).utf8
        out.reserveCapacity(out.count + 9 + typeLength.count + payloadType.utf8.count + payloadLength.count + payload.count)
        out.append(contentsOf: "QWSIG1 ".utf8)
        out.append(contentsOf: typeLength)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: payloadType.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: payloadLength)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: payload)
    }

    /// Signs `payload` with `key` (``EnvelopeSigner/sign(payload:payloadType:)``). A caller that
    /// signs many messages with one key keeps an ``EnvelopeSigner`` instead (the key id is then
    /// computed once), as the ingest daemon does.
    public static func sign(payload: Data, payloadType: String,
                            with key: Curve25519.Signing.PrivateKey) throws -> SignedEnvelope {
        try EnvelopeSigner(key: key).sign(payload: payload, payloadType: payloadType)
    }

    /// Signs the canonical JSON of a warning (``EnvelopeSigner/sign(_:)``).
    public static func sign(_ message: WarningMessage, with key: Curve25519.Signing.PrivateKey) throws -> SignedEnvelope {
        try EnvelopeSigner(key: key).sign(message)
    }

    /// The definition of signing: ``preAuthenticationEncoding(payloadType:payload:)``, Ed25519,
    /// Foundation's base64. ``EnvelopeSigner`` gives the same envelope (Ed25519 is deterministic;
    /// `SigningFastPathTests` compares them).
    static func signWithFoundation(payload: Data, payloadType: String,
                                   with key: Curve25519.Signing.PrivateKey) throws -> SignedEnvelope {
        let signature = try key.signature(for: preAuthenticationEncoding(payloadType: payloadType, payload: payload))
        return SignedEnvelope(format: formatV1, keyId: keyID(of: key.publicKey), payloadType: payloadType,
                              payload: payload.base64EncodedString(), signature: signature.base64EncodedString())
    }

    /// The envelope as compact JSON with sorted keys, followed by no newline: the bytes of
    /// Foundation's `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`, written
    /// directly (`CanonicalJSONWriter`; Tests/AlertingTests/EnvelopeEncodingTests compares the
    /// two), with the encoder itself as the fallback for a field with a control character.
    /// An envelope fresh from ``EnvelopeSigner`` returns the bytes the signer already wrote.
    public func encoded() throws -> Data {
        if let encodedBytes { return encodedBytes }
        if let bytes = CanonicalJSONWriter.encode(self) { return Data(bytes) }
        return try encodedWithJSONEncoder()
    }

    /// Whether ``encoded()`` returns bytes kept from signing (for tests).
    var hasKeptEncoding: Bool { encodedBytes != nil }

    /// The definition of ``encoded()``.
    func encodedWithJSONEncoder() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// `keyId` of a public key: 16 hex digits of SHA-256(raw key).
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(16)
        for byte in SHA256.hash(data: key.rawRepresentation).prefix(8) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Parses and verifies a signed envelope; returns the payload bytes when the signature is valid.
    /// Never traps: every malformed input is a ``VerificationError``.
    public static func verify(_ bytes: Data,
                              publicKey: Curve25519.Signing.PublicKey) throws(VerificationError) -> VerifiedPayload {
        let envelope: SignedEnvelope
        do {
            envelope = try JSONDecoder().decode(SignedEnvelope.self, from: bytes)
        } catch {
            throw .malformedEnvelope("not a signed envelope (JSON object with format, keyId, payloadType, payload, signature)")
        }
        guard envelope.format == formatV1 else { throw .malformedEnvelope("unsupported format '\(envelope.format)'") }
        guard let payload = Data(base64Encoded: envelope.payload) else { throw .malformedEnvelope("payload is not base64") }
        guard let signature = Data(base64Encoded: envelope.signature) else {
            throw .malformedEnvelope("signature is not base64")
        }
        guard signature.count == 64 else {
            throw .malformedEnvelope("signature has \(signature.count) bytes, Ed25519 needs 64")
        }
        let expectedID = keyID(of: publicKey)
        guard envelope.keyId == expectedID else { throw .wrongKey(signedBy: envelope.keyId, expected: expectedID) }
        let message = preAuthenticationEncoding(payloadType: envelope.payloadType, payload: payload)
        guard publicKey.isValidSignature(signature, for: message) else { throw .badSignature }
        return VerifiedPayload(payloadType: envelope.payloadType, payload: payload, keyId: envelope.keyId)
    }
}

/// The payload of a successfully verified envelope.
public struct VerifiedPayload: Sendable, Equatable {
    public var payloadType: String
    public var payload: Data
    public var keyId: String
}

/// Why a signed envelope was rejected.
public enum VerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not JSON, missing fields, bad base64, wrong signature length, unknown format.
    case malformedEnvelope(String)
    /// `keyId` names a different key than the one given for verification.
    case wrongKey(signedBy: String, expected: String)
    /// The signature does not match the payload: altered or forged.
    case badSignature

    public var description: String {
        switch self {
        case .malformedEnvelope(let reason): "malformed: \(reason)"
        case .wrongKey(let signedBy, let expected): "signed with key \(signedBy), not with the given public key \(expected)"
        case .badSignature: "signature does not match the payload (altered or forged)"
        }
    }
}

/// Ed25519 key files written by `quakewarn keys generate`.
///
/// Both files hold one line: the base64 of the raw 32-byte key (RFC 8032 seed for the private
/// key, encoded point for the public key) and a newline. The private key file is created with
/// mode 0600; loading refuses a private key file that group or others can read.
public enum SigningKeyFile {
    public static let privateKeyFileName = "quakewarn-signing.key"
    public static let publicKeyFileName = "quakewarn-signing.pub"

    /// Why a key file could not be read or written.
    public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Writes a new key pair into `directory` (created if needed). Refuses to overwrite.
    /// - Returns: the paths of the private and public key files.
    public static func generate(into directory: String) throws(KeyFileError) -> (privateKey: String, publicKey: String) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KeyFileError(path: directory, reason: "cannot create the directory (\(error.localizedDescription))")
        }
        let privatePath = (directory as NSString).appendingPathComponent(privateKeyFileName)
        let publicPath = (directory as NSString).appendingPathComponent(publicKeyFileName)
        for path in [privatePath, publicPath] where fm.fileExists(atPath: path) {
            throw KeyFileError(path: path, reason: "exists; refusing to overwrite a key")
        }
        let key = Curve25519.Signing.PrivateKey()
        try write(key.rawRepresentation.base64EncodedString() + "\n", to: privatePath, permissions: 0o600)
        try write(key.publicKey.rawRepresentation.base64EncodedString() + "\n", to: publicPath, permissions: 0o644)
        return (privatePath, publicPath)
    }

    private static func write(_ text: String, to path: String, permissions: Int) throws(KeyFileError) {
        // Create with the final mode so the private key is never readable by others, not even briefly.
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: permissions]) else {
            throw KeyFileError(path: path, reason: "cannot write the file")
        }
    }

    /// Reads a private key file.
    public static func loadPrivateKey(path: String) throws(KeyFileError) -> Curve25519.Signing.PrivateKey {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            let octal = String(mode & 0o777, radix: 8)
            throw KeyFileError(path: path, reason: "private key is readable by group or others (mode \(octal)); chmod 600 it")
        }
        let raw = try readKeyBytes(path: path)
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        } catch {
            throw KeyFileError(path: path, reason: "not an Ed25519 private key")
        }
    }

    /// Reads a public key file.
    public static func loadPublicKey(path: String) throws(KeyFileError) -> Curve25519.Signing.PublicKey {
        let raw = try readKeyBytes(path: path)
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw KeyFileError(path: path, reason: "not an Ed25519 public key")
        }
    }

    private static func readKeyBytes(path: String) throws(KeyFileError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyFileError(path: path, reason: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text) else { throw KeyFileError(path: path, reason: "not base64") }
        guard raw.count == 32 else {
            throw KeyFileError(path: path, reason: "key has \(raw.count) bytes, Ed25519 needs 32")
        }
        return raw
    }
}
