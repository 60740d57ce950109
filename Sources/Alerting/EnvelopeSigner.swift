// The signing path of a warning, from the message to the envelope's bytes, with one key whose
// key id is computed once: canonical JSON (CanonicalJSONWriter) → pre-authentication bytes →
// Ed25519 → the envelope's JSON with both base64 fields written straight into it.

public import Crypto
public import Foundation

/// Signs warnings (and other payloads) with one Ed25519 key into ``SignedEnvelope``s.
///
/// The envelopes are those of the definition (``SignedEnvelope`` describes the format:
/// ``SignedEnvelope/preAuthenticationEncoding(payloadType:payload:)``, Ed25519 per RFC 8032,
/// which is deterministic, and Foundation's base64), and each comes with its
/// ``SignedEnvelope/encoded()`` bytes already written: the base64 of the payload and of the
/// signature go straight into that buffer, and the envelope's `payload` string is read back
/// from it. Compared with signing through Foundation and encoding afterwards, this saves the
/// key id's SHA-256 (kept here), a copy of the payload into a `Data`, the base64 strings'
/// encodings and the second pass over the ≈ 2.6 KB payload string that ``SignedEnvelope/encoded()``
/// would make. `SigningFastPathTests` compares every field and byte with the definition.
///
/// What is left is Ed25519 itself (BoringSSL through swift-crypto): about 14 µs plus two
/// SHA-512 passes over the ≈ 2 KB signed bytes on the development VM.
///
/// `@unchecked Sendable`: swift-crypto does not mark `Curve25519.Signing.PrivateKey` Sendable,
/// but the key is immutable here (a `let` whose byte storage is written once, in its
/// initialiser) and signing only reads it, so concurrent signatures are safe.
public struct EnvelopeSigner: @unchecked Sendable {
    public let key: Curve25519.Signing.PrivateKey
    /// ``SignedEnvelope/keyID(of:)`` of the key's public key.
    public let keyId: String

    public init(key: Curve25519.Signing.PrivateKey) {
        self.key = key
        keyId = SignedEnvelope.keyID(of: key.publicKey)
    }

    /// Signs the canonical JSON of a warning (``WarningMessage/canonicalJSON()``).
    /// - Throws: the canonical JSON's `EncodingError` (a non-finite number), a signing error.
    public func sign(_ message: WarningMessage) throws -> SignedEnvelope {
        let signed = try CanonicalJSONWriter.withEncoded(message) { json in
            try json.map { try sign(payloadBytes: $0, payloadType: SignedEnvelope.warningJSONType) }
        }
        if let signed { return signed }
        // A string with a control character: the encoder's bytes (see CanonicalJSONWriter).
        return try sign(payload: message.canonicalJSON(), payloadType: SignedEnvelope.warningJSONType)
    }

    /// Signs `payload` as `payloadType`.
    public func sign(payload: Data, payloadType: String) throws -> SignedEnvelope {
        try payload.withUnsafeBytes { try sign(payloadBytes: $0, payloadType: payloadType) }
    }

    private func sign(payloadBytes payload: UnsafeRawBufferPointer, payloadType: String) throws -> SignedEnvelope {
        // Pre-authentication encoding: "QWSIG1 <len type> <type> <len payload> <payload>".
        var pae: [UInt8] = []
        SignedEnvelope.appendPreAuthenticationEncoding(payloadType: payloadType, payload: payload, to: &pae)
        let signature = try key.signature(for: pae)

        guard !payloadType.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            // A type that JSON must escape (never one of ours): the fields only; encoded() writes the bytes.
            return signature.withUnsafeBytes { sig in
                SignedEnvelope(format: SignedEnvelope.formatV1, keyId: keyId, payloadType: payloadType,
                               payload: Base64.string(payload), signature: Base64.string(sig))
            }
        }
        // {"format":"…","keyId":"…","payload":"<base64>","payloadType":"…","signature":"<base64>"}
        var head: [UInt8] = []
        head.append(contentsOf: "{\"format\":\"".utf8)
        head.append(contentsOf: SignedEnvelope.formatV1.utf8)
        head.append(contentsOf: "\",\"keyId\":\"".utf8)
        head.append(contentsOf: keyId.utf8)
        head.append(contentsOf: "\",\"payload\":\"".utf8)
        var middle: [UInt8] = []
        middle.append(contentsOf: "\",\"payloadType\":\"".utf8)
        middle.append(contentsOf: payloadType.utf8)
        middle.append(contentsOf: "\",\"signature\":\"".utf8)
        let payloadCount = Base64.encodedCount(payload.count), signatureCount = Base64.encodedCount(signature.count)
        let total = head.count + payloadCount + middle.count + signatureCount + 2
        var bytes = Data(count: total)
        let (payloadText, signatureText) = bytes.withUnsafeMutableBytes { out -> (String, String) in
            var at = 0
            func put(_ part: [UInt8]) {
                UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + part.count)]).copyBytes(from: part)
                at += part.count
            }
            func base64(_ source: UnsafeRawBufferPointer, _ count: Int) -> String {
                let region = UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + count)])
                Base64.encode(source, into: region)
                at += count
                return region.withMemoryRebound(to: UInt8.self) { String(decoding: UnsafeBufferPointer($0), as: UTF8.self) }
            }
            put(head)
            let p = base64(payload, payloadCount)
            put(middle)
            let s = signature.withUnsafeBytes { base64($0, signatureCount) }
            put([UInt8(ascii: "\""), UInt8(ascii: "}")])
            precondition(at == total)  // internal invariant: the size computed above
            return (p, s)
        }
        return SignedEnvelope(format: SignedEnvelope.formatV1, keyId: keyId, payloadType: payloadType,
                              payload: payloadText, signature: signatureText, encoded: bytes)
    }
}

/// Base64 (RFC 4648 §4: standard alphabet, `=` padding, no line breaks), the text of
/// Foundation's `base64EncodedString()` with no options, written into a caller's buffer.
enum Base64 {
    /// Characters for `count` bytes: 4 per started group of 3.
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the base64 of `source` into `out`, which must hold exactly ``encodedCount(_:)`` bytes.
    static func encode(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count == encodedCount(source.count))  // internal invariant: callers size it
        let table: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let t = table.utf8Start
        let n = source.count
        var i = 0, o = 0
        while i + 3 <= n {
            let b0 = source[i], b1 = source[i + 1], b2 = source[i + 2]
            out[o] = t[Int(b0 >> 2)]
            out[o + 1] = t[Int((b0 & 0x03) << 4 | b1 >> 4)]
            out[o + 2] = t[Int((b1 & 0x0f) << 2 | b2 >> 6)]
            out[o + 3] = t[Int(b2 & 0x3f)]
            i += 3
            o += 4
        }
        switch n - i {
        case 1:
            let b0 = source[i]
            out[o] = t[Int(b0 >> 2)]
            out[o + 1] = t[Int((b0 & 0x03) << 4)]
            out[o + 2] = UInt8(ascii: "=")
            out[o + 3] = UInt8(ascii: "=")
        case 2:
            let b0 = source[i], b1 = source[i + 1]
            out[o] = t[Int(b0 >> 2)]
            out[o + 1] = t[Int((b0 & 0x03) << 4 | b1 >> 4)]
            out[o + 2] = t[Int((b1 & 0x0f) << 2)]
            out[o + 3] = UInt8(ascii: "=")
        default:
            break
        }
    }

    /// The base64 of `source` as a string.
    static func string(_ source: UnsafeRawBufferPointer) -> String {
        let count = encodedCount(source.count)
        return String(unsafeUninitializedCapacity: count) { buffer in
            encode(source, into: UnsafeMutableRawBufferPointer(buffer))
            return count
        }
    }
}
